// The one list of strategies. A new strategy: its file defines make_<name>, and one line below.
#include "framework/strategies/registry.h"

// The swept defaults (results/defaults.md), one value per importance scale.
#define CLB_EWC_LAMBDA 1000
#define CLB_SI_LAMBDA 100
#define CLB_MAS_LAMBDA 0.1

#include "framework/core/error.h"

namespace clb {

using StrategyFactory = std::unique_ptr<Strategy> (*)(const StrategyParams&, int64_t num_params);

// Defined in each strategy's own file. The last column is the strategy's default lambda (0: it
// has no penalty). ewc, si and mas: chosen by clbench sweep on a validation split of split
// Fashion-MNIST (task-IL) and of permuted Fashion-MNIST (benchmarks/sweeps/, results/defaults.md);
// online-ewc and ewc+er share EWC's Fisher scale and take its value; l2 keeps the 100 every
// strategy had before (not swept). lwf's, icarl's and der++'s lambda weighs their distillation or
// logit replay: 1 for the distillations (the papers' unweighted sum), 0.3 for der++ (its paper's
// alpha lies between 0.1 and 0.5); results/cl-fashion-mnist.md sweeps them.
#define CLB_STRATEGIES(X)                                                                                         \
  X("naive", make_naive, "fine-tuning, the lower bound", 0)                                                       \
  X("joint", make_joint, "trains on every task so far, the upper bound", 0)                                       \
  X("l2", make_l2, "quadratic penalty with F = 1", 100)                                                           \
  X("ewc", make_ewc, "a separate Fisher-weighted penalty per task", CLB_EWC_LAMBDA)                               \
  X("online-ewc", make_online_ewc, "running Fisher decayed by gamma, latest anchor", CLB_EWC_LAMBDA)              \
  X("si", make_si, "Synaptic Intelligence: importance from the loss's path integral", CLB_SI_LAMBDA)              \
  X("mas", make_mas, "Memory Aware Synapses: importance from the output's sensitivity", CLB_MAS_LAMBDA)           \
  X("er", make_er, "experience replay: memory rows joined to each batch", 0)                                      \
  X("agem", make_agem, "A-GEM: the gradient projected against the memory rows' gradient", 0)                      \
  X("ewc+er", make_ewc_er, "ewc and er together", CLB_EWC_LAMBDA)                                                 \
  X("gem", make_gem, "GEM: the gradient projected so no earlier task's memory gradient is opposed", 0)          \
  X("lwf", make_lwf, "Learning without Forgetting: distils the previous model's outputs; lambda weighs it", 1)     \
  X("icarl", make_icarl, "iCaRL: herded exemplars, sigmoid distillation, nearest-mean-of-exemplars prediction", 1) \
  X("der++", make_der_plus_plus, "Dark Experience Replay++: replays stored logits (lambda weighs them) and labels", 0.3) \
  X("packnet", make_packnet, "PackNet: each task keeps a pruned share of the weights, frozen after it", 0)

#define CLB_DECLARE_FACTORY(name, factory, summary, lambda) \
  std::unique_ptr<Strategy> factory(const StrategyParams&, int64_t);
CLB_STRATEGIES(CLB_DECLARE_FACTORY)

namespace {

struct Entry {
  StrategyInfo info;
  StrategyFactory make;
};

const std::vector<Entry>& entries() {
#define CLB_ENTRY(name, factory, summary, lambda) Entry{{name, summary, float(lambda)}, &factory},
  static const std::vector<Entry> list = {CLB_STRATEGIES(CLB_ENTRY)};
#undef CLB_ENTRY
  return list;
}

}  // namespace

const std::vector<StrategyInfo>& strategy_registry() {
  static const std::vector<StrategyInfo> infos = [] {
    std::vector<StrategyInfo> v;
    for (const Entry& e : entries()) v.push_back(e.info);
    return v;
  }();
  return infos;
}

const std::vector<std::string>& strategy_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const Entry& e : entries()) v.push_back(e.info.name);
    return v;
  }();
  return names;
}

std::string strategy_name_list() {
  const auto& names = strategy_names();
  std::string s;
  for (size_t i = 0; i < names.size(); ++i) s += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  return s;
}

const std::string& default_strategies() {
  // The lower bound and the method clbench is built around.
  static const std::string names = "naive,ewc";
  return names;
}

const StrategyInfo& strategy_info(const std::string& name) {
  for (const StrategyInfo& s : strategy_registry())
    if (s.name == name) return s;
  fail_setting("@strategies: unknown strategy '{}'; use {} (comma-separated)", name, strategy_name_list());
}

std::unique_ptr<Strategy> make_strategy(const std::string& name, const StrategyParams& p, int64_t num_params) {
  for (const Entry& e : entries())
    if (e.info.name == name) return e.make(p, num_params);
  fail_setting("@strategies: unknown strategy '{}'; use {} (comma-separated)", name, strategy_name_list());
}

}  // namespace clb
