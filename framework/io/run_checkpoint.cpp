#include "framework/io/run_checkpoint.h"

#include "framework/core/bounded_json.h"
#include "framework/core/error.h"
#include "framework/io/safetensors.h"

namespace clb {

namespace {
constexpr const char* kFormat = "clbench-checkpoint";
}  // namespace

void write_checkpoint(const std::string& path, const StateArchive& a) {
  TensorFile f;
  nlohmann::json empty = nlohmann::json::array();  // a tensor of no numbers is not written
  for (const auto& [key, v] : a.all_floats()) {
    if (v.empty())
      empty.push_back(key);
    else
      f.tensors.push_back(NamedTensor{key, {int64_t(v.size())}, v});
  }
  f.metadata["format"] = kFormat;
  f.metadata["version"] = std::to_string(kCheckpointVersion);
  f.metadata["values"] = a.values().dump();
  f.metadata["empty_arrays"] = empty.dump();
  write_safetensors(path, f);
}

StateArchive read_checkpoint(const std::string& path) {
  TensorFile f = read_safetensors(path);
  auto meta = [&](const char* key) {
    const auto it = f.metadata.find(key);
    if (it == f.metadata.end())
      fail("{}: not a clbench checkpoint (no '{}' in its metadata); give the checkpoint.safetensors a run wrote", path, key);
    return it->second;
  };
  if (meta("format") != kFormat) fail("{}: metadata format is '{}', not {}", path, meta("format"), kFormat);
  if (meta("version") != std::to_string(kCheckpointVersion))
    fail("{}: checkpoint version {} cannot be read by this clbench (version {}); finish the run with the clbench "
         "that started it",
         path, meta("version"), kCheckpointVersion);
  // The values hold every finished run's record and the replay memory's labels: far more than a
  // results file, bounded by the safetensors header's own size limit in any case.
  const JsonLimits limits{.max_values = size_t(1) << 26};
  nlohmann::json values = parse_json_bounded(meta("values"), path + " (metadata values)", limits);
  nlohmann::json empty = parse_json_bounded(meta("empty_arrays"), path + " (metadata empty_arrays)", limits);
  std::map<std::string, std::vector<float>> floats;
  for (NamedTensor& t : f.tensors) {
    if (t.shape.size() != 1) fail("{}: tensor '{}' is not 1-D; the file is not a clbench checkpoint", path, t.name);
    floats[t.name] = std::move(t.data);
  }
  if (!empty.is_array()) fail("{}: metadata empty_arrays is not a list; the file is damaged", path);
  for (const auto& key : empty) {
    if (!key.is_string()) fail("{}: metadata empty_arrays holds a non-name; the file is damaged", path);
    floats[key.get<std::string>()];
  }
  StateArchive a(path);
  a.restore(std::move(values), std::move(floats));
  return a;
}

}  // namespace clb
