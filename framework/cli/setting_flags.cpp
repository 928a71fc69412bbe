#include "framework/cli/setting_flags.h"

#include <map>
#include <utility>

namespace clb::cli {

std::string flag_for(const std::string& subcommand, const std::string& field) {
  // Where a flag is not the field's name with '-' for '_' and '.' (train_per_task: --train-per-task,
  // memory.samples: --memory-samples).
  static const std::map<std::pair<std::string, std::string>, std::string> renamed = {
      {{"run", "fisher.estimator"}, "--fisher"},
      {{"run", "strategies"}, "--strategy"},
      {{"fisher", "fisher.estimator"}, "--estimator"},
      {{"fisher", "fisher.samples"}, "--samples"},
      {{"fisher", "fisher.draws"}, "--draws"},
      {{"bench", "fisher.estimator"}, "--estimator"},
  };
  if (auto it = renamed.find({subcommand, field}); it != renamed.end()) return it->second;
  std::string flag = "--" + field;
  for (char& c : flag)
    if (c == '_' || c == '.') c = '-';
  return flag;
}

}  // namespace clb::cli
