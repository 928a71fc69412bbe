#pragma once
// Shared test fixtures: random nets and random in-memory tasks.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "framework/core/error.h"
#include "framework/model/mlp.h"
#include "framework/core/rng.h"
#include "framework/data/scenarios.h"
#include "framework/data/task.h"

namespace clb::test {

// The message of the clb::Error fn throws, or "" when it throws none.
inline std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A single task over n random samples (inputs in [0,1), labels uniform), optional class mask.
inline std::vector<Task> random_tasks(int n, int dim, int classes, uint64_t seed, std::vector<uint8_t> mask = {}) {
  Rng rng(seed);
  auto d = std::make_shared<Dataset>();
  d->source = "random", d->n = n, d->dim = dim, d->num_classes = classes;
  d->x.resize(size_t(n) * dim);
  for (float& v : d->x) v = float(rng.uniform());
  d->y.resize(n);
  for (auto& y : d->y) {
    do {
      y = int32_t(rng.below(classes));
    } while (!mask.empty() && !mask[y]);
  }
  Task t = whole_dataset_task(d);
  t.class_mask = std::move(mask);
  return {t};
}

// "784-400-10" -> "784x400x10": test names allow letters, digits and '_' only.
// A generated task sequence (scenario "synthetic": a Gaussian mixture per task) of `tasks` tasks.
inline Scenario generated_tasks(int tasks, int64_t train_per_task, int64_t test_per_task, int dim, int classes,
                                uint64_t seed) {
  ScenarioConfig sc;
  sc.kind = "synthetic";
  sc.tasks = tasks, sc.train_per_task = train_per_task, sc.test_per_task = test_per_task;
  sc.synthetic_dim = dim, sc.synthetic_classes = classes, sc.seed = seed;
  return make_scenario(sc, {});
}

inline std::string arch_name(const char* arch) {
  std::string s(arch);
  for (char& c : s)
    if (c == '-') c = 'x';
  return s;
}

// Relative closeness against a double oracle: |a - b| <= rtol * |b| + atol_frac * max|b|.
inline void expect_close(const std::vector<float>& got, const std::vector<double>& want, double rtol,
                         double atol_frac, const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double scale = 0;
  for (double w : want) scale = std::max(scale, std::abs(w));
  int bad = 0;
  for (size_t k = 0; k < got.size(); ++k) {
    const double tol = rtol * std::abs(want[k]) + atol_frac * scale;
    if (!(std::abs(got[k] - want[k]) <= tol) && bad++ < 5)
      ADD_FAILURE() << what << "[" << k << "]: got " << got[k] << ", want " << want[k] << " (tol " << tol << ")";
  }
  EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << got.size() << " elements out of tolerance";
}

}  // namespace clb::test
