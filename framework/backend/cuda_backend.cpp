#include "framework/backend/cuda_backend.h"

#include <cuda_runtime_api.h>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/cuda_ops.h"

namespace clb::cuda {

namespace {

// A captured CUDA graph, instantiated once, launched on the backend's stream.
class CudaGraph final : public Recording {
 public:
  CudaGraph(cudaGraph_t graph, cudaGraphExec_t exec, cudaStream_t stream) : graph_(graph), exec_(exec), stream_(stream) {}
  ~CudaGraph() override {  // statuses ignored: destructors never throw
    if (exec_) ignore_status(cudaGraphExecDestroy(exec_));
    ignore_status(cudaGraphDestroy(graph_));
  }
  void replay() override { CLB_CUDA_CHECK(cudaGraphLaunch(exec_, stream_)); }

 private:
  cudaGraph_t graph_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
  cudaStream_t stream_;
};

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(const Variants& v) : v_(v) {
    CLB_CUDA_CHECK(cudaSetDevice(0));
    CLB_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    // The cuBLAS handle now rather than at the first variant-0 GEMM, which may be inside a recording.
    warm_cublas(stream_);
  }
  ~CudaBackend() override { ignore_status(cudaStreamDestroy(stream_)); }  // destructors never throw
  bool host_memory() const override { return false; }

  void* allocate(std::size_t bytes) override {
    void* p = nullptr;  // cudaMalloc aligns to 256 bytes
    CLB_CUDA_CHECK(cudaMalloc(&p, bytes ? bytes : 1));
    return p;
  }
  void release(void* p) noexcept override { ignore_status(cudaFree(p)); }
  // Stream-ordered behind the ops already issued, and finished before returning (the host
  // buffer is pageable and may be reused at once).
  void copy_in(void* dst, const void* src, std::size_t bytes) override {
    CLB_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream_));
    synchronize();
  }
  void copy_out(void* dst, const void* src, std::size_t bytes) override {
    CLB_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream_));
    synchronize();
  }
  void fill_zero(void* p, std::size_t bytes) override { CLB_CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, stream_)); }

  std::unique_ptr<Recording> record(const std::function<void()>& enqueue) override {
    CLB_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
    try {
      enqueue();
    } catch (...) {
      cudaGraph_t broken = nullptr;
      ignore_status(cudaStreamEndCapture(stream_, &broken));  // leave the stream usable; the first error counts
      if (broken) ignore_status(cudaGraphDestroy(broken));
      throw;
    }
    cudaGraph_t graph = nullptr;
    CLB_CUDA_CHECK(cudaStreamEndCapture(stream_, &graph));
    cudaGraphExec_t exec = nullptr;
    const cudaError_t err = cudaGraphInstantiate(&exec, graph, 0);
    if (err != cudaSuccess) {
      ignore_status(cudaGraphDestroy(graph));
      cudaGetLastError();
      CLB_CUDA_CHECK(err);
    }
    return std::make_unique<CudaGraph>(graph, exec, stream_);
  }
  cudaStream_t stream() const { return stream_; }
  void gather(const GatherArgs& a) override { cuda::gather(a, stream_); }
  void count_correct(const CountCorrectArgs& a) override { cuda::count_correct(a, stream_); }
  void advance_step(const AdvanceStepArgs& a) override { cuda::advance_step(a, stream_); }
  std::string name() const override { return "cuda"; }
  void linear_forward(const LinearForwardArgs& a) override { cuda::linear_forward(a, v_.gemm, stream_); }
  void softmax_xent(const SoftmaxXentArgs& a) override { cuda::softmax_xent(a, 1, stream_); }
  void linear_backward(const LinearBackwardArgs& a) override { cuda::linear_backward(a, v_.gemm, stream_); }
  void fisher_diag(const FisherDiagArgs& a) override { cuda::fisher_diag(a, v_.gemm, stream_); }
  void fused_update(const FusedUpdateArgs& a) override { cuda::fused_update(a, v_.update, stream_); }
  void synchronize() override { CLB_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

 private:
  Variants v_;
  cudaStream_t stream_ = nullptr;
};

}  // namespace

cudaStream_t stream_of(Backend& be) {
  auto* cuda = dynamic_cast<CudaBackend*>(&be);
  CLB_ASSERT(cuda != nullptr);
  return cuda->stream();
}

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
  if (usable_devices(&why) == 0) fail_setting("@backend cuda: no usable CUDA device ({}); use @backend cpu", why);
  return std::make_unique<CudaBackend>(v);
}

}  // namespace clb::cuda
