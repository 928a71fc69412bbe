#pragma once
// CLB_CUDA_CHECK / CLB_CUBLAS_CHECK / CLB_CUDA_CHECK_LAST: throw clb::CudaError with file:line,
// the failed expression and the error string. The throwing function lives in a .cpp (g++), so the
// .cu files need neither fmt nor <stdexcept>.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <stdexcept>

namespace clb {

// A failed CUDA or cuBLAS call. Not a clb::Error: kernels/ depends on nothing above it; the CLI
// prints any std::exception as one line.
class CudaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace clb

namespace clb::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t err, const char* expr, const char* file, int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* expr, const char* file, int line);

}  // namespace clb::cuda

namespace clb::cuda {

// For a call whose status is not checked (destructors, clean-up after an error): a failed runtime
// call also leaves its error for cudaGetLastError, which the next CLB_CUDA_CHECK_LAST would report
// as that launch's. Cleared here.
inline void ignore_status(cudaError_t err) {
  if (err != cudaSuccess) cudaGetLastError();
}

}  // namespace clb::cuda

#define CLB_CUDA_CHECK(expr)                                                                 \
  do {                                                                                       \
    const cudaError_t clb_err_ = (expr);                                                     \
    if (clb_err_ != cudaSuccess) ::clb::cuda::throw_cuda_error(clb_err_, #expr, __FILE__, __LINE__); \
  } while (0)

#define CLB_CUBLAS_CHECK(expr)                                                                          \
  do {                                                                                                  \
    const cublasStatus_t clb_st_ = (expr);                                                              \
    if (clb_st_ != CUBLAS_STATUS_SUCCESS) ::clb::cuda::throw_cublas_error(clb_st_, #expr, __FILE__, __LINE__); \
  } while (0)

#define CLB_CUDA_CHECK_LAST() CLB_CUDA_CHECK(cudaGetLastError())
