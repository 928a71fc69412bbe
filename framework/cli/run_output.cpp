#include "framework/cli/run_output.h"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>

#include <fmt/format.h>

#include "framework/core/atomic_file.h"
#include "framework/core/build_info.h"
#include "framework/core/bounded_json.h"
#include "framework/core/error.h"
#include "framework/core/rng.h"
#include "framework/harness/report.h"
#include "framework/io/run_checkpoint.h"

namespace clb::cli {

namespace fs = std::filesystem;

namespace {

constexpr const char* kManifest = "manifest.json";
constexpr const char* kCheckpoint = "checkpoint.safetensors";
const char* const kOutputs[] = {"results.json", "results.csv", kManifest, kCheckpoint};

// FNV-1a, 64 bits: enough to tell whether a file is the one the manifest names.
std::string fnv1a64(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ULL;
  return fmt::format("{:016x}", h);
}

std::string path_in(const std::string& dir, const char* name) { return (fs::path(dir) / name).string(); }

}  // namespace

nlohmann::json RunOutput::read_manifest(const std::string& dir) {
  const std::string path = path_in(dir, kManifest);
  if (!fs::exists(path)) return nullptr;
  nlohmann::json m = parse_json_bounded(read_file(path), path, JsonLimits{.max_values = 100000});
  // Someone else's manifest.json is not overwritten.
  if (!m.is_object() || !m.contains("format") || m["format"] != "clbench-run-manifest")
    fail("{}: not a manifest clbench wrote (no format clbench-run-manifest); give another directory", path);
  return m;
}

RunOutput::RunOutput(std::string dir, const nlohmann::json& config, int runs_total, bool resume)
    : dir_(std::move(dir)), config_hash_(fnv1a64(config.dump())), runs_total_(runs_total) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec || !fs::is_directory(dir_))
    fail("--out {}: cannot create the directory ({}); give a directory you can write to", dir_,
         ec ? ec.message() : "a file has that name");
  const nlohmann::json earlier = read_manifest(dir_);
  if (!resume) {
    // A manifest alone (a run killed before its first task ended) holds nothing to lose.
    for (const char* name : {"results.json", "results.csv", kCheckpoint})
      if (fs::exists(path_in(dir_, name))) {
        const bool complete = says_complete(earlier);
        fail("--out {}: holds {} of an earlier {}run; give a new directory{}, or remove its files", dir_, name,
             complete ? "complete " : "", complete ? "" : fmt::format(", continue it with clbench run --resume {}", dir_));
      }
    run_id_ = fmt::format("{:016x}", Rng::derive(uint64_t(std::chrono::system_clock::now().time_since_epoch().count()),
                                                 uint64_t(::getpid()))
                                         .next());
    started_ = utc_timestamp();
  } else {
    if (!earlier.is_object())
      fail("--resume {}: no manifest.json there; give the --out directory of the run to continue", dir_);
    try {
      run_id_ = earlier.value("run_id", std::string());
      started_ = earlier.value("started", std::string());
      runs_finished_ = earlier.value("runs_finished", 0);
    } catch (const nlohmann::json::exception&) {
      fail("{}: run_id, started or runs_finished has the wrong type; the manifest is damaged", path_in(dir_, kManifest));
    }
    if (earlier.contains("files") && earlier["files"].is_object()) files_ = earlier["files"];
    has_checkpoint_ = fs::exists(checkpoint_path());
  }
  // A writer killed mid-write leaves its temp file ("results.json.tmp.<pid>"): nothing refers to it.
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    for (const char* out : kOutputs)
      if (name.rfind(std::string(out) + ".tmp.", 0) == 0) fs::remove(entry.path(), ec);
  }
  status_ = resume ? "running (resumed)" : "running";
  write_manifest();
}

std::string RunOutput::checkpoint_in(const std::string& dir) { return path_in(dir, kCheckpoint); }

void RunOutput::publish(const nlohmann::json& config, const std::vector<RunResult>& runs, const std::string& status) {
  const std::string json = results_json(config, runs).dump(2), csv = results_csv(config, runs);
  write_file_atomic(path_in(dir_, "results.json"), json);
  write_file_atomic(path_in(dir_, "results.csv"), csv);
  status_ = status;
  files_ = {{"results.json", {{"bytes", json.size()}, {"fnv1a64", fnv1a64(json)}}},
            {"results.csv", {{"bytes", csv.size()}, {"fnv1a64", fnv1a64(csv)}}}};
  runs_finished_ = int(runs.size());
  write_manifest();
}

void RunOutput::write_checkpoint(const StateArchive& a) {
  clb::write_checkpoint(checkpoint_path(), a);
  if (!has_checkpoint_) {  // the manifest names it from the first one on (a kill -9 leaves no other word)
    has_checkpoint_ = true;
    write_manifest();
  }
}

void RunOutput::finish(const nlohmann::json& config, const std::vector<RunResult>& runs) {
  publish(config, runs, "complete");
  std::error_code ec;
  fs::remove(checkpoint_path(), ec);
  has_checkpoint_ = false;
  write_manifest();
}

void RunOutput::write_manifest() {
  const bool complete = status_ == "complete";
  nlohmann::json m = {{"format", "clbench-run-manifest"},
                      {"version", 1},
                      {"run_id", run_id_},
                      {"started", started_},
                      {"updated", utc_timestamp()},
                      {"config_hash", config_hash_},
                      {"status", status_},
                      {"complete", complete},
                      {"runs_finished", runs_finished_},
                      {"runs_total", runs_total_},
                      {"files", files_},
                      {"checkpoint", has_checkpoint_ ? nlohmann::json(kCheckpoint) : nlohmann::json(nullptr)}};
  if (!status_.starts_with("running")) m["ended"] = m["updated"];
  if (!complete && has_checkpoint_) m["resume"] = fmt::format("clbench run --resume {}", dir_);
  write_file_atomic(path_in(dir_, kManifest), m.dump(2) + "\n");
}

}  // namespace clb::cli
