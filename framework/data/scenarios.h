#pragma once
// Task sequences (README, "Commands"):
//   permuted  domain-IL: task 1 is the data as is, each further task a fixed pixel permutation
//   rotated   domain-IL: task t rotates every image by t * step degrees (nearest pixel)
//   split     5 tasks x 2 classes; task-IL (logit masking: only the task's classes compete) or
//             class-IL (one head over all classes)
//   synthetic domain-IL: a drifting Gaussian mixture, no files needed
//   recurring domain-IL: K Gaussian-mixture tasks, each with its own input shift, visited in turn
//             (1, 2, ..., K, 1, 2, ...): old tasks come back, for task identification
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "framework/data/dataset.h"
#include "framework/data/task.h"

namespace clb {

struct ScenarioConfig {
  std::string kind = "permuted";  // permuted | split | rotated | synthetic | recurring
  std::string il = "class";       // split only: task | class
  int tasks = 5;
  int64_t train_per_task = 0;  // 0 = all rows (synthetic: 2000)
  int64_t test_per_task = 0;   // 0 = all rows (synthetic: 1000)
  double rotation_step = 0.0;  // degrees between rotated tasks; 0 = 180 / tasks
  uint64_t seed = 0;           // permutations, subsets, synthetic draws
  int synthetic_dim = 784;     // synthetic: features (the model's input width)
  int synthetic_classes = 10;  // synthetic: classes (the model's output width)
  int recurring_tasks = 3;     // recurring: distinct tasks K
  // > 0: each task scores on this share of its training samples, held out (not trained on), instead
  // of its test set: the validation split hyper-parameters are chosen on (clbench sweep), so that
  // the test set stays unseen until the final runs. In (0, 0.5].
  double validation = 0.0;
};

struct SourceData {
  std::string name;  // what the user passed to --dataset
  std::shared_ptr<const Dataset> train, test;
};

// "fashion-mnist" (Debian's package) or an IDX directory; both splits, validated.
SourceData load_source_data(const std::string& dataset);

struct Scenario {
  std::string kind;
  std::string il;  // task | domain | class
  int input_dim = 0, num_classes = 0;
  std::vector<Task> tasks;
};

// Throws clb::SettingError naming the setting (tasks, train_per_task, ...) on impossible requests.
// With cfg.validation > 0 each task's test rows are the held-out share of its training rows.
Scenario make_scenario(const ScenarioConfig& cfg, const SourceData& data);

}  // namespace clb
