#include "framework/cuda/backend_cuda.h"

#include <cuda_runtime_api.h>

#include "kernels/cuda_check.h"
#include "kernels/cuda_ops.h"

namespace clb::cuda {

namespace {

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(const Variants& v) : v_(v) {
    CLB_CUDA_CHECK(cudaSetDevice(0));
    CLB_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  }
  ~CudaBackend() override { cudaStreamDestroy(stream_); }  // status ignored: destructors never throw
  std::string name() const override { return "cuda"; }
  void linear_forward(const LinearForwardArgs& a) override { cuda::linear_forward(a, v_.gemm, stream_); }
  void softmax_xent(const SoftmaxXentArgs& a) override { cuda::softmax_xent(a, 1, stream_); }
  void linear_backward(const LinearBackwardArgs& a) override { cuda::linear_backward(a, v_.gemm, stream_); }
  void fisher_diag(const FisherDiagArgs& a) override { cuda::fisher_diag(a, v_.gemm, stream_); }
  void ewc_update(const EwcUpdateArgs& a) override { cuda::ewc_update(a, v_.update, stream_); }
  void synchronize() override { CLB_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

 private:
  Variants v_;
  cudaStream_t stream_ = nullptr;
};

}  // namespace

int usable_devices(std::string* why) {
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    if (why) *why = cudaGetErrorString(err);
    cudaGetLastError();  // clear the sticky-free error so later calls start clean
    return 0;
  }
  if (n == 0 && why) *why = "no CUDA device found";
  return n;
}

std::unique_ptr<Backend> make_backend(const Variants& v) {
  std::string why;
  if (usable_devices(&why) == 0) fail("--backend cuda: no usable CUDA device ({}); use --backend cpu", why);
  return std::make_unique<CudaBackend>(v);
}

}  // namespace clb::cuda
