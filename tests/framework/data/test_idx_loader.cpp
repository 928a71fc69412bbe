// Tests for the IDX loader: small files are written into a fresh temp directory so that every
// malformed case is exercised against the exact bytes it describes.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "framework/core/error.h"
#include "tests/common/scratch_dir.h"
#include "framework/data/idx_loader.h"

namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<uint8_t>;

void put_be32(Bytes& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
}

Bytes idx_images(uint32_t n, uint32_t rows, uint32_t cols, const Bytes& pixels) {
  Bytes b = {0, 0, 0x08, 3};
  put_be32(b, n);
  put_be32(b, rows);
  put_be32(b, cols);
  b.insert(b.end(), pixels.begin(), pixels.end());
  return b;
}

Bytes idx_labels(const Bytes& labels) {
  Bytes b = {0, 0, 0x08, 1};
  put_be32(b, static_cast<uint32_t>(labels.size()));
  b.insert(b.end(), labels.begin(), labels.end());
  return b;
}

// 3 images of 2x3 with distinct pixels including 0 and 255, labels 2,0,4 (so num_classes = 5).
constexpr uint32_t kN = 3, kRows = 2, kCols = 3;
Bytes sample_pixels() {
  Bytes p(kN * kRows * kCols);
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<uint8_t>(i * 15);
  p[0] = 0;
  p.back() = 255;
  return p;
}
const Bytes kLabels = {2, 0, 4};

class IdxLoader : public ::testing::Test {
 protected:
  clb::test::ScratchDir scratch_{"idx"};
  const fs::path dir_ = scratch_.path();

  std::string write_raw(const std::string& name, const Bytes& b) {
    const std::string p = (dir_ / name).string();
    std::ofstream f(p, std::ios::binary);
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    EXPECT_TRUE(f.good()) << p;
    return p;
  }
  std::string write_gz(const std::string& name, const Bytes& b) {
    const std::string p = (dir_ / name).string();
    gzFile f = gzopen(p.c_str(), "wb");
    EXPECT_NE(f, nullptr) << p;
    if (!f) return p;
    EXPECT_EQ(gzwrite(f, b.data(), static_cast<unsigned>(b.size())), static_cast<int>(b.size()));
    EXPECT_EQ(gzclose(f), Z_OK);
    return p;
  }
  std::string good_images() {
    return write_raw("img.idx", idx_images(kN, kRows, kCols, sample_pixels()));
  }
  std::string good_labels() { return write_raw("lab.idx", idx_labels(kLabels)); }

};

void expect_sample(const clb::Dataset& d, const std::string& source) {
  EXPECT_EQ(d.source, source);
  EXPECT_EQ(d.n, 3);
  EXPECT_EQ(d.rows, 2);
  EXPECT_EQ(d.cols, 3);
  EXPECT_EQ(d.dim, 6);
  EXPECT_EQ(d.num_classes, 5);
  const Bytes px = sample_pixels();
  // The pixels are held as read, no float copy beside them; a row reads as pixel / 255.
  EXPECT_TRUE(d.x.empty());
  ASSERT_EQ(d.bytes.size(), px.size());
  for (size_t i = 0; i < px.size(); ++i) EXPECT_EQ(d.bytes[i], px[i]) << "pixel " << i;
  EXPECT_EQ(d.y, (std::vector<int32_t>{2, 0, 4}));
  std::vector<float> row(6);
  d.read_row(1, row.data());
  for (int j = 0; j < 6; ++j) EXPECT_EQ(row[size_t(j)], float(px[size_t(6 + j)]) / 255.0f) << j;
  d.read_row(2, row.data());
  EXPECT_EQ(row.back(), 1.0f);
}

// Expects load_idx_pair to throw a clb::Error whose one-line message names `path` and has `what`.
void expect_error(const std::string& images, const std::string& labels, const std::string& path,
                  const std::string& what) {
  EXPECT_THROW(clb::load_idx_pair(images, labels), clb::Error);
  try {
    clb::load_idx_pair(images, labels);
  } catch (const clb::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

TEST_F(IdxLoader, RawPairLoadsExactValues) {
  const std::string img = good_images();
  expect_sample(clb::load_idx_pair(img, good_labels()), img);
}

TEST_F(IdxLoader, GzipPairLoadsIdentically) {
  const std::string img = write_gz("img.idx.gz", idx_images(kN, kRows, kCols, sample_pixels()));
  const std::string lab = write_gz("lab.idx.gz", idx_labels(kLabels));
  expect_sample(clb::load_idx_pair(img, lab), img);
}

TEST_F(IdxLoader, TruncatedImageFile) {
  Bytes b = idx_images(kN, kRows, kCols, sample_pixels());
  b.resize(b.size() - 4);
  const std::string img = write_raw("img.idx", b);
  expect_error(img, good_labels(), img,
               "header says 3 images of 2x3 (18 bytes) but found 14 bytes");
}

TEST_F(IdxLoader, TruncatedImageHeader) {
  Bytes b = idx_images(kN, kRows, kCols, {});
  b.resize(10);
  const std::string img = write_raw("img.idx", b);
  expect_error(img, good_labels(), img, "truncated");
}

TEST_F(IdxLoader, TruncatedGzipStream) {
  // Cut a valid .gz file short: the gzip error must be reported, not a silent short read.
  const std::string full = write_gz("full.gz", idx_images(kN, kRows, kCols, sample_pixels()));
  std::ifstream in(full, std::ios::binary);
  Bytes gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  gz.resize(gz.size() / 2);
  const std::string img = write_raw("img.idx.gz", gz);
  expect_error(img, good_labels(), img, "truncated");
}

TEST_F(IdxLoader, TruncatedLabelFile) {
  Bytes b = idx_labels(kLabels);
  b.pop_back();
  const std::string lab = write_raw("lab.idx", b);
  expect_error(good_images(), lab, lab, "header says 3 labels (3 bytes) but found 2 bytes");
}

TEST_F(IdxLoader, WrongMagic) {
  Bytes b = idx_images(kN, kRows, kCols, sample_pixels());
  b[0] = 0x1f;  // e.g. a non-IDX file
  const std::string img = write_raw("img.idx", b);
  expect_error(img, good_labels(), img, "bad magic");

  Bytes t = idx_images(kN, kRows, kCols, sample_pixels());
  t[2] = 0x0D;  // float32 data type
  const std::string img2 = write_raw("img2.idx", t);
  expect_error(img2, good_labels(), img2, "data type 0x0d");
}

TEST_F(IdxLoader, WrongNumberOfDims) {
  // Swapped arguments: a label file where images are expected and vice versa.
  const std::string img = good_images();
  const std::string lab = good_labels();
  expect_error(lab, img, lab, "has 1 dimensions");

  Bytes b = idx_images(kN, kRows, kCols, sample_pixels());
  b[3] = 2;
  const std::string img2 = write_raw("img2.idx", b);
  expect_error(img2, lab, img2, "has 2 dimensions");
}

TEST_F(IdxLoader, ImageLabelCountMismatch) {
  const std::string lab = write_raw("lab.idx", idx_labels({1, 2}));
  const std::string img = good_images();
  expect_error(img, lab, lab, "has 2 labels");
  expect_error(img, lab, img, "3 images");
}

TEST_F(IdxLoader, EmptyFile) {
  const std::string img = write_raw("img.idx", {});
  expect_error(img, good_labels(), img, "empty file");
  const std::string lab = write_raw("lab.idx", {});
  expect_error(good_images(), lab, lab, "empty file");
}

TEST_F(IdxLoader, ZeroImagesOrZeroSize) {
  const std::string img = write_raw("img.idx", idx_images(0, kRows, kCols, {}));
  expect_error(img, write_raw("lab.idx", idx_labels({})), img, "0 images");
  const std::string img2 = write_raw("img2.idx", idx_images(kN, 0, kCols, {}));
  expect_error(img2, good_labels(), img2, "0x3");
}

TEST_F(IdxLoader, MissingFile) {
  const std::string img = (dir_ / "nope.idx").string();
  expect_error(img, good_labels(), img, "not found");
  const std::string lab = (dir_ / "nolab.idx").string();
  expect_error(good_images(), lab, lab, "not found");
  expect_error(dir_.string(), good_labels(), dir_.string(), "directory");
}

TEST_F(IdxLoader, TrailingBytes) {
  Bytes b = idx_images(kN, kRows, kCols, sample_pixels());
  b.push_back(7);
  const std::string img = write_raw("img.idx", b);
  expect_error(img, good_labels(), img, "trailing bytes after the 3 images of 2x3 (18 bytes) its header declares");

  Bytes l = idx_labels(kLabels);
  l.push_back(1);
  l.push_back(1);
  const std::string lab = write_gz("lab.idx.gz", l);
  expect_error(good_images(), lab, lab, "trailing bytes after the 3 labels (3 bytes) its header declares");
}

// A gzip bomb: 64 MiB of zeros behind a header that declares 10 images of 28x28. The reader stops
// one byte after the 7,840 declared bytes (it never inflates the rest), so this ends at once in an
// error about the trailing data instead of a 64 MiB buffer and then a size mismatch.
TEST_F(IdxLoader, GzipBombBehindASmallHeaderIsRejected) {
  const std::string p = (dir_ / "bomb-images.gz").string();
  gzFile f = gzopen(p.c_str(), "wb9");
  ASSERT_NE(f, nullptr);
  const Bytes header = idx_images(10, 28, 28, {});
  gzwrite(f, header.data(), unsigned(header.size()));
  const Bytes zeros(1 << 20, 0);
  for (int i = 0; i < 64; ++i) gzwrite(f, zeros.data(), unsigned(zeros.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
  EXPECT_LT(fs::file_size(p), 1u << 20) << "the bomb is small on disk";
  expect_error(p, good_labels(), p, "trailing bytes after the 10 images of 28x28 (7840 bytes) its header declares");
}

// A header that declares an absurd size is refused before anything is read or allocated for it; one
// that declares a large but possible size on a small file is truncated, and the buffer only grew
// with the bytes that came.
TEST_F(IdxLoader, AbsurdHeaderSizesAreRefused) {
  const std::string img = write_gz("huge.gz", idx_images(0xFFFFFFFFu, 1000, 1000, sample_pixels()));
  expect_error(img, good_labels(), img, "more than the 2147483648 bytes clbench loads from one file");
  const std::string img2 = write_gz("big.gz", idx_images(2000000, 28, 28, sample_pixels()));
  expect_error(img2, good_labels(), img2, "truncated IDX file: header says 2000000 images of 28x28 (1568000000 bytes) but found 18 bytes");
  Bytes lab = {0, 0, 0x08, 1};
  put_be32(lab, 0xFFFFFFFFu);
  const std::string lab_path = write_raw("lab.idx", lab);
  expect_error(good_images(), lab_path, lab_path, "has 4294967295 labels");
}

TEST_F(IdxLoader, SplitFromGzipNames) {
  write_gz("t10k-images-idx3-ubyte.gz", idx_images(kN, kRows, kCols, sample_pixels()));
  write_gz("t10k-labels-idx1-ubyte.gz", idx_labels(kLabels));
  const clb::Dataset d = clb::load_idx_split(dir_.string(), "test");
  expect_sample(d, (dir_ / "t10k-images-idx3-ubyte.gz").string());

  // Raw wins over .gz when both exist.
  write_raw("t10k-images-idx3-ubyte", idx_images(kN, kRows, kCols, sample_pixels()));
  EXPECT_EQ(clb::load_idx_split(dir_.string(), "test").source,
            (dir_ / "t10k-images-idx3-ubyte").string());

  // The train files are absent: the error names the missing file.
  try {
    clb::load_idx_split(dir_.string(), "train");
    ADD_FAILURE() << "expected clb::Error";
  } catch (const clb::Error& e) {
    EXPECT_NE(std::string(e.what()).find("train-images-idx3-ubyte"), std::string::npos) << e.what();
  }
  EXPECT_THROW(clb::load_idx_split(dir_.string(), "validation"), clb::Error);
}

TEST_F(IdxLoader, SplitMissingDir) {
  const std::string missing = (dir_ / "no_such_dir").string();
  try {
    clb::load_idx_split(missing, "train");
    ADD_FAILURE() << "expected clb::Error";
  } catch (const clb::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(missing), std::string::npos) << msg;
    EXPECT_NE(msg.find("train-images-idx3-ubyte"), std::string::npos) << msg;
    EXPECT_NE(msg.find("train-labels-idx1-ubyte"), std::string::npos) << msg;
  }
}

TEST_F(IdxLoader, ResolveDatasetDir) {
  EXPECT_EQ(clb::resolve_dataset_dir(dir_.string()), dir_.string());
  const std::string missing = (dir_ / "missing").string();
  EXPECT_THROW(clb::resolve_dataset_dir(missing), clb::Error);
  if (fs::is_directory("/usr/share/datasets/fashion-mnist")) {
    EXPECT_EQ(clb::resolve_dataset_dir("fashion-mnist"), "/usr/share/datasets/fashion-mnist");
  } else {
    EXPECT_THROW(clb::resolve_dataset_dir("fashion-mnist"), clb::Error);
  }
}

TEST(IdxLoaderReal, FashionMnistTestSplit) {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  if (!fs::is_directory(dir)) GTEST_SKIP() << dir << " not installed";
  const clb::Dataset d = clb::load_idx_split(dir, "test");
  EXPECT_EQ(d.n, 10000);
  EXPECT_EQ(d.rows, 28);
  EXPECT_EQ(d.cols, 28);
  EXPECT_EQ(d.dim, 784);
  EXPECT_EQ(d.num_classes, 10);
  ASSERT_EQ(d.bytes.size(), size_t{10000} * 784);
  ASSERT_EQ(d.y.size(), size_t{10000});
  std::vector<int> count(10, 0);
  for (int32_t y : d.y) {
    ASSERT_GE(y, 0);
    ASSERT_LT(y, 10);
    ++count[y];
  }
  for (int c = 0; c < 10; ++c) EXPECT_EQ(count[c], 1000) << "class " << c;
  const uint8_t hi = *std::max_element(d.bytes.begin(), d.bytes.end());
  EXPECT_GT(hi, 128);  // not all zeros
}

}  // namespace
