#include "framework/stream/replay_buffer.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "framework/core/error.h"

namespace clb {

ReplayPolicy parse_replay_policy(const std::string& name) {
  if (name == "reservoir") return ReplayPolicy::kReservoir;
  if (name == "class-balanced") return ReplayPolicy::kClassBalanced;
  fail_setting("@memory.policy '{}': use reservoir or class-balanced", name);
}

const char* to_string(ReplayPolicy p) { return p == ReplayPolicy::kClassBalanced ? "class-balanced" : "reservoir"; }

bool is_uint8_exact(const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float k = std::nearbyint(x[i] * 255.0f);
    if (!(k >= 0.0f && k <= 255.0f) || k / 255.0f != x[i]) return false;
  }
  return true;
}

// A label and a task id beside the features.
constexpr int64_t kSampleHeaderBytes = 2 * sizeof(int32_t);

ReplayBuffer::ReplayBuffer(int dim, int num_classes, SampleStorage storage, const ReplayBufferConfig& cfg)
    : dim_(dim), num_classes_(num_classes), storage_(storage), policy_(cfg.policy), rng_(Rng::derive(cfg.seed, 0x6d656d)) {
  CLB_ASSERT(dim > 0 && num_classes > 0);
  if (cfg.max_samples < 0) fail_setting("@memory.samples {}: must be positive (or 0 to size the memory by @memory.bytes)", cfg.max_samples);
  if (cfg.max_bytes < 0) fail_setting("@memory.bytes {}: must be positive (or 0 to size the memory by @memory.samples)", cfg.max_bytes);
  if (cfg.max_samples == 0 && cfg.max_bytes == 0)
    fail_setting("@memory.samples and @memory.bytes are both 0: give the replay memory a size, e.g. @memory.samples 2000");
  capacity_ = cfg.max_samples;
  if (cfg.max_bytes > 0) {
    const int64_t by_bytes = cfg.max_bytes / bytes_per_sample();
    if (by_bytes == 0)
      fail_setting("@memory.bytes {}: holds no sample; one takes {} bytes here", cfg.max_bytes, bytes_per_sample());
    capacity_ = capacity_ > 0 ? std::min(capacity_, by_bytes) : by_bytes;
  }
  held_per_class_.assign(size_t(num_classes), 0);
  seen_per_class_.assign(size_t(num_classes), 0);
}

int64_t ReplayBuffer::bytes_per_sample() const {
  return int64_t(dim_) * (storage_ == SampleStorage::kUint8 ? 1 : 4) + kSampleHeaderBytes;
}

void ReplayBuffer::store(int64_t slot, const float* x, int32_t label, int32_t task) {
  last_slot_ = slot;
  const size_t at = size_t(slot) * size_t(dim_);
  if (slot == size()) {
    labels_.push_back(label), tasks_.push_back(task);
    if (storage_ == SampleStorage::kUint8)
      x8_.resize(at + size_t(dim_));
    else
      x32_.resize(at + size_t(dim_));
  } else {
    --held_per_class_[size_t(labels_[size_t(slot)])];
    labels_[size_t(slot)] = label, tasks_[size_t(slot)] = task;
  }
  ++held_per_class_[size_t(label)];
  if (storage_ == SampleStorage::kFloat32) {
    std::copy(x, x + dim_, x32_.begin() + std::ptrdiff_t(at));
    return;
  }
  for (int j = 0; j < dim_; ++j) x8_[at + size_t(j)] = uint8_t(std::nearbyint(x[j] * 255.0f));
}

// A random slot of the class holding the most samples (ties: the lowest class id).
int64_t ReplayBuffer::largest_class_victim() {
  const auto largest = std::max_element(held_per_class_.begin(), held_per_class_.end()) - held_per_class_.begin();
  int64_t k = int64_t(rng_.below(uint64_t(held_per_class_[size_t(largest)])));
  for (int64_t i = 0; i < size(); ++i)
    if (labels_[size_t(i)] == largest && k-- == 0) return i;
  CLB_ASSERT(false);
  return -1;
}

bool ReplayBuffer::offer(const float* x, int32_t label, int32_t task) {
  // Checked before anything changes, so a refused sample leaves the memory as it was.
  if (label < 0 || label >= num_classes_)
    fail("replay memory: label {} of task {} is outside 0..{}", label, task + 1, num_classes_ - 1);
  if (storage_ == SampleStorage::kUint8 && !is_uint8_exact(x, dim_))
    fail("replay memory: a sample of task {} has features that are not k/255, so uint8 storage would change it; "
         "store such data as float32",
         task + 1);
  ++seen_;
  ++seen_per_class_[size_t(label)];
  if (size() < capacity_) {
    store(size(), x, label, task);
    return true;
  }
  if (policy_ == ReplayPolicy::kReservoir) {
    // Algorithm R: keep the n-th sample with probability capacity / n, in a uniform slot.
    const int64_t j = int64_t(rng_.below(uint64_t(seen_)));
    if (j >= capacity_) return false;
    store(j, x, label, task);
    return true;
  }
  // Class-balancing reservoir: a class that is not (one of) the largest takes a slot from the
  // largest; the largest replaces one of its own with probability held / seen of its class.
  const int64_t most = *std::max_element(held_per_class_.begin(), held_per_class_.end());
  if (held_per_class_[size_t(label)] < most) {
    store(largest_class_victim(), x, label, task);
    return true;
  }
  const int64_t held = held_per_class_[size_t(label)], seen_c = seen_per_class_[size_t(label)];
  if (int64_t(rng_.below(uint64_t(seen_c))) >= held) return false;
  int64_t k = int64_t(rng_.below(uint64_t(held)));
  for (int64_t i = 0; i < size(); ++i)
    if (labels_[size_t(i)] == label && k-- == 0) {
      store(i, x, label, task);
      return true;
    }
  CLB_ASSERT(false);
  return false;
}

std::vector<int64_t> ReplayBuffer::class_counts() const { return held_per_class_; }

void ReplayBuffer::read(int64_t i, float* x) const {
  CLB_ASSERT(i >= 0 && i < size());
  const size_t at = size_t(i) * size_t(dim_);
  if (storage_ == SampleStorage::kFloat32) {
    std::copy(x32_.begin() + std::ptrdiff_t(at), x32_.begin() + std::ptrdiff_t(at) + dim_, x);
    return;
  }
  for (int j = 0; j < dim_; ++j) x[j] = float(x8_[at + size_t(j)]) / 255.0f;
}

std::vector<int64_t> ReplayBuffer::draw(int64_t n, Rng& rng) const {
  const int64_t held = size(), k = std::min(n, held);
  std::vector<int64_t> slots(static_cast<size_t>(held));
  for (int64_t i = 0; i < held; ++i) slots[size_t(i)] = i;
  // A partial Fisher-Yates shuffle: the first k slots are a uniform draw without replacement.
  for (int64_t i = 0; i < k; ++i) std::swap(slots[size_t(i)], slots[size_t(i + int64_t(rng.below(uint64_t(held - i))))]);
  slots.resize(size_t(k));
  return slots;
}

void ReplayBuffer::save(StateArchive& a, const std::string& key) const {
  a.put(key + ".capacity", capacity_);
  a.put(key + ".seen", seen_);
  a.put_rng(key + ".rng", rng_);
  a.put(key + ".labels", labels_);
  a.put(key + ".tasks", tasks_);
  a.put(key + ".seen_per_class", seen_per_class_);
  // uint8 samples as float32 integers 0..255: exact, and one tensor type in the file.
  a.put_floats(key + ".x", storage_ == SampleStorage::kFloat32 ? x32_ : std::vector<float>(x8_.begin(), x8_.end()));
}

void ReplayBuffer::load(const StateArchive& a, const std::string& key) {
  if (a.get<int64_t>(key + ".capacity") != capacity_)
    a.bad(key + ".capacity", fmt::format("is {} where this run's memory holds {} samples",
                                         a.get<int64_t>(key + ".capacity"), capacity_));
  seen_ = a.get<int64_t>(key + ".seen");
  a.get_rng(key + ".rng", rng_);
  labels_ = a.get<std::vector<int32_t>>(key + ".labels");
  tasks_ = a.get<std::vector<int32_t>>(key + ".tasks");
  seen_per_class_ = a.get<std::vector<int64_t>>(key + ".seen_per_class");
  const int64_t n = int64_t(labels_.size());
  if (n > capacity_ || int64_t(tasks_.size()) != n || int64_t(seen_per_class_.size()) != num_classes_)
    a.bad(key, "has lists of inconsistent lengths");
  held_per_class_.assign(size_t(num_classes_), 0);
  for (int32_t y : labels_) {
    if (y < 0 || y >= num_classes_) a.bad(key + ".labels", fmt::format("holds label {} outside 0..{}", y, num_classes_ - 1));
    ++held_per_class_[size_t(y)];
  }
  const std::vector<float>& x = a.floats(key + ".x", n * dim_);
  if (storage_ == SampleStorage::kFloat32) {
    x32_ = x;
    return;
  }
  x8_.resize(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    if (!(x[i] >= 0.0f && x[i] <= 255.0f && x[i] == std::nearbyint(x[i])))
      a.bad(key + ".x", "holds a value that is not a byte 0..255");
    x8_[i] = uint8_t(x[i]);
  }
}

std::string ReplayBuffer::describe() const {
  return fmt::format("{}, {} of {} samples ({}, {:.2f} MiB), {} seen",
                     to_string(policy_), size(), capacity_,
                     storage_ == SampleStorage::kUint8 ? "uint8" : "float32", double(bytes()) / (1 << 20), seen_);
}

}  // namespace clb
