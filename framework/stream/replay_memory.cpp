#include "framework/stream/replay_memory.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "framework/core/error.h"

namespace clb {

ReplayMemory::ReplayMemory(const Scenario& sc, int num_outputs, const ReplayBufferConfig& cfg, uint64_t seed,
                           int payload_dim)
    : tasks_(sc.tasks), dim_(sc.input_dim), outputs_(num_outputs), payload_dim_(payload_dim), rng_(Rng::derive(seed, 0x3E3)) {
  bool exact = true;
  std::set<const Dataset*> checked;  // tasks share their data sets
  for (const Task& t : sc.tasks)
    if (checked.insert(t.train.get()).second)
      // Generated features are Gaussian floats, never k/255: not made just to find that out.
      exact = exact && !t.train->generated &&
              (t.train->holds_bytes() || is_uint8_exact(t.train->x.data(), int64_t(t.train->x.size())));
  ReplayBufferConfig c = cfg;
  c.seed = rng_.next();
  buffer_ = std::make_unique<ReplayBuffer>(dim_, num_outputs, exact ? SampleStorage::kUint8 : SampleStorage::kFloat32, c);
  masked_ = has_class_masks(sc.tasks);
}

const Batch* ReplayMemory::draw(int n, BatchBuffers* into) {
  BatchBuffers& out = into ? *into : out_;
  if (buffer_->size() == 0) return nullptr;
  const std::vector<int64_t> slots = buffer_->draw(n, rng_);
  const int m = int(slots.size());
  out.x.resize(size_t(m) * dim_), out.y.resize(size_t(m));
  out.mask.assign(masked_ ? size_t(m) * outputs_ : 0, 1);
  drawn_payload_.resize(size_t(m) * size_t(payload_dim_));
  for (int i = 0; i < m; ++i) {
    buffer_->read(slots[size_t(i)], out.x.data() + size_t(i) * dim_);
    out.y[size_t(i)] = buffer_->label(slots[size_t(i)]);
    std::copy_n(payload_.begin() + std::ptrdiff_t(slots[size_t(i)] * payload_dim_), payload_dim_,
                drawn_payload_.begin() + std::ptrdiff_t(i * payload_dim_));
    const auto& mask = tasks_[size_t(buffer_->task(slots[size_t(i)]))].class_mask;
    if (!mask.empty()) std::copy(mask.begin(), mask.end(), out.mask.begin() + size_t(i) * outputs_);
  }
  out.batch = Batch{out.x.data(), out.y.data(), masked_ ? out.mask.data() : nullptr, m};
  return &out.batch;
}

void ReplayMemory::offer(const SampleRef* refs, int n, const float* payload) {
  CLB_ASSERT((payload != nullptr) == (payload_dim_ > 0));
  gather(tasks_, Split::kTrain, refs, n, outputs_, seen_);
  for (int i = 0; i < n; ++i)
    if (buffer_->offer(seen_.x.data() + size_t(i) * dim_, seen_.y[size_t(i)], refs[i].task) && payload) {
      payload_.resize(size_t(buffer_->size()) * size_t(payload_dim_));  // grows with the memory, never past it
      std::copy_n(payload + size_t(i) * payload_dim_, payload_dim_,
                  payload_.begin() + std::ptrdiff_t(buffer_->last_slot() * payload_dim_));
    }
}

void ReplayMemory::save(StateArchive& a, const std::string& key) const {
  a.put_rng(key + ".rng", rng_);
  buffer_->save(a, key + ".buffer");
  if (payload_dim_ > 0) a.put_floats(key + ".payload", payload_);
}

void ReplayMemory::load(const StateArchive& a, const std::string& key) {
  a.get_rng(key + ".rng", rng_);
  buffer_->load(a, key + ".buffer");
  if (payload_dim_ > 0) payload_ = a.floats(key + ".payload", buffer_->size() * payload_dim_);
  for (int64_t i = 0; i < buffer_->size(); ++i)
    if (buffer_->task(i) < 0 || buffer_->task(i) >= int32_t(tasks_.size()))
      a.bad(key + ".buffer.tasks", fmt::format("names task {} of a run with {}", buffer_->task(i) + 1, tasks_.size()));
}

}  // namespace clb
