#pragma once
// What the strategies that consolidate into a quadratic penalty share (the EWC family, SI, MAS):
// the penalty they own, offered to the update once it holds a task, and counted as held state.
#include "framework/strategies/strategy.h"

namespace clb {

class PenalizedStrategy : public Strategy {
 public:
  explicit PenalizedStrategy(int64_t num_params) : penalty_(num_params) {}
  const QuadraticPenalty* penalty() const override { return penalty_.empty() ? nullptr : &penalty_; }
  int64_t bytes_held() const override { return penalty_.bytes_held(); }
  void save_state(StateArchive& a) const override { penalty_.save(a, "strategy.penalty"); }
  void load_state(const StateArchive& a) override { penalty_.load(a, "strategy.penalty"); }

 protected:
  QuadraticPenalty penalty_;
};

}  // namespace clb
