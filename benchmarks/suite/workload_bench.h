#pragma once
// Whole-step workloads on random data, timed for `clbench bench` and the benchmark binaries:
//   train       forward + backward + plain SGD update, one minibatch
//   train-ewc   the same with the EWC penalty fused into the update (random F, anchors)
//   fisher      diagonal Fisher over `fisher_passes` minibatches (passes of `batch` rows), the
//               way a task's Fisher is computed: per-call setup is amortised as in real use
#include <string>
#include <vector>

#include "framework/backend/backend.h"
#include "framework/consolidation/fisher.h"
#include "framework/model/mlp.h"

namespace clb {

struct WorkloadConfig {
  std::string workload = "train";
  MlpArch arch;
  int batch = 128;
  FisherEstimator estimator = FisherEstimator::kEmpirical;
  Optimizer optimizer = Optimizer::kSgd;  // train workloads
  int fisher_passes = 16;  // fisher: minibatches per call
  int repeats = 7;
  double seconds_per_repeat = 0.5;
};

struct WorkloadResult {
  std::vector<double> samples_per_s;  // one per repeat
  double median = 0;
};

// One step of the workload, on state set up by the constructor (an Engine, framework/engine/engine.h):
// call step() in a timing loop, then finish().
class Workload {
 public:
  Workload(Backend& be, const WorkloadConfig& cfg);
  ~Workload();
  void step();
  void finish();  // waits until the steps issued so far are done
  int samples_per_step() const { return cfg_.workload == "fisher" ? cfg_.batch * cfg_.fisher_passes : cfg_.batch; }

 private:
  struct State;
  Backend& be_;
  WorkloadConfig cfg_;
  State* s_;
};

WorkloadResult time_workload(Backend& be, const WorkloadConfig& cfg);

}  // namespace clb
