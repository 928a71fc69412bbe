// Minibatch gather from the resident feature table (kernels/ops.h, GatherArgs): one block per
// sample, threads across the features. Reads B*dim floats (or bytes) and writes B*dim floats (+ the pixel map, cached in
// L1/L2: T*dim ints shared by every sample of a task): bandwidth-bound and small next to the
// step's GEMMs (784-400-400-10, B = 128: 0.4 MB moved against 2*128*(784*400+400*400+400*10)*3
// = 0.38 GFLOP).
//   v1 one block per sample (the only variant)
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/cuda_ops.h"

namespace clb::cuda {

namespace {

__global__ void gather_kernel1(GatherArgs a) {
  const int i = blockIdx.x;
  const int64_t first = a.offset ? *a.offset : 0;
  const int32_t row = a.rows[first + i], task = a.tasks[first + i];
  float* dst = a.x + int64_t(i) * a.dim;
  const int32_t* map = a.pixel_maps ? a.pixel_maps + int64_t(task) * a.dim : nullptr;
  for (int j = threadIdx.x; j < a.dim; j += blockDim.x) {
    const int32_t s = map ? map[j] : j;
    // Bytes divided as the CPU twin does (IEEE division: nvcc's default -prec-div=true).
    dst[j] = s < 0 ? 0.0f : a.table8 ? float(a.table8[int64_t(row) * a.dim + s]) / 255.0f : a.table[int64_t(row) * a.dim + s];
  }
  if (threadIdx.x == 0) a.y[i] = a.labels[row];
  if (a.class_masks)
    for (int c = threadIdx.x; c < a.C; c += blockDim.x) a.mask[int64_t(i) * a.C + c] = a.class_masks[int64_t(task) * a.C + c];
}

}  // namespace

void gather(const GatherArgs& a, cudaStream_t stream) {
  if (a.B <= 0) return;
  gather_kernel1<<<a.B, 256, 0, stream>>>(a);
  CLB_CUDA_CHECK_LAST();
}

}  // namespace clb::cuda
