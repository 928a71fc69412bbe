// The throwing side of CLB_CUDA_CHECK / CLB_CUBLAS_CHECK (kernels/cuda/cuda_check.h) and the process's
// cuBLAS handle (kernels/cuda/cuda_ops.h).
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <fmt/core.h>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/cuda_ops.h"

namespace clb::cuda {

void throw_cuda_error(cudaError_t err, const char* expr, const char* file, int line) {
  throw CudaError(fmt::format("CUDA error at {}:{}: {} failed: {} ({})", file, line, expr, cudaGetErrorString(err),
                              cudaGetErrorName(err)));
}

void throw_cublas_error(cublasStatus_t status, const char* expr, const char* file, int line) {
  throw CudaError(fmt::format("cuBLAS error at {}:{}: {} failed: {} ({})", file, line, expr,
                              cublasGetStatusString(status), cublasGetStatusName(status)));
}

namespace {

// One handle for the process; its stream is set on every use. Never destroyed explicitly: at
// static destruction the CUDA context may already be gone, and destructors must not throw.
struct Handle {
  cublasHandle_t h = nullptr;
};

}  // namespace

void* cublas_handle(cudaStream_t stream) {
  static Handle handle;
  if (handle.h == nullptr) {
    CLB_CUBLAS_CHECK(cublasCreate(&handle.h));
    // FP32 GEMMs in FP32: no TF32 tensor cores (the comparison with the hand-written kernels and
    // the CPU twin needs full single precision).
    CLB_CUBLAS_CHECK(cublasSetMathMode(handle.h, CUBLAS_DEFAULT_MATH));
  }
  CLB_CUBLAS_CHECK(cublasSetStream(handle.h, stream));
  return handle.h;
}

void warm_cublas(cudaStream_t stream) {
  auto h = static_cast<cublasHandle_t>(cublas_handle(stream));
  float* abc = nullptr;
  CLB_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&abc), 3 * sizeof(float)));
  const float one = 1.0f, zero = 0.0f;
  const cublasStatus_t st = cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &one, abc, 1, abc + 1, 1, &zero, abc + 2, 1);
  const cudaError_t synced = cudaStreamSynchronize(stream);
  ignore_status(cudaFree(abc));
  CLB_CUBLAS_CHECK(st);
  CLB_CUDA_CHECK(synced);
}

}  // namespace clb::cuda
