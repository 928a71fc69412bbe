#pragma once
// Loader for IDX files (the MNIST / Fashion-MNIST format), raw or gzip-compressed.
// Every problem with the files is reported as a one-line clb::Error naming the file.
#include <string>

#include "framework/data/dataset.h"

namespace clb {

// Reads an IDX3 uint8 image file and the matching IDX1 uint8 label file (each raw or .gz).
// x = pixel/255 as float32, y = label, num_classes = max label + 1, source = images_path.
Dataset load_idx_pair(const std::string& images_path, const std::string& labels_path);

// Loads split "train" or "test" from dir, using the standard MNIST file names
// (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
// t10k-labels-idx1-ubyte), each raw or with a .gz suffix; raw wins if both exist.
Dataset load_idx_split(const std::string& dir, const std::string& split);

// Maps a known data set name ("fashion-mnist") to its installed directory; anything else
// is taken as a directory path and must exist.
std::string resolve_dataset_dir(const std::string& name_or_dir);

}  // namespace clb
