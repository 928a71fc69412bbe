#include "framework/stream/stream_order.h"

#include <algorithm>

#include "framework/core/error.h"
#include "framework/core/rng.h"

namespace clb {

void shuffle_order(std::vector<SampleRef>& refs, uint64_t seed, int task, int epoch) {
  Rng order = Rng::derive(seed, 0x7A1, uint64_t(task), uint64_t(epoch));
  order.shuffle(refs);
}

std::vector<std::vector<SampleRef>> blurred_orders(const Scenario& sc, uint64_t seed, int64_t width) {
  const size_t T = sc.tasks.size();
  std::vector<std::vector<SampleRef>> orders(T);
  for (size_t t = 0; t < T; ++t) {
    orders[t] = sample_refs(sc.tasks[t], Split::kTrain);
    shuffle_order(orders[t], seed, int(t), 0);
  }
  Rng mix = Rng::derive(seed, 0xB1E, 0);
  for (size_t t = 0; t + 1 < T; ++t) {
    std::vector<SampleRef>& a = orders[t];
    std::vector<SampleRef>& b = orders[t + 1];
    const size_t half = size_t(std::min<int64_t>(width / 2, int64_t(std::min(a.size(), b.size()) / 2)));
    if (half == 0) continue;
    std::vector<SampleRef> old_q(a.end() - std::ptrdiff_t(half), a.end()), new_q(b.begin(), b.begin() + std::ptrdiff_t(half));
    size_t io = 0, in = 0;
    std::vector<SampleRef> dealt;
    for (size_t p = 0; p < 2 * half; ++p) {
      const bool take_new = io == old_q.size() || (in < new_q.size() && mix.uniform() < double(p) / double(2 * half));
      dealt.push_back(take_new ? new_q[in++] : old_q[io++]);
    }
    std::copy(dealt.begin(), dealt.begin() + std::ptrdiff_t(half), a.end() - std::ptrdiff_t(half));
    std::copy(dealt.begin() + std::ptrdiff_t(half), dealt.end(), b.begin());
  }
  return orders;
}

StreamOrder::StreamOrder(const Scenario& sc, uint64_t seed, int64_t blurry_width, int epochs, bool seen_tasks,
                         const std::string& learner)
    : sc_(sc), seed_(seed), seen_tasks_(seen_tasks) {
  if (blurry_width <= 0) return;
  if (epochs != 1) fail_setting("@stream blurry: a stream is seen once; use @epochs 1 (got {})", epochs);
  if (seen_tasks) fail_setting("@stream blurry: {} trains on every task seen so far, by task; use @stream sharp", learner);
  blurred_ = blurred_orders(sc, seed, blurry_width);
}

void StreamOrder::begin_task(int t) {
  task_ = t;
  refs_.clear();
  for (int k = seen_tasks_ ? 0 : t; k <= t; ++k) {
    auto more = sample_refs(sc_.tasks[size_t(k)], Split::kTrain);
    refs_.insert(refs_.end(), more.begin(), more.end());
  }
  if (refs_.empty()) fail("task {} has no training samples", t + 1);
}

const std::vector<SampleRef>& StreamOrder::epoch(int e) {
  if (blurred_.empty())
    shuffle_order(refs_, seed_, task_, e);
  else
    refs_ = blurred_[size_t(task_)];  // shuffled the same way, then blurred at the boundaries
  return refs_;
}

}  // namespace clb
