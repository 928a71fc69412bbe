#include "framework/io/safetensors.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <utility>

#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "framework/core/atomic_file.h"
#include "framework/core/bounded_json.h"
#include "framework/core/error.h"

static_assert(std::endian::native == std::endian::little,
              "clbench's safetensors I/O assumes a little-endian host");
static_assert(sizeof(float) == 4 && std::numeric_limits<float>::is_iec559);

namespace clb {

namespace {

constexpr uint64_t kMaxHeaderBytes = 100ull * 1000 * 1000;  // 100 MB

using ojson = nlohmann::ordered_json;

}  // namespace

const NamedTensor* TensorFile::find(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

const NamedTensor& TensorFile::get(const std::string& name,
                                   const std::string& path_for_errors) const {
  if (const NamedTensor* t = find(name)) return *t;
  fail("{}: tensor '{}' not found in the safetensors file ({} tensors present)", path_for_errors,
       name, tensors.size());
}

void write_safetensors(const std::string& path, const TensorFile& f) {
  ojson header = ojson::object();
  if (!f.metadata.empty()) {
    ojson meta = ojson::object();
    for (const auto& [k, v] : f.metadata) meta[k] = v;
    header["__metadata__"] = std::move(meta);
  }
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const auto& t : f.tensors) {
    CLB_ASSERT(t.name != "__metadata__");
    CLB_ASSERT(names.insert(t.name).second);  // duplicate tensor name
    uint64_t n = 1;
    for (int64_t d : t.shape) {
      CLB_ASSERT(d >= 0);
      n *= static_cast<uint64_t>(d);
    }
    CLB_ASSERT(t.data.size() == n);
    uint64_t bytes = n * sizeof(float);
    header[t.name] = {{"dtype", "F32"},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }

  std::string json;
  try {
    json = header.dump();  // compact; throws on names that are not valid UTF-8
  } catch (const nlohmann::json::exception& e) {
    fail("cannot write {}: tensor name or metadata is not valid UTF-8 ({})", path, e.what());
  }
  // Pad with spaces so the data (at 8 + N) starts 8-byte aligned.
  json.append((8 - json.size() % 8) % 8, ' ');

  std::string out;
  out.reserve(8 + json.size() + offset);
  uint64_t n = json.size();
  char len[8];
  std::memcpy(len, &n, 8);  // little-endian host
  out.append(len, 8);
  out += json;
  for (const auto& t : f.tensors)
    if (!t.data.empty())
      out.append(reinterpret_cast<const char*>(t.data.data()), t.data.size() * sizeof(float));
  CLB_ASSERT(out.size() == 8 + json.size() + offset);
  write_file_atomic(path, out);
}

namespace {

// One header entry as the parser streams it, before any check that needs the whole entry.
struct Entry {
  std::string name;
  std::string dtype;
  bool has_dtype = false, has_shape = false, has_offsets = false;
  std::vector<uint64_t> shape, offsets;
};

// The most tensors a file may list: clbench's models hold two per layer, its checkpoints a few dozen,
// and the largest PyTorch models a few thousand. A 100 MB header could list 1.5 M, which would take
// seconds and gigabytes to validate; the SAX stops at the limit instead.
constexpr size_t kMaxTensors = 100000;

// The safetensors header as nlohmann SAX events, straight into entries: no DOM (a DOM of a 100 MB header
// with an ordered_json's linear key lookup was quadratic and took gigabytes), and any shape other than
// {name: {"dtype": str, "shape": [uint...], "data_offsets": [uint, uint]}, "__metadata__": {str: str}}
// fails at the first event that breaks it, naming the tensor and the field. Depth, size and duplicate
// keys are parse_json_bounded's checks (sax_parse_bounded).
class HeaderSax {
 public:
  using json = nlohmann::json;
  HeaderSax(const std::string& path, std::vector<Entry>& entries, std::map<std::string, std::string>& metadata)
      : path_(path), entries_(entries), metadata_(metadata) {}

  bool null() { return scalar("null"); }
  bool boolean(bool) { return scalar("a boolean"); }
  bool number_integer(json::number_integer_t v) {
    if (depth_ == 3) fail("{}: tensor '{}': \"{}\" holds the negative number {}", path_, entry_.name, field_, v);
    return scalar("a number");
  }
  bool number_unsigned(json::number_unsigned_t v) {
    if (depth_ != 3) return scalar("a number");
    (field_ == "shape" ? entry_.shape : entry_.offsets).push_back(v);
    return true;
  }
  bool number_float(json::number_float_t, const json::string_t& text) {
    if (depth_ == 3) fail("{}: tensor '{}': \"{}\" holds {}, not an integer", path_, entry_.name, field_, text);
    return scalar("a number");
  }
  bool string(json::string_t& v) {
    if (depth_ == 2 && in_metadata_) {
      metadata_[meta_key_] = v;
      return true;
    }
    if (depth_ == 2 && field_ == "dtype") {
      entry_.dtype = v, entry_.has_dtype = true;
      return true;
    }
    return scalar("a string");
  }
  bool binary(json::binary_t&) { return scalar("binary data"); }
  bool start_object(size_t) {
    if (depth_ == 0) {
      depth_ = 1;
      return true;
    }
    if (depth_ == 1) {
      depth_ = 2;
      if (!in_metadata_) entry_ = Entry{top_key_, "", false, false, false, {}, {}};
      return true;
    }
    return scalar("an object");
  }
  bool key(json::string_t& k) {
    if (depth_ == 1) {
      top_key_ = k;
      in_metadata_ = k == "__metadata__";
    } else if (in_metadata_) {
      meta_key_ = k;
    } else if (k == "dtype" || k == "shape" || k == "data_offsets") {
      field_ = k;
      (k == "dtype" ? entry_.has_dtype : k == "shape" ? entry_.has_shape : entry_.has_offsets) = true;
    } else {
      fail("{}: tensor '{}': unknown field \"{}\"; a safetensors entry has dtype, shape and data_offsets", path_,
           entry_.name, k);
    }
    return true;
  }
  bool end_object() {
    if (depth_ == 2 && !in_metadata_) {
      for (auto [has, key] : {std::pair{entry_.has_dtype, "dtype"}, std::pair{entry_.has_shape, "shape"},
                              std::pair{entry_.has_offsets, "data_offsets"}})
        if (!has) fail("{}: tensor '{}': header entry has no \"{}\"", path_, entry_.name, key);
      if (entries_.size() == kMaxTensors)
        fail("{}: safetensors header lists more than {} tensors; no model or checkpoint clbench reads has that "
             "many (a crafted file?)",
             path_, kMaxTensors);
      entries_.push_back(std::move(entry_));
    }
    in_metadata_ = false;
    --depth_;
    return true;
  }
  bool start_array(size_t) {
    if (depth_ == 2 && !in_metadata_ && field_ != "dtype") {
      depth_ = 3;
      return true;
    }
    return scalar("an array");
  }
  bool end_array() {
    depth_ = 2;
    return true;
  }
  bool parse_error(size_t, const std::string&, const nlohmann::detail::exception&) { return false; }  // not called

 private:
  // A value where it does not belong: say where and what was expected.
  bool scalar(const char* found) {
    if (depth_ == 0) fail("{}: safetensors header is not a JSON object (found {})", path_, found);
    if (depth_ == 1 && in_metadata_) fail("{}: safetensors \"__metadata__\" is not an object of strings (found {})", path_, found);
    if (depth_ == 1) fail("{}: tensor '{}': header entry is not an object (found {})", path_, top_key_, found);
    if (in_metadata_)
      fail("{}: safetensors \"__metadata__\" value for '{}' is not a string (found {})", path_, meta_key_, found);
    if (depth_ == 2 && field_ == "dtype") fail("{}: tensor '{}': \"dtype\" is not a string (found {})", path_, entry_.name, found);
    if (depth_ == 2) fail("{}: tensor '{}': \"{}\" is not an array of integers (found {})", path_, entry_.name, field_, found);
    fail("{}: tensor '{}': \"{}\" holds {}, not an integer", path_, entry_.name, field_, found);
  }

  const std::string& path_;
  std::vector<Entry>& entries_;
  std::map<std::string, std::string>& metadata_;
  int depth_ = 0;  // 1: the header object, 2: an entry or __metadata__, 3: shape or data_offsets
  bool in_metadata_ = false;
  std::string top_key_, meta_key_, field_;
  Entry entry_;
};

// The most values and keys a header may hold: 32 M, about 3 M tensors (a 100 MB header holds at most about
// 1.5 M); the header length limit bounds the rest.
constexpr size_t kMaxHeaderValues = 32ull * 1000 * 1000;

}  // namespace

TensorFile read_safetensors(const std::string& path) {
  std::string bytes;
  try {
    bytes = read_file(path);
  } catch (const Error& e) {
    fail("{} (expected a safetensors file)", e.what());
  }
  if (bytes.size() < 8)
    fail("{}: not a safetensors file: {} bytes long, shorter than the 8-byte header length", path,
         bytes.size());
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  if (n > kMaxHeaderBytes)
    fail("{}: not a safetensors file: header length {} is absurd (limit {} bytes)", path, n,
         kMaxHeaderBytes);
  if (n > bytes.size() - 8)
    fail("{}: truncated or not a safetensors file: header length {} runs past the end of the "
         "{}-byte file",
         path, n, bytes.size());
  const char* data = bytes.data() + 8 + n;
  const uint64_t data_size = bytes.size() - 8 - n;

  TensorFile out;
  std::vector<Entry> entries;
  {
    HeaderSax sax(path, entries, out.metadata);
    try {
      sax_parse_bounded(std::string_view(bytes.data() + 8, n), path, {.max_values = kMaxHeaderValues}, sax);
    } catch (const Error& e) {
      const std::string what = e.what();
      if (what.find(": not valid JSON (") == std::string::npos) throw;
      fail("{}: safetensors header is {}", path, what.substr(path.size() + 2));
    }
  }

  struct Placed {
    uint64_t begin, end;
    size_t entry;
  };
  std::vector<Placed> placed;
  placed.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    if (e.dtype != "F32")
      fail("{}: tensor '{}' has dtype {}; clbench reads float32 (F32) only; convert it to float32 first", path,
           e.name, e.dtype);
    std::string shape_text = fmt::format("[{}]", fmt::join(e.shape, ", "));
    // Element count, saturated at `cap` (more than the data section could hold) to avoid overflow.
    const uint64_t cap = data_size / 4 + 1;
    bool has_zero = false;
    for (uint64_t d : e.shape) {
      if (d > uint64_t(std::numeric_limits<int64_t>::max()))
        fail("{}: tensor '{}': shape {} has an out-of-range dimension", path, e.name, shape_text);
      has_zero = has_zero || d == 0;
    }
    uint64_t count = 1;
    if (has_zero) {
      count = 0;
    } else {
      for (uint64_t d : e.shape) count = count > cap / d ? cap : std::min(cap, count * d);
    }
    if (e.offsets.size() != 2)
      fail("{}: tensor '{}': \"data_offsets\" must be [begin, end], found {} number(s)", path, e.name,
           e.offsets.size());
    const uint64_t begin = e.offsets[0], end = e.offsets[1];
    if (begin > end || end > data_size)
      fail("{}: tensor '{}': data_offsets [{}, {}] out of range (data section is {} bytes)", path, e.name, begin, end,
           data_size);
    if (count >= cap || end - begin != count * 4)
      fail("{}: tensor '{}': data_offsets [{}, {}] span {} bytes but shape {} needs {}", path, e.name, begin, end,
           end - begin, shape_text,
           count >= cap ? std::string("more bytes than the file holds") : std::to_string(count * 4) + " bytes of float32");
    placed.push_back({begin, end, i});
  }
  // The tensors must tile the data section exactly, as the safetensors package checks: each begins
  // where the one before it ends, the first at 0, the last ending at the end of the file.
  std::sort(placed.begin(), placed.end(), [](const Placed& a, const Placed& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t at = 0;
  const std::string* before = nullptr;
  for (const Placed& p : placed) {
    const std::string& name = entries[p.entry].name;
    if (p.begin < at)
      fail("{}: tensor '{}': data_offsets [{}, {}] overlap tensor '{}', which ends at byte {}", path, name, p.begin,
           p.end, *before, at);
    if (p.begin > at)
      fail("{}: tensor '{}': data_offsets [{}, {}] leave bytes {} to {} of the data section unused{}", path, name,
           p.begin, p.end, at, p.begin, before ? " after tensor '" + *before + "'" : std::string());
    at = p.end, before = &name;
  }
  if (at != data_size)
    fail("{}: {} trailing bytes after the last tensor{} (the data section is {} bytes, the tensors cover {}); the "
         "file is corrupt or was written wrongly",
         path, data_size - at, before ? " '" + *before + "'" : std::string(), data_size, at);

  out.tensors.reserve(placed.size());
  for (const Placed& p : placed) {
    Entry& e = entries[p.entry];
    NamedTensor t;
    t.name = std::move(e.name);
    t.shape.assign(e.shape.begin(), e.shape.end());
    t.data.resize((p.end - p.begin) / 4);
    if (!t.data.empty()) std::memcpy(t.data.data(), data + p.begin, p.end - p.begin);
    out.tensors.push_back(std::move(t));
  }
  return out;
}

}  // namespace clb
