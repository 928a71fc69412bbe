#pragma once
// The CUDA twins of kernels/cpu/<op>.cpp: same args structs (kernels/ops.h), device pointers,
// a variant number and a stream. Variants keep their numbers for good:
//
//   linear_forward   0 cuBLAS SGEMM (TF32 off) + bias/ReLU kernel   (the yard-stick)
//                    1 naive: one thread per output
//                    2 shared-memory tiles 32x32, one output per thread
//                    3 register-blocked: 64x64 tiles, 4x4 outputs per thread
//                    4 variant 3 with 16-byte global and shared-memory accesses
//   linear_backward  same numbering for its GEMMs (dX with the ReLU mask fused into the epilogue,
//                    dW with the scale); db: one thread per column, rows summed in order (no atomics)
//   fisher_diag      1, 2, 3, 4 as above with the squares (and the sum over the K stacked rows of a
//                    sample) fused into the operand loads: no squared copies in memory;
//                    0 = cuBLAS on explicitly squared copies (the yard-stick)
//   softmax_xent     1 one warp per row: loss, delta, probs and argmax in one pass
//   fused_update     1 grid-stride, one element per thread-iteration
//                    2 grid-stride with 16-byte loads/stores where all arrays are 16-byte aligned
//   gather, count_correct, advance_step: one variant each (the resident engine's bookkeeping)
#include <cuda_runtime_api.h>

#include "kernels/ops.h"

namespace clb::cuda {

constexpr int kGemmDefault = 3;    // the fastest hand-written GEMM on paper; to be confirmed on an H100
constexpr int kUpdateDefault = 2;  // 16-byte accesses: the update is bandwidth-bound

void linear_forward(const LinearForwardArgs& a, int variant, cudaStream_t stream);
void linear_backward(const LinearBackwardArgs& a, int variant, cudaStream_t stream);
void fisher_diag(const FisherDiagArgs& a, int variant, cudaStream_t stream);
void softmax_xent(const SoftmaxXentArgs& a, int variant, cudaStream_t stream);
void fused_update(const FusedUpdateArgs& a, int variant, cudaStream_t stream);
void gather(const GatherArgs& a, cudaStream_t stream);
void count_correct(const CountCorrectArgs& a, cudaStream_t stream);
void advance_step(const AdvanceStepArgs& a, cudaStream_t stream);

// The cuBLAS handle the variant-0 GEMMs use (created on first use, bound to `stream`).
void* cublas_handle(cudaStream_t stream);
// Creates the handle and runs one tiny SGEMM on `stream`, synchronously: cuBLAS allocates and loads
// its kernels then, never inside a stream capture (a recorded step). The CUDA backend calls it.
void warm_cublas(cudaStream_t stream);

}  // namespace clb::cuda
