#include "framework/cli/sweep_cells.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "framework/cli/commands.h"
#include "framework/cli/run_output.h"
#include "framework/cli/setting_flags.h"
#include "framework/core/atomic_file.h"
#include "framework/core/bounded_json.h"
#include "framework/core/error.h"
#include "framework/harness/report.h"

namespace clb::cli {

namespace fs = std::filesystem;

std::string point_text(const std::vector<FlagValue>& point) {
  if (point.empty()) return "defaults";
  std::string s;
  for (const auto& [flag, value] : point) s += (s.empty() ? "" : ", ") + flag + "=" + value;
  return s;
}

std::vector<std::vector<FlagValue>> grid_points(const std::vector<GridAxis>& axes) {
  std::vector<std::vector<FlagValue>> points = {{}};
  for (const auto& [flag, values] : axes) {
    std::vector<std::vector<FlagValue>> next;
    for (const auto& p : points)
      for (const auto& v : values) {
        next.push_back(p);
        next.back().emplace_back(flag, v);
      }
    points = std::move(next);
  }
  return points;
}

namespace {

// A file name from the cell's settings: what a name may not hold becomes '_'.
std::string cell_name(bool final, const std::string& strategy, const std::vector<FlagValue>& point, uint64_t seed) {
  std::string name = std::string(final ? "final" : "select") + "-" + strategy;
  for (const auto& [flag, value] : point) name += "-" + flag + "=" + value;
  name += fmt::format("-seed{}", seed);
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '=' && c != '_' && c != '+' && c != '-') c = '_';
  return name;
}

SweepCell make_cell(const SweepSpec& spec, const std::string& strategy, const std::vector<FlagValue>& point,
                    uint64_t seed, bool final, int threads) {
  SweepCell c{cell_name(final, strategy, point, seed), strategy, point, seed, final, {}};
  // [run]'s flags, a grid value replacing [run]'s own (run refuses a flag given twice), then the
  // sweep's (which [run] and the grids may not give).
  std::vector<FlagValue> given = spec.base;
  for (const FlagValue& p : point) {
    const auto same = std::find_if(given.begin(), given.end(), [&](const FlagValue& g) { return g.first == p.first; });
    if (same != given.end()) same->second = p.second;
    else given.push_back(p);
  }
  given.insert(given.end(), {{"strategy", strategy},
                             {"seed", std::to_string(seed)},
                             {"seeds", "1"},
                             {"validation", final ? "0" : fmt::format("{}", spec.validation)},
                             {"threads", std::to_string(threads)}});
  std::vector<std::string> flags;
  for (const auto& [flag, value] : given) flags.insert(flags.end(), {"--" + flag, value});
  try {
    c.config = to_json(run_config_from_flags(flags));
  } catch (const SettingError& e) {  // named by config field: say the config's key (the flag's name)
    const std::string what = e.with_names([](const std::string& field) { return flag_for("run", field).substr(2); });
    fail("{}: {} with {} (cell {}): {}", spec.source, strategy, point_text(point), c.name, what);
  } catch (const Error& e) {
    fail("{}: {} with {} (cell {}): {}", spec.source, strategy, point_text(point), c.name, e.what());
  }
  return c;
}

void check_unique(const std::vector<SweepCell>& cells, const SweepSpec& spec) {
  for (size_t i = 0; i < cells.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (cells[i].name == cells[j].name)
        fail("{}: two cells get the file name {} ({} and {}); give grid values that differ in letters or digits",
             spec.source, cells[i].name, point_text(cells[j].point), point_text(cells[i].point));
}

}  // namespace

std::vector<SweepCell> selection_cells(const SweepSpec& spec, int threads) {
  // Counted before any is made: a config of many long lists would otherwise build billions.
  constexpr size_t kMaxCells = 100000;
  size_t count = 0;
  for (const std::string& s : spec.strategies) {
    size_t points = spec.selection_seeds.size();
    for (const auto& [flag, values] : spec.axes_of(s)) points = values.size() > kMaxCells / points ? kMaxCells + 1 : points * values.size();
    count = std::min(kMaxCells + 1, count + points);
  }
  if (count > kMaxCells)
    fail("{}: the grids make more than {} selection cells; give fewer values or split the sweep into several", spec.source,
         kMaxCells);
  std::vector<SweepCell> cells;
  for (const std::string& s : spec.strategies)
    for (const auto& point : grid_points(spec.axes_of(s)))
      for (uint64_t seed : spec.selection_seeds) cells.push_back(make_cell(spec, s, point, seed, false, threads));
  check_unique(cells, spec);
  return cells;
}

std::vector<SweepCell> final_cells(const SweepSpec& spec, const std::vector<std::vector<FlagValue>>& chosen,
                                   int threads) {
  CLB_ASSERT(chosen.size() == spec.strategies.size());
  std::vector<SweepCell> cells;
  for (size_t i = 0; i < spec.strategies.size(); ++i)
    for (uint64_t seed : spec.final_seeds) cells.push_back(make_cell(spec, spec.strategies[i], chosen[i], seed, true, threads));
  check_unique(cells, spec);
  return cells;
}

std::string cell_config_path(const std::string& dir, const std::string& name) {
  return (fs::path(dir) / "cells" / (name + ".json")).string();
}
std::string cell_out_dir(const std::string& dir, const std::string& name) {
  return (fs::path(dir) / "cells" / name).string();
}
std::string cell_log_path(const std::string& dir, const std::string& name) {
  return (fs::path(dir) / "cells" / (name + ".log")).string();
}

CellState prepare_cell(const std::string& dir, const SweepCell& cell) {
  const std::string config_path = cell_config_path(dir, cell.name), out = cell_out_dir(dir, cell.name);
  if (fs::exists(config_path)) {
    const nlohmann::json had = parse_json_bounded(read_file(config_path), config_path, {.max_values = 100000});
    if (had != cell.config)
      fail("--out {}: {} holds another config than this sweep's cell {} (another sweep config wrote the directory, "
           "or its [run] changed); give a new --out, or remove {}/cells to start over",
           dir, config_path, cell.name, dir);
  } else {
    fs::create_directories(fs::path(config_path).parent_path());
    write_file_atomic(config_path, cell.config.dump(2) + "\n");
  }
  const nlohmann::json manifest = RunOutput::read_manifest(out);  // refuses a manifest clbench did not write
  if (RunOutput::says_complete(manifest)) return CellState::kFinished;
  if (manifest.is_object() && fs::exists(RunOutput::checkpoint_in(out))) return CellState::kResumable;
  if (manifest.is_object()) fs::remove_all(out);  // a start killed before its first checkpoint: nothing to keep
  return CellState::kToStart;
}

CellMetrics read_cell_metrics(const std::string& dir, const SweepCell& cell) {
  const std::string path = (fs::path(cell_out_dir(dir, cell.name)) / "results.json").string();
  const nlohmann::json j = parse_json_bounded(read_file(path), path, {.max_values = 1'000'000});
  try {
    const nlohmann::json& m = j.at("runs").at(0).at("metrics");
    // null: undefined (BWT of a single task)
    return {number_or_nan(m.at("acc")), number_or_nan(m.at("bwt")), number_or_nan(m.at("forgetting"))};
  } catch (const nlohmann::json::exception&) {
    fail("{}: no runs[0].metrics with acc, bwt and forgetting; remove the cell's directory {} and run the sweep again",
         path, cell_out_dir(dir, cell.name));
  }
}

}  // namespace clb::cli
