#pragma once
// A run's replay memory as its strategies use it: the buffer (framework/stream/replay_buffer.h),
// every training sample offered once, as the model saw it (pixel map applied), and the host rows
// each step draws from it, with their tasks' class masks.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "framework/data/scenarios.h"
#include "framework/stream/replay_buffer.h"

namespace clb {

class ReplayMemory {
 public:
  // Sized by cfg (its seed is derived from the run's); uint8 storage where every training set's
  // features are k/255 (IDX pixels), float32 otherwise.
  // payload_dim: floats a strategy stores with each sample (DER++: its logits when offered).
  ReplayMemory(const Scenario& sc, int num_outputs, const ReplayBufferConfig& cfg, uint64_t seed, int payload_dim = 0);
  // Up to n rows drawn uniformly from the memory, or null while it is empty, in `into` (null: the
  // memory's own buffers, valid until the next draw).
  const Batch* draw(int n, BatchBuffers* into = nullptr);
  // The drawn rows' payloads, (rows, payload_dim), valid as the batch is.
  const float* drawn_payload() const { return drawn_payload_.data(); }
  // Offers n training samples, in stream order, with their payloads ((n, payload_dim), or null
  // without any).
  void offer(const SampleRef* refs, int n, const float* payload = nullptr);
  int payload_dim() const { return payload_dim_; }
  const ReplayBuffer& buffer() const { return *buffer_; }
  // The buffer and the draws' position, under `key` in a checkpoint, and back.
  void save(StateArchive& a, const std::string& key) const;
  void load(const StateArchive& a, const std::string& key);

 private:
  const std::vector<Task>& tasks_;
  int dim_, outputs_;
  bool masked_ = false;
  int payload_dim_ = 0;
  std::vector<float> payload_, drawn_payload_;  // (held, payload_dim) by slot; the last draw's
  Rng rng_;
  std::unique_ptr<ReplayBuffer> buffer_;
  BatchBuffers out_, seen_;
};

}  // namespace clb
