#include "framework/data/csv_loader.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "framework/core/error.h"

namespace clb {

namespace {

// Splits a line on commas into numbers; false if any field is not a number.
bool parse_numbers(const std::string& line, std::vector<double>& out) {
  out.clear();
  const char* p = line.c_str();
  while (true) {
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(p, &end);
    if (end == p || errno == ERANGE) return false;
    out.push_back(v);
    while (*end == ' ' || *end == '\t') ++end;
    if (*end == '\0' || *end == '\r') return true;
    if (*end != ',') return false;
    p = end + 1;
  }
}

}  // namespace

bool is_csv_dataset_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  return fs::is_regular_file(fs::path(dir) / "train.csv", ec) && fs::is_regular_file(fs::path(dir) / "test.csv", ec);
}

Dataset load_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("{}: cannot open the CSV file; check the path and permissions", path);
  Dataset d;
  d.source = path;
  std::string line;
  std::vector<double> fields;
  int64_t line_no = 0;
  int max_label = -1;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line == "\r") continue;
    if (!parse_numbers(line, fields)) {
      if (line_no == 1) continue;  // a header
      fail("{}:{}: not a row of comma-separated numbers; every line after the header must be features...,label",
           path, line_no);
    }
    if (fields.size() < 2)
      fail("{}:{}: a row needs at least one feature and a label, found {} field(s)", path, line_no, fields.size());
    const int dim = int(fields.size()) - 1;
    if (d.dim == 0) d.dim = dim;
    if (dim != d.dim)
      fail("{}:{}: {} features, but earlier rows have {}; every row needs the same number of columns", path, line_no,
           dim, d.dim);
    for (int j = 0; j < dim; ++j)
      if (!std::isfinite(fields[j])) fail("{}:{}: feature {} is not finite ({})", path, line_no, j + 1, fields[j]);
    const double label = fields.back();
    if (!(label >= 0 && label < 1e6 && label == std::floor(label)))
      fail("{}:{}: the label (last column) must be an integer from 0 to 999999, found {}", path, line_no, label);
    for (int j = 0; j < dim; ++j) d.x.push_back(float(fields[j]));
    d.y.push_back(int32_t(label));
    max_label = std::max(max_label, int(label));
  }
  if (in.bad()) fail("{}: read error", path);
  if (d.y.empty()) fail("{}: no data rows; expected lines of features...,label", path);
  d.n = int64_t(d.y.size());
  d.num_classes = max_label + 1;
  return d;
}

}  // namespace clb
