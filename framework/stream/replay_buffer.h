#pragma once
// The replay memory (issue 5, docs/DESIGN.md §9): a bounded store of samples seen in the stream,
// filled by a policy, sized by a sample count or a byte budget, and able to say what it holds.
//   reservoir       every sample seen so far is held with the same probability, capacity / seen
//                   (Vitter's algorithm R): a uniform sample of the stream, whatever its length
//   class-balanced  class-balancing reservoir (Chrysakis & Moens, ICML 2020): when full, a new
//                   sample replaces one of the largest class; within a class it is a reservoir,
//                   so imbalanced streams still leave every class its share
// Samples are stored compactly: as uint8 where every feature is k/255 (pixels loaded from IDX
// files, which round-trip exactly), else as float32.
#include <cstdint>
#include <string>
#include <vector>

#include "framework/core/rng.h"
#include "framework/core/state_archive.h"

namespace clb {

enum class ReplayPolicy { kReservoir, kClassBalanced };
// reservoir | class-balanced; throws clb::SettingError naming memory.policy for anything else.
ReplayPolicy parse_replay_policy(const std::string& name);
const char* to_string(ReplayPolicy p);

struct ReplayBufferConfig {
  ReplayPolicy policy = ReplayPolicy::kReservoir;
  int64_t max_samples = 0;  // 0 = set by max_bytes
  int64_t max_bytes = 0;    // 0 = set by max_samples (one of the two must be set)
  uint64_t seed = 0;
};

enum class SampleStorage { kUint8, kFloat32 };

class ReplayBuffer {
 public:
  // dim: features per sample; storage: kUint8 when the source's features are k/255 (check with
  // is_uint8_exact), else kFloat32. Throws clb::SettingError naming memory.samples / memory.bytes
  // for a capacity that holds no sample.
  ReplayBuffer(int dim, int num_classes, SampleStorage storage, const ReplayBufferConfig& cfg);

  // Offers the next sample of the stream; the policy decides whether it is kept and what it
  // replaces. Returns whether it was kept.
  bool offer(const float* x, int32_t label, int32_t task);
  // The slot the last kept sample went to (-1 before any): what a strategy stores beside it goes there.
  int64_t last_slot() const { return last_slot_; }

  int64_t size() const { return int64_t(labels_.size()); }
  int64_t capacity() const { return capacity_; }
  int64_t seen() const { return seen_; }
  int64_t bytes_per_sample() const;
  int64_t bytes() const { return size() * bytes_per_sample(); }  // what the held samples take
  std::vector<int64_t> class_counts() const;                      // held samples per class
  // "reservoir, 2000 of 2000 samples (uint8, 1.51 MiB), 60000 seen"
  std::string describe() const;

  // Slot i: its features (as float32), label and task.
  void read(int64_t i, float* x) const;
  int32_t label(int64_t i) const { return labels_[size_t(i)]; }
  int32_t task(int64_t i) const { return tasks_[size_t(i)]; }

  // n slots drawn uniformly without replacement (all of them, shuffled, if n >= size).
  std::vector<int64_t> draw(int64_t n, Rng& rng) const;

  // What it holds and its policy's position, under `key` in a checkpoint, and back into a buffer
  // made with the same settings.
  void save(StateArchive& a, const std::string& key) const;
  void load(const StateArchive& a, const std::string& key);

 private:
  void store(int64_t slot, const float* x, int32_t label, int32_t task);
  int64_t largest_class_victim();

  int dim_, num_classes_;
  SampleStorage storage_;
  ReplayPolicy policy_;
  int64_t capacity_ = 0, seen_ = 0, last_slot_ = -1;
  Rng rng_;
  std::vector<uint8_t> x8_;
  std::vector<float> x32_;
  std::vector<int32_t> labels_, tasks_;
  std::vector<int64_t> held_per_class_, seen_per_class_;
};

// True when every feature is k/255 for an integer k in [0, 255] in float32 (uint8 storage is exact).
bool is_uint8_exact(const float* x, int64_t n);

}  // namespace clb
