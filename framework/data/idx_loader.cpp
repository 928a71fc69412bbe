// IDX loader. Each file is read through zlib's gzread, which also passes raw (uncompressed) files
// through unchanged, so one code path serves both: the header first, then exactly the payload it
// declares (bounded), then one byte to prove there is no trailing data. A gzip bomb behind a small
// or lying header is never inflated past that.
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

// The most pixel (or label) bytes one IDX file may declare: 2 GiB, 8 GiB as float32; Fashion-MNIST's
// train set is 47 MB. Any more is a corrupt header, and refusing it keeps a lying header from
// inflating a gzip bomb or asking for more memory than the machine has.
constexpr uint64_t kMaxIdxPayload = uint64_t{1} << 31;

// An open IDX file, raw or gzip (zlib's gzread passes raw files through), read a bounded number of
// bytes at a time: never more than the header and the payload it declares, plus one byte to prove
// trailing data.
class IdxReader {
 public:
  explicit IdxReader(const std::string& path) : path_(path) {
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (!fs::exists(st)) fail("{}: file not found; check the path or download the data set", path);
    if (fs::is_directory(st)) fail("{}: is a directory, expected an IDX file; pass the file path", path);
    f_ = gzopen(path.c_str(), "rb");
    if (!f_) {
      const int err = errno;
      fail("{}: cannot open: {}; check the file permissions", path, err ? std::strerror(err) : "out of memory");
    }
    gzbuffer(f_, 1 << 20);  // large buffer: fewer read syscalls on the 47 MB train set
  }
  ~IdxReader() { gzclose(f_); }
  IdxReader(const IdxReader&) = delete;
  IdxReader& operator=(const IdxReader&) = delete;

  // Appends up to n bytes to out; returns how many came (fewer only at the end of the data).
  uint64_t read(std::vector<uint8_t>& out, uint64_t n) {
    uint64_t got_total = 0;
    while (got_total < n) {
      const unsigned want = unsigned(std::min<uint64_t>(n - got_total, 1u << 22));
      const size_t at = out.size();
      out.resize(at + want);  // grows with the data that arrives, not with what a header claims
      const int got = gzread(f_, out.data() + at, want);
      if (got < 0) {
        const int err = errno;  // before any other call can overwrite it
        int errnum = 0;
        const std::string msg = gz_message(f_, path_, &errnum);
        if (errnum == Z_ERRNO) fail("{}: read error: {}; check the file and the disk", path_, std::strerror(err));
        fail("{}: corrupt gzip data ({}); {}", path_, msg, kRefetch);
      }
      out.resize(at + unsigned(got));
      got_total += unsigned(got);
      if (got == 0) break;
    }
    // gzread returns the bytes it got before a truncated gzip stream ended and only records the
    // problem, so ask: otherwise a cut-off .gz would surface as a confusing size mismatch.
    int errnum = 0;
    const std::string msg = gz_message(f_, path_, &errnum);
    if (errnum != Z_OK) fail("{}: corrupt or truncated gzip data ({}); {}", path_, msg, kRefetch);
    return got_total;
  }

 private:
  std::string path_;
  gzFile f_ = nullptr;
};

uint32_t be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// Reads and checks the magic number and the header; returns the dimensions. what = "image" or "label".
std::vector<uint32_t> read_header(IdxReader& in, const std::string& path, uint8_t want_dims, const char* what) {
  std::vector<uint8_t> buf;
  in.read(buf, 4);
  if (buf.empty()) fail("{}: empty file, expected an IDX {} file; {}", path, what, kRefetch);
  if (buf.size() < 4)
    fail("{}: truncated IDX file: {} bytes, too short for the 4-byte magic number; {}", path, buf.size(), kRefetch);
  if (buf[0] != 0 || buf[1] != 0)
    fail("{}: not an IDX file: bad magic number 0x{:02x}{:02x}{:02x}{:02x} (expected 0x0000080{}); "
         "pass an uncompressed or gzip IDX {} file",
         path, buf[0], buf[1], buf[2], buf[3], want_dims, what);
  if (buf[2] != 0x08)
    fail("{}: IDX data type 0x{:02x} is not supported, only 0x08 (unsigned byte); convert the file to uint8 IDX",
         path, buf[2]);
  if (buf[3] != want_dims)
    fail("{}: IDX file has {} dimensions but an IDX {} file needs {}; check that the image and label files are not "
         "swapped",
         path, buf[3], what, want_dims);
  const size_t header = 4 + 4 * size_t{want_dims};
  in.read(buf, header - 4);
  if (buf.size() < header)
    fail("{}: truncated IDX file: header needs {} bytes but found {} bytes; {}", path, header, buf.size(), kRefetch);
  std::vector<uint32_t> dims(want_dims);
  for (size_t i = 0; i < want_dims; ++i) dims[i] = be32(buf.data() + 4 + 4 * i);
  return dims;
}

// Reads exactly the `expected` payload bytes the header declared (desc says what they are), and
// checks that nothing follows them: one more byte read is enough to know.
std::vector<uint8_t> read_payload(IdxReader& in, const std::string& path, uint64_t expected, const std::string& desc) {
  if (expected > kMaxIdxPayload)
    fail("{}: IDX header says {} ({} bytes), more than the {} bytes clbench loads from one file; the header is "
         "corrupt, {}",
         path, desc, expected, kMaxIdxPayload, kRefetch);
  // Reserved, not filled: pages are only touched as data arrives (a lying header costs address
  // space, bounded above), and the vector never regrows, which held old and new copies at once
  // and left the freed ones to fragment the heap (17 MiB of the default run's peak).
  std::vector<uint8_t> payload;
  payload.reserve(size_t(expected));
  const uint64_t found = in.read(payload, expected);
  if (found < expected)
    fail("{}: truncated IDX file: header says {} ({} bytes) but found {} bytes; {}", path, desc, expected, found,
         kRefetch);
  std::vector<uint8_t> extra;
  if (in.read(extra, 1) > 0)
    fail("{}: IDX file has trailing bytes after the {} ({} bytes) its header declares; {}", path, desc, expected,
         kRefetch);
  return payload;
}

}  // namespace

Dataset load_idx_pair(const std::string& images_path, const std::string& labels_path) {
  // Images.
  std::vector<uint8_t> img;
  uint32_t n = 0, rows = 0, cols = 0;
  uint64_t dim = 0;
  {
    IdxReader in(images_path);
    const std::vector<uint32_t> idim = read_header(in, images_path, 3, "image");
    n = idim[0], rows = idim[1], cols = idim[2];
    if (n == 0) fail("{}: IDX image file holds 0 images; use a non-empty data set", images_path);
    if (rows == 0 || cols == 0)
      fail("{}: IDX image size {}x{} is empty; the file is corrupt, {}", images_path, rows, cols, kRefetch);
    // dim is an int in Dataset; rows*cols fits uint64 (both < 2^32), and n*dim then stays exact
    // because dim is bounded by INT_MAX.
    dim = uint64_t{rows} * cols;
    if (dim > static_cast<uint64_t>(INT_MAX))
      fail("{}: IDX image size {}x{} is too large (over {} pixels); the file is corrupt, {}", images_path, rows, cols,
           INT_MAX, kRefetch);
    img = read_payload(in, images_path, uint64_t{n} * dim, fmt::format("{} images of {}x{}", n, rows, cols));
  }

  // Labels.
  std::vector<uint8_t> lab;
  {
    IdxReader in(labels_path);
    const uint32_t nl = read_header(in, labels_path, 1, "label")[0];
    if (nl != n)
      fail("{}: has {} labels but {} has {} images; pass the label file that belongs to the images", labels_path, nl,
           images_path, n);
    lab = read_payload(in, labels_path, nl, fmt::format("{} labels", nl));
  }

  Dataset d;
  d.source = images_path;
  d.n = n;
  d.rows = static_cast<int>(rows);
  d.cols = static_cast<int>(cols);
  d.dim = static_cast<int>(dim);
  d.bytes = std::move(img);  // the pixels as read: the gather divides by 255 (dataset.h)
  d.y.assign(lab.begin(), lab.end());
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
