#pragma once
// The Backend: the handful of ops a model update needs, the memory they run on, and recorded
// op sequences. The CPU backend is the reference path; the CUDA backend implements the same ops
// on device memory (kernels/). Args structs: kernels/ops.h.
//
// Backend memory is what the ops' pointers refer to: host memory for the CPU backend, device
// memory for CUDA. Callers move data in and out with copy_in / copy_out only (BackendArray,
// framework/backend/backend_array.h, does it for them); the defaults here are the host versions.
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kernels/ops.h"

namespace clb {

// An op sequence recorded once and replayed many times (a CUDA graph on the device). Whatever
// changes between replays must be read from backend memory by the ops (StepCounters), never
// baked into their arguments.
class Recording {
 public:
  virtual ~Recording() = default;
  virtual void replay() = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  virtual void linear_forward(const LinearForwardArgs& a) = 0;
  virtual void softmax_xent(const SoftmaxXentArgs& a) = 0;
  virtual void linear_backward(const LinearBackwardArgs& a) = 0;
  virtual void fisher_diag(const FisherDiagArgs& a) = 0;
  virtual void fused_update(const FusedUpdateArgs& a) = 0;
  virtual void gather(const GatherArgs& a) = 0;
  virtual void count_correct(const CountCorrectArgs& a) = 0;
  virtual void advance_step(const AdvanceStepArgs& a) = 0;
  // How many host threads may call the ops at once on independent data (CPU: data parallelism
  // across a batch, framework/model/data_parallel.h). A device backend keeps its parallelism inside.
  virtual int max_host_threads() const { return 1; }
  // Waits until the ops issued so far are done (device backends run them asynchronously).
  virtual void synchronize() {}
  // True when the ops' pointers may be ordinary host memory (the CPU backend).
  virtual bool host_memory() const { return true; }

  // Backend memory, 256-byte aligned (16-byte vector accesses need it), contents undefined.
  virtual void* allocate(std::size_t bytes);
  virtual void release(void* p) noexcept;
  // Host -> backend memory; the host buffer may be reused as soon as this returns.
  virtual void copy_in(void* dst, const void* host_src, std::size_t bytes);
  // Backend memory -> host, after the ops issued so far have finished.
  virtual void copy_out(void* host_dst, const void* src, std::size_t bytes);
  virtual void fill_zero(void* p, std::size_t bytes);

  // Records the ops `enqueue` issues, with their arguments, without running them. Throws
  // clb::Error if the backend cannot record them.
  virtual std::unique_ptr<Recording> record(const std::function<void()>& enqueue) = 0;
};

// "cpu", "cuda" or "auto" (CUDA when a device is usable, else the CPU). Throws clb::Error
// naming the backend setting.
std::unique_ptr<Backend> make_backend(const std::string& name);

// The --backend values: cpu, cuda, auto (make_backend explains a cuda this build or machine lacks).
const std::vector<std::string>& backend_names();

}  // namespace clb
