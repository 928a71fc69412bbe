#pragma once
// Users' own data as CSV: one sample per line, the features as numbers, the label (an integer >= 0)
// last. A first line that is not numeric is taken as a header and skipped. Features are used as
// they are (no scaling). A directory holding train.csv and test.csv is a data set for --dataset.
#include <string>

#include "framework/data/dataset.h"

namespace clb {

// Errors name the file, the line and what to fix.
Dataset load_csv(const std::string& path);

// True when dir holds train.csv and test.csv.
bool is_csv_dataset_dir(const std::string& dir);

}  // namespace clb
