// Task identification from the stream (framework/stream/task_detector.h): the detector on streams with
// known boundaries, the scoring of detections, and whole runs with --task-boundaries detect.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/ranges.h>

#include "framework/core/error.h"
#include "framework/harness/task_loop.h"
#include "framework/strategies/registry.h"
#include "framework/stream/stream_order.h"
#include "framework/stream/task_detector.h"
#include "tests/common/engine_scenario.h"

namespace clb {
namespace {

// Batches of B rows of `dim` Gaussian features around `mean`.
std::vector<float> batch(Rng& rng, int B, int dim, float mean, float sd = 0.3f) {
  std::vector<float> x(size_t(B) * dim);
  for (float& v : x) v = mean + sd * float(rng.normal());
  return x;
}

// 2,000 batches of one distribution: no boundary. The statistic r_b has a relative spread of
// about sqrt(2/dim) = 0.1 around 1, so the Page-Hinkley sum of r_b - 2 only falls.
TEST(InputShiftDetector, NoAlarmOnAStationaryStream) {
  Rng rng(1);
  InputShiftDetector d(196);
  int alarms = 0;
  for (int b = 0; b < 2000; ++b) alarms += d.observe(batch(rng, 32, 196, 0.2f).data(), 32);
  EXPECT_EQ(alarms, 0);
}

// An abrupt shift (a new task) is found on its first batch, and the detector starts a new segment
// when it fires; a shift inside the warm-up of a segment (its statistics not yet formed) is
// reported when the warm-up ends.
TEST(InputShiftDetector, FindsAnAbruptShiftOnItsFirstBatch) {
  Rng rng(2);
  InputShiftDetector d(64);
  std::vector<int> fired;
  for (int b = 0; b < 300; ++b) {
    const float mean = b < 100 ? 0.0f : b < 110 ? 0.5f : b < 200 ? 0.5f : -0.5f;
    if (d.observe(batch(rng, 32, 64, mean).data(), 32)) fired.push_back(b);
  }
  EXPECT_EQ(fired, (std::vector<int>{100, 200}));
  InputShiftDetector early(64);
  std::vector<int> fired_early;
  for (int b = 0; b < 40; ++b)
    if (early.observe(batch(rng, 32, 64, b < 4 ? 0.0f : 1.0f).data(), 32)) fired_early.push_back(b);
  EXPECT_EQ(fired_early, (std::vector<int>{8})) << "a jump at batch 4 lies in the 8-batch warm-up";
}

// The loss channel: inputs that do not move, a loss that falls while a task is learnt and jumps
// when it changes; a noisy but level loss raises nothing, and a short batch is not looked at.
TEST(InputShiftDetector, FindsALossJumpTheInputsDoNotShow) {
  Rng rng(3);
  InputShiftDetector d(16);
  std::vector<int> fired;
  for (int b = 0; b < 120; ++b) {
    const bool short_batch = b == 90;
    d.observe(batch(rng, short_batch ? 8 : 64, 16, 0.0f).data(), short_batch ? 8 : 64);
    const int since = b < 40 ? b : b - 40;
    double loss = 2.0 * std::exp(-0.1 * since) + 0.3 + 0.03 * rng.normal();
    if (b >= 80) loss = 0.35 + 0.05 * rng.normal();  // level, noisy
    if (short_batch) loss = 3.0;                     // a 8-sample batch's loss: ignored
    if (d.observe_loss(loss)) fired.push_back(b);
  }
  EXPECT_EQ(fired, (std::vector<int>{40}));
}

// Test sets are recognised by their input mean: each known task's comes back as its identity
// (the running segment's too), an unknown one as -1.
TEST(InputShiftDetector, RecognisesTestSetsOfKnownTasks) {
  Rng rng(4);
  InputShiftDetector d(32);
  const float means[3] = {0.0f, 1.0f, -1.0f};
  for (int seg = 0; seg < 3; ++seg)
    for (int b = 0; b < 30; ++b) d.observe(batch(rng, 64, 32, means[seg]).data(), 64);
  auto test_mean = [&](float m) {
    const auto x = batch(rng, 2000, 32, m);
    std::vector<double> mean(32, 0.0);
    for (int i = 0; i < 2000; ++i)
      for (int j = 0; j < 32; ++j) mean[size_t(j)] += x[size_t(i) * 32 + size_t(j)] / 2000.0;
    return mean;
  };
  EXPECT_EQ(d.recognise(test_mean(0.0f)), 0);
  EXPECT_EQ(d.recognise(test_mean(1.0f)), 1);
  EXPECT_EQ(d.recognise(test_mean(-1.0f)), 2) << "the running segment";
  EXPECT_EQ(d.recognise(test_mean(3.0f)), -1);
}

// A stream of five 40-batch segments (B = 64, 16 features): three with the same input mean whose
// boundaries only the loss shows (a fresh task's loss jumps, then falls as it is learnt), then an
// input shift to another mean, then back to the first mean. Each batch and its loss (before its
// update), fixed in advance so that two detectors can be fed the same stream.
struct MeanKeepingStream {
  static constexpr int kBatches = 200, kB = 64, kDim = 16;
  std::vector<std::vector<float>> x;
  std::vector<double> loss;
  MeanKeepingStream() {
    Rng rng(7);
    for (int b = 0; b < kBatches; ++b) {
      x.push_back(batch(rng, kB, kDim, b >= 120 && b < 160 ? 1.0f : 0.0f));
      loss.push_back(2.0 * std::exp(-0.1 * (b % 40)) + 0.3 + 0.03 * rng.normal());
    }
  }
  // Batches [from, to) into d as the harness feeds them (no loss looked at on a batch the inputs
  // already ended a segment with); per segment identified: its identity and how it was opened.
  void feed(InputShiftDetector& d, int from, int to, std::vector<int>& ids, std::vector<bool>& by_loss) const {
    for (int b = from; b < to; ++b) {
      const bool fired = d.observe(x[size_t(b)].data(), kB);
      if (d.identified_now()) ids.push_back(d.identity()), by_loss.push_back(d.opened_by_loss());
      if (!fired) d.observe_loss(loss[size_t(b)]);
    }
  }
};

// Segments whose inputs keep the mean of earlier ones (the drifting mixture): the loss opened
// them, so the inputs' match with the segment before is no evidence, and they are new tasks;
// a segment whose mean matches several identities is new too (the inputs cannot say which), and
// a test set of that mean is not recognised; a mean only one identity has is recognised.
TEST(InputShiftDetector, SegmentsTheInputsCannotTellApartAreNewTasks) {
  const MeanKeepingStream stream;
  InputShiftDetector d(MeanKeepingStream::kDim);
  std::vector<int> ids;
  std::vector<bool> by_loss;
  stream.feed(d, 0, MeanKeepingStream::kBatches, ids, by_loss);
  EXPECT_EQ(ids, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(by_loss, (std::vector<bool>{false, true, true, false, false}));
  Rng rng(8);
  auto test_mean = [&](float m) {
    const auto x = batch(rng, 2000, MeanKeepingStream::kDim, m);
    std::vector<double> mean(MeanKeepingStream::kDim, 0.0);
    add_feature_sums(x.data(), 2000, mean);
    for (double& v : mean) v /= 2000.0;
    return mean;
  };
  const std::vector<double> zero = test_mean(0.0f);
  EXPECT_EQ(d.recognise(zero), -1);
  std::vector<int> zero_ids = d.matches(zero);
  std::sort(zero_ids.begin(), zero_ids.end());
  EXPECT_EQ(zero_ids, (std::vector<int>{0, 1, 2, 4}));
  EXPECT_EQ(d.recognise(test_mean(1.0f)), 3);
}

// The detector's state through a checkpoint in the warm-up of a segment the loss opened: all of
// it is loaded back, and the loaded detector goes on as the saved one would have, naming that
// segment a new task.
TEST(InputShiftDetector, ResumesInTheWarmUpOfASegmentTheLossOpened) {
  const MeanKeepingStream stream;
  InputShiftDetector whole(MeanKeepingStream::kDim), first(MeanKeepingStream::kDim);
  std::vector<int> ids_whole, ids_resumed;
  std::vector<bool> by_loss_whole, by_loss_resumed;
  stream.feed(whole, 0, MeanKeepingStream::kBatches, ids_whole, by_loss_whole);
  stream.feed(first, 0, 44, ids_resumed, by_loss_resumed);  // segment 2 opened at 40, identified at 47
  ASSERT_TRUE(first.opened_by_loss());
  ASSERT_EQ(first.identity(), -1);
  StateArchive a;
  first.save(a, "boundaries.detector");
  InputShiftDetector resumed(MeanKeepingStream::kDim);
  resumed.load(a, "boundaries.detector");
  StateArchive again;
  resumed.save(again, "boundaries.detector");
  EXPECT_EQ(again.values(), a.values()) << "everything saved is loaded back";
  stream.feed(resumed, 44, MeanKeepingStream::kBatches, ids_resumed, by_loss_resumed);
  EXPECT_EQ(ids_resumed, ids_whole);
  EXPECT_EQ(by_loss_resumed, by_loss_whole);
}

TEST(InputShiftDetector, ScoresDetectionsAgainstTheTruth) {
  // Boundaries at 100 and 200; detections at 100 (delay 0), 150 (false alarm) and 230 (delay 30).
  DetectionStats s = score_detections({100, 200}, {100, 150, 230}, 300, 50);
  EXPECT_EQ(s.found, 2);
  EXPECT_EQ(s.missed, 0);
  EXPECT_EQ(s.false_alarms, 1);
  EXPECT_DOUBLE_EQ(s.mean_delay, 15.0);
  EXPECT_NEAR(s.false_alarms_per_1000, 1000.0 / 300.0, 1e-12);
  EXPECT_EQ(s.missed_per_1000, 0.0);
  // Too late (past the window) or before the boundary: missed, and the detection a false alarm.
  s = score_detections({100}, {99, 160}, 300, 50);
  EXPECT_EQ(s.found, 0);
  EXPECT_EQ(s.missed, 1);
  EXPECT_NEAR(s.missed_per_1000, 1000.0 / 300.0, 1e-12);
  EXPECT_EQ(s.false_alarms, 2);
  // A blurry boundary allows `lead` batches early: 99 is then found, 1 batch early.
  s = score_detections({100}, {99}, 300, 50, 5);
  EXPECT_EQ(s.found, 1);
  EXPECT_DOUBLE_EQ(s.mean_delay, -1.0);
}

// Three permuted tasks over generated features with an image-like mean profile (feature j
// averages 2j/dim, as pixel means differ across an image): a permutation moves the means, which
// is what the detector watches. (Without the profile a permutation of exchangeable features
// keeps the input mean, and this detector would not see it.)
Scenario permuted_profiled() {
  const Scenario base = test::generated_tasks(1, 2000, 1000, 196, 10, 4);
  auto profiled = [](const Dataset& d) {
    auto out = std::make_shared<Dataset>(d.with_float_features());
    for (int64_t i = 0; i < out->n; ++i)
      for (int j = 0; j < out->dim; ++j) out->x[size_t(i * out->dim + j)] += 2.0f * float(j) / float(out->dim);
    return out;
  };
  SourceData src{"generated", profiled(*base.tasks[0].train), profiled(*base.tasks[0].test)};
  ScenarioConfig cfg;
  cfg.kind = "permuted", cfg.tasks = 3, cfg.seed = 4;
  return make_scenario(cfg, src);
}

// naive (Adam 1e-3, LCA over 2 batches) on `s` without being told the boundaries: what the
// detector finds, from an `arch` model initialised with `init_seed`, run with `seed`.
RunResult naive_detecting(const Scenario& s, const char* arch, int batch, uint64_t init_seed, uint64_t seed) {
  auto be = make_backend("cpu");
  const Mlp init(MlpArch::parse(arch), init_seed);
  RunConfig cfg;
  cfg.optimizer = Optimizer::kAdam, cfg.lr = 1e-3f, cfg.batch = batch, cfg.lca_batches = 2;
  cfg.detect_boundaries = true;
  auto st = make_strategy("naive", {}, init.arch.num_params());
  return run_strategy(*be, s, init, *st, cfg, seed, nullptr);
}

RunResult permuted(const char* strategy, bool detect) {
  auto be = make_backend("cpu");
  static const Scenario s = permuted_profiled();
  const Mlp init(MlpArch::parse("196-100-100-10"), 4);
  RunConfig cfg;
  cfg.optimizer = Optimizer::kAdam, cfg.lr = 1e-3f, cfg.batch = 128, cfg.epochs = 1, cfg.lambda = 10.0f;
  cfg.lca_batches = 3;
  cfg.detect_boundaries = detect;
  auto st = make_strategy(strategy, {}, init.arch.num_params());
  return run_strategy(*be, s, init, *st, cfg, 4, nullptr);
}

// Three permuted tasks fed without boundaries: both are found on their first batch (2,000
// samples a task: 16 batches of 128, the last one short), nothing else fires, and EWC
// consolidating at the detected boundaries ends within 3 points of EWC told them (issue 5).
TEST(DetectedBoundaries, PermutedTasksAreFoundAndEwcKeepsItsAccuracy) {
  const RunResult given = permuted("ewc", false), detected = permuted("ewc", true);
  EXPECT_TRUE(given.detection.true_boundaries.empty());
  EXPECT_EQ(detected.detection.true_boundaries, (std::vector<int64_t>{16, 32}));
  EXPECT_EQ(detected.detection.detected_boundaries, detected.detection.true_boundaries);
  EXPECT_EQ(detected.detection.scores.found, 2);
  EXPECT_EQ(detected.detection.scores.false_alarms, 0);
  EXPECT_NEAR(detected.metrics.acc, given.metrics.acc, 0.03);
  EXPECT_GT(detected.penalty_trace, 0) << "EWC consolidated at the detected boundaries";
  // Each detected segment is one task's training set: the Fisher sees what it sees when told.
  EXPECT_EQ(detected.fisher_samples, given.fisher_samples);
}

// A strategy whose consolidation takes 1,000 s on the test's clock, which stands still otherwise;
// it reports that time and its samples as a Fisher pass does.
class SlowConsolidation final : public Strategy {
 public:
  explicit SlowConsolidation(double& clock) : clock_(clock) {}
  std::string name() const override { return "slow-consolidation"; }
  void end_task(const TaskEndContext& ctx, FisherStats* stats) override {
    clock_ += 1000;
    ++consolidations;
    stats->seconds = 1000;
    stats->samples = ctx.samples ? int64_t(ctx.samples->size()) : int64_t(ctx.tasks[size_t(ctx.task)].train_rows.size());
  }
  int consolidations = 0;

 private:
  double& clock_;
};

// A detected boundary's consolidation runs inside an epoch; its time is the Fisher's, as at a
// given boundary, never training time. The clock moves only inside end_task, so training and
// evaluation take 0 s exactly, and each consolidation adds its 1,000 s to fisher_seconds.
TEST(DetectedBoundaries, ConsolidationIsTimedAsFisherNotTraining) {
  auto be = make_backend("cpu");
  const Scenario s = permuted_profiled();
  const Mlp init(MlpArch::parse("196-100-100-10"), 4);
  for (const bool detect : {false, true}) {
    SCOPED_TRACE(detect ? "detected boundaries" : "given boundaries");
    RunConfig cfg;
    cfg.optimizer = Optimizer::kAdam, cfg.lr = 1e-3f, cfg.batch = 128, cfg.lca_batches = 3;
    cfg.detect_boundaries = detect;
    double clock = 0;
    RunControl control;
    control.clock = [&] { return clock; };
    SlowConsolidation st(clock);
    const RunResult r = run_strategy(*be, s, init, st, cfg, 4, nullptr, control);
    ASSERT_EQ(st.consolidations, 2) << "3 tasks: 2 boundaries";
    EXPECT_EQ(r.train_seconds, 0.0);
    EXPECT_EQ(r.eval_seconds, 0.0);
    EXPECT_EQ(r.fisher_seconds, 2000.0);
    EXPECT_EQ(r.fisher_samples, 2 * 2000) << "each consolidation on one task's 2,000 training samples";
    EXPECT_EQ(r.train_samples, 3 * 2000);
  }
}

TEST(InputShiftDetector, ScoresTaskIdentities) {
  EXPECT_DOUBLE_EQ(task_id_accuracy({0, 1, 0, 2}, {0, 1, 0, 2}), 1.0);
  // Segment 3 is task 0 again but called new (2): wrong; segment 4 (task 2) is then called 2,
  // whose first segment was task 0: wrong too.
  EXPECT_DOUBLE_EQ(task_id_accuracy({0, 1, 0, 2}, {0, 1, 2, 2}), 0.5);
  // Calling every segment the first task: right only for the first.
  EXPECT_DOUBLE_EQ(task_id_accuracy({0, 1, 2}, {0, 0, 0}), 1.0 / 3.0);
}

// The recurring stream (3 tasks, each with its own input shift, visited three times) fed without
// boundaries: every boundary found within two batches (a shift of 0.5 per feature against batch
// means of 50 samples: r_b about 18, so the Page-Hinkley sum may need a second batch), no false
// alarm, and every visit after the first of a task recognised as that task.
TEST(DetectedBoundaries, RecurringTasksAreRecognised) {
  ScenarioConfig sc;
  sc.kind = "recurring", sc.tasks = 9, sc.recurring_tasks = 3, sc.train_per_task = 1000, sc.test_per_task = 200;
  sc.synthetic_dim = 64, sc.synthetic_classes = 5, sc.seed = 2;
  const Scenario s = make_scenario(sc, {});
  ASSERT_EQ(s.tasks.size(), 9u);
  for (int t = 0; t < 9; ++t) EXPECT_EQ(s.tasks[size_t(t)].identity, t % 3);
  EXPECT_NE(s.tasks[0].train, s.tasks[3].train) << "each visit draws fresh samples";
  const RunResult r = naive_detecting(s, "64-32-5", 50, 1, 2);
  EXPECT_EQ(r.detection.scores.found, 8);
  EXPECT_EQ(r.detection.scores.false_alarms, 0);
  EXPECT_LE(r.detection.scores.mean_delay, 1.0);
  EXPECT_EQ(r.detection.segment_truth, (std::vector<int>{0, 1, 2, 0, 1, 2, 0, 1, 2}));
  EXPECT_EQ(r.detection.segment_identity, r.detection.segment_truth);
  EXPECT_DOUBLE_EQ(r.detection.task_id_accuracy, 1.0);
}

// A blurry stream keeps every sample exactly once and each task's length; around a boundary the
// two tasks mix (the new task's share rising across the width), away from it nothing moves.
TEST(BlurryStream, MixesNeighboursOnlyAroundTheBoundary) {
  const Scenario s = permuted_profiled();
  const auto sharp = blurred_orders(s, 4, 0), blurry = blurred_orders(s, 4, 400);
  ASSERT_EQ(blurry.size(), 3u);
  std::multiset<std::pair<int, int>> all_sharp, all_blurry;
  for (size_t t = 0; t < 3; ++t) {
    ASSERT_EQ(blurry[t].size(), sharp[t].size());
    for (const SampleRef& r : sharp[t]) all_sharp.insert({r.task, r.row});
    for (const SampleRef& r : blurry[t]) all_blurry.insert({r.task, r.row});
  }
  EXPECT_EQ(all_blurry, all_sharp);
  auto foreign = [&](size_t t, size_t from, size_t to) {  // samples of other tasks in positions [from, to)
    int n = 0;
    for (size_t i = from; i < to; ++i) n += blurry[t][i].task != int(t);
    return n;
  };
  const size_t n0 = blurry[0].size();
  EXPECT_EQ(foreign(0, 0, n0 - 200), 0) << "before the mixing width: task 1 only";
  EXPECT_GT(foreign(0, n0 - 200, n0), 20) << "its last 200: some of task 2 already";
  EXPECT_LT(foreign(0, n0 - 200, n0 - 100), foreign(0, n0 - 100, n0)) << "more of task 2 towards the boundary";
  EXPECT_GT(foreign(1, 0, 200), 20) << "task 2's first 200: some of task 1 still";
  EXPECT_EQ(foreign(1, 200, blurry[1].size() - 200), 0);
  for (size_t i = 0; i < 200; ++i) EXPECT_NE(blurry[1][i].task, 2) << "neighbours only";
}

TEST(DetectedBoundaries, BlurryBoundariesAreFoundAroundTheirMiddle) {
  auto be = make_backend("cpu");
  const Scenario s = permuted_profiled();
  const Mlp init(MlpArch::parse("196-100-100-10"), 4);
  RunConfig cfg;
  cfg.optimizer = Optimizer::kAdam, cfg.lr = 1e-3f, cfg.batch = 128, cfg.lca_batches = 3;
  cfg.detect_boundaries = true, cfg.blurry_width = 512;  // 4 batches either side of each boundary
  auto st = make_strategy("naive", {}, init.arch.num_params());
  const RunResult r = run_strategy(*be, s, init, *st, cfg, 4, nullptr);
  EXPECT_EQ(r.detection.scores.found, 2);
  EXPECT_EQ(r.detection.scores.false_alarms, 0);
  EXPECT_LE(std::abs(r.detection.scores.mean_delay), 4.0);
  cfg.epochs = 2;
  EXPECT_THROW(run_strategy(*be, s, init, *st, cfg, 4, nullptr), Error) << "a stream is seen once";
}

// The drifting Gaussian mixture: new class means around much the same overall input mean, so
// only the loss shows the boundaries, and each segment is a new task (no task recurs).
TEST(DetectedBoundaries, DriftingMixtureIsFoundByTheLoss) {
  const Scenario s = test::generated_tasks(4, 5000, 200, 64, 5, 3);
  const RunResult r = naive_detecting(s, "64-32-5", 64, 1, 3);
  EXPECT_EQ(r.detection.scores.found, 3) << fmt::format("detected {}", fmt::join(r.detection.detected_boundaries, " "));
  EXPECT_EQ(r.detection.scores.false_alarms, 0);
  EXPECT_LE(r.detection.scores.mean_delay, 2.0);
  // The loss found the boundaries, the inputs did not move: no task is taken for an earlier one.
  EXPECT_EQ(r.detection.segment_truth, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(r.detection.segment_identity, r.detection.segment_truth);
  EXPECT_DOUBLE_EQ(r.detection.task_id_accuracy, 1.0);
}

// Task-IL without task labels at test time (split, 2 classes a task, over a generated mixture
// whose classes have their own means): each test set of a trained task is recognised by its
// inputs and evaluated with its own head, every time.
TEST(DetectedBoundaries, SplitTaskIlPicksEachTestSetsHead) {
  const Scenario base = test::generated_tasks(1, 5000, 1000, 32, 10, 6);
  ScenarioConfig sc;
  sc.kind = "split", sc.il = "task", sc.tasks = 5, sc.seed = 6;
  const Scenario s = make_scenario(sc, SourceData{"generated", base.tasks[0].train, base.tasks[0].test});
  const RunResult r = naive_detecting(s, "32-32-10", 50, 6, 6);
  EXPECT_EQ(r.detection.scores.found, 4);
  EXPECT_EQ(r.detection.segment_identity, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(r.detection.heads_picked, 1 + 2 + 3 + 4 + 5) << "after task t, tasks 1..t are tested with a head";
  EXPECT_EQ(r.detection.heads_right, r.detection.heads_picked);
}

TEST(DetectedBoundaries, JointNeedsTheBoundaries) {
  try {
    permuted("joint", true);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("with task_boundaries given"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace clb
