#pragma once
// Figures for `clbench report`, each turned into a gnuplot script with its data inline: line plots
// (series with their own colour, linear or log axes, labelled vertical markers, highlighted
// points), heatmaps with the value printed in each cell, and bars with 95% error bars. Data goes
// into the script as plain numbers only; every text (titles, labels, paths) goes through
// gnuplot_string, so text read from a results file can never become a gnuplot command. Every
// member has an initializer, so a designated initializer may leave any out without a warning.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace clb {

enum class Axis { kLinear, kLog };
enum class KeyPlace { kBelow, kOutsideRight };

struct PlotSeries {
  std::string title{};
  std::vector<std::pair<double, double>> points{};  // (x, y), x ascending; a NaN y breaks the line
  std::optional<uint32_t> rgb{};                    // 0xRRGGBB; none: gnuplot's own colour cycle
  bool dashed = false;
  bool points_marked = true;  // linespoints; false: a plain line (dense curves)
};

// A vertical dashed line across the plot at x, with its label at the top (task boundaries).
struct PlotMarker {
  double x = 0;
  std::string label{};  // "" for none
  uint32_t rgb = 0x555555;
};

// A point drawn large on top of the lines (the setting a sweep chose).
struct PlotHighlight {
  double x = 0, y = 0;
  uint32_t rgb = 0;
};

// A line plot. The defaults are the benchmark suite's throughput plots (log-log, y tics as 10k, 1M).
struct Plot {
  std::string name{};  // file stem: <page stem>_<name>.png
  std::string title{}, xlabel{}, ylabel{};
  std::vector<PlotSeries> series{};
  Axis x_axis = Axis::kLog, y_axis = Axis::kLog;
  std::string y_tic_format = "%.0s%c";  // gnuplot format of the y tics; "" for gnuplot's own
  double x_tic_step = 0;                // 1: a tic at every integer (tasks); 0: gnuplot's own
  KeyPlace key = KeyPlace::kBelow;
  std::optional<std::pair<double, double>> y_range{};  // fixed y range (accuracy: 0..100)
  std::vector<PlotMarker> markers{};
  std::vector<PlotHighlight> highlights{};
  std::string highlight_title{};  // the legend entry of the highlights ("" for none)
};

// A matrix of values as coloured cells with the value printed in each: row 0 at the top.
struct Heatmap {
  std::string name{}, title{}, xlabel{}, ylabel{};
  std::vector<std::string> row_labels{}, column_labels{};
  std::vector<std::vector<double>> values{};  // [row][column]; NaN: an empty cell
  double low = 0, high = 100;               // the colour scale's ends
  std::string value_format = "%.1f";        // how a cell's number is printed
};

// One bar per category with its 95% interval as an error bar.
struct BarChart {
  struct Bar {
    std::string label{};
    double value = 0;
    double error = 0;  // half-width of the interval; NaN (one seed): no error bar
    uint32_t rgb = 0x4e79a7;
  };
  std::string name{}, title{}, ylabel{};
  std::vector<Bar> bars{};
};

using Figure = std::variant<Plot, Heatmap, BarChart>;
const std::string& figure_name(const Figure& f);

// A gnuplot single-quoted string: no escapes are read inside one, a quote is written twice, and a
// line break would end the command, so text from a results file or a path stays text.
std::string gnuplot_string(const std::string& text);

// Gnuplot scripts that draw the figure into `png_path` (PNG, data inline).
std::string gnuplot_script(const Plot& p, const std::string& png_path);
std::string gnuplot_script(const Heatmap& h, const std::string& png_path);
std::string gnuplot_script(const BarChart& b, const std::string& png_path);
std::string gnuplot_script(const Figure& f, const std::string& png_path);

}  // namespace clb
