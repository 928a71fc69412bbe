#pragma once
// What `clbench run --out DIR` keeps in DIR while it runs (docs/DESIGN.md §6), so that a run
// stopped by a signal, a kill or an error loses only the task in progress:
//   results.json, results.csv   the runs (strategy x seed) finished so far, rewritten after each
//   manifest.json               written after them, last: run id, start and update times, config
//                               hash, complete or not and why, and the size and hash of each of the
//                               two files, so a reader sees whether they are one publication
//   checkpoint.safetensors      after each task: where the run is and all its state
//                               (framework/io/run_checkpoint.h); `clbench run --resume DIR`
//                               continues from it. Removed when the run is complete.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "framework/core/state_archive.h"
#include "framework/harness/run_result.h"

namespace clb::cli {

class RunOutput {
 public:
  // resume: DIR holds the run being continued; else DIR must hold no earlier run's results.
  // Creates DIR, removes temp files a killed writer left, and writes the manifest (which proves
  // DIR writable before any training). Throws clb::Error naming --out and the fix.
  RunOutput(std::string dir, const nlohmann::json& config, int runs_total, bool resume);

  // The finished runs as results.json + results.csv, then the manifest. status: "running",
  // "complete", "interrupted by SIGTERM", "failed: ..."
  void publish(const nlohmann::json& config, const std::vector<RunResult>& runs, const std::string& status);
  void write_checkpoint(const StateArchive& a);
  // All runs finished: publishes them as complete, then removes the checkpoint and says so in the
  // manifest (a kill in between leaves a complete publication and a checkpoint it does not need).
  void finish(const nlohmann::json& config, const std::vector<RunResult>& runs);

  const std::string& dir() const { return dir_; }
  std::string checkpoint_path() const { return checkpoint_in(dir_); }
  static std::string checkpoint_in(const std::string& dir);  // DIR/checkpoint.safetensors
  // The manifest DIR holds (--resume reads the run id and start time from it), or null.
  static nlohmann::json read_manifest(const std::string& dir);
  // True for a manifest (read_manifest's) that says its run is complete.
  static bool says_complete(const nlohmann::json& manifest) {
    return manifest.is_object() && manifest.contains("complete") && manifest["complete"] == true;
  }

 private:
  void write_manifest();  // from the members: written after every change

  std::string dir_, run_id_, started_, config_hash_, status_;
  int runs_total_;
  bool has_checkpoint_ = false;
  nlohmann::json files_ = nlohmann::json::object();
  int runs_finished_ = 0;
};

}  // namespace clb::cli
