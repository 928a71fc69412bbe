#include "framework/harness/run_figures.h"

#include <algorithm>
#include <cmath>
#include <cctype>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "framework/harness/plot_palette.h"

namespace clb {

namespace {

struct StrategyRuns {
  std::string name, stem;  // stem: its part of the figures' file names, unique among the strategies
  std::vector<const RunResult*> runs;  // one per seed
};

// Strategies in first-seen order, each with its runs.
std::vector<StrategyRuns> by_strategy(const std::vector<RunResult>& runs) {
  std::vector<StrategyRuns> groups;
  for (const RunResult& r : runs) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const StrategyRuns& g) { return g.name == r.strategy; });
    if (it == groups.end()) it = groups.insert(groups.end(), {r.strategy, file_stem(r.strategy), {}});
    it->runs.push_back(&r);
  }
  for (size_t i = 0; i < groups.size(); ++i)  // "a/b" and "a_b" would share a file
    for (size_t k = 0; k < i; ++k)
      if (groups[k].stem == groups[i].stem) groups[i].stem += fmt::format("_{}", i);
  return groups;
}

std::string seeds_text(const StrategyRuns& s) {
  return s.runs.size() > 1 ? fmt::format("mean of {} seeds", s.runs.size()) : "one seed";
}

// The mean over the runs of get(run), skipping NaN (an empty test set); NaN when none has a value.
template <typename Get>
double mean_over(const std::vector<const RunResult*>& runs, Get get) {
  double sum = 0;
  int n = 0;
  for (const RunResult* r : runs)
    if (const double v = get(*r); std::isfinite(v)) sum += v, ++n;
  return n ? sum / n : NAN;
}

Plot linear_plot(std::string name, std::string title, std::string xlabel, std::string ylabel) {
  Plot p{.name = std::move(name), .title = std::move(title), .xlabel = std::move(xlabel), .ylabel = std::move(ylabel)};
  p.x_axis = p.y_axis = Axis::kLinear;
  p.y_tic_format = "";
  p.key = KeyPlace::kOutsideRight;
  return p;
}

// The training loss of every strategy on one axis: the classic figure where naive's loss on a new
// task drops as fast as EWC's while its accuracy on the old ones falls.
void loss_figure(const std::vector<StrategyRuns>& groups, const std::string& prefix, const std::string& suffix,
                 RunFigures& out) {
  Plot p = linear_plot(prefix + "train_loss", "Training loss over the task sequence" + suffix, "training step",
                       "mean minibatch loss (nats)");
  // Strategies that share their boundaries share one set of dashed lines; joint (all tasks so far)
  // takes more steps per task and gets its own, in its colour.
  std::vector<std::pair<std::vector<int64_t>, std::vector<std::string>>> boundary_sets;
  std::vector<std::string> dropped;
  for (const StrategyRuns& g : groups) {
    const RunResult* first = nullptr;
    for (const RunResult* r : g.runs)
      if (!r->train_loss.step.empty()) {
        first = r;
        break;
      }
    if (!first) continue;
    std::vector<const RunResult*> same_grid;  // the mean is pointwise: only seeds with the same steps
    for (const RunResult* r : g.runs)
      if (r->train_loss.step == first->train_loss.step) same_grid.push_back(r);
      else if (!r->train_loss.step.empty()) dropped.push_back(fmt::format("{} seed {}", g.name, r->seed));
    PlotSeries s{.title = g.name, .rgb = strategy_color(g.name), .points_marked = false};
    for (size_t k = 0; k < first->train_loss.step.size(); ++k)
      s.points.push_back({double(first->train_loss.step[k]), mean_over(same_grid, [&](const RunResult& r) {
                            return r.train_loss.loss[k];
                          })});
    p.series.push_back(std::move(s));
    auto it = std::find_if(boundary_sets.begin(), boundary_sets.end(),
                           [&](const auto& b) { return b.first == first->train_loss.task_start; });
    if (it == boundary_sets.end()) boundary_sets.push_back({first->train_loss.task_start, {g.name}});
    else it->second.push_back(g.name);
  }
  if (p.series.empty()) {
    out.notes.push_back("The training-loss figure is left out: results.json holds no training loss (written by a "
                        "clbench before it kept one; run again to get it).");
    return;
  }
  std::stable_sort(boundary_sets.begin(), boundary_sets.end(),
                   [](const auto& a, const auto& b) { return a.second.size() > b.second.size(); });
  std::string own;
  for (size_t set = 0; set < boundary_sets.size(); ++set) {
    const auto& [starts, names] = boundary_sets[set];
    const bool shared = set == 0;
    const std::vector<int64_t>& common = boundary_sets[0].first;
    for (size_t t = 1; t < starts.size(); ++t)
      if (shared || std::find(common.begin(), common.end(), starts[t]) == common.end())  // no line twice
        p.markers.push_back({double(starts[t]) + 0.5, shared ? fmt::format("task {}", t + 1) : "",
                             shared ? 0x555555u : strategy_color(names[0])});
    if (!shared) own += fmt::format("{}{}", own.empty() ? "" : ", ", fmt::join(names, ", "));
  }
  std::string caption = fmt::format(
      "Training loss: each point is the mean minibatch cross-entropy over a bin of consecutive steps (at most {} "
      "points a task), {}. Dashed lines: where each task starts{}.",
      LossCurve::kPointsPerTask, groups.size() && groups[0].runs.size() > 1 ? "mean over seeds" : "one seed",
      own.empty() ? "" : fmt::format("; {} train(s) another number of steps per task and has its own lines in its colour", own));
  if (!dropped.empty())
    caption += fmt::format(" Left out of the mean (another step grid than the strategy's first seed): {}.",
                           fmt::join(dropped, ", "));
  out.figures.push_back({std::move(p), std::move(caption)});
}

// One line per task j over "after task i", from i = j on: how task j is learnt, then forgotten.
Plot by_task_plot(const StrategyRuns& g, const Matrix RunResult::*matrix, double scale, const std::string& name,
                  const std::string& title, const std::string& ylabel) {
  const int T = int((g.runs[0]->*matrix).size());
  Plot p = linear_plot(name, title, "after training task", ylabel);
  p.x_tic_step = 1;
  if (scale == 100) p.y_range = {0, 100};  // accuracy: one scale on every strategy's plot
  for (int j = 0; j < T; ++j) {
    PlotSeries s{.title = fmt::format("task {}", j + 1), .rgb = task_color(j, T)};
    for (int i = j; i < T; ++i)
      s.points.push_back({double(i + 1), scale * mean_over(g.runs, [&](const RunResult& r) { return (r.*matrix)[i][j]; })});
    p.series.push_back(std::move(s));
  }
  return p;
}

Heatmap acc_heatmap(const StrategyRuns& g, const std::string& name, const std::string& title) {
  const int T = int(g.runs[0]->acc.size());
  Heatmap h{.name = name, .title = title, .xlabel = "test set of task", .ylabel = "after training task"};
  for (int i = 0; i < T; ++i) {
    h.row_labels.push_back(std::to_string(i + 1));
    h.column_labels.push_back(std::to_string(i + 1));
    h.values.emplace_back();
    for (int j = 0; j < T; ++j) h.values.back().push_back(100 * mean_over(g.runs, [&](const RunResult& r) { return r.acc[i][j]; }));
  }
  return h;
}

// Task 1's test accuracy from initialisation through the whole sequence, a line per strategy: the
// forgetting figure of the EWC paper (naive falls as later tasks are learnt, EWC holds).
void first_task_figure(const std::vector<StrategyRuns>& groups, const std::string& prefix, const std::string& suffix,
                       RunFigures& out) {
  Plot p = linear_plot(prefix + "first_task_acc", "Task 1's test accuracy as later tasks are learnt" + suffix,
                       "after training task (0: at initialisation)", "accuracy on task 1 (%)");
  p.x_tic_step = 1;
  p.y_range = {0, 100};
  for (const StrategyRuns& g : groups) {
    PlotSeries s{.title = g.name, .rgb = strategy_color(g.name)};
    s.points.push_back({0, 100 * mean_over(g.runs, [](const RunResult& r) { return r.init_acc[0]; })});
    for (size_t i = 0; i < g.runs[0]->acc.size(); ++i)
      s.points.push_back({double(i + 1), 100 * mean_over(g.runs, [&](const RunResult& r) { return r.acc[i][0]; })});
    p.series.push_back(std::move(s));
  }
  out.figures.push_back({std::move(p), "Test accuracy on task 1 at initialisation and after each task, mean over seeds: "
                                       "how much of its first task each strategy keeps as the later ones are learnt."});
}

// LCA: accuracy on the task being learnt after b minibatches of it, mean over tasks and seeds.
void lca_figure(const std::vector<StrategyRuns>& groups, const std::string& prefix, const std::string& suffix,
                RunFigures& out) {
  Plot p = linear_plot(prefix + "lca", "Learning curve on the current task (LCA)" + suffix,
                       "minibatches of the current task seen (b)", "accuracy on the current task (%)");
  p.y_range = {0, 100};
  for (const StrategyRuns& g : groups) {
    PlotSeries s{.title = g.name, .rgb = strategy_color(g.name)};
    for (size_t b = 0;; ++b) {
      double sum = 0;
      int n = 0;
      for (const RunResult* r : g.runs)
        for (const auto& curve : r->lca_curves)
          if (b < curve.size()) sum += curve[b], ++n;
      if (n == 0) break;
      s.points.push_back({double(b), 100 * sum / n});
    }
    if (!s.points.empty()) p.series.push_back(std::move(s));
  }
  if (p.series.empty()) return;
  out.figures.push_back({std::move(p), "LCA curves: test accuracy on the task being learnt after b of its minibatches "
                                       "(b = 0: before its first step), mean over tasks and seeds; LCA in the table "
                                       "is the mean of a curve."});
}

}  // namespace

std::string file_stem(const std::string& text) {
  std::string s;
  for (char c : text) s += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '+' || c == '-' ? c : '_';
  return s.empty() ? "_" : s;
}

RunFigures run_figures(const std::vector<RunResult>& runs, const std::string& prefix, const std::string& suffix) {
  RunFigures out;
  const std::vector<StrategyRuns> groups = by_strategy(runs);
  if (groups.empty()) return out;
  loss_figure(groups, prefix, suffix, out);
  first_task_figure(groups, prefix, suffix, out);
  for (const StrategyRuns& g : groups)
    out.figures.push_back(
        {by_task_plot(g, &RunResult::acc, 100, prefix + "acc_by_task_" + g.stem,
                      fmt::format("{}: test accuracy on each task across the sequence{}", g.name, suffix), "accuracy (%)"),
         fmt::format("{}: test accuracy on task j after training each task i ≥ j (from the moment task j is learnt), "
                     "one line per task, {}.",
                     g.name, seeds_text(g))});
  for (const StrategyRuns& g : groups)
    out.figures.push_back(
        {acc_heatmap(g, prefix + "acc_matrix_" + g.stem,
                     fmt::format("{}: accuracy matrix, % ({}){}", g.name, seeds_text(g), suffix)),
         fmt::format("{}: accuracy matrix R[i][j] in %: row i = after training task i, column j = test set of task j, "
                     "{}. Below the diagonal: what is kept; the last row: ACC's terms.",
                     g.name, seeds_text(g))});
  bool losses = false;
  for (const StrategyRuns& g : groups) {
    const bool all = std::all_of(g.runs.begin(), g.runs.end(), [](const RunResult* r) { return !r->test_loss.empty(); });
    if (!all) continue;
    losses = true;
    out.figures.push_back(
        {by_task_plot(g, &RunResult::test_loss, 1, prefix + "test_loss_by_task_" + g.stem,
                      fmt::format("{}: test loss on each task across the sequence{}", g.name, suffix),
                      "mean test loss (nats)"),
         fmt::format("{}: mean cross-entropy on task j's test set after training each task i ≥ j, one line per task, {}.",
                     g.name, seeds_text(g))});
  }
  if (!losses)
    out.notes.push_back("The per-task test-loss figures are left out: results.json holds no test losses (written by a "
                        "clbench before it kept them).");
  lca_figure(groups, prefix, suffix, out);
  return out;
}

}  // namespace clb
