#include "framework/io/safetensors.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "framework/core/atomic_file.h"
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

  ojson header;
  try {
    header = ojson::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<ptrdiff_t>(n));
  } catch (const nlohmann::json::exception& e) {
    fail("{}: safetensors header is not valid JSON: {}", path, e.what());
  }
  if (!header.is_object()) fail("{}: safetensors header is not a JSON object", path);

  TensorFile out;
  std::vector<std::pair<uint64_t, NamedTensor>> found;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object())
        fail("{}: safetensors \"__metadata__\" is not an object of strings", path);
      for (const auto& [k, v] : entry.items()) {
        if (!v.is_string())
          fail("{}: safetensors \"__metadata__\" value for '{}' is not a string (found {})", path,
               k, v.dump());
        out.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    if (!entry.is_object()) fail("{}: tensor '{}': header entry is not an object", path, name);
    for (const char* key : {"dtype", "shape", "data_offsets"})
      if (!entry.contains(key)) fail("{}: tensor '{}': header entry has no \"{}\"", path, name, key);

    const auto& dtype = entry["dtype"];
    if (!dtype.is_string()) fail("{}: tensor '{}': \"dtype\" is not a string", path, name);
    if (dtype.get<std::string>() != "F32")
      fail("{}: tensor '{}' has dtype {}; clbench reads float32 (F32) only; convert it to float32 first",
           path, name, dtype.get<std::string>());

    const auto& shape = entry["shape"];
    if (!shape.is_array()) fail("{}: tensor '{}': \"shape\" is not an array", path, name);
    NamedTensor t;
    t.name = name;
    // Element count, saturated at `cap` (more than the data section could hold) to avoid overflow.
    const uint64_t cap = data_size / 4 + 1;
    bool has_zero = false;
    for (const auto& d : shape) {
      if (!d.is_number_integer())
        fail("{}: tensor '{}': shape entry {} is not an integer", path, name, d.dump());
      if (d.is_number_unsigned() ? d.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())
                                 : d.get<int64_t>() < 0)
        fail("{}: tensor '{}': shape {} has a negative or out-of-range dimension", path, name,
             shape.dump());
      t.shape.push_back(d.get<int64_t>());
      has_zero = has_zero || t.shape.back() == 0;
    }
    uint64_t count = 1;
    if (has_zero) {
      count = 0;
    } else {
      for (int64_t dim : t.shape) {
        uint64_t ud = static_cast<uint64_t>(dim);
        count = count > cap / ud ? cap : std::min(cap, count * ud);
      }
    }

    const auto& offs = entry["data_offsets"];
    if (!offs.is_array() || offs.size() != 2 || !offs[0].is_number_unsigned() ||
        !offs[1].is_number_unsigned())
      fail("{}: tensor '{}': \"data_offsets\" must be [begin, end] with non-negative integers, "
           "found {}",
           path, name, offs.dump());
    uint64_t begin = offs[0].get<uint64_t>(), end = offs[1].get<uint64_t>();
    if (begin > end || end > data_size)
      fail("{}: tensor '{}': data_offsets [{}, {}] out of range (data section is {} bytes)", path,
           name, begin, end, data_size);
    if (count >= cap || end - begin != count * 4)
      fail("{}: tensor '{}': data_offsets [{}, {}] span {} bytes but shape {} needs {}",
           path, name, begin, end, end - begin, shape.dump(),
           count >= cap ? std::string("more bytes than the file holds")
                        : std::to_string(count * 4) + " bytes of float32");
    t.data.resize(count);
    if (count) std::memcpy(t.data.data(), data + begin, count * 4);
    found.emplace_back(begin, std::move(t));
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  out.tensors.reserve(found.size());
  for (auto& [off, t] : found) out.tensors.push_back(std::move(t));
  return out;
}

}  // namespace clb
