#pragma once
// The model as it was when the last task ended, which LwF and iCaRL distil from: its outputs on a
// step's rows, computed in the shard's scratch workspace (framework/model/output_loss.h).
#include <string>

#include "framework/core/state_archive.h"
#include "framework/model/mlp_passes.h"
#include "framework/model/output_loss.h"

namespace clb {

class PreviousModel {
 public:
  bool empty() const { return model_.params.empty(); }
  void keep(const Mlp& m) { model_ = m; }
  // Its logits for r's rows, (r.rows.B, C), valid until the shard's next use of its scratch.
  const float* logits(const OutputRows& r) const {
    forward(*r.be, view(model_), Batch{r.rows.x, nullptr, r.rows.class_mask, r.rows.B}, r.scratch->buffers());
    return r.scratch->act.back().data();
  }
  void save(StateArchive& a, const std::string& key) const {
    a.put(key + ".arch", model_.arch.str());
    a.put_floats(key + ".params", model_.params);
  }
  void load(const StateArchive& a, const std::string& key, const MlpArch& arch) {
    model_.arch = arch;
    model_.params = a.floats(key + ".params");
    if (!model_.params.empty() && int64_t(model_.params.size()) != arch.num_params())
      a.bad(key + ".params", "does not fit the run's model");
  }

 private:
  Mlp model_;
};

}  // namespace clb
