// A run continued from the checkpoint of one of its task ends ends exactly as the uninterrupted
// run (apart from timing), for every strategy and so every family of state one keeps: a penalty
// (EWC, SI, MAS), the engine's path integral (SI), a replay memory (ER, A-GEM), and a detector
// (detected boundaries, where the optimizer state also carries over task ends). The state goes through the checkpoint
// file each time. A stop request ends a run at a step's end.
#include <gtest/gtest.h>

#include <cctype>
#include <csignal>
#include <cstring>

#include "framework/core/error.h"
#include "framework/harness/report.h"
#include "framework/harness/task_loop.h"
#include "framework/io/run_checkpoint.h"
#include "framework/strategies/registry.h"
#include "tests/common/scratch_dir.h"
#include "tests/common/test_helpers.h"

namespace clb {
namespace {

struct Case {
  std::string strategy;
  bool detect;
  Optimizer optimizer;
  EngineKind engine = EngineKind::kAuto;  // the CPU: host, unless resident is asked for
};

// Every registered strategy with given boundaries (a new one is covered when it registers), the
// optimizers in turn; and detected boundaries, where the optimizer state carries over task ends.
std::vector<Case> cases() {
  const Optimizer optimizers[] = {Optimizer::kAdam, Optimizer::kMomentum, Optimizer::kSgd};
  std::vector<Case> out;
  for (const StrategyInfo& s : strategy_registry()) out.push_back({s.name, false, optimizers[out.size() % 3]});
  out.push_back({"ewc+er", true, Optimizer::kAdam});
  out.push_back({"mas", true, Optimizer::kMomentum});
  out.push_back({"si", true, Optimizer::kSgd});
  out.push_back({"gem", true, Optimizer::kAdam});
  out.push_back({"lwf", true, Optimizer::kMomentum});
  out.push_back({"der++", true, Optimizer::kSgd});
  // The resident engine (the CUDA backend's) keeps its moments and step count in backend memory.
  out.push_back({"ewc", false, Optimizer::kAdam, EngineKind::kResident});
  out.push_back({"online-ewc", true, Optimizer::kMomentum, EngineKind::kResident});
  return out;
}

class Resume : public ::testing::TestWithParam<Case> {
 protected:
  test::ScratchDir scratch_{"resume"};

  Scenario scenario() const { return test::generated_tasks(4, 512, 200, 20, 4, 5); }
  RunConfig config() const {
    RunConfig cfg;
    cfg.optimizer = GetParam().optimizer;
    cfg.lr = cfg.optimizer == Optimizer::kAdam ? 1e-3f : cfg.optimizer == Optimizer::kMomentum ? 0.01f : 0.05f;
    cfg.batch = 32;
    cfg.epochs = GetParam().detect ? 1 : 2;
    cfg.lambda = 10.0f;
    cfg.lca_batches = 3;
    cfg.memory.max_samples = 100;
    cfg.detect_boundaries = GetParam().detect;
    cfg.strategies = {GetParam().strategy};
    cfg.engine = GetParam().engine;
    return cfg;
  }
  // The run, from the start or from `resume`; every task end's state is handed to `on_task_end`.
  RunResult run(const StateArchive* resume, std::function<void(StateArchive&)> on_task_end = {},
                const std::atomic<int>* stop = nullptr) {
    auto be = make_backend("cpu");
    const Scenario s = scenario();
    const Mlp init(MlpArch::parse("20-32-4"), 5);
    auto strategy = make_strategy(GetParam().strategy, {}, init.arch.num_params());
    RunControl control;
    control.resume = resume;
    control.on_task_end = std::move(on_task_end);
    control.stop = stop;
    return run_strategy(*be, s, init, *strategy, config(), 5, nullptr, control);
  }
  // results.json's record of a run without its timing.
  static nlohmann::json untimed(const RunResult& r) {
    nlohmann::json j = run_json(r);
    j.erase("seconds");
    j.erase("throughput");
    return j;
  }
};

TEST_P(Resume, FromEveryTaskEndEndsAsTheUninterruptedRun) {
  std::vector<std::string> checkpoints;
  const RunResult whole = run(nullptr, [&](StateArchive& a) {
    checkpoints.push_back((scratch_.path() / ("after" + std::to_string(checkpoints.size() + 1))).string());
    write_checkpoint(checkpoints.back(), a);
  });
  ASSERT_EQ(checkpoints.size(), 3u);  // after tasks 1..3 of 4; none after the last
  for (const std::string& path : checkpoints) {
    const StateArchive a = read_checkpoint(path);
    const RunResult resumed = run(&a);
    EXPECT_EQ(untimed(resumed), untimed(whole)) << path;
    ASSERT_EQ(resumed.final_model.params.size(), whole.final_model.params.size());
    EXPECT_EQ(std::memcmp(resumed.final_model.params.data(), whole.final_model.params.data(),
                          whole.final_model.params.size() * sizeof(float)),
              0)
        << path;
  }
}

TEST_P(Resume, StopRequestEndsTheRunAtAStep) {
  std::atomic<int> stop{SIGTERM};
  try {
    run(nullptr, {}, &stop);
    FAIL() << "the run went on";
  } catch (const Interrupted& e) {
    EXPECT_EQ(e.signal(), SIGTERM);
  }
}

INSTANTIATE_TEST_SUITE_P(EveryStrategy, Resume, ::testing::ValuesIn(cases()), [](const auto& info) {
  std::string n = info.param.strategy + (info.param.detect ? "_detect" : "") +
                  (info.param.engine == EngineKind::kResident ? "_resident" : "");
  for (char& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
});

TEST(ResumeCheckpoint, OfAnotherRunIsRefusedNamingTheEntry) {
  test::ScratchDir scratch("resume_other");
  const Scenario s = test::generated_tasks(3, 128, 64, 8, 2, 1);
  const Mlp init(MlpArch::parse("8-8-2"), 1);
  RunConfig cfg;
  cfg.batch = 32, cfg.lca_batches = 1, cfg.lambda = 1;
  auto be = make_backend("cpu");
  const std::string path = (scratch.path() / "ckpt").string();
  RunControl save;
  save.on_task_end = [&](StateArchive& a) { write_checkpoint(path, a); };
  auto ewc = make_strategy("ewc", {}, init.arch.num_params());
  run_strategy(*be, s, init, *ewc, cfg, 1, nullptr, save);
  const StateArchive a = read_checkpoint(path);
  RunControl resume;
  resume.resume = &a;
  auto si = make_strategy("si", {}, init.arch.num_params());
  try {
    run_strategy(*be, s, init, *si, cfg, 1, nullptr, resume);
    FAIL() << "resumed another strategy's run";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("loop.result"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace clb
