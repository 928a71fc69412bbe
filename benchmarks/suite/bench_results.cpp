#include "benchmarks/suite/bench_results.h"

#include <cmath>
#include <filesystem>
#include <limits>
#include <set>

#include "framework/core/atomic_file.h"
#include "framework/core/bounded_json.h"
#include "framework/core/error.h"

namespace clb {

using nlohmann::json;

std::string BenchRow::param(const std::string& key) const {
  auto it = params.find(key);
  return it == params.end() ? "" : it->second;
}

double BenchRow::metric(const std::string& key) const {
  auto it = metrics.find(key);
  return it == metrics.end() ? std::numeric_limits<double>::quiet_NaN() : it->second;
}

std::string SuiteResults::meta_str(const std::string& key) const {
  if (!meta.contains(key)) return "";
  const json& v = meta.at(key);
  return v.is_string() ? v.get<std::string>() : v.dump();
}

namespace {

json parse_file(const std::string& path) {
  try {
    return parse_json_bounded(read_file(path), path, {.max_values = kMaxSuiteJsonValues});
  } catch (const Error& e) {
    fail("{}; rerun the step that wrote it (scripts/bench_suite.sh)", e.what());
  }
}

// A field of `obj` with the JSON type `want`, or a clb::Error naming the file and field.
const json& field(const json& obj, const std::string& key, json::value_t want, const std::string& file,
                  const std::string& where) {
  if (!obj.is_object() || !obj.contains(key))
    fail("{}: {} has no field '{}'; the file is incomplete or from another tool", file, where, key);
  const json& v = obj.at(key);
  const bool ok = want == json::value_t::number_float ? v.is_number() : v.type() == want ||
                  (want == json::value_t::number_integer && v.is_number_integer());
  if (!ok && want == json::value_t::number_integer && v.is_number())
    fail("{}: {}.{} is {}, expected an integer", file, where, key, v.dump());
  if (!ok) fail("{}: {}.{} is {}, expected {}", file, where, key, v.type_name(), json(want).type_name());
  return v;
}
const json::value_t kString = json::value_t::string, kNumber = json::value_t::number_float,
                    kArray = json::value_t::array, kObject = json::value_t::object,
                    kInt = json::value_t::number_integer, kBool = json::value_t::boolean;

// An optional field: `otherwise` when absent, else the field checked as field() does.
template <typename T>
T optional_field(const json& obj, const std::string& key, json::value_t want, T otherwise, const std::string& file,
                 const std::string& where) {
  if (!obj.is_object() || !obj.contains(key)) return otherwise;
  return field(obj, key, want, file, where).get<T>();
}

// An integer field that must fit an int (a batch, a task count): never wrapped silently.
int int_field(const json& obj, const std::string& key, const std::string& file, const std::string& where) {
  const json& v = field(obj, key, kInt, file, where);
  const bool fits = v.is_number_unsigned() ? v.get<uint64_t>() <= uint64_t(std::numeric_limits<int>::max())
                                           : v.get<int64_t>() >= std::numeric_limits<int>::min() &&
                                                 v.get<int64_t>() <= std::numeric_limits<int>::max();
  if (!fits) fail("{}: {}.{} is {}, outside the range of an int", file, where, key, v.dump());
  return v.get<int>();
}

// A string of 1 to 9 decimal digits (fits an int).
bool is_count(const std::string& s) {
  return !s.empty() && s.size() <= 9 && s.find_first_not_of("0123456789") == std::string::npos;
}
// An MLP's widths, "784-400-400-10".
bool is_net(const std::string& s) {
  size_t parts = 0, start = 0;
  for (;;) {
    const size_t end = std::min(s.find('-', start), s.size());
    if (!is_count(s.substr(start, end - start))) return false;
    ++parts;
    if (end == s.size()) return parts >= 2;
    start = end + 1;
  }
}
// The parameters the report reads as numbers (the batch, the net's widths) must be numbers.
void check_number_params(const BenchRow& r, const std::string& file) {
  if (r.params.count("B") && !is_count(r.params.at("B")))
    fail("{}: benchmark {}: B:{} is not a batch size (1 to 9 digits)", file, r.name, r.params.at("B"));
  if (r.params.count("net") && !is_net(r.params.at("net")))
    fail("{}: benchmark {}: net:{} is not an MLP's widths like 784-400-400-10", file, r.name, r.params.at("net"));
}

void check_schema(const json& doc, const std::string& want, const std::string& file) {
  const std::string got = field(doc, "schema", kString, file, "the document").get<std::string>();
  if (got != want) fail("{}: schema '{}', expected '{}'", file, got, want);
}

double seconds_per_unit(const std::string& unit, const std::string& file, const std::string& name) {
  if (unit == "ns") return 1e-9;
  if (unit == "us") return 1e-6;
  if (unit == "ms") return 1e-3;
  if (unit == "s") return 1.0;
  fail("{}: benchmark {}: unknown time_unit '{}'", file, name, unit);
}

// Google Benchmark's own fields; every other number in a row is one of our counters.
const std::set<std::string> kGbenchFields = {
    "name", "family_index", "per_family_instance_index", "run_name", "run_type", "repetitions",
    "repetition_index", "threads", "iterations", "real_time", "cpu_time", "time_unit", "label",
    "error_occurred", "error_message", "aggregate_name", "aggregate_unit"};

BenchRow parse_row(const json& b, const std::string& source, const std::string& file) {
  BenchRow r;
  r.source = source;
  const std::string full = field(b, "name", kString, file, "a benchmark").get<std::string>();
  const std::string where = "benchmark " + full;
  size_t start = 0;
  bool first = true;
  while (start <= full.size()) {
    size_t end = full.find('/', start);
    if (end == std::string::npos) end = full.size();
    const std::string tok = full.substr(start, end - start);
    start = end + 1;
    if (first) {
      if (tok.rfind("BM_", 0) != 0) fail("{}: {}: names must start with BM_<op>", file, where);
      r.op = tok.substr(3), r.name = tok, first = false;
      continue;
    }
    if (tok == "real_time" || tok == "manual_time" || tok.rfind("iterations:", 0) == 0 ||
        tok.rfind("min_time:", 0) == 0 || tok.rfind("repeats:", 0) == 0)
      continue;
    const size_t colon = tok.find(':');
    if (colon == std::string::npos) fail("{}: {}: '{}' is not key:value", file, where, tok);
    r.params[tok.substr(0, colon)] = tok.substr(colon + 1);
    r.name += "/" + tok;
  }
  check_number_params(r, file);
  if (optional_field(b, "error_occurred", kBool, false, file, where)) {
    r.error = optional_field(b, "error_message", kString, std::string("skipped"), file, where);
    if (r.error.empty()) r.error = "skipped";
    return r;
  }
  const double unit = seconds_per_unit(field(b, "time_unit", kString, file, where).get<std::string>(), file, full);
  r.metrics["seconds"] = field(b, "real_time", kNumber, file, where).get<double>() * unit;
  r.metrics["iterations"] = field(b, "iterations", kNumber, file, where).get<double>();
  for (const auto& [k, v] : b.items())
    if (v.is_number() && !kGbenchFields.count(k)) r.metrics[k] = v.get<double>();
  const std::string label = optional_field(b, "label", kString, std::string(), file, where);
  for (const std::string key : {"bound=", "timing="}) {
    const size_t at = label.find(key);
    if (at == std::string::npos) continue;
    const size_t from = at + key.size();
    const std::string value = label.substr(from, label.find(' ', from) - from);
    (key == std::string("bound=") ? r.bound : r.timing) = value;
  }
  return r;
}

void load_gbench(const std::string& file, const std::string& source, SuiteResults& s) {
  const json doc = parse_file(file);
  const json& ctx = field(doc, "context", kObject, file, "the document");
  const std::string prefix = source == "bench_ops" ? "ops." : "train.";
  for (const auto& [k, v] : ctx.items()) s.context[prefix + k] = v.is_string() ? v.get<std::string>() : v.dump();
  for (const json& b : field(doc, "benchmarks", kArray, file, "the document")) {
    if (optional_field(b, "run_type", kString, std::string("iteration"), file, "a benchmark") != "iteration")
      continue;  // repetitions' aggregates
    s.rows.push_back(parse_row(b, source, file));
  }
}

// The peer's figures: the "results" and "runs" of a clbench-peer/1 document (the normalised
// document keeps the same block under "peer").
void read_peer_block(const json& doc, const std::string& file, SuiteResults& s) {
  for (const json& r : field(doc, "results", kArray, file, "the peer block")) {
    PeerRow p;
    p.workload = field(r, "workload", kString, file, "a peer result").get<std::string>();
    const std::string where = "peer result " + p.workload;
    p.net = field(r, "net", kString, file, where).get<std::string>();
    p.batch = int_field(r, "batch", file, where);
    if (!is_net(p.net)) fail("{}: {}: net '{}' is not an MLP's widths like 784-400-400-10", file, where, p.net);
    p.samples_per_s = field(r, "samples_per_s", kNumber, file, where).get<double>();
    if (!(p.samples_per_s > 0) || p.batch <= 0)
      fail("{}: {} {} batch {}: samples_per_s and batch must be positive", file, where, p.net, p.batch);
    s.peer_rows.push_back(p);
  }
  if (doc.contains("runs"))
    for (const json& r : field(doc, "runs", kArray, file, "the peer block")) {
      PeerRun p;
      p.strategy = field(r, "strategy", kString, file, "a peer run").get<std::string>();
      p.scenario = field(r, "scenario", kString, file, "peer run " + p.strategy).get<std::string>();
      p.tasks = int_field(r, "tasks", file, "peer run " + p.strategy);
      for (const auto& [k, v] : r.items())
        if (v.is_number() && k != "tasks") p.metrics[k] = v.get<double>();
      s.peer_runs.push_back(p);
    }
  // The header fields the report prints.
  for (const std::string key : {"peer", "torch", "device", "date", "command"})
    optional_field(doc, key, kString, std::string(), file, "the peer block");
  if (doc.contains("threads")) int_field(doc, "threads", file, "the peer block");
  s.peer = doc;
  s.peer.erase("results"), s.peer.erase("runs");
}

void load_peer(const std::string& file, SuiteResults& s) {
  const json doc = parse_file(file);
  check_schema(doc, "clbench-peer/1", file);
  for (const std::string key : {"peer", "device", "date", "command"}) field(doc, key, kString, file, "the document");
  read_peer_block(doc, file, s);
}

}  // namespace

// The whole-run comparison's block, as whole_runs.json holds it and the results document keeps it.
void read_whole_runs(const json& doc, const std::string& file, SuiteResults& s) {
  for (const std::string key : {"clbench_command", "peer_command", "scenario"}) field(doc, key, kString, file, "the document");
  s.whole_runs_header = doc;
  s.whole_runs_header.erase("runs");
  for (const json& j : field(doc, "runs", kArray, file, "the document")) {
    WholeRun w;
    w.program = field(j, "program", kString, file, "a run").get<std::string>();
    if (w.program != "clbench" && w.program != "peer")
      fail("{}: a run's program is '{}'; expected clbench or peer", file, w.program);
    const std::string where = w.program + " run";
    w.round = field(j, "round", kInt, file, where).get<int>();
    w.wall_s = field(j, "wall_s", kNumber, file, where).get<double>();
    w.train_s = field(j, "train_s", kNumber, file, where).get<double>();
    w.fisher_s = field(j, "fisher_s", kNumber, file, where).get<double>();
    w.eval_s = field(j, "eval_s", kNumber, file, where).get<double>();
    w.peak_rss_mib = field(j, "peak_rss_mib", kNumber, file, where).get<double>();
    s.whole_runs.push_back(w);
  }
}

json whole_runs_block(const SuiteResults& s) {
  json doc = s.whole_runs_header;
  doc["runs"] = json::array();
  for (const WholeRun& w : s.whole_runs)
    doc["runs"].push_back({{"program", w.program}, {"round", w.round}, {"wall_s", w.wall_s}, {"train_s", w.train_s},
                           {"fisher_s", w.fisher_s}, {"eval_s", w.eval_s}, {"peak_rss_mib", w.peak_rss_mib}});
  return doc;
}

SuiteResults load_suite(const std::string& dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) fail("{}: not a directory; pass the directory scripts/bench_suite.sh wrote", dir);
  SuiteResults s;
  const std::string meta = (fs::path(dir) / "meta.json").string();
  s.meta = parse_file(meta);
  check_schema(s.meta, "clbench-suite/1", meta);
  for (const std::string key : {"suite", "commit", "date", "command", "cpu_model"}) field(s.meta, key, kString, meta, "the document");
  field(s.meta, "cores", kInt, meta, "the document");
  bool any = false;
  for (const std::string source : {"bench_ops", "bench_train"}) {
    const fs::path p = fs::path(dir) / (source + ".json");
    if (!fs::exists(p)) continue;
    load_gbench(p.string(), source, s);
    any = true;
  }
  if (!any) fail("{}: holds neither bench_ops.json nor bench_train.json; run scripts/bench_suite.sh first", dir);
  const fs::path peer = fs::path(dir) / "peer_pytorch.json";
  if (fs::exists(peer)) load_peer(peer.string(), s);
  const fs::path whole = fs::path(dir) / "whole_runs.json";
  if (fs::exists(whole)) {
    const json doc = parse_file(whole.string());
    check_schema(doc, "clbench-whole-runs/1", whole.string());
    read_whole_runs(doc, whole.string(), s);
  }
  return s;
}

json results_document(const SuiteResults& s) {
  json doc;
  doc["schema"] = "clbench-results/1";
  doc["meta"] = s.meta;
  doc["context"] = s.context;
  json rows = json::array();
  for (const BenchRow& r : s.rows) {
    json j{{"source", r.source}, {"name", r.name}, {"op", r.op}, {"params", r.params}};
    json m = json::object();
    for (const auto& [k, v] : r.metrics) m[k] = std::isfinite(v) ? json(v) : json(nullptr);
    j["metrics"] = m;
    if (!r.bound.empty()) j["bound"] = r.bound;
    if (!r.timing.empty()) j["timing"] = r.timing;
    if (!r.error.empty()) j["error"] = r.error;
    rows.push_back(j);
  }
  doc["rows"] = rows;
  if (!s.peer.is_null()) {
    doc["peer"] = s.peer;
    json pr = json::array(), runs = json::array();
    for (const PeerRow& p : s.peer_rows)
      pr.push_back({{"workload", p.workload}, {"net", p.net}, {"batch", p.batch}, {"samples_per_s", p.samples_per_s}});
    for (const PeerRun& p : s.peer_runs) {
      json j{{"strategy", p.strategy}, {"scenario", p.scenario}, {"tasks", p.tasks}};
      for (const auto& [k, v] : p.metrics) j[k] = v;
      runs.push_back(j);
    }
    doc["peer"]["results"] = pr;
    doc["peer"]["runs"] = runs;
  }
  if (!s.whole_runs.empty()) doc["whole_runs"] = whole_runs_block(s);
  return doc;
}

SuiteResults load_results_document(const std::string& file) {
  return parse_results_document(parse_file(file), file);
}

SuiteResults parse_results_document(const json& doc, const std::string& file) {
  check_schema(doc, "clbench-results/1", file);
  SuiteResults s;
  s.meta = field(doc, "meta", kObject, file, "the document");
  for (const auto& [k, v] : field(doc, "context", kObject, file, "the document").items())
    s.context[k] = v.is_string() ? v.get<std::string>() : v.dump();
  for (const json& j : field(doc, "rows", kArray, file, "the document")) {
    BenchRow r;
    r.source = field(j, "source", kString, file, "a row").get<std::string>();
    r.name = field(j, "name", kString, file, "a row").get<std::string>();
    r.op = field(j, "op", kString, file, "row " + r.name).get<std::string>();
    for (const auto& [k, v] : field(j, "params", kObject, file, "row " + r.name).items()) {
      if (!v.is_string()) fail("{}: row {}: params.{} is {}, expected string", file, r.name, k, v.type_name());
      r.params[k] = v.get<std::string>();
    }
    check_number_params(r, file);
    for (const auto& [k, v] : field(j, "metrics", kObject, file, "row " + r.name).items())
      r.metrics[k] = v.is_number() ? v.get<double>() : std::numeric_limits<double>::quiet_NaN();
    const std::string where = "row " + r.name;
    r.bound = optional_field(j, "bound", kString, std::string(), file, where);
    r.timing = optional_field(j, "timing", kString, std::string(), file, where);
    r.error = optional_field(j, "error", kString, std::string(), file, where);
    s.rows.push_back(r);
  }
  if (doc.contains("peer")) read_peer_block(field(doc, "peer", kObject, file, "the document"), file, s);
  if (doc.contains("whole_runs")) read_whole_runs(field(doc, "whole_runs", kObject, file, "the document"), file, s);
  return s;
}

}  // namespace clb
