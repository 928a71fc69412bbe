#pragma once
// The harness: trains a model on a task sequence with one strategy and scores it: the accuracy
// matrix after every task on every task's test set, accuracy at initialisation, learning curves
// for LCA, throughput per phase, and the bytes the strategy holds.
#include <cstdint>
#include <functional>
#include <string>

#include "framework/backend.h"
#include "framework/engine.h"
#include "framework/fisher.h"
#include "framework/memory/replay_buffer.h"
#include "framework/metrics.h"
#include "framework/mlp.h"
#include "framework/scenarios.h"
#include "framework/strategy.h"
#include "framework/task_detector.h"

namespace clb {

struct TrainConfig {
  Optimizer optimizer = Optimizer::kSgd;
  float lr = 0.01f;
  float momentum = 0.9f;  // momentum optimizer
  int batch = 128;
  int epochs = 1;
  float lambda = 0.0f;  // penalty strength (ewc, online-ewc, l2)
  FisherConfig fisher;
  int lca_batches = 10;  // beta: LCA averages accuracy after 0..beta minibatches
  int eval_batch = 1000;
  EngineKind engine = EngineKind::kAuto;  // framework/engine.h
  bool record_steps = true;               // resident engine: replay a recorded step (CUDA graph)
  ReplayBufferConfig memory;              // er, agem, ewc+er: the replay memory (seed derived per run)
  bool detect_boundaries = false;         // --task-boundaries detect (framework/task_detector.h)
  // --stream blurry: neighbouring tasks' samples mix over `blurry_width` samples around each
  // boundary (the new task's share rising linearly from 0 to 1); 0 = sharp boundaries.
  int64_t blurry_width = 0;
  DetectorConfig detector;
};

struct RunResult {
  std::string strategy;
  uint64_t seed = 0;
  Matrix acc;                      // acc[i][j]: accuracy on task j after training task i
  std::vector<double> init_acc;    // b_j
  Matrix lca_curves;               // [task][b], b = 0..beta
  ClMetrics metrics;
  double train_seconds = 0, fisher_seconds = 0, eval_seconds = 0;
  int64_t train_samples = 0, fisher_samples = 0, eval_samples = 0;
  float lambda = 0;                // the penalty strength this run trained with
  double penalty_trace = 0;        // trace of the consolidated importance weights (0: no penalty)
  int64_t strategy_bytes = 0;     // what the strategy holds, its replay memory included
  std::string memory;              // the replay memory at the end ("" without one)
  // --task-boundaries detect: global batch indices of the true boundaries (each task's first
  // batch) and of the detected ones, scored with a 50-batch window.
  std::vector<int64_t> true_boundaries, detected_boundaries;
  DetectionStats detection;
  // ... and per identified segment its true task (Task::identity) and the identity the detector
  // gave it; task_id_accuracy scores them (framework/task_detector.h).
  std::vector<int> segment_truth, segment_identity;
  double task_id_accuracy = 0;
  // Task-IL (class masks) with detected boundaries: each test set's head (class mask) is picked by
  // recognising its inputs, not from its task label; how often the pick was the right head, over
  // the evaluations of tasks already trained.
  int64_t heads_picked = 0, heads_right = 0;
  Mlp final_model;

  double train_samples_per_s() const { return train_seconds > 0 ? train_samples / train_seconds : 0; }
  double fisher_samples_per_s() const { return fisher_seconds > 0 ? fisher_samples / fisher_seconds : 0; }
  double eval_samples_per_s() const { return eval_seconds > 0 ? eval_samples / eval_seconds : 0; }
};

using ProgressFn = std::function<void(const std::string&)>;

// Accuracy of m on task `task`'s test set (with its class mask), on host memory.
double evaluate(Backend& be, const Mlp& m, const std::vector<Task>& tasks, int task, int eval_batch,
                int64_t* samples_seen = nullptr);

// --stream blurry: each task's epoch-0 training order, shuffled as the sharp stream shuffles it,
// then blurred: around each boundary the last width/2 samples of one task and the first width/2
// of the next are re-dealt so that position p of the `width` holds the new task's sample with
// probability p/width (the old one's otherwise, each side keeping its own order).
std::vector<std::vector<SampleRef>> blurred_orders(const Scenario& sc, uint64_t seed, int64_t width);

// Shuffled training order for (seed, task, epoch): the same for every strategy of a run.
RunResult run_strategy(Backend& be, const Scenario& scenario, const Mlp& init, Strategy& strategy,
                       const TrainConfig& cfg, uint64_t seed, const ProgressFn& progress);

}  // namespace clb
