#pragma once
// The strategy registry: the one list of strategy names (the CLI's --help, its validation and its
// errors read it; scripts/check_docs.sh, ctest docs_strategies, holds README.md to it). Adding a strategy: its own file under framework/strategies/ defining a factory,
// and one line in registry.cpp.
#include <memory>
#include <string>
#include <vector>

#include "framework/strategies/strategy.h"

namespace clb {

struct StrategyInfo {
  std::string name;
  std::string summary;  // one line for --help
  float default_lambda = 0;  // the penalty strength clbench run uses unless told (0: no penalty)
};

// Every strategy, in the order --help lists them.
const std::vector<StrategyInfo>& strategy_registry();
const std::vector<std::string>& strategy_names();
// "naive, joint, ... or ewc+er", for error messages.
std::string strategy_name_list();
// The strategies clbench run compares when --strategy is not given.
const std::string& default_strategies();

// The entry of `name`; throws clb::SettingError naming the strategies setting for an unknown one.
const StrategyInfo& strategy_info(const std::string& name);
// Throws clb::SettingError naming the strategies setting for a name not in the registry.
std::unique_ptr<Strategy> make_strategy(const std::string& name, const StrategyParams& p, int64_t num_params);

}  // namespace clb
