#include <omp.h>

#include "framework/backend.h"
#include "framework/cpu/cpu_ops.h"
#include "framework/error.h"

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
  // "auto" picks the CUDA backend once it exists (its own issue); until then the CPU is the best.
  if (name == "cpu" || name == "auto") return std::make_unique<CpuBackend>();
  fail("--backend: unknown backend '{}'; use cpu or auto", name);
}

}  // namespace clb
