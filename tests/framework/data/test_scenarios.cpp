// Task sequences: permutations are bijections and task 1 is untouched, split tasks hold their two
// classes and (task-IL) mask the rest, rotation maps are exact for 90 degrees, subsets are seeded.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "framework/core/error.h"
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
  c.kind = "split", c.il = "task", c.tasks = 5;
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
  EXPECT_NE(s.tasks[0].train->x, s.tasks[1].train->x);  // the mixture drifts
}

}  // namespace
}  // namespace clb
