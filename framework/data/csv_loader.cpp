#include "framework/data/csv_loader.h"

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "framework/core/error.h"

namespace clb {

namespace {

// A line's cells, split on commas, with spaces, tabs and a trailing '\r' trimmed.
std::vector<std::string_view> split_cells(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::vector<std::string_view> cells;
  for (;;) {
    const size_t comma = std::min(line.find(','), line.size());
    std::string_view cell = line.substr(0, comma);
    while (!cell.empty() && (cell.front() == ' ' || cell.front() == '\t')) cell.remove_prefix(1);
    while (!cell.empty() && (cell.back() == ' ' || cell.back() == '\t')) cell.remove_suffix(1);
    cells.push_back(cell);
    if (comma == line.size()) return cells;
    line.remove_prefix(comma + 1);
  }
}

// The whole cell as a number (strtod's forms: 1, -2.5e3, nan, inf, 0x1p4); false if any of it is not.
bool parse_number(std::string_view cell, double* v) {
  if (cell.empty()) return false;
  const std::string text(cell);  // strtod needs the terminator
  char* end = nullptr;
  *v = std::strtod(text.c_str(), &end);  // out of range: +-HUGE_VAL or a tiny value, judged by the caller
  return end == text.c_str() + text.size();
}

// "'0.5x'", cut to a readable length.
std::string quoted(std::string_view cell) {
  return "'" + std::string(cell.substr(0, 40)) + (cell.size() > 40 ? "...'" : "'");
}

}  // namespace

bool is_csv_dataset_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  return fs::is_regular_file(fs::path(dir) / "train.csv", ec) && fs::is_regular_file(fs::path(dir) / "test.csv", ec);
}

Dataset load_csv(const std::string& path, const std::string& task_column) {
  std::ifstream in(path);
  if (!in) fail("{}: cannot open the CSV file; check the path and permissions", path);
  Dataset d;
  d.source = path;
  std::string line;
  std::vector<double> fields;
  int64_t line_no = 0;
  bool first = true;
  int max_label = -1;
  size_t task_col = SIZE_MAX;  // the task column's index, once the header has named it
  std::unordered_map<std::string, int32_t> group_of;  // a task value's index in d.group_names
  const std::string expect = task_column.empty() ? "features...,label" : "features...,label and a " + task_column + " cell";
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line == "\r") continue;
    std::vector<std::string_view> cells = split_cells(line);
    if (first && !task_column.empty()) {
      // The header is required: it names the task column.
      const auto it = std::find(cells.begin(), cells.end(), std::string_view(task_column));
      if (it == cells.end())
        fail("{}:{}: no column named '{}' in the header; --task-column names a column of the first line", path,
             line_no, task_column);
      task_col = size_t(it - cells.begin());
      first = false;
      continue;
    }
    std::string_view task_value;
    if (task_col != SIZE_MAX) {
      if (cells.size() <= task_col)
        fail("{}:{}: {} cells, but the task column {} is column {}; every row needs the header's columns", path,
             line_no, cells.size(), task_column, task_col + 1);
      task_value = cells[task_col];
      if (task_value.empty()) fail("{}:{}: column {} ({}) is empty; every row needs its task", path, line_no, task_col + 1, task_column);
    }
    fields.assign(cells.size(), 0.0);
    std::vector<bool> numeric(cells.size());
    size_t numbers = 0;
    for (size_t c = 0; c < cells.size(); ++c)
      if (c != task_col) numbers += (numeric[c] = parse_number(cells[c], &fields[c]));
    // The first line is a header when none of its cells is a number; a line with some numbers is a
    // data row, and a cell in it that is not a number (a typo like 0.5x) is an error.
    const bool header = first && numbers == 0;
    first = false;
    if (header) continue;
    for (size_t c = 0; c < cells.size(); ++c)
      if (c != task_col && !numeric[c])
        fail("{}:{}: column {}: {} is not a number; every line after the header must be {}", path, line_no, c + 1,
             quoted(cells[c]), expect);
    if (task_col != SIZE_MAX) fields.erase(fields.begin() + ptrdiff_t(task_col)), cells.erase(cells.begin() + ptrdiff_t(task_col));
    // The file's column number (1-based) of field k, the task column taken out.
    auto file_column = [&](size_t k) { return k + (k >= task_col ? 2 : 1); };
    if (fields.size() < 2)
      fail("{}:{}: a row needs at least one feature and a label, found {} field(s)", path, line_no, fields.size());
    const int dim = int(fields.size()) - 1;
    if (d.dim == 0) d.dim = dim;
    if (dim != d.dim)
      fail("{}:{}: {} features, but earlier rows have {}; every row needs the same number of columns", path, line_no,
           dim, d.dim);
    // Features are stored as float32: 1e39 is finite as a double but infinite as a float.
    for (int j = 0; j < dim; ++j)
      if (!std::isfinite(float(fields[size_t(j)])))
        fail("{}:{}: column {}: feature {} is not finite as a float32 (at most about 3.4e38 in magnitude)", path,
             line_no, file_column(size_t(j)), quoted(cells[size_t(j)]));
    const double label = fields.back();
    if (!(label >= 0 && label < 1e6 && label == std::floor(label)))
      fail("{}:{}: column {}: the label (last column) must be an integer from 0 to 999999, found {}", path, line_no,
           file_column(size_t(dim)), quoted(cells.back()));
    for (int j = 0; j < dim; ++j) d.x.push_back(float(fields[size_t(j)]));
    d.y.push_back(int32_t(label));
    max_label = std::max(max_label, int(label));
    if (task_col != SIZE_MAX) {
      const auto [it, added] = group_of.try_emplace(std::string(task_value), int32_t(d.group_names.size()));
      if (added) d.group_names.emplace_back(task_value);
      d.group.push_back(it->second);
    }
  }
  if (in.bad()) fail("{}: read error", path);
  if (d.y.empty()) fail("{}: no data rows; expected lines of features...,label", path);
  d.n = int64_t(d.y.size());
  d.num_classes = max_label + 1;
  return d;
}

}  // namespace clb
