#include "framework/core/state_archive.h"

#include <bit>

#include "framework/core/error.h"

namespace clb {

void StateArchive::bad(const std::string& key, const std::string& why) const {
  fail("{}: checkpoint entry '{}' {}; the checkpoint is damaged or was written by another clbench version or run",
       source_, key, why);
}

const std::vector<float>& StateArchive::floats(const std::string& key, int64_t size) const {
  const auto it = floats_.find(key);
  if (it == floats_.end()) bad(key, "is missing");
  if (size >= 0 && int64_t(it->second.size()) != size)
    bad(key, fmt::format("holds {} numbers where {} are expected", it->second.size(), size));
  return it->second;
}

const nlohmann::json& StateArchive::value(const std::string& key) const {
  const auto it = values_.find(key);
  if (it == values_.end()) bad(key, "is missing");
  return *it;
}

void StateArchive::put_doubles(const std::string& key, const std::vector<double>& v) {
  std::vector<uint64_t> bits(v.size());
  for (size_t i = 0; i < v.size(); ++i) bits[i] = std::bit_cast<uint64_t>(v[i]);
  put(key, bits);
}

std::vector<double> StateArchive::doubles(const std::string& key, int64_t size) const {
  const auto bits = get<std::vector<uint64_t>>(key);
  if (size >= 0 && int64_t(bits.size()) != size)
    bad(key, fmt::format("holds {} numbers where {} are expected", bits.size(), size));
  std::vector<double> v(bits.size());
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::bit_cast<double>(bits[i]);
  return v;
}

void StateArchive::restore(nlohmann::json values, std::map<std::string, std::vector<float>> floats) {
  if (!values.is_object()) fail("{}: the checkpoint's state is not a JSON object; the file is damaged", source_);
  values_ = std::move(values);
  floats_ = std::move(floats);
}

}  // namespace clb
