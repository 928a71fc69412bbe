#pragma once
// Users' own data as CSV: one sample per line, the features as numbers, the label (an integer >= 0)
// last. The first line is a header (skipped) when none of its cells is a number; a line with some
// numbers is a data row, and every cell of it must be a number finite as a float32 (errors name the
// line and column). Features are used as they are (no scaling). A directory holding train.csv and test.csv is a data set for --dataset.
#include <string>

#include "framework/data/dataset.h"

namespace clb {

// task_column (if not empty): the first line is a header and must name this column; its cells are
// any text, each row's task (Dataset::group, numbered in order of first appearance), and the
// column is neither a feature nor the label. Errors name the file, the line and what to fix.
Dataset load_csv(const std::string& path, const std::string& task_column = "");

// True when dir holds train.csv and test.csv.
bool is_csv_dataset_dir(const std::string& dir);

}  // namespace clb
