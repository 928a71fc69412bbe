// Whole runs on the GPU against the CPU reference (the host engine). Built only with nvcc; every
// test skips itself where no CUDA device is usable.
//
// Tolerances: the GPU's GEMMs sum in another order than OpenBLAS, so the trajectories drift
// apart by float32 rounding; after three tasks the accuracy matrices must agree within 0.5
// points. The Fisher of one model: fp32 GEMMs over 784-term rows, rtol 1e-4 with a floor of 1e-6
// of the largest entry (as the kernel tests).
#ifdef CLB_HAVE_CUDA
#include <gtest/gtest.h>

#include <cmath>

#include "framework/backend/cuda_backend.h"
#include "framework/harness/task_loop.h"
#include "framework/strategies/registry.h"
#include "tests/common/engine_scenario.h"
#include "tests/common/gpu_required.h"
#include "tests/common/test_helpers.h"

namespace clb {
namespace {

class CudaEngine : public ::testing::Test {
 protected:
  void SetUp() override {
    CLB_SKIP_WITHOUT_GPU();
    gpu = cuda::make_backend();
    cpu = make_backend("cpu");
  }
  std::unique_ptr<Backend> gpu, cpu;
};

TEST_F(CudaEngine, ThreeTaskPermutedRunMatchesTheCpu) {
  for (const char* name : {"naive", "ewc"}) {
    const RunResult on_cpu = test::permuted_run(*cpu, name), on_gpu = test::permuted_run(*gpu, name);
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        EXPECT_NEAR(on_gpu.acc[i][j], on_cpu.acc[i][j], 0.005) << name << " after task " << i + 1 << " on " << j + 1;
    EXPECT_GT(on_gpu.acc[2][2], 0.5) << "the GPU run learned the last task";
    EXPECT_EQ(on_gpu.train_samples, on_cpu.train_samples);
  }
}

TEST_F(CudaEngine, FisherOfOneModelMatchesTheCpu) {
  const Scenario s = test::mixed_scenario(300, 50);
  const Mlp model(MlpArch::parse("24-40-33-6"), 8);
  auto refs = sample_refs(s.tasks[1], Split::kTrain);
  const auto more = sample_refs(s.tasks[0], Split::kTrain, 257);
  refs.insert(refs.end(), more.begin(), more.end());
  for (FisherEstimator est : {FisherEstimator::kEmpirical, FisherEstimator::kSampled, FisherEstimator::kExact}) {
    FisherConfig fc;
    fc.estimator = est, fc.draws = 4, fc.batch = 100, fc.seed = 3;
    const auto want = fisher_on(*cpu, s.tasks, model, refs, fc, nullptr);
    const auto got = fisher_on(*gpu, s.tasks, model, refs, fc, nullptr);
    test::expect_close(got, std::vector<double>(want.begin(), want.end()), 1e-4, 1e-6, to_string(est));
  }
}

TEST_F(CudaEngine, GraphReplayEqualsIssuedSteps) {
  const Scenario s = test::mixed_scenario();
  const Mlp init(MlpArch::parse("24-16-12-6"), 3);
  RunResult r[2];
  for (int k = 0; k < 2; ++k) {
    RunConfig cfg;
    cfg.optimizer = Optimizer::kAdam;
    cfg.lr = 3e-3f;
    cfg.batch = 32;
    cfg.epochs = 2;
    cfg.lambda = 5.0f;
    cfg.record_steps = k == 0;
    auto st = make_strategy("ewc", {}, init.arch.num_params());
    r[k] = run_strategy(*gpu, s, init, *st, cfg, 11, nullptr);
  }
  // The same kernels on the same data in the same order: bitwise.
  EXPECT_EQ(r[0].acc, r[1].acc);
  EXPECT_EQ(r[0].final_model.params, r[1].final_model.params);
}

}  // namespace
}  // namespace clb
#endif  // CLB_HAVE_CUDA
