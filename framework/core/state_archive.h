#pragma once
// The state a run's parts hold between training steps, gathered for a checkpoint (docs/DESIGN.md
// §6): float32 arrays (parameters, optimizer moments, penalties, replay samples) and values
// (counters, integer lists, RNG states, doubles kept as their exact bit patterns). Each part saves
// under its own key prefix and loads back what it saved; a missing or ill-sized entry is a
// clb::Error naming the checkpoint file and the entry. framework/io/run_checkpoint.h writes one
// to disk.
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "framework/core/rng.h"

namespace clb {

class StateArchive {
 public:
  explicit StateArchive(std::string source = "checkpoint") : source_(std::move(source)) {}
  const std::string& source() const { return source_; }

  void put_floats(const std::string& key, std::vector<float> v) { floats_[key] = std::move(v); }
  // The array saved under key; `size` >= 0 also checks its length.
  const std::vector<float>& floats(const std::string& key, int64_t size = -1) const;
  const std::map<std::string, std::vector<float>>& all_floats() const { return floats_; }

  // Values: anything nlohmann::json holds exactly (integers, strings, bools, their arrays).
  template <typename T>
  void put(const std::string& key, const T& v) {
    values_[key] = v;
  }
  template <typename T>
  T get(const std::string& key) const {
    try {
      return value(key).get<T>();
    } catch (const nlohmann::json::exception&) {
      bad(key, "has the wrong type");
    }
  }
  // Doubles as their bit patterns: exact, NaN and infinities included.
  void put_doubles(const std::string& key, const std::vector<double>& v);
  std::vector<double> doubles(const std::string& key, int64_t size = -1) const;
  void put_double(const std::string& key, double v) { put_doubles(key, {v}); }
  double get_double(const std::string& key) const { return doubles(key, 1)[0]; }
  void put_rng(const std::string& key, const Rng& rng) { put(key, rng.state()); }
  void get_rng(const std::string& key, Rng& rng) const { rng.set_state(get<std::array<uint64_t, 4>>(key)); }

  const nlohmann::json& values() const { return values_; }
  // Rebuilds an archive from what values() and all_floats() gave (the checkpoint reader).
  void restore(nlohmann::json values, std::map<std::string, std::vector<float>> floats);

  [[noreturn]] void bad(const std::string& key, const std::string& why) const;

 private:
  const nlohmann::json& value(const std::string& key) const;
  std::string source_;
  nlohmann::json values_ = nlohmann::json::object();
  std::map<std::string, std::vector<float>> floats_;
};

}  // namespace clb
