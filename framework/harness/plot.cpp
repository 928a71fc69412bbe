#include "framework/harness/plot.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace clb {

namespace {

std::string rgb_text(uint32_t rgb) { return fmt::format("'#{:06x}'", rgb & 0xffffffu); }

std::string head(const std::string& png_path, int width, int height) {
  return fmt::format("set terminal pngcairo size {},{} noenhanced font ',10'\nset output {}\n", width, height,
                     gnuplot_string(png_path));
}

std::string labels(const std::string& title, const std::string& xlabel, const std::string& ylabel) {
  return fmt::format("set title {}\nset xlabel {}\nset ylabel {}\n", gnuplot_string(title), gnuplot_string(xlabel),
                     gnuplot_string(ylabel));
}

// "('a' 0, 'b' 1)": tic labels at 0, 1, ... (each quoted: they may come from a results file).
std::string tics(const std::vector<std::string>& names) {
  std::string t = "(";
  for (size_t i = 0; i < names.size(); ++i) t += fmt::format("{}{} {}", i ? ", " : "", gnuplot_string(names[i]), i);
  return t + ")";
}

}  // namespace

const std::string& figure_name(const Figure& f) {
  return std::visit([](const auto& fig) -> const std::string& { return fig.name; }, f);
}

std::string gnuplot_string(const std::string& text) {
  std::string q = "'";
  for (char c : text) q += c == '\'' ? std::string("''") : c == '\n' || c == '\r' ? std::string(" ") : std::string(1, c);
  return q + "'";
}

std::string gnuplot_script(const Plot& p, const std::string& png_path) {
  std::string g;
  for (size_t i = 0; i < p.series.size(); ++i) {
    g += fmt::format("$d{} << EOD\n", i);
    for (auto [x, y] : p.series[i].points) {
      if (!std::isfinite(x)) continue;
      g += std::isfinite(y) ? fmt::format("{} {}\n", x, y) : "\n";  // a blank line breaks the line
    }
    g += "EOD\n";
  }
  if (!p.highlights.empty()) {
    g += "$h << EOD\n";
    for (const PlotHighlight& h : p.highlights) g += fmt::format("{} {} {}\n", h.x, h.y, h.rgb & 0xffffffu);
    g += "EOD\n";
  }
  g += head(png_path, 960, 600);
  g += labels(p.title, p.xlabel, p.ylabel);
  const bool logx = p.x_axis == Axis::kLog, logy = p.y_axis == Axis::kLog;
  if (logx || logy) g += fmt::format("set logscale {}{}\n", logx ? "x" : "", logy ? "y" : "");
  g += "set grid\n";
  g += p.key == KeyPlace::kBelow ? "set key below\n" : "set key outside right top vertical\n";
  if (!p.y_tic_format.empty()) g += fmt::format("set format y {}\n", gnuplot_string(p.y_tic_format));
  double lo = INFINITY, hi = -INFINITY;  // the data's x range
  for (const PlotSeries& ps : p.series)
    for (auto [x, y] : ps.points)
      if (std::isfinite(x)) lo = std::min(lo, x), hi = std::max(hi, x);
  if (logx && hi > 0) {
    g += fmt::format("set xrange [{}:{}]\n", lo / 1.3, hi * 1.3);  // a margin (gnuplot rounds to decades)
  } else if (!logx && hi > lo) {
    const double pad = (hi - lo) * 0.02;  // the data's own range (gnuplot rounds to tics), a little room
    g += fmt::format("set xrange [{}:{}]\n", lo - pad, hi + pad);
  }
  if (p.x_tic_step > 0) g += fmt::format("set xtics {}\n", p.x_tic_step);
  if (p.y_range) g += fmt::format("set yrange [{}:{}]\n", p.y_range->first, p.y_range->second);
  else if (!logy) g += "set offsets 0, 0, graph 0.05, graph 0.05\n";  // no point on the frame
  for (const PlotMarker& m : p.markers) {
    g += fmt::format("set arrow from {}, graph 0 to {}, graph 1 nohead dt 2 lw 1.5 lc rgb {} back\n", m.x, m.x,
                     rgb_text(m.rgb));
    if (!m.label.empty())
      g += fmt::format("set label {} at {}, graph 0.97 left offset 0.4,0 tc rgb {} front\n", gnuplot_string(m.label),
                       m.x, rgb_text(m.rgb));
  }
  g += "plot ";
  for (size_t i = 0; i < p.series.size(); ++i) {
    const PlotSeries& s = p.series[i];
    g += fmt::format("{}$d{} with {} lw 2", i ? ", " : "", i, s.points_marked ? "linespoints" : "lines");
    if (s.rgb) g += " lc rgb " + rgb_text(*s.rgb);
    if (s.dashed) g += " dt 2";
    g += " title " + gnuplot_string(s.title);
  }
  if (!p.highlights.empty()) {
    g += fmt::format("{}$h using 1:2:3 with points pt 7 ps 2.6 lc rgb variable title {}", p.series.empty() ? "" : ", ",
                     gnuplot_string(p.highlight_title));
    g += ", $h using 1:2 with points pt 6 ps 2.8 lw 1.5 lc rgb 'black' notitle";
  }
  g += "\n";
  return g;
}

std::string gnuplot_script(const Heatmap& h, const std::string& png_path) {
  const int rows = int(h.row_labels.size()), cols = int(h.column_labels.size());
  std::string g = "$m << EOD\n";  // column, row, value: one line per cell that has a value
  for (int r = 0; r < rows && r < int(h.values.size()); ++r)
    for (int c = 0; c < cols && c < int(h.values[r].size()); ++c)
      if (std::isfinite(h.values[r][c])) g += fmt::format("{} {} {}\n", c, r, h.values[r][c]);
  g += "EOD\n";
  g += head(png_path, std::clamp(90 * cols + 260, 480, 1800), std::clamp(48 * rows + 170, 360, 1400));
  g += labels(h.title, h.xlabel, h.ylabel);
  g += fmt::format("set xrange [-0.5:{}]\nset yrange [{}:-0.5]\n", cols - 0.5, rows - 0.5);  // row 0 at the top
  g += fmt::format("set xtics {}\nset ytics {}\nset tics scale 0\nunset key\n", tics(h.column_labels), tics(h.row_labels));
  g += fmt::format("set cbrange [{}:{}]\n", h.low, h.high);
  // Excel's red-yellow-green: light enough that black numbers stay legible on every cell.
  g += "set palette defined (0 '#f8696b', 0.5 '#ffeb84', 1 '#63be7b')\n";
  g += "set style fill solid 1.0 border lc rgb 'white'\n";
  g += fmt::format("plot $m using 1:2:($1-0.5):($1+0.5):($2-0.5):($2+0.5):3 with boxxyerror lc palette notitle, "
                   "$m using 1:2:(sprintf({}, $3)) with labels tc rgb 'black' notitle\n",
                   gnuplot_string(h.value_format));
  return g;
}

std::string gnuplot_script(const BarChart& b, const std::string& png_path) {
  // index, value, half-width of the interval (0: none), colour as 0xRRGGBB in decimal
  std::string g = "$b << EOD\n";
  double lo = 0, hi = 0;
  for (size_t i = 0; i < b.bars.size(); ++i) {
    const BarChart::Bar& bar = b.bars[i];
    const double err = std::isfinite(bar.error) ? bar.error : 0;
    if (!std::isfinite(bar.value)) continue;
    g += fmt::format("{} {} {} {}\n", i, bar.value, err, bar.rgb & 0xffffffu);
    lo = std::min(lo, bar.value - err), hi = std::max(hi, bar.value + err);
  }
  g += "EOD\n";
  const int n = int(b.bars.size());
  g += head(png_path, std::clamp(110 * n + 240, 480, 1600), 520);
  std::vector<std::string> names;
  for (const BarChart::Bar& bar : b.bars) names.push_back(bar.label);
  g += labels(b.title, "", b.ylabel);
  const double pad = std::max(hi - lo, 1e-9) * 0.08;  // room for the printed values above the bars
  g += fmt::format("set xrange [-0.6:{}]\nset yrange [{}:{}]\n", n - 0.4, lo < 0 ? lo - pad : 0, hi + pad);
  g += fmt::format("set xtics {}\nset xtics scale 0\nset grid ytics\nset xzeroaxis lt -1\nunset key\n", tics(names));
  g += "set boxwidth 0.6\nset style fill solid 0.85 border lc rgb 'black'\n";
  g += "plot $b using 1:2:4 with boxes lc rgb variable notitle, "
       // the interval as a vector with flat heads (yerrorbars leaves a gap at the bar's top); none
       // where there is no interval
       "$b using 1:($3 > 0 ? $2 - $3 : 1/0):(0):(2 * $3) with vectors heads size screen 0.012,90 lw 1.5 "
       "lc rgb 'black' notitle, "  // pt -1: no point, no gap
       // each value printed beyond its error bar: above a positive bar, below a negative one
       "$b using 1:($2 >= 0 ? $2 + $3 : 1/0):(sprintf('%.1f', $2)) with labels offset 0,0.8 notitle, "
       "$b using 1:($2 < 0 ? $2 - $3 : 1/0):(sprintf('%.1f', $2)) with labels offset 0,-0.8 notitle\n";
  return g;
}

std::string gnuplot_script(const Figure& f, const std::string& png_path) {
  return std::visit([&](const auto& fig) { return gnuplot_script(fig, png_path); }, f);
}

}  // namespace clb
