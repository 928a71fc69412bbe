#include "framework/cli/sweep_spec.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "framework/cli/flag_checks.h"
#include "framework/core/atomic_file.h"
#include "framework/core/error.h"

namespace clb::cli {

namespace {

// Flags the sweep sets itself: a config that gives them is refused, naming where they belong.
const std::pair<const char*, const char*> kSetBySweep[] = {
    {"seed", "[protocol] selection-seeds and final-seeds"},
    {"seeds", "[protocol] selection-seeds and final-seeds"},
    {"validation", "[protocol] validation"},
    {"threads", "clbench sweep --threads"},
    {"out", "clbench sweep --out (each cell writes its own directory)"},
    {"save", "nowhere: a sweep saves no models"},
    {"config", "nowhere: [run] is the config"},
    {"resume", "nowhere: run the same clbench sweep again to resume"},
};

void check_flag_name(const std::string& source, const std::string& where, const std::string& flag) {
  for (const auto& [name, place] : kSetBySweep)
    if (flag == name) fail("{}: {}.{}: the sweep sets {} itself; give it in {}", source, where, flag, flag, place);
  if (flag == "strategy" && where != "run")
    fail("{}: {}.strategy: strategies are listed in [run] strategy; a grid varies their settings", source, where);
}

// A TOML value as run's flag reads it: numbers as written (no float rounding), strings as they are.
std::string flag_text(const std::string& source, const std::string& key, const toml::node& v) {
  if (const auto* s = v.as_string()) return s->get();
  if (const auto* i = v.as_integer()) return std::to_string(i->get());
  if (const auto* f = v.as_floating_point()) {
    if (!std::isfinite(f->get())) fail("{}: {} is {}; give a finite number", source, key, f->get());
    return fmt::format("{}", f->get());  // shortest text that reads back as the same double
  }
  if (const auto* b = v.as_boolean()) return b->get() ? "true" : "false";
  fail("{}: {} is a list or table; give one string, number or boolean (a grid takes lists)", source, key);
}

std::vector<uint64_t> seed_list(const std::string& source, const std::string& key, const toml::node& v) {
  const auto* a = v.as_array();
  if (!a || a->empty()) fail("{}: {} must be a non-empty list of seeds, e.g. [0, 1, 2]", source, key);
  std::vector<uint64_t> seeds;
  for (const auto& e : *a) {
    const auto* i = e.as_integer();
    if (!i || i->get() < 0) fail("{}: {} holds a value that is not an integer >= 0; seeds are, e.g. [0, 1, 2]", source, key);
    const uint64_t s = uint64_t(i->get());
    if (std::find(seeds.begin(), seeds.end(), s) != seeds.end()) fail("{}: {} lists seed {} twice", source, key, s);
    seeds.push_back(s);
  }
  return seeds;
}

std::vector<GridAxis> grid_axes(const std::string& source, const std::string& where, const toml::table& t) {
  std::vector<GridAxis> axes;
  for (const auto& [k, v] : t) {
    const std::string key(k.str());
    if (v.is_table()) continue;  // [grid.NAME], read by the caller
    check_flag_name(source, where, key);
    const auto* a = v.as_array();
    if (!a || a->empty()) fail("{}: {}.{} must be a non-empty list of values, e.g. {} = [1, 10]", source, where, key, key);
    GridAxis axis{key, {}};
    for (const auto& e : *a) {
      std::string text = flag_text(source, where + "." + key, e);
      if (std::find(axis.second.begin(), axis.second.end(), text) != axis.second.end())
        fail("{}: {}.{} lists {} twice", source, where, key, text);
      axis.second.push_back(std::move(text));
    }
    axes.push_back(std::move(axis));
  }
  return axes;
}

}  // namespace

std::vector<GridAxis> SweepSpec::axes_of(const std::string& strategy) const {
  std::vector<GridAxis> axes = grid_all;
  for (const auto& [name, own] : grid_of)
    if (name == strategy)
      for (const GridAxis& a : own) {
        const auto same = std::find_if(axes.begin(), axes.end(), [&](const GridAxis& b) { return b.first == a.first; });
        if (same != axes.end()) *same = a;
        else axes.push_back(a);
      }
  return axes;
}

SweepSpec read_sweep_spec(const std::string& path) {
  SweepSpec s;
  s.source = path;
  const std::string text = read_file(path);  // names the file when it cannot be read
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    fail("{}:{}:{}: not valid TOML: {}", path, e.source().begin.line, e.source().begin.column, e.description());
  }
  for (const auto& [k, v] : root) {
    const std::string key(k.str());
    if (key != "run" && key != "protocol" && key != "grid")
      fail("{}: unknown section [{}]; a sweep config has [run], [protocol] and [grid]", path, key);
    if (!v.is_table()) fail("{}: {} must be a section ([{}])", path, key, key);
  }
  const toml::table* run = root["run"].as_table();
  if (!run) fail("{}: no [run] section; give at least [run] strategy = [\"naive\", \"ewc\"]", path);
  for (const auto& [k, v] : *run) {
    const std::string key(k.str());
    check_flag_name(path, "run", key);
    if (key == "strategy") {
      if (const auto* a = v.as_array()) {
        for (const auto& e : *a) {
          const auto* name = e.as_string();
          if (!name) fail("{}: run.strategy must list strategy names as strings", path);
          s.strategies.push_back(name->get());
        }
      } else if (const auto* list = v.as_string()) {
        s.strategies = split_list(list->get());  // "naive,ewc", as run's --strategy takes it
      } else {
        fail("{}: run.strategy must be a list of names, e.g. [\"naive\", \"ewc\"]", path);
      }
      continue;
    }
    s.base.emplace_back(key, flag_text(path, "run." + key, v));
  }
  if (s.strategies.empty()) fail("{}: run.strategy lists no strategy; give e.g. strategy = [\"naive\", \"ewc\"]", path);
  for (size_t i = 0; i < s.strategies.size(); ++i)
    if (std::find(s.strategies.begin(), s.strategies.begin() + std::ptrdiff_t(i), s.strategies[i]) !=
        s.strategies.begin() + std::ptrdiff_t(i))
      fail("{}: run.strategy lists {} twice", path, s.strategies[i]);

  if (const toml::table* p = root["protocol"].as_table()) {
    for (const auto& [k, v] : *p) {
      const std::string key(k.str());
      if (key == "validation") {
        const auto share = v.value<double>();
        if (!share || !(*share > 0 && *share <= 0.5))
          fail("{}: protocol.validation must be a share in (0, 0.5], e.g. 0.1 (10% of each task's training data)", path);
        s.validation = *share;
      } else if (key == "selection-seeds") {
        s.selection_seeds = seed_list(path, "protocol.selection-seeds", v);
      } else if (key == "final-seeds") {
        s.final_seeds = seed_list(path, "protocol.final-seeds", v);
      } else {
        fail("{}: unknown key protocol.{}; [protocol] has validation, selection-seeds and final-seeds", path, key);
      }
    }
  }
  if (const toml::table* g = root["grid"].as_table()) {
    s.grid_all = grid_axes(path, "grid", *g);
    for (const auto& [k, v] : *g) {
      if (!v.is_table()) continue;
      const std::string name(k.str());
      if (std::find(s.strategies.begin(), s.strategies.end(), name) == s.strategies.end())
        fail("{}: [grid.{}]: {} is not in run.strategy; add it there or remove the section", path, name, name);
      s.grid_of.emplace_back(name, grid_axes(path, "grid." + name, *v.as_table()));
    }
  }
  return s;
}

}  // namespace clb::cli
