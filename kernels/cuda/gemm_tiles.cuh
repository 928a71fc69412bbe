#pragma once
// The hand-written GEMM family behind linear_forward, linear_backward and fisher_diag:
//   C[m][n] = epilogue(m, n, sum_k A(m, k) * B(k, n)),   A logical M x K, B logical K x N.
// Operands are small functors that read one element of the logical matrix, so a transpose, a
// square (Fisher) or a sum over stacked rows (Fisher with K rows per sample) is fused into the
// load instead of materialised. Each operand says which logical index is contiguous in memory,
// and the tile loaders map consecutive threads along it (coalesced loads).
//
//   v1 naive           one thread per output, operands from global memory      (reference)
//   v2 tiles 32x32     one output per thread, 32x32 tiles of A and B in shared memory
//   v3 64x64, 4x4/thr  256 threads, each 4x4 outputs in registers, 64x16 / 16x64 tiles
//   v4 v3 + 16 B       v3 with 16-byte accesses: each thread loads one float4 of each tile from
//                      global memory (operands that can: Dense, 16-byte aligned, ld % 4 == 0;
//                      others and ragged edges fall back to scalar loads) and reads its 4 A and
//                      4 B values per k from shared memory as two float4
// Napkin math (v3): per 16-deep k-step a thread does 16 FMA per 8 shared loads (2 FMA/load), and a
// block reads 64x16 + 16x64 floats for 64*64*16 FMA: 32 FMA per global load. v4 issues a quarter
// of the load instructions for the same bytes (global 4 -> 1 per tile and operand, shared 8 -> 2 per k).
#include <cstdint>

namespace clb::cuda::gemm {

// Element (r, c) of a row-major matrix with leading dimension ld, optionally read transposed
// and/or squared.
template <bool kTrans, bool kSquare = false>
struct Dense {
  const float* p;
  int ld;
  static constexpr bool kColContiguous = !kTrans;  // consecutive c are adjacent in memory
  static constexpr bool kVec4 = true;
  __device__ __forceinline__ float operator()(int r, int c) const {
    const float v = kTrans ? p[int64_t(c) * ld + r] : p[int64_t(r) * ld + c];
    return kSquare ? v * v : v;
  }
  // Whether load4 may be used (every group of 4 along the contiguous index is 16-byte aligned).
  __device__ __forceinline__ bool vec4_ok() const { return ld % 4 == 0 && reinterpret_cast<uintptr_t>(p) % 16 == 0; }
  // Four elements along the contiguous index from (r, c): (r, c..c+3), or (r..r+3, c) if transposed.
  __device__ __forceinline__ float4 load4(int r, int c) const {
    float4 v = kTrans ? *reinterpret_cast<const float4*>(p + int64_t(c) * ld + r)
                      : *reinterpret_cast<const float4*>(p + int64_t(r) * ld + c);
    if (kSquare) v.x *= v.x, v.y *= v.y, v.z *= v.z, v.w *= v.w;
    return v;
  }
};

// Fisher's left operand: A(o, i) = sum_k delta[i*K + k][o]^2, the squared output deltas of
// sample i summed over its K stacked rows (exact / sampled estimators), read from delta (B*K, n_out).
struct SumSquaredRows {
  const float* delta;
  int ld;  // n_out
  int K;
  static constexpr bool kColContiguous = false;  // consecutive o (rows of A) are adjacent
  static constexpr bool kVec4 = false;
  __device__ __forceinline__ bool vec4_ok() const { return false; }
  __device__ __forceinline__ float4 load4(int, int) const { return {}; }
  __device__ __forceinline__ float operator()(int o, int i) const {
    float s = 0.0f;
    for (int k = 0; k < K; ++k) {
      const float v = delta[(int64_t(i) * K + k) * ld + o];
      s += v * v;
    }
    return s;
  }
};

// C = alpha * acc + beta * C.
struct Store {
  float* C;
  int ldc;
  float alpha, beta;
  __device__ __forceinline__ void operator()(int m, int n, float acc) const {
    float* c = C + int64_t(m) * ldc + n;
    *c = beta == 0.0f ? alpha * acc : alpha * acc + beta * *c;
  }
};

// Linear forward: y = acc + bias[n], ReLU optional.
struct BiasRelu {
  float* C;
  int ldc;
  const float* bias;
  bool relu;
  __device__ __forceinline__ void operator()(int m, int n, float acc) const {
    const float v = acc + bias[n];
    C[int64_t(m) * ldc + n] = relu ? fmaxf(v, 0.0f) : v;
  }
};

// Backward dX: acc masked by 1[X > 0] of the layer input, whose row is shared by K delta rows.
struct ReluMask {
  float* C;
  int ldc;
  const float* X;  // (B, n_in) or null (no mask)
  int K;
  __device__ __forceinline__ void operator()(int m, int n, float acc) const {
    const bool keep = X == nullptr || X[int64_t(m / K) * ldc + n] > 0.0f;
    C[int64_t(m) * ldc + n] = keep ? acc : 0.0f;
  }
};

template <class A, class B, class Epi>
__global__ void gemm_kernel1(int M, int N, int K, A a, B b, Epi epi) {
  const int n = blockIdx.x * blockDim.x + threadIdx.x, m = blockIdx.y * blockDim.y + threadIdx.y;
  if (m >= M || n >= N) return;
  float acc = 0.0f;
  for (int k = 0; k < K; ++k) acc += a(m, k) * b(k, n);
  epi(m, n, acc);
}

template <class A, class B, class Epi>
__global__ void __launch_bounds__(1024) gemm_kernel2(int M, int N, int K, A a, B b, Epi epi) {
  constexpr int T = 32;
  __shared__ float As[T][T + 1];  // [m][k], +1: no bank conflicts on the transposed reads
  __shared__ float Bs[T][T + 1];  // [k][n]
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int m0 = blockIdx.y * T, n0 = blockIdx.x * T;
  float acc = 0.0f;
  for (int k0 = 0; k0 < K; k0 += T) {
    // Consecutive threads (tx) walk the contiguous index of each operand.
    if (A::kColContiguous) {
      const int m = m0 + ty, k = k0 + tx;
      As[ty][tx] = (m < M && k < K) ? a(m, k) : 0.0f;
    } else {
      const int m = m0 + tx, k = k0 + ty;
      As[tx][ty] = (m < M && k < K) ? a(m, k) : 0.0f;
    }
    if (B::kColContiguous) {
      const int k = k0 + ty, n = n0 + tx;
      Bs[ty][tx] = (k < K && n < N) ? b(k, n) : 0.0f;
    } else {
      const int k = k0 + tx, n = n0 + ty;
      Bs[tx][ty] = (k < K && n < N) ? b(k, n) : 0.0f;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < T; ++kk) acc += As[ty][kk] * Bs[kk][tx];
    __syncthreads();
  }
  const int m = m0 + ty, n = n0 + tx;
  if (m < M && n < N) epi(m, n, acc);
}

// acc += ar br^T: one k-step of a thread's register tile.
template <int TM, int TN>
__device__ __forceinline__ void outer_product_add(float (&acc)[TM][TN], const float (&ar)[TM], const float (&br)[TN]) {
#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int j = 0; j < TN; ++j) acc[i][j] += ar[i] * br[j];
}

// A thread's TM x TN outputs from (m, n) through the epilogue, clipped at the matrix edge.
template <int TM, int TN, class Epi>
__device__ __forceinline__ void store_tile(const float (&acc)[TM][TN], int m, int n, int M, int N, const Epi& epi) {
#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int j = 0; j < TN; ++j)
      if (m + i < M && n + j < N) epi(m + i, n + j, acc[i][j]);
}

template <class A, class B, class Epi>
__global__ void __launch_bounds__(256) gemm_kernel3(int M, int N, int K, A a, B b, Epi epi) {
  constexpr int BM = 64, BN = 64, BK = 16, TM = 4, TN = 4, THREADS = 256;
  __shared__ float As[BK][BM + 4];  // [k][m]: a thread's TM rows are adjacent
  __shared__ float Bs[BK][BN + 4];  // [k][n]
  const int tid = threadIdx.x;
  const int tm = (tid / (BN / TN)) * TM, tn = (tid % (BN / TN)) * TN;
  const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
  float acc[TM][TN] = {};
  for (int k0 = 0; k0 < K; k0 += BK) {
#pragma unroll
    for (int i = 0; i < BM * BK / THREADS; ++i) {
      const int e = tid + i * THREADS;
      const int mm = A::kColContiguous ? e / BK : e % BM, kk = A::kColContiguous ? e % BK : e / BM;
      const int m = m0 + mm, k = k0 + kk;
      As[kk][mm] = (m < M && k < K) ? a(m, k) : 0.0f;
    }
#pragma unroll
    for (int i = 0; i < BK * BN / THREADS; ++i) {
      const int e = tid + i * THREADS;
      const int nn = B::kColContiguous ? e % BN : e / BK, kk = B::kColContiguous ? e / BN : e % BK;
      const int k = k0 + kk, n = n0 + nn;
      Bs[kk][nn] = (k < K && n < N) ? b(k, n) : 0.0f;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < BK; ++kk) {
      float ar[TM], br[TN];
#pragma unroll
      for (int i = 0; i < TM; ++i) ar[i] = As[kk][tm + i];
#pragma unroll
      for (int j = 0; j < TN; ++j) br[j] = Bs[kk][tn + j];
      outer_product_add(acc, ar, br);
    }
    __syncthreads();
  }
  store_tile(acc, m0 + tm, n0 + tn, M, N, epi);
}

// v4's tile loaders: 256 threads, one group of 4 elements each along the operand's contiguous
// index. Tile element (row, col) of the 16 x 64 shared tile S[k][x] where x = m (A) or n (B).
// get(i, j) reads logical element (i, j) of the operand; (i0, j0) is the group's first element
// and kAlongJ says the group runs along j.
template <bool kAlongJ, class Op>
__device__ __forceinline__ float4 load_group(const Op& op, bool vec, int i0, int j0, int I, int J) {
  const bool full = kAlongJ ? (i0 < I && j0 + 3 < J) : (i0 + 3 < I && j0 < J);
  if (vec && full) return op.load4(i0, j0);
  auto at = [&](int q) {
    const int i = kAlongJ ? i0 : i0 + q, j = kAlongJ ? j0 + q : j0;
    return (i < I && j < J) ? op(i, j) : 0.0f;
  };
  return make_float4(at(0), at(1), at(2), at(3));
}

template <class A, class B, class Epi>
__global__ void __launch_bounds__(256) gemm_kernel4(int M, int N, int K, A a, B b, Epi epi) {
  constexpr int BM = 64, BN = 64, BK = 16, TM = 4, TN = 4;
  __shared__ __align__(16) float As[BK][BM + 4];  // [k][m]; rows of 68 floats keep float4 alignment
  __shared__ __align__(16) float Bs[BK][BN + 4];  // [k][n]
  const int tid = threadIdx.x;
  const int tm = (tid / (BN / TN)) * TM, tn = (tid % (BN / TN)) * TN;
  const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
  const bool a_vec = A::kVec4 && a.vec4_ok(), b_vec = B::kVec4 && b.vec4_ok();
  float acc[TM][TN] = {};
  for (int k0 = 0; k0 < K; k0 += BK) {
    if (A::kColContiguous) {  // groups along k: 64 rows x 4 groups
      const int mm = tid / 4, kq = (tid % 4) * 4;
      const float4 v = load_group<true>(a, a_vec, m0 + mm, k0 + kq, M, K);
      As[kq][mm] = v.x, As[kq + 1][mm] = v.y, As[kq + 2][mm] = v.z, As[kq + 3][mm] = v.w;
    } else {  // groups along m: 16 k x 16 groups
      const int kk = tid / 16, mq = (tid % 16) * 4;
      *reinterpret_cast<float4*>(&As[kk][mq]) = load_group<false>(a, a_vec, m0 + mq, k0 + kk, M, K);
    }
    if (B::kColContiguous) {  // groups along n: 16 k x 16 groups
      const int kk = tid / 16, nq = (tid % 16) * 4;
      *reinterpret_cast<float4*>(&Bs[kk][nq]) = load_group<true>(b, b_vec, k0 + kk, n0 + nq, K, N);
    } else {  // groups along k: 64 n x 4 groups
      const int nn = tid / 4, kq = (tid % 4) * 4;
      const float4 v = load_group<false>(b, b_vec, k0 + kq, n0 + nn, K, N);
      Bs[kq][nn] = v.x, Bs[kq + 1][nn] = v.y, Bs[kq + 2][nn] = v.z, Bs[kq + 3][nn] = v.w;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < BK; ++kk) {
      const float4 a4 = *reinterpret_cast<const float4*>(&As[kk][tm]);
      const float4 b4 = *reinterpret_cast<const float4*>(&Bs[kk][tn]);
      const float ar[TM] = {a4.x, a4.y, a4.z, a4.w}, br[TN] = {b4.x, b4.y, b4.z, b4.w};
      outer_product_add(acc, ar, br);
    }
    __syncthreads();
  }
  store_tile(acc, m0 + tm, n0 + tn, M, N, epi);
}

// Launches hand-written variant 1, 2, 3 or 4 on stream.
template <class A, class B, class Epi>
void launch(int variant, int M, int N, int K, A a, B b, Epi epi, cudaStream_t stream) {
  if (M <= 0 || N <= 0) return;
  if (variant == 1) {
    const dim3 block(32, 8), grid((N + 31) / 32, (M + 7) / 8);
    gemm_kernel1<<<grid, block, 0, stream>>>(M, N, K, a, b, epi);
  } else if (variant == 2) {
    const dim3 block(32, 32), grid((N + 31) / 32, (M + 31) / 32);
    gemm_kernel2<<<grid, block, 0, stream>>>(M, N, K, a, b, epi);
  } else if (variant == 3) {
    const dim3 grid((N + 63) / 64, (M + 63) / 64);
    gemm_kernel3<<<grid, 256, 0, stream>>>(M, N, K, a, b, epi);
  } else {
    const dim3 grid((N + 63) / 64, (M + 63) / 64);
    gemm_kernel4<<<grid, 256, 0, stream>>>(M, N, K, a, b, epi);
  }
}

}  // namespace clb::cuda::gemm
