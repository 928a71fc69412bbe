#include "framework/data/scenarios.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <numeric>
#include <set>
#include <unordered_map>

#include "framework/data/csv_loader.h"
#include "framework/core/error.h"
#include "framework/data/idx_loader.h"
#include "framework/core/rng.h"

namespace clb {

SourceData load_source_data(const std::string& dataset, const std::string& task_column) {
  const std::string dir = resolve_dataset_dir(dataset);
  SourceData d;
  d.name = dataset;
  if (is_csv_dataset_dir(dir)) {
    const std::string train_csv = (std::filesystem::path(dir) / "train.csv").string();
    const std::string test_csv = (std::filesystem::path(dir) / "test.csv").string();
    auto train = std::make_shared<Dataset>(load_csv(train_csv, task_column));
    auto test = std::make_shared<Dataset>(load_csv(test_csv, task_column));
    if (train->dim != test->dim)
      fail("{}: train.csv has {} features per row but test.csv has {}; both need the same columns", dir,
           train->dim, test->dim);
    // Tasks are train.csv's values of the column, in its order: test rows join them by value.
    std::unordered_map<std::string, int32_t> train_task;
    for (size_t k = 0; k < train->group_names.size(); ++k) train_task.emplace(train->group_names[k], int32_t(k));
    std::vector<int32_t> renumber(test->group_names.size());
    for (size_t k = 0; k < test->group_names.size(); ++k) {
      const auto it = train_task.find(test->group_names[k]);
      if (it == train_task.end())
        fail("{}: the task '{}' ({} column) has no rows in train.csv; a task needs training rows", test_csv,
             test->group_names[k], task_column);
      renumber[k] = it->second;
    }
    for (int32_t& g : test->group) g = renumber[size_t(g)];
    test->group_names = train->group_names;
    d.train = std::move(train), d.test = std::move(test);
    return d;
  }
  if (!task_column.empty())
    fail_setting("@task_column {}: {} is not a CSV data set (train.csv and test.csv); a task column needs one", task_column,
                 dataset);
  d.train = std::make_shared<Dataset>(load_idx_split(dir, "train"));
  d.test = std::make_shared<Dataset>(load_idx_split(dir, "test"));
  if (d.train->dim != d.test->dim)
    fail("{}: train images are {}x{} but test images are {}x{}; both splits must have one size", dir,
         d.train->rows, d.train->cols, d.test->rows, d.test->cols);
  return d;
}

namespace {

// A seeded random subset (in random order) of `rows`, of size `limit` (0 = all).
std::vector<int32_t> pick_rows(std::vector<int32_t> rows, int64_t limit, Rng rng, const char* field, int task,
                               const std::string& split) {
  if (limit > int64_t(rows.size()))
    fail_setting("{} {}: task {} has only {} {} samples; ask for at most that many (or 0 for all)", setting(field),
                 limit, task + 1, rows.size(), split);
  rng.shuffle(rows);
  if (limit > 0) {
    rows.resize(size_t(limit));
    rows.shrink_to_fit();  // a task holds its samples' rows, not the whole data set's (270 KB on Fashion-MNIST)
  }
  return rows;
}

std::vector<int32_t> rows_with_labels(const Dataset& d, const std::vector<int>& labels) {
  std::vector<int32_t> rows;
  for (int64_t i = 0; i < d.n; ++i)
    if (std::find(labels.begin(), labels.end(), d.y[i]) != labels.end()) rows.push_back(int32_t(i));
  return rows;
}

std::vector<int32_t> rows_of_group(const Dataset& d, int group) {
  std::vector<int32_t> rows;
  for (int64_t i = 0; i < d.n; ++i)
    if (d.group[size_t(i)] == group) rows.push_back(int32_t(i));
  return rows;
}

std::vector<int32_t> rotation_map(int rows, int cols, double degrees) {
  // For each output pixel, the source pixel it comes from (inverse rotation about the centre).
  std::vector<int32_t> map(size_t(rows) * cols);
  const double t = degrees * 3.14159265358979323846 / 180.0, c = std::cos(t), s = std::sin(t);
  const double cy = (rows - 1) / 2.0, cx = (cols - 1) / 2.0;
  for (int r = 0; r < rows; ++r)
    for (int q = 0; q < cols; ++q) {
      const double y = r - cy, x = q - cx;
      const int sr = int(std::lround(c * y - s * x + cy)), sq = int(std::lround(s * y + c * x + cx));
      map[size_t(r) * cols + q] = (sr >= 0 && sr < rows && sq >= 0 && sq < cols) ? sr * cols + sq : -1;
    }
  return map;
}

// Drifting Gaussian mixture: class c of task t is N(mu_tc, I) with mu_tc = sqrt(rho) mu_(t-1)c +
// sqrt(1 - rho) fresh, |mu| ~ 5, rho = 0.2: each task is learnable (about 85 % for the default
// MLP) and the drift moves the boundaries enough that fine-tuning forgets (BWT about -13 points).
// The features are made when read (dataset.h: generated): a task holds a way to make its class
// means and its generator's seed, not its samples, so thousands of tasks fit.
using ClassMeans = std::vector<std::vector<float>>;  // (classes, dim)

std::shared_ptr<Dataset> gaussian_task(std::function<ClassMeans()> means_of, int C, int dim, int64_t n, Rng rng,
                                       const std::string& name) {
  auto d = std::make_shared<Dataset>();
  d->source = name, d->n = n, d->dim = dim, d->num_classes = C;
  d->y.resize(n);
  for (int64_t i = 0; i < n; ++i) d->y[i] = int32_t(i % C);
  auto gen = std::make_shared<FeatureGenerator>();
  gen->make = [means_of = std::move(means_of), n, rng, C, dim](std::vector<float>& x) {
    const ClassMeans means = means_of();
    Rng r = rng;
    x.resize(size_t(n) * dim);
    for (int64_t i = 0; i < n; ++i) {
      const std::vector<float>& mu = means[size_t(i % C)];
      for (int j = 0; j < dim; ++j) x[size_t(i * dim + j)] = mu[size_t(j)] + float(r.normal());
    }
  };
  d->generated = std::move(gen);
  return d;
}

// The synthetic scenario's drifting means, task after task from one seeded stream of draws. Every
// kEvery-th task's means and the stream's state after them are kept; any task's means are made
// again from the one before it (at most kEvery - 1 steps): 30 KB per 64 tasks instead of per task.
class DriftingMeans {
 public:
  static constexpr int kEvery = 64;
  DriftingMeans(int tasks, int C, int dim, uint64_t seed) : scale_(5.0 / std::sqrt(double(dim))) {
    Rng rng = Rng::derive(seed, 0x5E7, 0);
    ClassMeans mu(static_cast<size_t>(C), std::vector<float>(static_cast<size_t>(dim)));
    for (int t = 0; t < tasks; ++t) {
      if (t % kEvery == 0) kept_.push_back({mu, rng});
      step(mu, rng, t);
    }
  }
  ClassMeans at(int t) const {
    Kept k = kept_[size_t(t / kEvery)];
    for (int u = t - t % kEvery; u <= t; ++u) step(k.means, k.rng, u);
    return k.means;
  }

 private:
  struct Kept {
    ClassMeans means;  // before task t's step
    Rng rng;
  };
  // mu_t = sqrt(rho) mu_(t-1) + sqrt(1 - rho) fresh, rho = 0.2; task 0 draws them fresh.
  void step(ClassMeans& means, Rng& rng, int t) const {
    const double rho = 0.2;
    for (auto& mu : means)
      for (float& v : mu)
        v = t == 0 ? float(scale_ * rng.normal()) : float(std::sqrt(rho) * v + std::sqrt(1.0 - rho) * scale_ * rng.normal());
  }
  double scale_;
  std::vector<Kept> kept_;
};

Scenario make_synthetic(const ScenarioConfig& cfg) {
  Scenario s;
  s.kind = "synthetic", s.il = "domain";
  s.input_dim = cfg.synthetic_dim, s.num_classes = cfg.synthetic_classes;
  const int64_t n_train = cfg.train_per_task > 0 ? cfg.train_per_task : 2000;
  const int64_t n_test = cfg.test_per_task > 0 ? cfg.test_per_task : 1000;
  const int C = cfg.synthetic_classes, dim = cfg.synthetic_dim;
  const auto drift = std::make_shared<const DriftingMeans>(cfg.tasks, C, dim, cfg.seed);
  for (int t = 0; t < cfg.tasks; ++t) {
    Task task;
    task.id = t;
    task.name = "drift " + std::to_string(t + 1);
    auto means = [drift, t] { return drift->at(t); };
    task.train = gaussian_task(means, C, dim, n_train, Rng::derive(cfg.seed, 0x5E7, 1, t), "synthetic train");
    task.test = gaussian_task(means, C, dim, n_test, Rng::derive(cfg.seed, 0x5E7, 2, t), "synthetic test");
    task.train_rows.resize(n_train);
    task.test_rows.resize(n_test);
    std::iota(task.train_rows.begin(), task.train_rows.end(), 0);
    std::iota(task.test_rows.begin(), task.test_rows.end(), 0);
    Rng order = Rng::derive(cfg.seed, 0x5E7, 3, t);
    order.shuffle(task.train_rows);
    s.tasks.push_back(std::move(task));
  }
  return s;
}

// K tasks, each a Gaussian mixture of its own (fresh class means) whose inputs are also shifted by
// a task offset (N(0, 0.5^2) per feature: a domain of its own), visited in turn; every visit draws
// fresh training and test samples from its task's distribution.
Scenario make_recurring(const ScenarioConfig& cfg) {
  if (cfg.recurring_tasks < 1) fail_setting("@recurring_tasks {}: need at least 1", cfg.recurring_tasks);
  Scenario s;
  s.kind = "recurring", s.il = "domain";
  s.input_dim = cfg.synthetic_dim, s.num_classes = cfg.synthetic_classes;
  const int64_t n_train = cfg.train_per_task > 0 ? cfg.train_per_task : 2000;
  const int64_t n_test = cfg.test_per_task > 0 ? cfg.test_per_task : 1000;
  const double scale = 5.0 / std::sqrt(double(cfg.synthetic_dim));
  std::vector<std::shared_ptr<const ClassMeans>> means(size_t(cfg.recurring_tasks));
  for (int k = 0; k < cfg.recurring_tasks; ++k) {
    Rng rng = Rng::derive(cfg.seed, 0x5EC, 0, uint64_t(k));
    std::vector<float> offset(size_t(cfg.synthetic_dim));
    for (float& v : offset) v = float(0.5 * rng.normal());
    std::vector<std::vector<float>> mk(size_t(cfg.synthetic_classes), std::vector<float>(size_t(cfg.synthetic_dim)));
    for (auto& mu : mk)
      for (int j = 0; j < cfg.synthetic_dim; ++j) mu[size_t(j)] = offset[size_t(j)] + float(scale * rng.normal());
    means[size_t(k)] = std::make_shared<const ClassMeans>(std::move(mk));
  }
  for (int t = 0; t < cfg.tasks; ++t) {
    const int k = t % cfg.recurring_tasks;
    Task task;
    task.id = t, task.identity = k;
    task.name = fmt::format("task {} (visit {})", k + 1, t / cfg.recurring_tasks + 1);
    auto means_k = [mk = means[size_t(k)]] { return *mk; };
    const int C = cfg.synthetic_classes, dim = cfg.synthetic_dim;
    task.train = gaussian_task(means_k, C, dim, n_train, Rng::derive(cfg.seed, 0x5EC, 1, uint64_t(t)), "recurring train");
    task.test = gaussian_task(means_k, C, dim, n_test, Rng::derive(cfg.seed, 0x5EC, 2, uint64_t(t)), "recurring test");
    task.train_rows.resize(size_t(n_train));
    task.test_rows.resize(size_t(n_test));
    std::iota(task.train_rows.begin(), task.train_rows.end(), 0);
    std::iota(task.test_rows.begin(), task.test_rows.end(), 0);
    s.tasks.push_back(std::move(task));
  }
  return s;
}

}  // namespace

namespace {

// Moves a seeded random `share` of each task's training rows to its test rows, scored on the
// training data set. Both keep their order (the training stream's order is the scenario's).
void hold_out_validation(Scenario& s, double share, uint64_t seed) {
  for (Task& t : s.tasks) {
    const size_t n = t.train_rows.size();
    const size_t held = size_t(std::llround(share * double(n)));
    if (held < 1 || held >= n)
      fail_setting("@validation {}: task {} has {} training samples, too few to hold out {} of them and train on the "
                   "rest; use more training samples or another share",
                   share, t.id + 1, n, held);
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t(0));
    Rng::derive(seed, 0x5A1, size_t(t.id)).shuffle(order);
    std::vector<uint8_t> is_held(n, 0);
    for (size_t i = 0; i < held; ++i) is_held[order[i]] = 1;
    std::vector<int32_t> train, validation;
    for (size_t i = 0; i < n; ++i) (is_held[i] ? validation : train).push_back(t.train_rows[i]);
    train.shrink_to_fit(), validation.shrink_to_fit();
    t.train_rows = std::move(train);
    t.test_rows = std::move(validation);
    t.test = t.train;
  }
}

Scenario make_scenario_on(const ScenarioConfig& cfg, const SourceData& data);

}  // namespace

int task_count(const ScenarioConfig& cfg, const SourceData& data) {
  CLB_ASSERT(data_sets_task_count(cfg) && data.train && data.test);
  if (cfg.kind == "task-column") return int(data.train->group_names.size());
  const int classes = std::max(data.train->num_classes, data.test->num_classes);
  if (cfg.classes_per_task < 1 || cfg.classes_per_task > classes)
    fail_setting("@classes_per_task {}: {} has {} classes; a task takes 1 to {} of them", cfg.classes_per_task,
                 data.name, classes, classes);
  return classes / cfg.classes_per_task;
}

Scenario make_scenario(const ScenarioConfig& cfg, const SourceData& data) {
  if (!(cfg.validation >= 0.0 && cfg.validation <= 0.5))
    fail_setting("@validation {}: the held-out share of each task's training samples must lie in [0, 0.5] (0 = score "
                 "on the test set; 0.1 is usual)",
                 cfg.validation);
  Scenario s = make_scenario_on(cfg, data);
  if (cfg.validation > 0) hold_out_validation(s, cfg.validation, cfg.seed);
  return s;
}

namespace {

Scenario make_scenario_on(const ScenarioConfig& cfg, const SourceData& data) {
  if (cfg.tasks < (data_sets_task_count(cfg) ? 0 : 1)) fail_setting("@tasks: need at least 1 task, got {}", cfg.tasks);
  if (cfg.train_per_task < 0) fail_setting("@train_per_task: must be >= 0 (0 = all), got {}", cfg.train_per_task);
  if (cfg.test_per_task < 0) fail_setting("@test_per_task: must be >= 0 (0 = all), got {}", cfg.test_per_task);
  if (cfg.kind == "synthetic") return make_synthetic(cfg);
  if (cfg.kind == "recurring") return make_recurring(cfg);
  if (cfg.kind != "permuted" && cfg.kind != "rotated" && cfg.kind != "split" && cfg.kind != "task-column")
    fail_setting("@scenario: unknown scenario '{}'; use permuted, split, rotated, task-column, synthetic or recurring",
                 cfg.kind);
  if (cfg.kind == "task-column" && cfg.task_column.empty())
    fail_setting("@scenario task-column: name the CSV column that gives each row's task with @task_column");
  if (cfg.kind != "task-column" && !cfg.task_column.empty())
    fail_setting("@task_column {}: a task column makes the tasks; drop @scenario {} (or give task-column)",
                 cfg.task_column, cfg.kind);
  CLB_ASSERT(data.train && data.test);
  const Dataset& tr = *data.train;
  const Dataset& te = *data.test;
  // Every task's pixel map, mask and model apply to both splits: they must agree in shape.
  if (te.dim != tr.dim)
    fail_setting("@scenario {}: {} has {} features per training sample but {} per test sample; both splits need the "
                 "same",
                 cfg.kind, data.name, tr.dim, te.dim);
  const int classes = std::max(tr.num_classes, data.test->num_classes);

  Scenario s;
  s.kind = cfg.kind;
  s.input_dim = tr.dim, s.num_classes = classes;
  s.il = cfg.kind == "split" ? cfg.il : "domain";
  const int K = cfg.classes_per_task;
  const int tasks = cfg.tasks == 0 && data_sets_task_count(cfg) ? task_count(cfg, data) : cfg.tasks;
  if (cfg.kind == "split") {
    if (cfg.il != "task" && cfg.il != "class")
      fail_setting("@scenario_il: unknown setting '{}'; use task or class", cfg.il);
    if (K < 1 || K > classes)
      fail_setting("@classes_per_task {}: {} has {} classes; a task takes 1 to {} of them", K, data.name, classes, classes);
    if (tasks * K > classes)
      fail_setting("@tasks {}: split makes tasks of {} classes ({}) and {} has only {} classes; use @tasks {} or fewer",
                   tasks, K, setting("classes_per_task"), data.name, classes, classes / K);
    if (cfg.class_order != "seeded" && cfg.class_order != "fixed")
      fail_setting("@class_order {}: use seeded (a random class order drawn from the seed) or fixed (label order)",
                   cfg.class_order);
    s.class_order.resize(size_t(classes));
    std::iota(s.class_order.begin(), s.class_order.end(), 0);
    if (cfg.class_order == "seeded") {
      Rng order = Rng::derive(cfg.seed, 0xC1A55);
      order.shuffle(s.class_order);
    }
    s.class_order.resize(size_t(tasks) * K);
  }
  if (cfg.kind == "task-column") {
    const int values = int(tr.group_names.size());
    if (tasks > values)
      fail_setting("@tasks {}: the column {} of {} has only {} value(s), one task each; use @tasks {} (or 0: all)",
                   tasks, cfg.task_column, data.name, values, values);
  }
  if (cfg.kind == "rotated") {
    if (tr.rows <= 0 || int64_t(tr.rows) * tr.cols != tr.dim)
      fail_setting("@scenario rotated: {} is not an image data set", data.name);
    if (tr.rows != tr.cols)
      fail_setting("@scenario rotated: needs square images, but {} has {}x{} images; use permuted or split", data.name,
                   tr.rows, tr.cols);
    if (te.rows != tr.rows || te.cols != tr.cols)
      fail_setting("@scenario rotated: {} has {}x{} training images but {}x{} test images; both splits need one size",
                   data.name, tr.rows, tr.cols, te.rows, te.cols);
  }

  for (int t = 0; t < tasks; ++t) {
    Task task;
    task.id = t;
    std::vector<int32_t> train_rows, test_rows;
    if (cfg.kind == "split") {
      const std::vector<int> labels(s.class_order.begin() + t * K, s.class_order.begin() + (t + 1) * K);
      train_rows = rows_with_labels(tr, labels);
      test_rows = rows_with_labels(te, labels);
      task.name = "classes";
      for (int c : labels) task.name += (c == labels[0] ? " " : ",") + std::to_string(c);
      if (cfg.il == "task") {
        task.class_mask.assign(classes, 0);
        for (int c : labels) task.class_mask[size_t(c)] = 1;
      }
    } else if (cfg.kind == "task-column") {
      train_rows = rows_of_group(tr, t);
      test_rows = rows_of_group(te, t);
      task.name = cfg.task_column + " " + tr.group_names[size_t(t)];
    } else {
      train_rows.resize(tr.n);
      test_rows.resize(data.test->n);
      std::iota(train_rows.begin(), train_rows.end(), 0);
      std::iota(test_rows.begin(), test_rows.end(), 0);
      if (cfg.kind == "permuted") {
        task.name = t == 0 ? "original" : "permutation " + std::to_string(t);
        if (t > 0) {
          task.pixel_map.resize(tr.dim);
          std::iota(task.pixel_map.begin(), task.pixel_map.end(), 0);
          Rng perm = Rng::derive(cfg.seed, 0x9E2, t);
          perm.shuffle(task.pixel_map);
        }
      } else {
        const double step = cfg.rotation_step != 0.0 ? cfg.rotation_step : 180.0 / cfg.tasks;
        task.name = "rotated " + std::to_string(int(std::lround(t * step))) + " deg";
        if (t > 0) task.pixel_map = rotation_map(tr.rows, tr.cols, t * step);
      }
    }
    task.train_rows = pick_rows(std::move(train_rows), cfg.train_per_task, Rng::derive(cfg.seed, 0x5B5, 0, t),
                                "train_per_task", t, "training");
    task.test_rows = pick_rows(std::move(test_rows), cfg.test_per_task, Rng::derive(cfg.seed, 0x5B5, 1, t),
                               "test_per_task", t, "test");
    if (task.train_rows.empty() || task.test_rows.empty())
      fail("{}: task {} ({}) has no {} samples; the data set lacks {}", data.name, t + 1, task.name,
           task.train_rows.empty() ? "training" : "test", cfg.kind == "task-column" ? "rows of that value" : "its classes");
    task.train = data.train;
    task.test = data.test;
    s.tasks.push_back(std::move(task));
  }
  return s;
}

}  // namespace

int64_t scenario_bytes(const Scenario& s) {
  std::set<const Dataset*> seen;
  int64_t bytes = 0, generated = 0;
  for (const Task& t : s.tasks) {
    bytes += int64_t(sizeof(int32_t) * (t.train_rows.capacity() + t.test_rows.capacity() + t.pixel_map.capacity()) +
                     t.class_mask.capacity());
    for (const Dataset* d : {t.train.get(), t.test.get()})
      if (seen.insert(d).second) {
        bytes += d->feature_bytes() + int64_t(sizeof(int32_t) * (d->y.capacity() + d->group.capacity()));
        if (d->generated) generated += d->n * d->dim * int64_t(sizeof(float));
      }
  }
  // Generated features: all of them made, or as many as the cache keeps (a bound, and the same
  // for every run of the scenario, unlike what the process-wide cache happens to hold now).
  return bytes + std::min(generated, generated_cache_budget());
}

}  // namespace clb
