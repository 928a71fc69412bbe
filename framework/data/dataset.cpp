#include "framework/data/dataset.h"

#include <algorithm>
#include <list>
#include <mutex>

#include "framework/core/error.h"
#include "kernels/cpu/cpu_ops.h"

namespace clb {

namespace {

// Most recently used first. Entries are found by their generator, whose address is unique for as
// long as the entry holds it (a shared_ptr, so it cannot be freed and reused under the key).
struct Entry {
  std::shared_ptr<const FeatureGenerator> generator;
  std::shared_ptr<const std::vector<float>> x;
};

struct Cache {
  std::mutex mu;
  std::list<Entry> lru;
  int64_t bytes = 0;
  int64_t budget = int64_t{256} << 20;

  void trim() {  // keeps the front entry whatever its size
    while (bytes > budget && lru.size() > 1) {
      bytes -= int64_t(lru.back().x->size() * sizeof(float));
      lru.pop_back();
    }
  }

  // The entry of `generator`, moved to the front; null when absent. Called with mu held.
  std::shared_ptr<const std::vector<float>> touch(const std::shared_ptr<const FeatureGenerator>& generator) {
    for (auto it = lru.begin(); it != lru.end(); ++it)
      if (it->generator == generator) {
        lru.splice(lru.begin(), lru, it);
        return it->x;
      }
    return nullptr;
  }
};

Cache& cache() {
  static Cache c;
  return c;
}

std::shared_ptr<const std::vector<float>> generated_features(const Dataset& d) {
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mu);
    if (auto x = c.touch(d.generated)) return x;
  }
  // Made outside the lock: threads may make different data sets at once (two making the same
  // one both get the same values; the first stored is kept).
  auto x = std::make_shared<std::vector<float>>();
  d.generated->make(*x);
  CLB_ASSERT(int64_t(x->size()) == d.n * d.dim);
  std::lock_guard<std::mutex> lock(c.mu);
  if (auto kept = c.touch(d.generated)) return kept;
  c.lru.push_front({d.generated, x});
  c.bytes += int64_t(x->size() * sizeof(float));
  c.trim();
  return x;
}

}  // namespace

FloatFeatures::FloatFeatures(const Dataset& d) : dim_(d.dim) {
  CLB_ASSERT(!d.holds_bytes());
  if (d.generated) {
    held_ = generated_features(d);
    base_ = held_->data();
  } else {
    base_ = d.x.data();
  }
}

void Dataset::read_row(int64_t i, float* dst) const {
  if (holds_bytes()) {
    const float* value = cpu::byte_features();
    for (int j = 0; j < dim; ++j) dst[j] = value[bytes[size_t(i * dim + j)]];
  } else {
    const float* src = FloatFeatures(*this).row(i);
    std::copy(src, src + dim, dst);
  }
}

Dataset Dataset::with_float_features() const {
  Dataset d = *this;
  d.generated.reset(), d.bytes.clear();
  d.x.resize(size_t(n) * dim);
  for (int64_t i = 0; i < n; ++i) read_row(i, d.x.data() + i * dim);
  return d;
}

void set_generated_cache_budget(int64_t bytes) {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.budget = std::max<int64_t>(bytes, 0);
  c.trim();
}

int64_t generated_cache_budget() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  return c.budget;
}

int64_t generated_cache_bytes() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  return c.bytes;
}

}  // namespace clb
