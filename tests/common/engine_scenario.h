#pragma once
// A small task sequence that exercises everything the engines must agree on: tasks on their own
// data sets, a pixel map with a blanked pixel on one task, class masks on two tasks (one task
// without), and a training-set size that leaves a short last minibatch.
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "framework/harness/task_loop.h"
#include "framework/strategies/registry.h"
#include "framework/data/scenarios.h"
#include "tests/common/test_helpers.h"

namespace clb::test {

inline Scenario mixed_scenario(int train_n = 150, int test_n = 70) {
  constexpr int kDim = 24, kClasses = 6;
  const std::vector<std::vector<uint8_t>> masks = {{}, {1, 1, 1, 0, 0, 0}, {0, 0, 0, 1, 1, 1}};
  Scenario s;
  s.kind = "mixed", s.il = "task", s.input_dim = kDim, s.num_classes = kClasses;
  for (int t = 0; t < 3; ++t) {
    Task task = random_tasks(train_n, kDim, kClasses, 100 + t, masks[t])[0];
    const Task test = random_tasks(test_n, kDim, kClasses, 200 + t, masks[t])[0];
    task.test = test.train;
    task.test_rows = test.train_rows;
    task.id = t;
    task.name = "task" + std::to_string(t + 1);
    if (t == 1) {  // reversed pixels, the first one blanked
      task.pixel_map.resize(kDim);
      for (int j = 0; j < kDim; ++j) task.pixel_map[j] = kDim - 1 - j;
      task.pixel_map[0] = -1;
    }
    s.tasks.push_back(task);
  }
  return s;
}

// The scenario with its features rounded to k/255, held as bytes (bytes = true, as the IDX loader
// holds images) or as their float copy byte / 255.0f (bytes = false, as the loader held them before).
inline Scenario quantized(const Scenario& in, bool bytes) {
  Scenario s = in;
  std::map<const Dataset*, std::shared_ptr<const Dataset>> done;  // tasks share data sets
  for (Task& t : s.tasks)
    for (std::shared_ptr<const Dataset>* d : {&t.train, &t.test}) {
      auto& q = done[d->get()];
      if (!q) {
        auto c = std::make_shared<Dataset>(**d);
        std::vector<uint8_t> b(c->x.size());
        for (size_t i = 0; i < b.size(); ++i) b[i] = uint8_t(std::lround(std::clamp(c->x[i], 0.0f, 1.0f) * 255.0f));
        c->x.clear();
        if (bytes)
          c->bytes = std::move(b);
        else
          for (uint8_t v : b) c->x.push_back(float(v) / 255.0f);
        q = c;
      }
      *d = q;
    }
  return s;
}

// Permuted tasks over a generated Gaussian mixture of 196 features (the device machine has no
// data packages).
inline Scenario permuted_generated(int tasks) {
  const Scenario base = generated_tasks(1, 2000, 1000, 196, 10, 4);
  SourceData src{"generated", base.tasks[0].train, base.tasks[0].test};
  ScenarioConfig cfg;
  cfg.kind = "permuted", cfg.tasks = tasks, cfg.seed = 4;
  return make_scenario(cfg, src);
}

// The 3-task permuted run the engine comparisons share (CPU threads, CPU vs GPU): strategy `name`
// on `be`, Adam, 3 epochs; it reaches well over 50% on the last task.
inline RunResult permuted_run(Backend& be, const char* name, EngineKind engine = EngineKind::kAuto) {
  static const Scenario s = permuted_generated(3);
  const Mlp init(MlpArch::parse("196-100-100-10"), 4);
  RunConfig cfg;
  cfg.optimizer = Optimizer::kAdam;
  cfg.lr = 1e-3f;
  cfg.batch = 128;
  cfg.epochs = 3;
  cfg.lambda = 10.0f;
  cfg.lca_batches = 3;
  cfg.engine = engine;
  auto st = make_strategy(name, {}, init.arch.num_params());
  return run_strategy(be, s, init, *st, cfg, 4, nullptr);
}

}  // namespace clb::test
