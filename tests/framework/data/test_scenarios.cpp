// Task sequences: permutations are bijections and task 1 is untouched, split tasks hold their two
// classes and (task-IL) mask the rest, rotation maps are exact for 90 degrees, subsets are seeded.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "framework/core/error.h"
#include "framework/core/rng.h"
#include "framework/data/scenarios.h"

namespace clb {
namespace {

SourceData tiny_images(int n, int side, int classes) {
  auto d = std::make_shared<Dataset>();
  d->source = "tiny", d->n = n, d->rows = d->cols = side, d->dim = side * side, d->num_classes = classes;
  d->x.resize(size_t(n) * d->dim);
  for (size_t i = 0; i < d->x.size(); ++i) d->x[i] = float(i % 251) / 251.0f;
  for (int i = 0; i < n; ++i) d->y.push_back(i % classes);
  return {"tiny", d, d};
}

TEST(Scenarios, PermutedTasksArePixelBijections) {
  ScenarioConfig c;
  c.kind = "permuted", c.tasks = 4, c.seed = 5;
  const Scenario s = make_scenario(c, tiny_images(40, 5, 10));
  ASSERT_EQ(s.tasks.size(), 4u);
  EXPECT_TRUE(s.tasks[0].pixel_map.empty());
  for (int t = 1; t < 4; ++t) {
    std::vector<int32_t> sorted = s.tasks[t].pixel_map;
    std::sort(sorted.begin(), sorted.end());
    for (int j = 0; j < 25; ++j) ASSERT_EQ(sorted[j], j);
    EXPECT_NE(s.tasks[t].pixel_map, s.tasks[1 + t % 3].pixel_map);
  }
  EXPECT_EQ(s.il, "domain");
  // Another seed, other permutations; the same seed, the same ones.
  c.seed = 6;
  EXPECT_NE(make_scenario(c, tiny_images(40, 5, 10)).tasks[1].pixel_map, s.tasks[1].pixel_map);
  c.seed = 5;
  EXPECT_EQ(make_scenario(c, tiny_images(40, 5, 10)).tasks[1].pixel_map, s.tasks[1].pixel_map);
}

TEST(Scenarios, SplitTaskIlMasksAndClassIlDoesNot) {
  ScenarioConfig c;
  c.kind = "split", c.il = "task", c.tasks = 5, c.class_order = "fixed";
  const SourceData data = tiny_images(100, 3, 10);
  const Scenario s = make_scenario(c, data);
  for (int t = 0; t < 5; ++t) {
    std::set<int> labels;
    for (int32_t r : s.tasks[t].train_rows) labels.insert(data.train->y[r]);
    EXPECT_EQ(labels, (std::set<int>{2 * t, 2 * t + 1}));
    ASSERT_EQ(s.tasks[t].class_mask.size(), 10u);
    for (int k = 0; k < 10; ++k) EXPECT_EQ(s.tasks[t].class_mask[k], k / 2 == t);
  }
  c.il = "class";
  EXPECT_TRUE(make_scenario(c, data).tasks[2].class_mask.empty());
  c.tasks = 6;
  EXPECT_THROW(make_scenario(c, data), Error);
}

// Seeded order (the default): each task's classes are the next classes_per_task of a permutation
// drawn from the seed, recorded in class_order; its mask allows exactly them. tasks = 0: all the
// classes make (10 classes, 5 per task: 2 tasks).
TEST(Scenarios, SplitTakesClassesPerTaskInASeededOrder) {
  ScenarioConfig c;
  c.kind = "split", c.il = "task", c.tasks = 0, c.classes_per_task = 5, c.seed = 3;
  const SourceData data = tiny_images(100, 3, 10);
  EXPECT_EQ(task_count(c, data), 2);
  const Scenario s = make_scenario(c, data);
  ASSERT_EQ(s.tasks.size(), 2u);
  std::vector<int> sorted = s.class_order;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_NE(s.class_order, sorted);  // seed 3 does not draw the identity (a 1 in 10! chance)
  for (int t = 0; t < 2; ++t) {
    const std::set<int> want(s.class_order.begin() + 5 * t, s.class_order.begin() + 5 * t + 5);
    std::set<int> labels;
    for (int32_t r : s.tasks[t].train_rows) labels.insert(data.train->y[r]);
    EXPECT_EQ(labels, want);
    for (int k = 0; k < 10; ++k) EXPECT_EQ(s.tasks[t].class_mask[k], want.count(k));
  }
  EXPECT_EQ(make_scenario(c, data).class_order, s.class_order);  // the same seed, the same order
  c.seed = 4;
  EXPECT_NE(make_scenario(c, data).class_order, s.class_order);
  c.class_order = "fixed";
  EXPECT_EQ(make_scenario(c, data).class_order, sorted);
  c.classes_per_task = 3, c.tasks = 4;  // 12 classes of 10
  EXPECT_THROW(make_scenario(c, data), SettingError);
  c.classes_per_task = 11, c.tasks = 0;
  EXPECT_THROW(make_scenario(c, data), SettingError);
  c.classes_per_task = 2, c.class_order = "sorted";
  EXPECT_THROW(make_scenario(c, data), SettingError);
}

// A task column: a task per value in order of first appearance; the test rows join by value.
TEST(Scenarios, TaskColumnMakesATaskPerValue) {
  SourceData data = tiny_images(12, 2, 3);
  auto train = std::make_shared<Dataset>(*data.train), test = std::make_shared<Dataset>(*data.test);
  train->group_names = test->group_names = {"2019", "2020", "2021"};
  for (int i = 0; i < 12; ++i) train->group.push_back(i / 4), test->group.push_back(i % 3);
  data.train = train, data.test = test;
  ScenarioConfig c;
  c.kind = "task-column", c.task_column = "year", c.tasks = 0;
  EXPECT_EQ(task_count(c, data), 3);
  const Scenario s = make_scenario(c, data);
  ASSERT_EQ(s.tasks.size(), 3u);
  EXPECT_EQ(s.il, "domain");
  for (int t = 0; t < 3; ++t) {
    EXPECT_EQ(s.tasks[t].name, "year " + train->group_names[t]);
    std::vector<int32_t> rows = s.tasks[t].train_rows, test_rows = s.tasks[t].test_rows;
    std::sort(rows.begin(), rows.end()), std::sort(test_rows.begin(), test_rows.end());
    EXPECT_EQ(rows, (std::vector<int32_t>{4 * t, 4 * t + 1, 4 * t + 2, 4 * t + 3}));
    EXPECT_EQ(test_rows, (std::vector<int32_t>{t, t + 3, t + 6, t + 9}));
    EXPECT_TRUE(s.tasks[t].class_mask.empty() && s.tasks[t].pixel_map.empty());
  }
  c.tasks = 2;
  EXPECT_EQ(make_scenario(c, data).tasks.size(), 2u);
  c.tasks = 4;
  EXPECT_THROW(make_scenario(c, data), SettingError);
  c.tasks = 0, c.kind = "permuted";  // a task column with another scenario
  EXPECT_THROW(make_scenario(c, data), SettingError);
  c.kind = "task-column", c.task_column = "";
  EXPECT_THROW(make_scenario(c, data), SettingError);
}

TEST(Scenarios, QuarterTurnIsExact) {
  ScenarioConfig c;
  c.kind = "rotated", c.tasks = 2, c.rotation_step = 90;
  const Scenario s = make_scenario(c, tiny_images(10, 4, 2));
  const auto& map = s.tasks[1].pixel_map;
  ASSERT_EQ(map.size(), 16u);
  std::vector<int32_t> sorted = map;
  std::sort(sorted.begin(), sorted.end());
  for (int j = 0; j < 16; ++j) EXPECT_EQ(sorted[j], j);  // a quarter turn of a square loses no pixel
}

TEST(Scenarios, SubsetsAreSeededAndBounded) {
  ScenarioConfig c;
  c.kind = "permuted", c.tasks = 2, c.train_per_task = 7, c.test_per_task = 3, c.seed = 1;
  const Scenario s = make_scenario(c, tiny_images(40, 5, 10));
  EXPECT_EQ(s.tasks[0].train_rows.size(), 7u);
  EXPECT_EQ(s.tasks[1].test_rows.size(), 3u);
  c.train_per_task = 41;
  try {
    make_scenario(c, tiny_images(40, 5, 10));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("train_per_task 41"), std::string::npos) << e.what();
  }
}

// The pixel maps are built from the training images and applied to the test images too: a test set
// of another shape, or a non-square image for a rotation, would be rotated wrongly in silence.
TEST(Scenarios, TrainAndTestShapesMustAgree) {
  auto error = [](const std::string& kind, const SourceData& data) -> std::string {
    ScenarioConfig c;
    c.kind = kind, c.tasks = 2;
    try {
      make_scenario(c, data);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  SourceData wide = tiny_images(20, 4, 2);
  auto d = std::make_shared<Dataset>(*wide.train);
  d->rows = 2, d->cols = 8;  // 16 pixels as 2x8
  wide.train = wide.test = d;
  EXPECT_EQ(error("rotated", wide), "scenario rotated: needs square images, but tiny has 2x8 images; use permuted or split");
  EXPECT_EQ(error("permuted", wide), "");

  SourceData mixed = tiny_images(20, 4, 2);
  auto t = std::make_shared<Dataset>(*mixed.test);
  t->rows = 16, t->cols = 1;  // the same 16 features, another image size
  mixed.test = t;
  EXPECT_EQ(error("rotated", mixed), "scenario rotated: tiny has 4x4 training images but 16x1 test images; both splits need one size");

  SourceData other = tiny_images(20, 4, 2);
  other.test = tiny_images(20, 5, 2).test;
  for (const std::string kind : {"permuted", "split", "rotated"})
    EXPECT_EQ(error(kind, other), "scenario " + kind + ": tiny has 16 features per training sample but 25 per test "
                                  "sample; both splits need the same");
}

TEST(Scenarios, SyntheticNeedsNoFiles) {
  ScenarioConfig c;
  c.kind = "synthetic", c.tasks = 3, c.synthetic_dim = 6, c.synthetic_classes = 3;
  const Scenario s = make_scenario(c, {});
  ASSERT_EQ(s.tasks.size(), 3u);
  EXPECT_EQ(s.tasks[0].train_rows.size(), 2000u);
  EXPECT_EQ(s.tasks[0].train->dim, 6);
  EXPECT_NE(s.tasks[0].train->with_float_features().x, s.tasks[1].train->with_float_features().x);  // the mixture drifts
}

// Generated tasks hold no features: they are made when read, from the drifting means (kept every
// 64th task and stepped from there) and each split's seed. Checked against the chain written out
// here task after task, on tasks past two kept points, after the cache dropped and remade them.
TEST(Scenarios, SyntheticFeaturesAreMadeWhenReadAndAlwaysTheSame) {
  ScenarioConfig c;
  c.kind = "synthetic", c.tasks = 140, c.synthetic_dim = 5, c.synthetic_classes = 3, c.seed = 9;
  c.train_per_task = 4, c.test_per_task = 2;
  const Scenario s = make_scenario(c, {});
  for (const Task& t : s.tasks) EXPECT_EQ(t.train->feature_bytes() + t.test->feature_bytes(), 0);
  // The oracle: synthetic's drift, mu_t = sqrt(0.2) mu_(t-1) + sqrt(0.8) fresh, from one stream.
  Rng rng = Rng::derive(9, 0x5E7, 0);
  const double scale = 5.0 / std::sqrt(5.0);
  std::vector<std::vector<float>> mu(3, std::vector<float>(5));
  std::vector<std::vector<std::vector<float>>> means;
  for (int t = 0; t < 140; ++t) {
    for (auto& m : mu)
      for (float& v : m)
        v = t == 0 ? float(scale * rng.normal()) : float(std::sqrt(0.2) * v + std::sqrt(0.8) * scale * rng.normal());
    means.push_back(mu);
  }
  set_generated_cache_budget(4 * 5 * sizeof(float));  // one training set: every read below remakes
  for (int t : {0, 63, 64, 65, 128, 139, 0}) {
    Rng noise = Rng::derive(9, 0x5E7, 1, uint64_t(t));
    std::vector<float> row(5);
    for (int i = 0; i < 4; ++i) {
      s.tasks[size_t(t)].train->read_row(i, row.data());
      for (int j = 0; j < 5; ++j)
        EXPECT_EQ(row[size_t(j)], means[size_t(t)][size_t(i % 3)][size_t(j)] + float(noise.normal())) << t << " " << i;
    }
    EXPECT_LE(generated_cache_bytes(), int64_t(4 * 5 * sizeof(float)));
  }
  set_generated_cache_budget(int64_t{256} << 20);
}

}  // namespace
}  // namespace clb
