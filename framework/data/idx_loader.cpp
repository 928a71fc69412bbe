// IDX loader. Each file is read whole into memory through zlib's gzread, which also passes raw
// (uncompressed) files through unchanged, so one code path serves both. All validation then works
// on a byte buffer, which keeps the checks simple and the conversion loop fast.
#include "framework/data/idx_loader.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <vector>

#include "framework/core/error.h"

namespace clb {
namespace {

namespace fs = std::filesystem;

constexpr const char* kRefetch = "re-copy or re-download the file";

// zlib's gzerror text starts with "<path>: "; drop that, our messages already lead with the path.
std::string gz_message(gzFile f, const std::string& path, int* errnum) {
  std::string msg = gzerror(f, errnum);
  if (msg.rfind(path + ": ", 0) == 0) msg.erase(0, path.size() + 2);
  return msg;
}

// Reads the whole (decompressed) contents of path.
std::vector<uint8_t> read_whole_file(const std::string& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) fail("{}: file not found; check the path or download the data set", path);
  if (fs::is_directory(st))
    fail("{}: is a directory, expected an IDX file; pass the file path", path);

  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) {
    const int err = errno;
    fail("{}: cannot open: {}; check the file permissions", path,
         err ? std::strerror(err) : "out of memory");
  }
  gzbuffer(f, 1 << 20);  // large buffer: fewer read syscalls on the 47 MB train set

  std::vector<uint8_t> buf;
  size_t used = 0;
  constexpr unsigned kChunk = 1u << 22;
  for (;;) {
    buf.resize(used + kChunk);
    const int got = gzread(f, buf.data() + used, kChunk);
    if (got < 0) {
      const int err = errno;  // before any other call can overwrite it
      int errnum = 0;
      const std::string msg = gz_message(f, path, &errnum);
      gzclose(f);
      if (errnum == Z_ERRNO)
        fail("{}: read error: {}; check the file and the disk", path, std::strerror(err));
      fail("{}: corrupt gzip data ({}); {}", path, msg, kRefetch);
    }
    used += static_cast<size_t>(got);
    if (got == 0) break;
  }
  // gzread returns the bytes it got before a truncated gzip stream ended and only records the
  // problem, so ask: otherwise a cut-off .gz would surface as a confusing size mismatch later.
  int errnum = 0;
  const std::string msg = gz_message(f, path, &errnum);
  gzclose(f);
  if (errnum != Z_OK) fail("{}: corrupt or truncated gzip data ({}); {}", path, msg, kRefetch);
  buf.resize(used);
  buf.shrink_to_fit();
  return buf;
}

uint32_t be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// Checks the 4-byte magic and the header; returns the dimensions. what = "image" or "label".
std::vector<uint32_t> parse_header(const std::string& path, const std::vector<uint8_t>& buf,
                                   uint8_t want_dims, const char* what) {
  if (buf.empty()) fail("{}: empty file, expected an IDX {} file; {}", path, what, kRefetch);
  if (buf.size() < 4)
    fail("{}: truncated IDX file: {} bytes, too short for the 4-byte magic number; {}", path,
         buf.size(), kRefetch);
  if (buf[0] != 0 || buf[1] != 0)
    fail("{}: not an IDX file: bad magic number 0x{:02x}{:02x}{:02x}{:02x} (expected 0x0000080{}); "
         "pass an uncompressed or gzip IDX {} file",
         path, buf[0], buf[1], buf[2], buf[3], want_dims, what);
  if (buf[2] != 0x08)
    fail("{}: IDX data type 0x{:02x} is not supported, only 0x08 (unsigned byte); "
         "convert the file to uint8 IDX",
         path, buf[2]);
  if (buf[3] != want_dims)
    fail("{}: IDX file has {} dimensions but an IDX {} file needs {}; "
         "check that the image and label files are not swapped",
         path, buf[3], what, want_dims);
  const size_t header = 4 + 4 * size_t{want_dims};
  if (buf.size() < header)
    fail("{}: truncated IDX file: header needs {} bytes but found {} bytes; {}", path, header,
         buf.size(), kRefetch);
  std::vector<uint32_t> dims(want_dims);
  for (size_t i = 0; i < want_dims; ++i) dims[i] = be32(buf.data() + 4 + 4 * i);
  return dims;
}

// Checks that the payload after the header is exactly `expected` bytes.
void check_payload(const std::string& path, size_t header, size_t found_total, uint64_t expected,
                   const std::string& desc) {
  const uint64_t found = found_total - header;
  if (found < expected)
    fail("{}: truncated IDX file: header says {} ({} bytes) but found {} bytes; {}", path, desc,
         expected, found, kRefetch);
  if (found > expected)
    fail("{}: IDX file has {} trailing bytes: header says {} ({} bytes) but found {} bytes; {}",
         path, found - expected, desc, expected, found, kRefetch);
}

}  // namespace

Dataset load_idx_pair(const std::string& images_path, const std::string& labels_path) {
  // Images.
  const std::vector<uint8_t> img = read_whole_file(images_path);
  const std::vector<uint32_t> idim = parse_header(images_path, img, 3, "image");
  const uint32_t n = idim[0], rows = idim[1], cols = idim[2];
  if (n == 0) fail("{}: IDX image file holds 0 images; use a non-empty data set", images_path);
  if (rows == 0 || cols == 0)
    fail("{}: IDX image size {}x{} is empty; the file is corrupt, {}", images_path, rows, cols,
         kRefetch);
  // dim is an int in Dataset; rows*cols fits uint64 (both < 2^32), and n*dim then stays exact
  // because dim is bounded by INT_MAX.
  const uint64_t dim = uint64_t{rows} * cols;
  if (dim > static_cast<uint64_t>(INT_MAX))
    fail("{}: IDX image size {}x{} is too large (over {} pixels); the file is corrupt, {}",
         images_path, rows, cols, INT_MAX, kRefetch);
  check_payload(images_path, 16, img.size(), uint64_t{n} * dim,
                fmt::format("{} images of {}x{}", n, rows, cols));

  // Labels.
  const std::vector<uint8_t> lab = read_whole_file(labels_path);
  const std::vector<uint32_t> ldim = parse_header(labels_path, lab, 1, "label");
  const uint32_t nl = ldim[0];
  check_payload(labels_path, 8, lab.size(), nl, fmt::format("{} labels", nl));
  if (nl != n)
    fail("{}: has {} labels but {} has {} images; pass the label file that belongs to the images",
         labels_path, nl, images_path, n);

  Dataset d;
  d.source = images_path;
  d.n = n;
  d.rows = static_cast<int>(rows);
  d.cols = static_cast<int>(cols);
  d.dim = static_cast<int>(dim);
  const uint8_t* px = img.data() + 16;
  const size_t count = static_cast<size_t>(uint64_t{n} * dim);
  d.x.resize(count);
  for (size_t i = 0; i < count; ++i) d.x[i] = static_cast<float>(px[i]) / 255.0f;
  d.y.assign(lab.begin() + 8, lab.end());
  d.num_classes = *std::max_element(d.y.begin(), d.y.end()) + 1;
  return d;
}

Dataset load_idx_split(const std::string& dir, const std::string& split) {
  std::string prefix;
  if (split == "train")
    prefix = "train";
  else if (split == "test")
    prefix = "t10k";
  else
    fail("unknown split '{}': use \"train\" or \"test\"", split);
  const std::string img_name = prefix + "-images-idx3-ubyte";
  const std::string lab_name = prefix + "-labels-idx1-ubyte";

  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    fail("{}: data set directory not found; it should hold {} and {} (raw or .gz)", dir, img_name,
         lab_name);

  // Raw wins over .gz so that an unpacked copy is used when someone made one.
  auto pick = [&](const std::string& name) {
    const fs::path raw = fs::path(dir) / name;
    if (fs::exists(raw, ec)) return raw.string();
    const fs::path gz = fs::path(dir) / (name + ".gz");
    if (fs::exists(gz, ec)) return gz.string();
    fail("{}: not found (nor {}.gz); the directory {} should hold {} and {} (raw or .gz)",
         raw.string(), name, dir, img_name, lab_name);
  };
  const std::string images = pick(img_name);
  const std::string labels = pick(lab_name);
  return load_idx_pair(images, labels);
}

std::string resolve_dataset_dir(const std::string& name_or_dir) {
  std::error_code ec;
  if (name_or_dir == "fashion-mnist") {
    const std::string dir = "/usr/share/datasets/fashion-mnist";
    if (!fs::is_directory(dir, ec))
      fail_setting("@dataset 'fashion-mnist' not found at {}: install it with "
                   "`apt-get install dataset-fashion-mnist` or give @dataset DIR",
           dir);
    return dir;
  }
  if (!fs::is_directory(name_or_dir, ec))
    fail_setting("@dataset '{}' is neither a known name (fashion-mnist) nor an existing directory; "
                 "give @dataset fashion-mnist or @dataset DIR",
         name_or_dir);
  return name_or_dir;
}

}  // namespace clb
