// The GEMM library choice for the CPU backend (issue 2: "time OpenBLAS and Eigen on the shapes
// and keep the faster"). Shapes are the 784-400-400-10 MLP's products at batch B:
//   fwd  (B x n_in) * (n_out x n_in)^T     -> B x n_out
//   dX   (B x n_out) * (n_out x n_in)      -> B x n_in
//   dW   (B x n_out)^T * (B x n_in)        -> n_out x n_in   (also the Fisher's squared GEMM)
// 2*B*n_in*n_out FLOPs each. Run: bench_gemm_cpu --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <vector>

#include "framework/core/rng.h"

#ifdef CLB_HAVE_EIGEN
#include <Eigen/Core>
#endif

namespace {

enum Op { kFwd = 0, kDx = 1, kDw = 2 };

struct Operands {
  std::vector<float> a, b, c;
  Operands(int B, int n_in, int n_out) : a(size_t(B) * std::max(n_in, n_out)), b(size_t(n_in) * n_out), c(a.size() + b.size()) {
    clb::Rng rng(1);
    for (auto& v : a) v = float(rng.uniform());
    for (auto& v : b) v = float(rng.uniform());
  }
};

void set_counters(benchmark::State& st, int B, int n_in, int n_out) {
  st.counters["GFLOP/s"] = benchmark::Counter(2.0 * B * n_in * n_out * double(st.iterations()) / 1e9,
                                              benchmark::Counter::kIsRate);
}

void BM_gemm_openblas(benchmark::State& st) {
  const int op = int(st.range(0)), B = int(st.range(1)), n_in = int(st.range(2)), n_out = int(st.range(3));
  openblas_set_num_threads(int(st.range(4)));
  Operands o(B, n_in, n_out);
  for (auto _ : st) {
    if (op == kFwd)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, n_out, n_in, 1, o.a.data(), n_in, o.b.data(), n_in, 0,
                  o.c.data(), n_out);
    else if (op == kDx)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, n_in, n_out, 1, o.a.data(), n_out, o.b.data(), n_in,
                  0, o.c.data(), n_in);
    else
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n_out, n_in, B, 1, o.a.data(), n_out, o.b.data(), n_in,
                  0, o.c.data(), n_in);
    benchmark::DoNotOptimize(o.c.data());
  }
  set_counters(st, B, n_in, n_out);
}

#ifdef CLB_HAVE_EIGEN
void BM_gemm_eigen(benchmark::State& st) {
  using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const int op = int(st.range(0)), B = int(st.range(1)), n_in = int(st.range(2)), n_out = int(st.range(3));
  Eigen::setNbThreads(int(st.range(4)));
  Operands o(B, n_in, n_out);
  Eigen::Map<Mat> W(o.b.data(), n_out, n_in);
  for (auto _ : st) {
    if (op == kFwd) {
      Eigen::Map<Mat> X(o.a.data(), B, n_in), Y(o.c.data(), B, n_out);
      Y.noalias() = X * W.transpose();
    } else if (op == kDx) {
      Eigen::Map<Mat> D(o.a.data(), B, n_out), Y(o.c.data(), B, n_in);
      Y.noalias() = D * W;
    } else {
      Eigen::Map<Mat> D(o.a.data(), B, n_out), X(o.a.data(), B, n_in), Y(o.c.data(), n_out, n_in);
      Y.noalias() = D.transpose() * X;
    }
    benchmark::DoNotOptimize(o.c.data());
  }
  set_counters(st, B, n_in, n_out);
}
#endif

void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"op", "B", "n_in", "n_out", "threads"});
  for (int threads : {1, 2})
    for (int B : {128, 512})
      for (int op : {kFwd, kDx, kDw}) {
        b->Args({op, B, 784, 400, threads});
        b->Args({op, B, 400, 400, threads});
      }
}

}  // namespace

BENCHMARK(BM_gemm_openblas)->Apply(shapes)->UseRealTime();
#ifdef CLB_HAVE_EIGEN
BENCHMARK(BM_gemm_eigen)->Apply(shapes)->UseRealTime();
#endif
BENCHMARK_MAIN();
