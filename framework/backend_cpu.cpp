#include <omp.h>

#include "framework/backend.h"
#include "framework/cpu/cpu_ops.h"
#include "framework/error.h"
#ifdef CLB_HAVE_CUDA
#include "framework/cuda/backend_cuda.h"
#endif

namespace clb {

namespace {

class CpuBackend final : public Backend {
 public:
  std::string name() const override { return "cpu"; }
  void linear_forward(const LinearForwardArgs& a) override { cpu::linear_forward(a); }
  void softmax_xent(const SoftmaxXentArgs& a) override { cpu::softmax_xent(a); }
  void linear_backward(const LinearBackwardArgs& a) override { cpu::linear_backward(a); }
  void fisher_diag(const FisherDiagArgs& a) override { cpu::fisher_diag(a); }
  void ewc_update(const EwcUpdateArgs& a) override { cpu::ewc_update(a); }
  int max_host_threads() const override { return omp_get_max_threads(); }
};

}  // namespace

std::unique_ptr<Backend> make_backend(const std::string& name) {
  // "auto" stays on the CPU until the harness keeps its state on the device (the CUDA backend's
  // ops exist and are tested against the CPU twin; whole runs on the GPU are the next step).
  if (name == "cpu" || name == "auto") return std::make_unique<CpuBackend>();
#ifdef CLB_HAVE_CUDA
  if (name == "cuda") return cuda::make_backend();
  fail("--backend: unknown backend '{}'; use cpu, cuda or auto", name);
#else
  if (name == "cuda") fail("--backend cuda: this clbench was built without CUDA (no nvcc at configure time); use --backend cpu");
  fail("--backend: unknown backend '{}'; use cpu or auto", name);
#endif
}

}  // namespace clb
