#pragma once
// The CUDA backend: the Backend ops on device memory (kernels/). Built only when nvcc is found.
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <cuda_runtime_api.h>

#include "framework/backend/backend.h"
#include "framework/core/error.h"
#include "kernels/cuda/cuda_check.h"

namespace clb {

namespace cuda {

struct Variants {
  int gemm = 3;    // kernels/cuda/cuda_ops.h: kGemmDefault
  int update = 2;  // kUpdateDefault
};

// Number of usable CUDA devices; 0 (never an exception) when there is no driver or device, with
// the reason in *why.
int usable_devices(std::string* why = nullptr);

// A CUDA backend on device 0, or a clb::SettingError naming backend when none is usable.
std::unique_ptr<Backend> make_backend(const Variants& v = {});

// The stream a CUDA backend issues its ops on (for timing with events); `be` must be one.
cudaStream_t stream_of(Backend& be);

// Device memory that frees itself (destructors never throw), for tests and benchmarks; the engines
// use BackendArray (framework/backend/backend_array.h).
template <typename T>
class DeviceArray {
 public:
  DeviceArray() = default;
  explicit DeviceArray(std::size_t n) : n_(n) {
    if (n) CLB_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&p_), n * sizeof(T)));
  }
  explicit DeviceArray(const std::vector<T>& host) : DeviceArray(host.size()) { upload(host); }
  ~DeviceArray() {
    if (p_) ignore_status(cudaFree(p_));
  }
  DeviceArray(DeviceArray&& o) noexcept : p_(o.p_), n_(o.n_) { o.p_ = nullptr, o.n_ = 0; }
  DeviceArray& operator=(DeviceArray&& o) noexcept {
    std::swap(p_, o.p_);
    std::swap(n_, o.n_);
    return *this;
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  T* data() { return p_; }
  const T* data() const { return p_; }
  std::size_t size() const { return n_; }
  void upload(const std::vector<T>& host) {
    CLB_ASSERT(host.size() <= n_);
    if (host.empty()) return;
    CLB_CUDA_CHECK(cudaMemcpy(p_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
    // cudaMemcpy runs on the legacy stream and may return before a pageable upload lands; the
    // backend's ops run on a non-blocking stream that would not wait for it.
    CLB_CUDA_CHECK(cudaDeviceSynchronize());
  }
  std::vector<T> download() const {
    std::vector<T> host(n_);
    if (n_) {
      CLB_CUDA_CHECK(cudaDeviceSynchronize());  // every stream's work on the array is done
      CLB_CUDA_CHECK(cudaMemcpy(host.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost));
    }
    return host;
  }

 private:
  T* p_ = nullptr;
  std::size_t n_ = 0;
};

}  // namespace cuda
}  // namespace clb
