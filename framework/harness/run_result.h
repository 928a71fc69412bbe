#pragma once
// What one run (a strategy, a seed) measured: the accuracy matrix after every task on every
// task's test set, accuracy at initialisation, learning curves for LCA, throughput per phase, the
// bytes the strategy holds, and, with detected boundaries, how detection went.
#include <cstdint>
#include <string>
#include <vector>

#include "framework/harness/metrics.h"
#include "framework/model/mlp.h"
#include "framework/stream/task_detector.h"

namespace clb {

// Detected boundaries, scored against the true ones (empty when the boundaries are given).
struct DetectionReport {
  // Global batch indices of the true boundaries (each task's first batch) and of the detected ones.
  std::vector<int64_t> true_boundaries, detected_boundaries;
  DetectionStats scores;
  // Per identified segment its true task (Task::identity) and the identity the detector gave it.
  std::vector<int> segment_truth, segment_identity;
  double task_id_accuracy = 0;
  // Task-IL (class masks): each test set's head picked by recognising its inputs, not from its
  // task label; how often the pick was the right head, over the evaluations of trained tasks.
  int64_t heads_picked = 0, heads_right = 0;
};

struct RunResult {
  std::string strategy;
  uint64_t seed = 0;
  Matrix acc;                      // acc[i][j]: accuracy on task j after training task i
  std::vector<double> init_acc;    // b_j
  Matrix lca_curves;               // [task][b], b = 0..beta
  // test_loss[i][j]: mean cross-entropy on task j's test set after training task i (its head's
  // classes only in task-IL); init_test_loss[j] before training. NaN for an empty test set.
  Matrix test_loss;
  std::vector<double> init_test_loss;
  LossCurve train_loss;
  std::vector<int> class_order;    // split: the classes in task order (task t: the t-th group); else empty
  ClMetrics metrics;
  double train_seconds = 0, fisher_seconds = 0, eval_seconds = 0;
  int64_t train_samples = 0, fisher_samples = 0, eval_samples = 0;
  float lambda = 0;                // the penalty strength this run trained with
  double penalty_trace = 0;        // trace of the consolidated importance weights (0: no penalty)
  std::string importance;          // how the importance was estimated (the Fisher estimator, MAS)
  int64_t strategy_bytes = 0;      // what the strategy holds, its replay memory included
  // What the run held at its end, by component (host or device memory, wherever the engine keeps it):
  // data      the scenario: features and labels held (generated ones: the cache's share), rows, maps
  // model     the parameters; optimizer: their gradient and the optimizer's moments
  // strategy  strategy_bytes less its replay memory; replay: the replay memory
  struct Held {
    int64_t data = 0, model = 0, optimizer = 0, strategy = 0, replay = 0;
  } held;
  std::string memory;              // the replay memory at the end ("" without one)
  DetectionReport detection;
  Mlp final_model;

  double train_samples_per_s() const { return train_seconds > 0 ? train_samples / train_seconds : 0; }
  double fisher_samples_per_s() const { return fisher_seconds > 0 ? fisher_samples / fisher_seconds : 0; }
  double eval_samples_per_s() const { return eval_seconds > 0 ? eval_samples / eval_seconds : 0; }
};

}  // namespace clb
