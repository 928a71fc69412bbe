// The report's figures as gnuplot scripts (framework/harness/plot.h, plot_palette.h,
// run_figures.h): a strategy keeps its colour on every figure, task boundaries are marked, bars
// carry their error column, heatmap cells carry their values, and text stays inside its string.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "framework/harness/plot.h"
#include "framework/harness/plot_palette.h"
#include "framework/harness/run_figures.h"
#include "framework/strategies/registry.h"

namespace clb {
namespace {

std::string rgb(uint32_t c) { return fmt::format("lc rgb '#{:06x}'", c); }

// A run of 3 tasks, 4 steps each (joint: 4, 8, 12, as it trains on all tasks so far), losses
// `loss` at every step; accuracy 0.5 + 0.1 * seed everywhere.
RunResult run_of(const std::string& strategy, uint64_t seed, double loss) {
  RunResult r;
  r.strategy = strategy, r.seed = seed;
  const int T = 3;
  r.acc.assign(T, std::vector<double>(T, 0.5 + 0.1 * double(seed)));
  r.init_acc.assign(T, 0.1);
  r.lca_curves.assign(T, {0.1, 0.3, 0.5});
  r.test_loss.assign(T, std::vector<double>(T, 1.0));
  r.init_test_loss.assign(T, 2.3);
  for (int t = 0; t < T; ++t) r.train_loss.add_task(std::vector<double>(strategy == "joint" ? 4 * (t + 1) : 4, loss));
  return r;
}

const Plot& plot_named(const RunFigures& f, const std::string& name) {
  for (const PageFigure& p : f.figures)
    if (figure_name(p.figure) == name) return std::get<Plot>(p.figure);
  ADD_FAILURE() << "no figure " << name;
  static const Plot none;
  return none;
}

TEST(PlotPalette, EveryRegisteredStrategyHasItsOwnColourAndKeepsIt) {
  std::set<uint32_t> seen;
  for (const std::string& s : strategy_names()) {
    EXPECT_EQ(strategy_color(s), strategy_color(s));
    EXPECT_TRUE(seen.insert(strategy_color(s)).second) << s << " shares a colour";
  }
  EXPECT_EQ(seen.count(strategy_color("not-a-strategy")), 0u) << "unknown names get a colour of their own";
  EXPECT_EQ(strategy_color("naive"), 0x1f77b4u) << "naive is the same blue on every page, as documented";
  // Tasks run from dark to light: the first and last of 5 differ, and a ramp of one task is defined.
  EXPECT_NE(task_color(0, 5), task_color(4, 5));
  EXPECT_EQ(task_color(0, 1), task_color(0, 5));
}

// The colour comes from the name, not the position: naive is the same on a figure where it is
// listed second and on one where it is alone.
TEST(RunFigures, AStrategyHasTheSameColourOnEveryFigure) {
  const RunFigures both = run_figures({run_of("ewc", 0, 1.0), run_of("naive", 0, 2.0)});
  const RunFigures alone = run_figures({run_of("naive", 0, 2.0)});
  for (const RunFigures* f : {&both, &alone})
    for (const std::string name : {"train_loss", "lca"}) {
      const Plot& p = plot_named(*f, name);
      const auto it = std::find_if(p.series.begin(), p.series.end(), [](const PlotSeries& s) { return s.title == "naive"; });
      ASSERT_NE(it, p.series.end()) << name;
      EXPECT_EQ(it->rgb, strategy_color("naive")) << name;
      EXPECT_NE(gnuplot_script(p, "x.png").find(rgb(strategy_color("naive")) + " title 'naive'"), std::string::npos);
    }
}

TEST(RunFigures, TheLossCurveIsTheMeanOverSeedsWithTheTaskBoundariesMarked) {
  const RunFigures f = run_figures({run_of("naive", 0, 1.0), run_of("naive", 1, 3.0), run_of("joint", 0, 0.5)});
  const Plot& p = plot_named(f, "train_loss");
  ASSERT_EQ(p.series.size(), 2u);
  EXPECT_EQ(p.series[0].points.size(), 12u);
  for (auto [x, y] : p.series[0].points) EXPECT_DOUBLE_EQ(y, 2.0) << "mean of 1 and 3 at step " << x;
  // naive's tasks start after steps 4 and 8, labelled; joint's third starts after 12, in its colour.
  std::vector<std::pair<double, std::string>> marks;
  for (const PlotMarker& m : p.markers) marks.push_back({m.x, m.label});
  EXPECT_EQ(marks, (std::vector<std::pair<double, std::string>>{{4.5, "task 2"}, {8.5, "task 3"}, {12.5, ""}}));
  EXPECT_EQ(p.markers[2].rgb, strategy_color("joint"));
  const std::string g = gnuplot_script(p, "x.png");
  EXPECT_NE(g.find("set arrow from 4.5, graph 0 to 4.5, graph 1 nohead dt 2"), std::string::npos) << g;
  EXPECT_NE(g.find("set label 'task 2' at 4.5, graph 0.97"), std::string::npos) << g;
  EXPECT_NE(g.find("set xlabel 'training step'"), std::string::npos);
  EXPECT_NE(g.find("set ylabel 'mean minibatch loss (nats)'"), std::string::npos);
  EXPECT_NE(g.find("set key outside right"), std::string::npos) << "the legend stays off the data";
}

// Task 1's accuracy from initialisation on, a line per strategy in its colour, mean over seeds.
TEST(RunFigures, TheFirstTaskFigureFollowsTaskOneFromInitialisation) {
  RunResult forgets = run_of("naive", 0, 1.0), keeps = run_of("ewc", 0, 1.0);
  for (int i = 0; i < 3; ++i) forgets.acc[i][0] = 0.9 - 0.3 * i, keeps.acc[i][0] = 0.9;
  RunResult forgets2 = forgets;
  forgets2.seed = 1, forgets2.acc[2][0] = 0.1;
  const RunFigures f = run_figures({forgets, forgets2, keeps});
  const Plot& p = plot_named(f, "first_task_acc");
  ASSERT_EQ(p.series.size(), 2u);
  EXPECT_EQ(p.series[0].title, "naive");
  EXPECT_EQ(p.series[0].rgb, strategy_color("naive"));
  ASSERT_EQ(p.series[0].points.size(), 4u);
  EXPECT_DOUBLE_EQ(p.series[0].points[0].second, 10);  // at initialisation
  EXPECT_DOUBLE_EQ(p.series[0].points[2].second, 60);
  EXPECT_DOUBLE_EQ(p.series[0].points[3].second, 20);  // mean of 30 and 10
  EXPECT_DOUBLE_EQ(p.series[1].points[3].second, 90);
}

TEST(RunFigures, PerTaskCurvesStartAtTheirTaskAndRecordsWithoutLossesSaySo) {
  RunResult old = run_of("naive", 0, 1.0);
  old.train_loss = {}, old.test_loss.clear(), old.init_test_loss.clear();
  const RunFigures f = run_figures({old});
  const Plot& acc = plot_named(f, "acc_by_task_naive");
  ASSERT_EQ(acc.series.size(), 3u);
  EXPECT_EQ(acc.series[0].points.front(), (std::pair<double, double>{1, 50}));
  EXPECT_EQ(acc.series[2].points, (std::vector<std::pair<double, double>>{{3, 50}})) << "task 3 only after task 3";
  EXPECT_EQ(acc.series[0].rgb, task_color(0, 3));
  for (const PageFigure& p : f.figures) {
    EXPECT_NE(figure_name(p.figure), "train_loss");
    EXPECT_EQ(figure_name(p.figure).find("test_loss"), std::string::npos);
  }
  ASSERT_EQ(f.notes.size(), 2u);
  EXPECT_NE(f.notes[0].find("no training loss"), std::string::npos);
}

TEST(RunFigures, StrategyNamesBecomeSafeDistinctFileNames) {
  EXPECT_EQ(file_stem("ewc+er"), "ewc+er");
  EXPECT_EQ(file_stem("../x y"), ".._x_y");
  const RunFigures f = run_figures({run_of("a/b", 0, 1.0), run_of("a_b", 0, 1.0)}, "s1_");
  std::set<std::string> names;
  for (const PageFigure& p : f.figures) EXPECT_TRUE(names.insert(figure_name(p.figure)).second) << figure_name(p.figure);
  EXPECT_TRUE(names.count("s1_acc_matrix_a_b"));
  EXPECT_TRUE(names.count("s1_acc_matrix_a_b_1"));
}

TEST(BarChart, EachBarCarriesItsErrorColumnAndColour) {
  BarChart b{.name = "bars", .title = "ACC", .ylabel = "ACC (%)"};
  b.bars.push_back({"naive", 56.5, 3.25, strategy_color("naive")});
  b.bars.push_back({"ewc", 73.5, NAN, strategy_color("ewc")});  // one seed: no interval
  const std::string g = gnuplot_script(b, "x.png");
  EXPECT_NE(g.find(fmt::format("\n0 56.5 3.25 {}\n", strategy_color("naive"))), std::string::npos) << g;
  EXPECT_NE(g.find(fmt::format("\n1 73.5 0 {}\n", strategy_color("ewc"))), std::string::npos) << g;
  EXPECT_NE(g.find("using 1:($3 > 0 ? $2 - $3 : 1/0):(0):(2 * $3) with vectors"), std::string::npos) << "bar ± column 3";
  EXPECT_NE(g.find("using 1:2:4 with boxes lc rgb variable"), std::string::npos);
  EXPECT_NE(g.find("set xtics ('naive' 0, 'ewc' 1)"), std::string::npos) << g;
}

TEST(Heatmap, CellsCarryTheirValuesAndEmptyCellsAreLeftOut) {
  Heatmap h{.name = "m", .title = "t", .xlabel = "x", .ylabel = "y"};
  h.row_labels = {"1", "2"}, h.column_labels = {"1", "2"};
  h.values = {{90, NAN}, {80.5, 70}};
  const std::string g = gnuplot_script(h, "x.png");
  EXPECT_NE(g.find("$m << EOD\n0 0 90\n0 1 80.5\n1 1 70\nEOD\n"), std::string::npos) << g;
  EXPECT_NE(g.find("with labels"), std::string::npos) << "the numbers are printed in the cells";
  EXPECT_NE(g.find("set yrange [1.5:-0.5]"), std::string::npos) << "row 0 at the top";
}

// Tic labels and legend titles can come from a results file: they stay inside their strings.
TEST(PlotText, TicLabelsAndTitlesCannotLeaveTheirStrings) {
  BarChart b{.name = "bars", .title = "t", .ylabel = "y"};
  b.bars.push_back({"x'); system('id'); #", 1, 0, 0});
  EXPECT_NE(gnuplot_script(b, "x.png").find("set xtics ('x''); system(''id''); #' 0)"), std::string::npos);
  Plot p{.name = "p", .title = "t", .xlabel = "x", .ylabel = "y"};
  p.markers.push_back({1, "a'\nb"});
  p.highlights.push_back({1, 2, 0});
  p.highlight_title = "c'";
  const std::string g = gnuplot_script(p, "x.png");
  EXPECT_NE(g.find("set label 'a'' b' at 1"), std::string::npos) << g;
  EXPECT_NE(g.find("title 'c'''"), std::string::npos) << g;
}

}  // namespace
}  // namespace clb
