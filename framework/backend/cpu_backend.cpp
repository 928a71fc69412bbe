// The CPU backend: the reference twins (kernels/cpu) on host memory, run directly or recorded on a tape.
#include <omp.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "framework/backend/cpu_backend.h"
#include "framework/core/error.h"
#include "kernels/cpu/cpu_ops.h"

namespace clb {

// ---- host-memory defaults of the Backend memory interface ------------------------------------

void* Backend::allocate(std::size_t bytes) {
  constexpr std::size_t kAlign = 256;
  void* p = std::aligned_alloc(kAlign, (bytes + kAlign - 1) / kAlign * kAlign);
  if (!p) throw std::bad_alloc();
  return p;
}
void Backend::release(void* p) noexcept { std::free(p); }
void Backend::copy_in(void* dst, const void* src, std::size_t bytes) { std::memcpy(dst, src, bytes); }
void Backend::copy_out(void* dst, const void* src, std::size_t bytes) {
  synchronize();
  std::memcpy(dst, src, bytes);
}
void Backend::fill_zero(void* p, std::size_t bytes) { std::memset(p, 0, bytes); }

namespace {

// A recorded op sequence on the host: each op with the arguments it was issued with, replayed
// as they were, like a CUDA graph (so the CPU tests catch arguments that must not be baked in).
class Tape final : public Recording {
 public:
  std::vector<std::function<void()>> ops;
  void replay() override {
    for (auto& op : ops) op();
  }
};

// Records when asked to, else runs it.
class CpuBackend final : public Backend {
 public:
  std::string name() const override { return "cpu"; }
  void linear_forward(const LinearForwardArgs& a) override { run(a, cpu::linear_forward); }
  void softmax_xent(const SoftmaxXentArgs& a) override { run(a, cpu::softmax_xent); }
  void linear_backward(const LinearBackwardArgs& a) override { run(a, cpu::linear_backward); }
  void fisher_diag(const FisherDiagArgs& a) override { run(a, cpu::fisher_diag); }
  void fused_update(const FusedUpdateArgs& a) override { run(a, cpu::fused_update); }
  void gather(const GatherArgs& a) override { run(a, cpu::gather); }
  void count_correct(const CountCorrectArgs& a) override { run(a, cpu::count_correct); }
  void advance_step(const AdvanceStepArgs& a) override { run(a, cpu::advance_step); }
  int max_host_threads() const override { return omp_get_max_threads(); }

  std::unique_ptr<Recording> record(const std::function<void()>& enqueue) override {
    auto tape = std::make_unique<Tape>();
    tape_ = tape.get();
    try {
      enqueue();
    } catch (...) {
      tape_ = nullptr;
      throw;
    }
    tape_ = nullptr;
    return tape;
  }

 private:
  template <class Args>
  void run(const Args& a, void (*op)(const Args&)) {
    if (tape_)
      tape_->ops.push_back([a, op] { op(a); });
    else
      op(a);
  }
  Tape* tape_ = nullptr;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend() { return std::make_unique<CpuBackend>(); }

}  // namespace clb
