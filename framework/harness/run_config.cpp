#include "framework/harness/run_config.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "framework/core/error.h"
#include "framework/model/mlp.h"

namespace clb {

float RunConfig::lambda_for(const std::string& name) const {
  const auto it = lambda_overrides.find(name);
  return it == lambda_overrides.end() ? lambda : it->second;
}

void RunConfig::set_arch(const std::string& text) {
  const MlpArch a = MlpArch::parse(text);
  arch = a.str();
  scenario.synthetic_dim = a.input_dim(), scenario.synthetic_classes = a.num_outputs();
}

namespace {

bool generated(const ScenarioConfig& s) { return s.kind == "synthetic" || s.kind == "recurring"; }

}  // namespace

nlohmann::json to_json(const RunConfig& c) {
  std::map<std::string, float> lambdas;
  for (const auto& name : c.strategies) lambdas[name] = c.lambda_for(name);
  const DetectorConfig& d = c.detector;
  nlohmann::json j = {{"scenario", c.scenario.kind},
          {"scenario_il", c.scenario.kind == "split" ? c.scenario.il : "domain"},
          {"dataset", generated(c.scenario) ? "generated" : c.dataset},
          {"tasks", c.scenario.tasks},
          {"train_per_task", c.scenario.train_per_task},
          {"test_per_task", c.scenario.test_per_task},
          {"rotation_step", c.scenario.rotation_step},
          {"recurring_tasks", c.scenario.recurring_tasks},
          {"validation", c.scenario.validation},
          {"classes_per_task", c.scenario.classes_per_task},
          {"class_order", c.scenario.class_order},
          {"task_column", c.scenario.task_column},
          {"arch", c.arch},
          {"strategies", c.strategies},
          {"lambda", lambdas},
          {"gamma", c.strategy.gamma},
          {"fisher", {{"estimator", to_string(c.fisher.estimator)},
                      {"samples", c.fisher.samples},
                      {"draws", c.fisher.draws},
                      {"batch", c.fisher.batch}}},
          {"optimizer", to_string(c.optimizer)},
          {"lr", c.lr},
          {"momentum", c.momentum},
          {"batch", c.batch},
          {"epochs", c.epochs},
          {"lca_batches", c.lca_batches},
          {"eval_batch", c.eval_batch},
          {"engine", to_string(c.engine)},
          {"record_steps", c.record_steps},
          {"memory", {{"policy", to_string(c.memory.policy)},
                      {"samples", c.memory.max_samples},
                      {"bytes", c.memory.max_bytes}}},
          {"task_boundaries", c.detect_boundaries ? "detect" : "given"},
          {"stream", c.blurry_width > 0 ? "blurry" : "sharp"},
          {"mixing_width", c.blurry_width},
          {"detector", {{"warmup", d.warmup},
                        {"delta", d.delta},
                        {"lambda", d.lambda},
                        {"loss_delta", d.loss_delta},
                        {"loss_lambda", d.loss_lambda},
                        {"loss_floor", d.loss_floor},
                        {"recognise", d.recognise}}},
          {"seed", c.seed},
          {"seeds", c.seeds},
          {"backend", c.backend},
          {"threads", c.threads}};
  // A strategy's own setting is recorded where the strategy runs: the configs of runs without it
  // (and the sweep cells they name) stay as they were before the strategy existed.
  auto runs = [&](const char* name) { return std::find(c.strategies.begin(), c.strategies.end(), name) != c.strategies.end(); };
  if (runs("lwf")) j["lwf_temperature"] = c.strategy.temperature;
  if (runs("der++")) j["der_beta"] = c.strategy.der_beta;
  if (runs("gem")) j["gem_margin"] = c.strategy.gem_margin;
  return j;
}

namespace {

// Reads fields of a config block, each error naming the file and the field's path.
class ConfigReader {
 public:
  ConfigReader(const nlohmann::json& j, std::string source, std::string path)
      : j_(j), source_(std::move(source)), path_(std::move(path)) {
    if (!j_.is_object()) fail("{}: {} is not a JSON object", source_, path_);
  }
  ConfigReader object(const char* key) const { return ConfigReader(at(key), source_, path_ + "." + key); }
  template <typename T>
  void get(const char* key, T& out) const {
    const nlohmann::json& v = at(key);
    try {
      out = v.get<T>();
    } catch (const nlohmann::json::exception&) {
      fail("{}: {}.{} is {}, not the {} it should be", source_, path_, key, v.dump(), kind_of<T>());
    }
    if constexpr (std::is_integral_v<T>) {
      if (!v.is_number_integer() && !v.is_number_unsigned() && !v.is_boolean())
        fail("{}: {}.{} is {}, not the integer it should be", source_, path_, key, v.dump());
    }
  }
  bool has(const char* key) const { return j_.contains(key); }
  std::string text(const char* key) const {
    std::string s;
    get(key, s);
    return s;
  }
  // An enum's value: `parse` throws a SettingError, which names the field, for text it does not know.
  template <typename Parse>
  auto choice(const char* key, Parse parse) const {
    const std::string s = text(key);
    try {
      return parse(s);
    } catch (const SettingError& e) {
      fail("{}: config.{}", source_, e.what());
    }
  }

 private:
  const nlohmann::json& at(const char* key) const {
    const auto it = j_.find(key);
    if (it == j_.end()) fail("{}: {} has no field '{}'; give a results.json that clbench run wrote (those from before the field "
           "existed cannot be rerun)",
           source_, path_, key);
    return *it;
  }
  template <typename T>
  static const char* kind_of() {
    if constexpr (std::is_same_v<T, bool>) return "true or false";
    else if constexpr (std::is_integral_v<T>) return "integer";
    else if constexpr (std::is_floating_point_v<T>) return "number";
    else if constexpr (std::is_same_v<T, std::string>) return "string";
    else return "value";
  }
  const nlohmann::json& j_;
  std::string source_, path_;
};

bool parse_boundaries(const std::string& s) {
  if (s == "given" || s == "detect") return s == "detect";
  fail_setting("@task_boundaries '{}': use given or detect", s);
}

}  // namespace

RunConfig run_config_from_json(const nlohmann::json& j, const std::string& source) {
  const bool whole_results = j.is_object() && j.contains("config") && j.contains("runs");
  const ConfigReader r(whole_results ? j.at("config") : j, source, "config");
  RunConfig c;
  r.get("scenario", c.scenario.kind);
  const std::string il = r.text("scenario_il");
  c.scenario.il = il == "domain" ? c.scenario.il : il;  // "domain": not split, the setting unused
  const std::string dataset = r.text("dataset");
  if (dataset != "generated") c.dataset = dataset;
  r.get("tasks", c.scenario.tasks);
  r.get("train_per_task", c.scenario.train_per_task);
  r.get("test_per_task", c.scenario.test_per_task);
  r.get("rotation_step", c.scenario.rotation_step);
  r.get("recurring_tasks", c.scenario.recurring_tasks);
  if (r.has("validation")) r.get("validation", c.scenario.validation);  // absent before sweeps: the test set
  // Absent before split took them: 2 classes per task in label order, no task column.
  if (r.has("classes_per_task")) r.get("classes_per_task", c.scenario.classes_per_task);
  c.scenario.class_order = "fixed";
  if (r.has("class_order")) r.get("class_order", c.scenario.class_order);
  if (r.has("task_column")) r.get("task_column", c.scenario.task_column);
  c.set_arch(r.text("arch"));
  r.get("strategies", c.strategies);
  r.get("lambda", c.lambda_overrides);  // every strategy run has its own
  for (const std::string& name : c.strategies)
    if (!c.lambda_overrides.count(name)) fail("{}: config.lambda has no value for the strategy '{}'", source, name);
  r.get("gamma", c.strategy.gamma);
  // Absent from results written before lwf, der++ and gem: their defaults.
  if (r.has("lwf_temperature")) r.get("lwf_temperature", c.strategy.temperature);
  if (r.has("der_beta")) r.get("der_beta", c.strategy.der_beta);
  if (r.has("gem_margin")) r.get("gem_margin", c.strategy.gem_margin);
  const ConfigReader f = r.object("fisher");
  c.fisher.estimator = f.choice("estimator", parse_fisher_estimator);
  f.get("samples", c.fisher.samples);
  f.get("draws", c.fisher.draws);
  f.get("batch", c.fisher.batch);
  c.optimizer = r.choice("optimizer", parse_optimizer);
  r.get("lr", c.lr);
  r.get("momentum", c.momentum);
  r.get("batch", c.batch);
  r.get("epochs", c.epochs);
  r.get("lca_batches", c.lca_batches);
  r.get("eval_batch", c.eval_batch);
  c.engine = r.choice("engine", parse_engine_kind);
  r.get("record_steps", c.record_steps);
  const ConfigReader m = r.object("memory");
  c.memory.policy = m.choice("policy", parse_replay_policy);
  m.get("samples", c.memory.max_samples);
  m.get("bytes", c.memory.max_bytes);
  c.detect_boundaries = r.choice("task_boundaries", parse_boundaries);
  const std::string stream = r.text("stream");
  if (stream != "sharp" && stream != "blurry") fail("{}: config.stream is '{}'; use sharp or blurry", source, stream);
  int64_t width = 0;
  r.get("mixing_width", width);
  if (stream == "blurry" && width < 2)
    fail("{}: config.mixing_width is {}; a blurry stream mixes over at least 2 samples", source, width);
  c.blurry_width = stream == "blurry" ? width : 0;
  const ConfigReader d = r.object("detector");
  d.get("warmup", c.detector.warmup);
  d.get("delta", c.detector.delta);
  d.get("lambda", c.detector.lambda);
  d.get("loss_delta", c.detector.loss_delta);
  d.get("loss_lambda", c.detector.loss_lambda);
  d.get("loss_floor", c.detector.loss_floor);
  d.get("recognise", c.detector.recognise);
  // The fields no clbench run flag sets, checked here (the CLI checks the others, as for its flags).
  auto positive = [&](const char* field, double v, double least) {
    if (!std::isfinite(v) || v < least) fail("{}: config.{} is {}; it must be at least {}", source, field, v, least);
  };
  positive("eval_batch", c.eval_batch, 1);
  positive("fisher.batch", c.fisher.batch, 1);
  positive("detector.warmup", c.detector.warmup, 1);
  positive("detector.delta", c.detector.delta, 0);
  positive("detector.lambda", c.detector.lambda, 1e-9);
  positive("detector.loss_delta", c.detector.loss_delta, 0);
  positive("detector.loss_lambda", c.detector.loss_lambda, 1e-9);
  positive("detector.loss_floor", c.detector.loss_floor, 1e-9);
  positive("detector.recognise", c.detector.recognise, 1e-9);
  r.get("seed", c.seed);
  r.get("seeds", c.seeds);
  r.get("backend", c.backend);
  r.get("threads", c.threads);
  return c;
}

}  // namespace clb
