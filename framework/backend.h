#pragma once
// The Backend: the handful of ops a model update needs. The CPU backend is the reference path;
// a CUDA backend implements the same ops on device memory (kernels/). Args structs: kernels/ops.h.
#include <memory>
#include <string>

#include "kernels/ops.h"

namespace clb {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  virtual void linear_forward(const LinearForwardArgs& a) = 0;
  virtual void softmax_xent(const SoftmaxXentArgs& a) = 0;
  virtual void linear_backward(const LinearBackwardArgs& a) = 0;
  virtual void fisher_diag(const FisherDiagArgs& a) = 0;
  virtual void ewc_update(const EwcUpdateArgs& a) = 0;
  // How many host threads may call the ops at once on independent data (CPU: data parallelism
  // across a batch, framework/data_parallel.h). A device backend keeps its parallelism inside.
  virtual int max_host_threads() const { return 1; }
  // Waits until the ops issued so far are done (device backends run them asynchronously).
  virtual void synchronize() {}
};

// "cpu" or "auto" (the best usable backend on this machine). Throws clb::Error naming --backend.
std::unique_ptr<Backend> make_backend(const std::string& name);

}  // namespace clb
