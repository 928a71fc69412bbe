// cuBLAS opened when first used (dlopen) instead of linked. Linked, libcublas and libcublasLt are
// mapped and relocated at start-up by every process of a CUDA build: about 150 MiB of resident
// memory and a slower start for CPU runs and `clbench --help` that never call them. The handful of
// cuBLAS functions clbench calls are defined here with the header's own signatures (cublas_v2.h),
// each forwarding to the library's symbol; nothing else changes for the kernels.
// The CUDA runtime is linked statically and opens the driver (libcuda) only on its first call.
#include <cublas_v2.h>
#include <dlfcn.h>

#include <string>

#include "kernels/cuda/cuda_check.h"

#define CLB_STR2(x) #x
#define CLB_STR(x) CLB_STR2(x)

namespace clb::cuda {
namespace {

// libcublas.so.<major> of the toolkit compiled against: first as the dynamic loader finds it
// (LD_LIBRARY_PATH, the executable's RPATH, the system's paths), then in that toolkit's lib dir.
constexpr const char* kSoname = "libcublas.so." CLB_STR(CUBLAS_VER_MAJOR);

void* open_library(std::string& why) {
  void* h = dlopen(kSoname, RTLD_NOW | RTLD_LOCAL);
  if (h) return h;
  why = dlerror();
#ifdef CLB_CUBLAS_DIR
  h = dlopen((std::string(CLB_CUBLAS_DIR) + "/" + kSoname).c_str(), RTLD_NOW | RTLD_LOCAL);
#endif
  return h;
}

void* library() {
  static std::string why;
  static void* const lib = open_library(why);
  if (!lib)
    throw CudaError(std::string("cuBLAS could not be loaded (") + why + "); install the CUDA Toolkit's cuBLAS " +
                    CLB_STR(CUBLAS_VER_MAJOR) + ".x or put its lib directory on LD_LIBRARY_PATH, or use --backend cpu");
  return lib;
}

template <class F>
F symbol(const char* name) {
  void* f = dlsym(library(), name);
  if (!f) throw CudaError(std::string("cuBLAS: ") + kSoname + " lacks " + name + "; install cuBLAS " + CLB_STR(CUBLAS_VER_MAJOR) + ".x");
  return reinterpret_cast<F>(f);
}

}  // namespace
}  // namespace clb::cuda

// Each resolved once, on its first call.
#define CLB_FORWARD(ret, name, params, args)                              \
  ret CUBLASWINAPI name params {                                           \
    static const auto f = ::clb::cuda::symbol<ret (*) params>(#name);      \
    return f args;                                                         \
  }

extern "C" {
CLB_FORWARD(cublasStatus_t, cublasCreate_v2, (cublasHandle_t * handle), (handle))
CLB_FORWARD(cublasStatus_t, cublasSetStream_v2, (cublasHandle_t handle, cudaStream_t stream), (handle, stream))
CLB_FORWARD(cublasStatus_t, cublasSetMathMode, (cublasHandle_t handle, cublasMath_t mode), (handle, mode))
CLB_FORWARD(cublasStatus_t, cublasSgemm_v2,
            (cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k,
             const float* alpha, const float* A, int lda, const float* B, int ldb, const float* beta, float* C, int ldc),
            (handle, transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc))
CLB_FORWARD(const char*, cublasGetStatusString, (cublasStatus_t status), (status))
CLB_FORWARD(const char*, cublasGetStatusName, (cublasStatus_t status), (status))
}
