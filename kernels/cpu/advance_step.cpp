#include "kernels/cpu/cpu_ops.h"

namespace clb::cpu {

void advance_step(const AdvanceStepArgs& a) {
  double sum = 0.0;
  for (int i = 0; i < a.B; ++i) sum += a.loss[i];
  StepCounters& c = *a.counters;
  a.loss_log[c.logged] = sum / a.B;
  c.logged += 1;
  c.offset += a.B;
  c.steps_done += 1;
}

}  // namespace clb::cpu
