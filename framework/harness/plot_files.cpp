#include "framework/harness/plot_files.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "framework/core/atomic_file.h"
#include "framework/core/error.h"
#include "framework/core/subprocess.h"

namespace clb {

namespace fs = std::filesystem;

std::vector<std::string> draw_plots(const std::vector<Figure>& figures, const std::string& page, std::string* note) {
  std::vector<std::string> files;
  if (figures.empty()) return files;
  if (!on_path("gnuplot")) {
    *note = "Plots not drawn: gnuplot was not found (install it with `apt-get install gnuplot-nox` and run the report "
            "again).";
    return files;
  }
  const fs::path out(page);
  const fs::path dir = out.parent_path() / "plots";
  fs::create_directories(dir);
  for (const Figure& f : figures) {
    const std::string& name = figure_name(f);
    const std::string rel = fmt::format("plots/{}_{}.png", out.stem().string(), name);
    const fs::path png = out.parent_path() / rel;
    const std::string tmp_png = png.string() + fmt::format(".tmp.{}", getpid());
    const std::string script = (dir / fmt::format(".{}_{}.gp.{}", out.stem().string(), name, getpid())).string();
    write_file_atomic(script, gnuplot_script(f, tmp_png));
    Redirects io;
    io.err = script + ".err";
    const int rc = run_process({"gnuplot", script}, io);
    std::string err;
    if (rc != 0 && fs::exists(script + ".err")) err = read_file(script + ".err").substr(0, 200);
    std::replace(err.begin(), err.end(), '\n', ' ');  // the error stays one line
    fs::remove(script), fs::remove(script + ".err");
    if (rc != 0 || !fs::exists(tmp_png)) {
      fs::remove(tmp_png);
      fail("gnuplot failed on plot {} ({}); the page was not written", name, err.empty() ? "no output" : err);
    }
    fs::rename(tmp_png, png);
    files.push_back(rel);
  }
  return files;
}

std::string PagePlots::add(const PageFigure& f) {
  if (!enabled_) return "";
  const std::string& name = figure_name(f.figure);
  CLB_ASSERT(std::find(names_.begin(), names_.end(), name) == names_.end());
  names_.push_back(name);
  const std::vector<std::string> drawn = draw_plots({f.figure}, page_, &note_);
  if (drawn.empty()) return "";
  files_.push_back(drawn[0]);
  return fmt::format("![{}]({})\n\n{}\n\n", name, drawn[0], f.caption);
}

std::string PagePlots::add_all(const std::vector<PageFigure>& figures) {
  std::string md;
  for (const PageFigure& f : figures) md += add(f);
  return md;
}

}  // namespace clb
