#pragma once
// The results of one benchmark-suite run, read from the directory the suite script fills
// (scripts/bench_suite.sh; schema in results/README.md):
//   meta.json          clbench-suite/1: machine, CPU, GPU, commit, date, the exact command
//   bench_ops.json     Google Benchmark JSON of benchmarks/bench_ops
//   bench_train.json   Google Benchmark JSON of benchmarks/bench_train
//   peer_pytorch.json  clbench-peer/1: benchmarks/peers/pytorch_ewc_bench.py (optional)
//   whole_runs.json    clbench-whole-runs/1: the default `clbench run` and the peer's same run,
//                      alternating, each its own process: wall clock, phases, peak RSS (optional)
// and normalised into one document (clbench-results/1) that the report renders.
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace clb {

// One Google Benchmark row: BM_<op>/key:value/... with its counters.
struct BenchRow {
  std::string source;  // bench_ops | bench_train
  std::string name;    // without Google Benchmark's /real_time, /manual_time, /iterations:N
  std::string op;      // linear_forward, ..., train_step, fisher, run
  std::map<std::string, std::string> params;  // backend, v, net, B, opt, P, strategy, estimator, ...
  std::map<std::string, double> metrics;      // counters, and seconds (per iteration)
  std::string bound, timing;                  // from the label: compute|memory, cold|warm
  std::string error;                          // set when the row was skipped (a mismatch, no data)

  std::string param(const std::string& key) const;
  double metric(const std::string& key) const;  // NaN when absent
};

// One peer figure: a PyTorch workload at a net and batch.
struct PeerRow {
  std::string workload;  // train_sgd, train_ewc_sgd, fisher_trick, fisher_loop, fisher_vmap
  std::string net;
  int batch = 0;
  double samples_per_s = 0;
};

// One peer end-to-end run (strategy on the same scenario).
struct PeerRun {
  std::string strategy, scenario;
  int tasks = 0;
  std::map<std::string, double> metrics;  // train_samples_per_s, ..., ms_per_task, acc
};

// One whole run of one program in the alternating comparison (whole_runs.json).
struct WholeRun {
  std::string program;  // clbench | peer
  int round = 0;
  double wall_s = 0, train_s = 0, fisher_s = 0, eval_s = 0, peak_rss_mib = 0;
};

struct SuiteResults {
  nlohmann::json meta;                        // meta.json as written
  std::map<std::string, std::string> context; // bench_ops and bench_train context, prefixed ops./train.
  std::vector<BenchRow> rows;
  nlohmann::json peer;                        // peer header: torch, device, threads, date, command, ...
  std::vector<PeerRow> peer_rows;
  std::vector<PeerRun> peer_runs;
  nlohmann::json whole_runs_header;  // commands, scenario; null without whole_runs.json
  std::vector<WholeRun> whole_runs;

  std::string meta_str(const std::string& key) const;  // "" when absent
};

// The most values and keys one suite or results JSON may hold (about 50,000 benchmark rows); more is
// not a file the suite wrote. Every JSON here is read with parse_json_bounded (framework/core).
constexpr size_t kMaxSuiteJsonValues = 1'000'000;

// Reads a suite directory. Throws clb::Error naming the file and field for a missing, truncated or
// malformed file; a missing peer file is allowed (no peer columns).
SuiteResults load_suite(const std::string& dir);

// The normalised document (schema clbench-results/1), and its reader: a report can be rendered
// again from the published JSON alone.
nlohmann::json results_document(const SuiteResults& s);
// Both throw clb::Error naming the file and the field for a missing or wrong-typed field.
SuiteResults parse_results_document(const nlohmann::json& doc, const std::string& file);
SuiteResults load_results_document(const std::string& file);  // read, parse (bounded), then the above

}  // namespace clb
