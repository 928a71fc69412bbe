#pragma once
// A typed array in backend memory (framework/backend/backend.h) that frees itself.
#include <cstddef>
#include <utility>
#include <vector>

#include "framework/backend/backend.h"
#include "framework/core/error.h"

namespace clb {

template <typename T>
class BackendArray {
 public:
  BackendArray() = default;
  BackendArray(Backend& be, std::size_t n) : be_(&be), n_(n) {
    if (n) p_ = static_cast<T*>(be.allocate(n * sizeof(T)));
  }
  BackendArray(Backend& be, const std::vector<T>& host) : BackendArray(be, host.size()) { upload(host); }
  ~BackendArray() {
    if (p_) be_->release(p_);
  }
  BackendArray(BackendArray&& o) noexcept { swap(o); }
  BackendArray& operator=(BackendArray&& o) noexcept {
    swap(o);
    return *this;
  }
  BackendArray(const BackendArray&) = delete;
  BackendArray& operator=(const BackendArray&) = delete;

  T* data() { return p_; }
  const T* data() const { return p_; }
  std::size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }

  void upload(const T* host, std::size_t n, std::size_t at = 0) {
    CLB_ASSERT(at + n <= n_);
    if (n) be_->copy_in(p_ + at, host, n * sizeof(T));
  }
  void upload(const std::vector<T>& host, std::size_t at = 0) { upload(host.data(), host.size(), at); }
  std::vector<T> download() const {
    std::vector<T> host(n_);
    if (n_) be_->copy_out(host.data(), p_, n_ * sizeof(T));
    return host;
  }
  void zero() {
    if (n_) be_->fill_zero(p_, n_ * sizeof(T));
  }

 private:
  void swap(BackendArray& o) noexcept {
    std::swap(be_, o.be_);
    std::swap(p_, o.p_);
    std::swap(n_, o.n_);
  }
  Backend* be_ = nullptr;
  T* p_ = nullptr;
  std::size_t n_ = 0;
};

}  // namespace clb
