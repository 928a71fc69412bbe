#pragma once
// A minibatch as the model passes read it: pointers into memory someone else owns (BatchBuffers,
// framework/data/task.h, or backend memory in the resident engine).
#include <cstdint>

namespace clb {

// A minibatch: B rows of features, labels and (task-IL) per-row class masks.
struct Batch {
  const float* x = nullptr;           // (B, input_dim)
  const int32_t* y = nullptr;         // (B) or null
  const uint8_t* class_mask = nullptr;  // (B, num_outputs) or null
  int B = 0;
};

}  // namespace clb
