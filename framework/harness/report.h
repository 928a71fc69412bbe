#pragma once
// Reports of a run: the markdown summary table (a row per strategy, mean ± std over seeds), the
// accuracy matrices, results.json and results.csv (schema in README.md).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "framework/harness/run_result.h"

namespace clb {

// fisher_samples: the importance's N per task (0 = all).
std::string markdown_summary(const std::vector<RunResult>& runs, int64_t fisher_samples);
// Time per phase, evaluation speed and the state each strategy keeps between tasks.
std::string markdown_costs(const std::vector<RunResult>& runs);
// What each strategy keeps at the end, in words (its memory; PackNet's weights per task), one line
// each, from its last seed's run ("" when none keeps anything it describes).
std::string markdown_kept(const std::vector<RunResult>& runs);
std::string markdown_acc_matrices(const std::vector<RunResult>& runs);
// One run's record in results.json (its final model aside), and back: a checkpoint keeps the
// finished runs and the one in progress this way. run_from_json throws clb::Error naming `source`,
// also for a record not of `tasks` tasks (accuracy matrix, b_j, LCA curves of at most
// `lca_points` points each).
nlohmann::json run_json(const RunResult& r);
RunResult run_from_json(const nlohmann::json& run, const std::string& source, int tasks, int lca_points);
nlohmann::json results_json(const nlohmann::json& config, const std::vector<RunResult>& runs);
// One row per run: its metrics and throughput, then the config block's settings as columns
// (config.scenario, config.fisher.estimator, ..., config.provenance.commit).
std::string results_csv(const nlohmann::json& config, const std::vector<RunResult>& runs);
// A number as results.json and sweep.json write it: null where undefined (NaN: BWT of one task, an
// interval of one seed), and back.
nlohmann::json number_or_null(double v);
double number_or_nan(const nlohmann::json& v);
// A CSV field as RFC 4180 writes it: quoted, its quotes doubled, when it holds a comma, quote or
// line break.
std::string csv_field(const std::string& value);

}  // namespace clb
