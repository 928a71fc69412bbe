#pragma once
// Task sequences (README, "Commands"):
//   permuted  domain-IL: task 1 is the data as is, each further task a fixed pixel permutation
//   rotated   domain-IL: task t rotates every image by t * step degrees (nearest pixel)
//   split     tasks of --classes-per-task classes each (2 by default), in a seeded random class
//             order or label order; task-IL (logit masking: only the task's classes compete) or
//             class-IL (one head over all classes)
//   task-column  domain-IL on CSV data: a named column says which task each row belongs to; tasks
//             in the order their values first appear in train.csv (a year, a regime, a sensor)
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
  int classes_per_task = 2;       // split only
  std::string class_order = "seeded";  // split only: seeded (a permutation drawn from seed) | fixed (label order)
  std::string task_column;        // task-column only: the CSV column naming each row's task
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

// "fashion-mnist" (Debian's package), an IDX directory or a CSV directory; both splits, validated.
// task_column: CSV only, the column that names each row's task (framework/data/csv_loader.h).
SourceData load_source_data(const std::string& dataset, const std::string& task_column = "");

struct Scenario {
  std::string kind;
  std::string il;  // task | domain | class
  int input_dim = 0, num_classes = 0;
  std::vector<Task> tasks;
  std::vector<int> class_order;  // split: the classes in task order; else empty
};

// Bytes the scenario holds: its data sets' features and labels (each once, however many tasks
// share it; generated features: all of them, or the cache's bound when smaller), the tasks' rows,
// pixel maps and masks.
int64_t scenario_bytes(const Scenario& s);

// Scenarios whose tasks = 0 means "as many as the data makes": split (classes / classes per task)
// and task-column (the column's values); task_count says how many that is.
inline bool data_sets_task_count(const ScenarioConfig& cfg) { return cfg.kind == "split" || cfg.kind == "task-column"; }
int task_count(const ScenarioConfig& cfg, const SourceData& data);

// Throws clb::SettingError naming the setting (tasks, train_per_task, ...) on impossible requests.
// With cfg.validation > 0 each task's test rows are the held-out share of its training rows.
Scenario make_scenario(const ScenarioConfig& cfg, const SourceData& data);

}  // namespace clb
