// The backend registry: the one place that knows every backend (the CPU one always, the CUDA one
// when nvcc built it) and picks one by its --backend name.
#include <fmt/ranges.h>

#include "framework/backend/backend.h"
#include "framework/backend/cpu_backend.h"
#include "framework/core/error.h"
#ifdef CLB_HAVE_CUDA
#include "framework/backend/cuda_backend.h"
#endif

namespace clb {

const std::vector<std::string>& backend_names() {
  // "cuda" even without nvcc: make_backend then says why it is not there.
  static const std::vector<std::string> names = {"cpu", "cuda", "auto"};
  return names;
}

std::unique_ptr<Backend> make_backend(const std::string& name) {
  if (name == "cpu") return make_cpu_backend();
#ifdef CLB_HAVE_CUDA
  if (name == "cuda") return cuda::make_backend();
  if (name == "auto") {
    if (cuda::usable_devices() > 0) return cuda::make_backend();
    return make_cpu_backend();
  }
#else
  if (name == "cuda") fail_setting("@backend cuda: this clbench was built without CUDA (no nvcc at configure time); use @backend cpu");
  if (name == "auto") return make_cpu_backend();
#endif
  fail_setting("@backend: unknown backend '{}'; use one of: {}", name, fmt::join(backend_names(), ", "));
}

}  // namespace clb
