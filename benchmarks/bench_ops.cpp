// Every Backend op on every backend and kernel variant, at the shapes users meet (issue 4):
//   BM_<op>/backend:<cpu|cuda>/v:<variant>/<shape>
// Net ops (linear_forward, linear_backward, fisher_diag) run every layer of a net at batch B;
// the update runs over P parameters; the bookkeeping ops (gather, softmax_xent, count_correct,
// advance_step) over a batch. Counters: GFLOP/s, GB/s, samples/s, the measured ceiling of the
// bound (compute: sgemm; memory: copy) and % of it (benchmarks/common/bench_common.h).
//
// CPU rows run on one thread (how the CPU engine calls the ops: one shard per thread) and are the
// reference; every CUDA variant is first checked against the CPU's result on the same inputs and
// skipped with an error on a mismatch, so a wrong kernel never gets a number. GPU rows are timed
// cold (L2 flushed before each call) with CUDA events; CPU rows warm.
//
//   bench_ops [--quick] [--benchmark_filter=REGEX] [--benchmark_out=F.json --benchmark_out_format=json]
#include <cblas.h>
#include <omp.h>

#include <cmath>

#include <fmt/format.h>

#include "benchmarks/common/bench_common.h"
#include "framework/backend/backend_array.h"
#include "framework/engine/engine.h"
#include "framework/model/mlp.h"

namespace clb::bench {
namespace {

// Deterministic, cheap operands in [-1, 1): a multiplicative hash of the index (100M-element
// updates need no better randomness: the ops' cost does not depend on the values, and the check
// compares two backends on the same ones).
std::vector<float> values(size_t n, int salt) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = float(uint32_t((i + 1) * 2654435761u + uint32_t(salt) * 40503u) >> 8) / 8388608.0f - 1.0f;
  return v;
}

// One op at one shape on one backend: inputs uploaded at construction, the op issued by issue(),
// its outputs read back by result() for the check against the CPU.
class OpCase {
 public:
  virtual ~OpCase() = default;
  virtual void issue() = 0;
  virtual std::vector<double> result() = 0;
};

template <typename T>
void append(std::vector<double>& out, const BackendArray<T>& a) {
  for (T v : a.download()) out.push_back(double(v));
}

enum class NetOp { kForward, kBackward, kFisher };

// Every layer of a net at batch B; each layer gets its own inputs (their values do not chain).
class NetCase final : public OpCase {
 public:
  NetCase(Backend& be, NetOp op, const MlpArch& arch, int B) : be_(be), op_(op), arch_(arch), B_(B) {
    for (int l = 0; l < arch.num_layers(); ++l) {
      const size_t in = arch.in(l), out = arch.out(l);
      Layer L;
      L.x = BackendArray<float>(be, values(B * in, 1 + l));
      L.W = BackendArray<float>(be, values(out * in, 11 + l));
      L.b = BackendArray<float>(be, values(out, 21 + l));
      L.y = BackendArray<float>(be, B * out);
      L.dY = BackendArray<float>(be, values(B * out, 31 + l));
      L.dW = BackendArray<float>(be, out * in);
      L.db = BackendArray<float>(be, out);
      L.dW.zero(), L.db.zero();  // fisher_diag accumulates into them
      if (l > 0) L.dX = BackendArray<float>(be, B * in);
      layers_.push_back(std::move(L));
    }
  }
  void issue() override {
    for (int l = 0; l < arch_.num_layers(); ++l) {
      Layer& L = layers_[l];
      const int in = arch_.in(l), out = arch_.out(l);
      const bool hidden = l + 1 < arch_.num_layers();
      if (op_ == NetOp::kForward) {
        be_.linear_forward({L.x.data(), L.W.data(), L.b.data(), L.y.data(), B_, in, out, hidden});
      } else if (op_ == NetOp::kBackward) {
        LinearBackwardArgs a;
        a.dY = L.dY.data(), a.X = L.x.data(), a.W = L.W.data(), a.dW = L.dW.data(), a.db = L.db.data();
        a.dX = l > 0 ? L.dX.data() : nullptr;  // no input gradient below the first layer
        a.B = B_, a.n_in = in, a.n_out = out, a.scale = 1.0f / B_, a.relu_mask = l > 0;
        be_.linear_backward(a);
      } else {
        be_.fisher_diag({L.dY.data(), L.x.data(), L.dW.data(), L.db.data(), B_, in, out, 1, 1.0f / B_});
      }
    }
  }
  std::vector<double> result() override {
    std::vector<double> r;
    for (auto& L : layers_) {
      if (op_ == NetOp::kForward) {
        append(r, L.y);
      } else {
        append(r, L.dW), append(r, L.db);
        if (op_ == NetOp::kBackward && !L.dX.empty()) append(r, L.dX);
      }
    }
    return r;
  }
  // 2*B*n_in*n_out per GEMM: forward 1, backward dW + dX (none for the first layer), Fisher 1.
  static Work work(NetOp op, const MlpArch& arch, int B) {
    Work w;
    w.samples = B;
    for (int l = 0; l < arch.num_layers(); ++l) {
      const double gemm = 2.0 * B * arch.in(l) * arch.out(l);
      const double in = arch.in(l), out = arch.out(l);
      if (op == NetOp::kForward) w.flops += gemm, w.bytes += 4 * (B * in + in * out + out + B * out);
      if (op == NetOp::kBackward)
        w.flops += gemm * (l > 0 ? 2 : 1), w.bytes += 4 * (B * out + B * in + 2 * in * out + out + (l > 0 ? 2 * B * in : 0));
      if (op == NetOp::kFisher) w.flops += gemm, w.bytes += 4 * (B * out + B * in + 2 * (in * out + out));
    }
    return w;
  }

 private:
  struct Layer {
    BackendArray<float> x, W, b, y, dY, dW, db, dX;
  };
  Backend& be_;
  NetOp op_;
  MlpArch arch_;
  int B_;
  std::vector<Layer> layers_;
};

// The fused penalty + optimizer update over P parameters; lr small so repeated calls stay finite.
class UpdateCase final : public OpCase {
 public:
  UpdateCase(Backend& be, Optimizer opt, int64_t P) : be_(be) {
    theta_ = BackendArray<float>(be, values(P, 1));
    grad_ = BackendArray<float>(be, values(P, 2));
    F_ = BackendArray<float>(be, values(P, 3));
    anchor_ = BackendArray<float>(be, values(P, 4));
    if (opt != Optimizer::kSgd) m_ = BackendArray<float>(be, values(P, 5));
    if (opt == Optimizer::kAdam) v_ = BackendArray<float>(be, std::vector<float>(P, 0.01f));
    a_.theta = theta_.data(), a_.grad = grad_.data(), a_.fisher = F_.data(), a_.anchor = anchor_.data();
    a_.m = m_.data(), a_.v = v_.data(), a_.n = P, a_.opt = opt, a_.lr = 1e-6f, a_.lambda = 1.0f, a_.step = 3;
  }
  void issue() override { be_.fused_update(a_); }
  std::vector<double> result() override {
    std::vector<double> r;
    append(r, theta_);
    return r;
  }
  // theta, g, F, anchor read, theta written: 20 B/param; each moment read and written, +8
  // (kernels/ops.h). Working set: the four arrays and the moments.
  static Work work(Optimizer opt, int64_t P) {
    Work w;
    w.compute_bound = false;
    w.bytes = double(P) * (20 + 8 * optimizer_moments(opt));
    w.working_set = double(P) * 4 * (4 + optimizer_moments(opt));
    return w;
  }

 private:
  Backend& be_;
  BackendArray<float> theta_, grad_, F_, anchor_, m_, v_;
  FusedUpdateArgs a_;
};

constexpr int kDim = 784, kClasses = 10, kTasks = 3, kTableRows = 4096;

// A minibatch of B rows gathered from a resident table through a task's pixel map and class mask.
class GatherCase final : public OpCase {
 public:
  GatherCase(Backend& be, int B) : be_(be) {
    std::vector<int32_t> labels(kTableRows), rows(B), tasks(B), maps(size_t(kTasks) * kDim);
    std::vector<uint8_t> masks(size_t(kTasks) * kClasses);
    for (int r = 0; r < kTableRows; ++r) labels[r] = r % kClasses;
    for (int i = 0; i < B; ++i) rows[i] = int32_t((i * 2654435761u) % kTableRows), tasks[i] = i % kTasks;
    for (int t = 0; t < kTasks; ++t)
      for (int j = 0; j < kDim; ++j) maps[size_t(t) * kDim + j] = int32_t((j * (2 * t + 1) + t) % kDim);
    for (size_t k = 0; k < masks.size(); ++k) masks[k] = uint8_t(k % 3 != 0);
    std::vector<uint8_t> bytes(size_t(kTableRows) * kDim);
    for (size_t k = 0; k < bytes.size(); ++k) bytes[k] = uint8_t((k * 2654435761u) >> 24);
    table_ = BackendArray<uint8_t>(be, bytes);  // image data as runs hold it: bytes
    labels_ = BackendArray<int32_t>(be, labels), rows_ = BackendArray<int32_t>(be, rows);
    tasks_ = BackendArray<int32_t>(be, tasks), maps_ = BackendArray<int32_t>(be, maps);
    masks_ = BackendArray<uint8_t>(be, masks);
    x_ = BackendArray<float>(be, size_t(B) * kDim), y_ = BackendArray<int32_t>(be, B);
    mask_ = BackendArray<uint8_t>(be, size_t(B) * kClasses);
    a_.table8 = table_.data(), a_.labels = labels_.data(), a_.rows = rows_.data(), a_.tasks = tasks_.data();
    a_.pixel_maps = maps_.data(), a_.class_masks = masks_.data();
    a_.x = x_.data(), a_.y = y_.data(), a_.mask = mask_.data(), a_.B = B, a_.dim = kDim, a_.C = kClasses;
  }
  void issue() override { be_.gather(a_); }
  std::vector<double> result() override {
    std::vector<double> r;
    append(r, x_), append(r, y_), append(r, mask_);
    return r;
  }
  // Per row: a map index (4 B) and a table byte read, x written (4 B): 9 B per feature; label and mask.
  static Work work(int B) { return {0, double(B) * (9.0 * kDim + 8 + 2.0 * kClasses), double(B), false}; }

 private:
  Backend& be_;
  BackendArray<uint8_t> table_;
  BackendArray<float> x_;
  BackendArray<int32_t> labels_, rows_, tasks_, maps_, y_;
  BackendArray<uint8_t> masks_, mask_;
  GatherArgs a_;
};

// Softmax cross-entropy over C = 10 classes: probabilities, deltas, losses and argmax.
class SoftmaxCase final : public OpCase {
 public:
  SoftmaxCase(Backend& be, int B) : be_(be) {
    std::vector<int32_t> labels(B);
    for (int i = 0; i < B; ++i) labels[i] = i % kClasses;
    logits_ = BackendArray<float>(be, values(size_t(B) * kClasses, 7));
    labels_ = BackendArray<int32_t>(be, labels);
    probs_ = BackendArray<float>(be, size_t(B) * kClasses), delta_ = BackendArray<float>(be, size_t(B) * kClasses);
    loss_ = BackendArray<float>(be, B), argmax_ = BackendArray<int32_t>(be, B);
    a_ = {logits_.data(), labels_.data(), nullptr, probs_.data(), delta_.data(), loss_.data(), argmax_.data(), B, kClasses};
  }
  void issue() override { be_.softmax_xent(a_); }
  std::vector<double> result() override {
    std::vector<double> r;
    append(r, probs_), append(r, delta_), append(r, loss_), append(r, argmax_);
    return r;
  }
  // logits and label read; probs, delta, loss and argmax written.
  static Work work(int B) { return {0, double(B) * (12.0 * kClasses + 12), double(B), false}; }

 private:
  Backend& be_;
  BackendArray<float> logits_, probs_, delta_, loss_;
  BackendArray<int32_t> labels_, argmax_;
  SoftmaxXentArgs a_;
};

// Correct predictions per test set (three sets interleaved).
class CountCase final : public OpCase {
 public:
  CountCase(Backend& be, int B) : be_(be) {
    std::vector<int32_t> argmax(B), labels(B), groups(B);
    for (int i = 0; i < B; ++i) argmax[i] = i % kClasses, labels[i] = (i / 2) % kClasses, groups[i] = i % kTasks;
    argmax_ = BackendArray<int32_t>(be, argmax), labels_ = BackendArray<int32_t>(be, labels);
    groups_ = BackendArray<int32_t>(be, groups), hits_ = BackendArray<int64_t>(be, kTasks);
    hits_.zero();
    a_ = {argmax_.data(), labels_.data(), groups_.data(), hits_.data(), B};
  }
  void issue() override { be_.count_correct(a_); }
  std::vector<double> result() override {
    std::vector<double> r;
    append(r, hits_);
    return r;
  }
  static Work work(int B) { return {0, 12.0 * B, double(B), false}; }

 private:
  Backend& be_;
  BackendArray<int32_t> argmax_, labels_, groups_;
  BackendArray<int64_t> hits_;
  CountCorrectArgs a_;
};

// The end of a recorded training step: mean loss logged, counters advanced. Each call writes the
// next loss-log entry, so the benchmark runs a fixed number of iterations (kAdvanceCalls).
constexpr int kAdvanceCalls = 20000;
class AdvanceCase final : public OpCase {
 public:
  AdvanceCase(Backend& be, int B) : be_(be) {
    counters_ = BackendArray<StepCounters>(be, 1), counters_.zero();
    loss_ = BackendArray<float>(be, values(B, 9));
    log_ = BackendArray<double>(be, kAdvanceCalls + 1);
    a_ = {counters_.data(), loss_.data(), log_.data(), B};
  }
  void issue() override { be_.advance_step(a_); }
  std::vector<double> result() override {
    const StepCounters c = counters_.download()[0];
    std::vector<double> r{double(c.steps_done), double(c.offset), double(c.logged)};
    append(r, log_);
    return std::vector<double>(r.begin(), r.begin() + 4);  // counters and the first logged mean
  }
  static Work work(int B) { return {0, 4.0 * B + 8 + 3 * 8, double(B), false}; }

 private:
  Backend& be_;
  BackendArray<StepCounters> counters_;
  BackendArray<float> loss_;
  BackendArray<double> log_;
  AdvanceStepArgs a_;
};

// The first output further from the CPU's than rtol times the largest magnitude of the CPU's
// result ("" when none is).
std::string first_mismatch(const std::vector<double>& got, const std::vector<double>& want, double rtol) {
  if (got.size() != want.size()) return fmt::format("{} outputs, the CPU has {}", got.size(), want.size());
  double scale = 0;
  for (double w : want) scale = std::max(scale, std::abs(w));
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::abs(got[i] - want[i]) <= rtol * scale)) return fmt::format("output {}: {} vs the CPU's {}", i, got[i], want[i]);
  return "";
}

using Factory = std::function<std::unique_ptr<OpCase>(Backend&)>;

// Registers op `op` at `shape` for every target of `family`.
void register_op(const std::string& op, const std::string& family, const std::string& shape, const Factory& make,
                 const Work& work, double rtol, const Ceilings& ceilings, std::string* cuda_note,
                 int fixed_iterations = 0) {
  for (const Target& t : targets(family, cuda_note)) {
    const std::string name = fmt::format("BM_{}/backend:{}/v:{}/{}", op, t.backend, t.variant, shape);
    const Ceiling start_ceiling = t.backend == "cpu" ? ceilings.cpu : ceilings.gpu;
    auto fn = [name, t, make, work, rtol, start_ceiling](benchmark::State& st) {
      struct Setup {
        std::unique_ptr<Backend> be;  // outlives the case's arrays
        std::unique_ptr<OpCase> c;
        std::string mismatch;
        Ceiling ceiling;
      };
      Setup& s = once_per_benchmark<Setup>(name, [&] {
        auto setup = std::make_unique<Setup>();
        setup->be = t.make();
        if (t.backend != "cpu") {
          auto cpu = cpu_backend();
          auto ref = make(*cpu), c = make(*setup->be);
          ref->issue();
          c->issue();
          setup->mismatch = first_mismatch(c->result(), ref->result(), rtol);
        }
        setup->c = make(*setup->be);  // fresh state: accumulating ops start from their inputs again
        setup->ceiling = start_ceiling;
        // CPU rows bound by memory past the caches or by compute: the ceiling measured again beside
        // the row, the better of both kept (bench_common.h).
        const std::string bound = bound_of(work, start_ceiling);
        if (t.backend == "cpu" && bound == "dram")
          setup->ceiling.gbps = std::max(start_ceiling.gbps, cpu_memory_gbps_now(1, start_ceiling.llc_bytes));
        if (t.backend == "cpu" && bound == "compute")
          setup->ceiling.gflops = std::max(start_ceiling.gflops, cpu_compute_gflops_now(1));
        return setup;
      });
      const Ceiling& ceiling = s.ceiling;
      if (!s.mismatch.empty()) return st.SkipWithError(("mismatch against the CPU: " + s.mismatch).c_str());
      // GPU rows: L2 flushed before each call. CPU rows: repeated calls, so warm unless the working
      // set is past the caches (bound "dram": every call streams it from memory).
      const std::string bound = bound_of(work, ceiling);
      const bool cold = t.backend != "cpu";
      time_calls(st, *s.be, [&] { s.c->issue(); }, cold);
      set_rate_counters(st, work, ceiling);
      st.SetLabel(fmt::format("bound={} timing={}", bound, cold || bound == "dram" ? "cold" : "warm"));
    };
    auto* b = register_timed(name, t.backend, fn);
    if (fixed_iterations) b->Iterations(fixed_iterations);
  }
}

void register_all(const SuiteFlags& flags) {
  // CPU ops on one thread, BLAS included (the ceiling is measured the same way).
  openblas_set_num_threads(1);
  omp_set_num_threads(1);
  add_machine_context(1);
  const Ceilings ceilings = measure_ceilings(1);
  std::string cuda_note;
  const Shapes s = suite_shapes(flags.quick);
  // Tolerances against the CPU, relative to the largest magnitude of its result: fp32 GEMMs summing
  // up to 4096 products in another order differ by ~1e-6 * sqrt(K) relative (rtol 1e-4, TF32 off);
  // elementwise ops and the update by an ulp or two (1e-5); gathers and counts not at all (0).
  constexpr double kGemmRtol = 1e-4, kElementRtol = 1e-5;
  for (const std::string& net : s.nets) {
    const MlpArch arch = MlpArch::parse(net);
    for (int B : s.batches) {
      const std::string shape = fmt::format("net:{}/B:{}", net, B);
      const std::pair<const char*, NetOp> ops[] = {
          {"linear_forward", NetOp::kForward}, {"linear_backward", NetOp::kBackward}, {"fisher_diag", NetOp::kFisher}};
      for (auto [name, op] : ops)
        register_op(name, "gemm", shape, [op, arch, B](Backend& be) { return std::make_unique<NetCase>(be, op, arch, B); },
                    NetCase::work(op, arch, B), kGemmRtol, ceilings, &cuda_note);
    }
  }
  for (int64_t P : s.update_params) {
    const std::pair<const char*, Optimizer> opts[] = {
        {"sgd", Optimizer::kSgd}, {"momentum", Optimizer::kMomentum}, {"adam", Optimizer::kAdam}};
    for (auto [name, opt] : opts)
      register_op("fused_update", "update", fmt::format("opt:{}/P:{}", name, P),
                  [opt, P](Backend& be) { return std::make_unique<UpdateCase>(be, opt, P); }, UpdateCase::work(opt, P),
                  kElementRtol, ceilings, &cuda_note);
  }
  for (int B : s.batches) {
    const std::string shape = fmt::format("B:{}", B);
    register_op("gather", "single", shape, [B](Backend& be) { return std::make_unique<GatherCase>(be, B); },
                GatherCase::work(B), 0, ceilings, &cuda_note);
    register_op("softmax_xent", "single", shape, [B](Backend& be) { return std::make_unique<SoftmaxCase>(be, B); },
                SoftmaxCase::work(B), kElementRtol, ceilings, &cuda_note);
    register_op("count_correct", "single", shape, [B](Backend& be) { return std::make_unique<CountCase>(be, B); },
                CountCase::work(B), 0, ceilings, &cuda_note);
    register_op("advance_step", "single", shape, [B](Backend& be) { return std::make_unique<AdvanceCase>(be, B); },
                AdvanceCase::work(B), kElementRtol, ceilings, &cuda_note, kAdvanceCalls);
  }
  benchmark::AddCustomContext("cuda", cuda_note.empty() ? "timed" : "not timed: " + cuda_note);
  benchmark::AddCustomContext("cpu_rows", "one thread, warm caches; the reference every CUDA row is checked against");
  benchmark::AddCustomContext("gpu_rows", "CUDA events, cold (L2 flushed before each call)");
}

}  // namespace
}  // namespace clb::bench

int main(int argc, char** argv) {
  constexpr const char* kUsage =
      "bench_ops: every Backend op on each backend and kernel variant at the suite's shapes, CUDA variants\n"
      "checked against the CPU before they are timed (results/README.md).\n"
      "  --quick   the smallest shapes only (784-400-400-10, batch 32, 0.48M parameters)\n"
      "Example: bench_ops --benchmark_filter=fisher_diag --benchmark_out=ops.json --benchmark_out_format=json\n";
  return clb::bench::run_main(argc, argv, "bench_ops", kUsage, false, clb::bench::register_all);
}
