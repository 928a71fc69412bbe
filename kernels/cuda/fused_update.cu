// Fused EWC penalty + optimizer update, one pass over the parameters:
//   g' = g + lambda F (theta - anchor);  sgd / momentum / Adam step (formulas in kernels/ops.h).
// 20 B/param moved for sgd with the penalty (theta, g, F, anchor read; theta written), +8 with
// momentum, +16 with Adam: bandwidth-bound, so the goal is the card's copy bandwidth.
//   v1 grid-stride, scalar accesses
//   v2 grid-stride, 16-byte (float4) accesses when every array is 16-byte aligned, scalar tail
// Asked for the penalty value, both also sum F (theta - anchor)^2 in double as they go: a block
// partial each into scratch, then one thread adds the partials in order (no atomics: the same
// bits every run). The extra traffic is 8 B per block.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/cuda_ops.h"

namespace clb::cuda {

namespace {

struct Coeffs {
  float lr, lambda, momentum, beta1, beta2, eps, step_size, inv_sqrt_bc2;
};

// Adam's bias corrections for `step`, in double as the CPU twin's (1 - beta2^t cancels in float),
// hoisted the same way.
__host__ __device__ inline void set_bias_corrections(Coeffs& c, double step) {
  c.step_size = float(double(c.lr) / (1.0 - pow(double(c.beta1), step)));
  c.inv_sqrt_bc2 = float(1.0 / sqrt(1.0 - pow(double(c.beta2), step)));
}

// The step from the device counter when the args name one (a replayed CUDA graph).
__device__ __forceinline__ Coeffs coeffs_for(const FusedUpdateArgs& a, Coeffs c) {
  if (a.steps_done) set_bias_corrections(c, double(*a.steps_done + 1));
  return c;
}

template <bool kPenalty, Optimizer kOpt>
__device__ __forceinline__ void update_one(float& theta, float g, float f, float anchor, float& m, float& v,
                                           const Coeffs& c) {
  if (kPenalty) g += c.lambda * f * (theta - anchor);
  if (kOpt == Optimizer::kSgd) {
    theta -= c.lr * g;
  } else if (kOpt == Optimizer::kMomentum) {
    m = c.momentum * m + g;
    theta -= c.lr * m;
  } else {
    m = c.beta1 * m + (1.0f - c.beta1) * g;
    v = c.beta2 * v + (1.0f - c.beta2) * g * g;
    theta -= c.step_size * m / (sqrtf(v) * c.inv_sqrt_bc2 + c.eps);
  }
}

constexpr int kThreads = 256;

// The penalty value's first stage: a fixed-shape tree over the block's threads, one partial per
// block into scratch[slot] (the second stage sums the partials in slot order: deterministic).
__device__ __forceinline__ void block_partial(double v, double* scratch, int slot) {
  __shared__ double part[kThreads];
  part[threadIdx.x] = v;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) part[threadIdx.x] += part[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) scratch[slot] = part[0];
}

__device__ __forceinline__ double penalty_term(float theta, float f, float anchor) {
  const double d = double(theta) - double(anchor);
  return double(f) * d * d;
}

template <bool kPenalty, Optimizer kOpt, bool kValue>
__global__ void fused_update_kernel1(FusedUpdateArgs a, Coeffs c0, int64_t begin, int slot0) {
  const Coeffs c = coeffs_for(a, c0);
  double value = 0.0;
  for (int64_t i = begin + blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < a.n;
       i += int64_t(gridDim.x) * blockDim.x) {
    if (kValue) value += penalty_term(a.theta[i], a.fisher[i], a.anchor[i]);
    float m = kOpt == Optimizer::kSgd ? 0.0f : a.m[i], v = kOpt == Optimizer::kAdam ? a.v[i] : 0.0f;
    update_one<kPenalty, kOpt>(a.theta[i], a.grad[i], kPenalty ? a.fisher[i] : 0.0f, kPenalty ? a.anchor[i] : 0.0f,
                               m, v, c);
    if (kOpt != Optimizer::kSgd) a.m[i] = m;
    if (kOpt == Optimizer::kAdam) a.v[i] = v;
  }
  if (kValue) block_partial(value, a.penalty_scratch, slot0 + blockIdx.x);
}

template <bool kPenalty, Optimizer kOpt, bool kValue>
__global__ void fused_update_kernel2(FusedUpdateArgs a, Coeffs c0) {
  const Coeffs c = coeffs_for(a, c0);
  double value = 0.0;
  const int64_t n4 = a.n / 4;
  auto* theta = reinterpret_cast<float4*>(a.theta);
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n4; i += int64_t(gridDim.x) * blockDim.x) {
    float4 t = theta[i];
    const float4 g = reinterpret_cast<const float4*>(a.grad)[i];
    float4 f = {}, an = {}, m = {}, v = {};
    if (kPenalty) f = reinterpret_cast<const float4*>(a.fisher)[i], an = reinterpret_cast<const float4*>(a.anchor)[i];
    if (kOpt != Optimizer::kSgd) m = reinterpret_cast<float4*>(a.m)[i];
    if (kOpt == Optimizer::kAdam) v = reinterpret_cast<float4*>(a.v)[i];
    if (kValue)
      value += penalty_term(t.x, f.x, an.x) + penalty_term(t.y, f.y, an.y) + penalty_term(t.z, f.z, an.z) +
               penalty_term(t.w, f.w, an.w);
    update_one<kPenalty, kOpt>(t.x, g.x, f.x, an.x, m.x, v.x, c);
    update_one<kPenalty, kOpt>(t.y, g.y, f.y, an.y, m.y, v.y, c);
    update_one<kPenalty, kOpt>(t.z, g.z, f.z, an.z, m.z, v.z, c);
    update_one<kPenalty, kOpt>(t.w, g.w, f.w, an.w, m.w, v.w, c);
    theta[i] = t;
    if (kOpt != Optimizer::kSgd) reinterpret_cast<float4*>(a.m)[i] = m;
    if (kOpt == Optimizer::kAdam) reinterpret_cast<float4*>(a.v)[i] = v;
  }
  if (kValue) block_partial(value, a.penalty_scratch, blockIdx.x);
}

// The penalty value's second stage: the partials summed in slot order by one thread.
__global__ void penalty_value_kernel(const double* scratch, int slots, double* out) {
  double s = 0.0;
  for (int k = 0; k < slots; ++k) s += scratch[k];
  *out = 0.5 * s;
}

bool aligned16(const void* p) { return p == nullptr || reinterpret_cast<uintptr_t>(p) % 16 == 0; }

template <bool kPenalty, Optimizer kOpt, bool kValue>
void launch(const FusedUpdateArgs& a, const Coeffs& c, int variant, cudaStream_t stream) {
  // With the value, each kernel keeps to half the scratch slots (the grid-stride loops cover n).
  const int64_t max_blocks = kValue ? kPenaltyPartials / 2 : 65536;
  const bool vec = variant == 2 && aligned16(a.theta) && aligned16(a.grad) && aligned16(a.fisher) &&
                   aligned16(a.anchor) && aligned16(a.m) && aligned16(a.v);
  int64_t begin = 0;
  int slots = 0;
  if (vec && a.n >= 4) {
    const int64_t n4 = a.n / 4;
    const int blocks = int(std::min<int64_t>((n4 + kThreads - 1) / kThreads, max_blocks));
    fused_update_kernel2<kPenalty, kOpt, kValue><<<blocks, kThreads, 0, stream>>>(a, c);
    begin = n4 * 4;
    slots = blocks;
  }
  const int64_t rest = a.n - begin;
  if (rest > 0) {
    const int blocks = int(std::min<int64_t>((rest + kThreads - 1) / kThreads, max_blocks));
    fused_update_kernel1<kPenalty, kOpt, kValue><<<blocks, kThreads, 0, stream>>>(a, c, begin, slots);
    slots += blocks;
  }
  if (kValue) penalty_value_kernel<<<1, 1, 0, stream>>>(a.penalty_scratch, slots, a.penalty_value);
}

template <bool kPenalty, bool kValue = false>
void dispatch(const FusedUpdateArgs& a, const Coeffs& c, int variant, cudaStream_t s) {
  switch (a.opt) {
    case Optimizer::kSgd: return launch<kPenalty, Optimizer::kSgd, kValue>(a, c, variant, s);
    case Optimizer::kMomentum: return launch<kPenalty, Optimizer::kMomentum, kValue>(a, c, variant, s);
    case Optimizer::kAdam: return launch<kPenalty, Optimizer::kAdam, kValue>(a, c, variant, s);
  }
}

}  // namespace

void fused_update(const FusedUpdateArgs& a, int variant, cudaStream_t stream) {
  if (a.n <= 0) return;
  // Same hoisted bias corrections as the CPU twin (kernels/cpu/fused_update.cpp).
  Coeffs c{a.lr, a.lambda, a.momentum, a.beta1, a.beta2, a.eps, 0.0f, 0.0f};
  set_bias_corrections(c, double(a.step));  // replaced in the kernel when a.steps_done is set
  const bool penalty = a.fisher != nullptr && a.anchor != nullptr && a.lambda != 0.0f;
  if (penalty && a.penalty_value) {
    if (a.penalty_scratch == nullptr)
      throw_cuda_error(cudaErrorInvalidValue, "FusedUpdateArgs::penalty_value without penalty_scratch", __FILE__, __LINE__);
    dispatch<true, true>(a, c, variant, stream);
  } else if (penalty)
    dispatch<true>(a, c, variant, stream);
  else
    dispatch<false>(a, c, variant, stream);
  CLB_CUDA_CHECK_LAST();
}

}  // namespace clb::cuda
