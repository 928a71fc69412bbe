#pragma once
// Figures drawn as PNG files beside a report page: <page dir>/plots/<page stem>_<name>.png, each
// through gnuplot into a temporary file renamed over the PNG, so a failed gnuplot leaves the
// previous PNG in place.
#include <string>
#include <utility>
#include <vector>

#include "framework/harness/plot.h"

namespace clb {

// Draws each figure; returns the PNG paths relative to the page, in the figures' order. Without
// gnuplot on PATH it draws nothing, returns none and says why in *note. A gnuplot that fails
// throws clb::Error naming the plot.
std::vector<std::string> draw_plots(const std::vector<Figure>& figures, const std::string& page, std::string* note);

// A figure with the sentence the page prints under it.
struct PageFigure {
  Figure figure;
  std::string caption;
};

// The figures of one page, drawn as the page is composed: add() draws the PNG at once and gives the
// markdown that shows it, so a section's text and its figures stay together.
class PagePlots {
 public:
  // enabled false (--no-plots): nothing is drawn and add() gives "".
  PagePlots(std::string page, bool enabled) : page_(std::move(page)), enabled_(enabled) {}
  // "![name](plots/<stem>_<name>.png)" and the caption; "" when plots are off or gnuplot is missing.
  // Names are unique on a page (a repeated name is a bug: the second PNG would replace the first).
  std::string add(const PageFigure& f);
  std::string add_all(const std::vector<PageFigure>& figures);
  const std::vector<std::string>& files() const { return files_; }
  const std::string& note() const { return note_; }  // why no plots were drawn, if none were

 private:
  std::string page_;
  bool enabled_;
  std::vector<std::string> files_, names_;
  std::string note_;
};

}  // namespace clb
