// der++: Dark Experience Replay++ (Buzzega et al., NeurIPS 2020). A reservoir memory keeps each
// sample with the logits the network gave it when it was offered (in the step that trained on it).
// Each step draws two independent minibatches from it and minimises
//   CE(batch) + alpha * MSE(logits of memory rows 1, their stored logits) + beta * CE(memory rows 2)
// with alpha the run's lambda and beta --der-beta
// each term a mean over its own rows, the MSE also over the C outputs (as PyTorch's mse_loss).
#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "framework/consolidation/logit_losses.h"
#include "framework/stream/replay_memory.h"
#include "framework/strategies/strategy.h"

namespace clb {

namespace {

class DerPlusPlus final : public Strategy {
 public:
  explicit DerPlusPlus(const StrategyParams& p) : beta_(p.der_beta) {}
  std::string name() const override { return "der++"; }
  void begin_run(const RunStart& run, EngineConfig& engine) override {
    alpha_ = engine.lambda;  // the run's lambda weighs the logit replay
    C_ = run.init.arch.num_outputs();
    dim_ = run.init.arch.input_dim();
    memory_ = std::make_unique<ReplayMemory>(run.scenario, C_, run.memory, run.seed, C_);
    engine.planned_steps = true;
    engine.memory_batch = 2 * engine.batch;
    draw_ = engine.batch;
    loss_ = [this](const OutputRows& r) { shape(r); };
    plan_.loss = &loss_;
  }
  StepRows before_step(int B) override {
    B_ = B, logit_rows_ = label_rows_ = 0;
    batch_logits_.resize(size_t(B) * C_);
    plan_.join = nullptr;
    if (const Batch* m = memory_->draw(draw_, &logit_draw_)) {
      logit_rows_ = m->B;
      stored_.assign(memory_->drawn_payload(), memory_->drawn_payload() + size_t(m->B) * C_);
      const Batch* l = memory_->draw(draw_, &label_draw_);
      label_rows_ = l->B;
      plan_.join = &join_batches(*m, *l, dim_, C_, rows_);
    }
    return {nullptr, {}, &plan_};
  }
  void after_step(const SampleRef* refs, int B, bool first_epoch) override {
    if (first_epoch) memory_->offer(refs, B, batch_logits_.data());
  }
  int64_t bytes_held() const override { return replay_bytes(); }
  int64_t replay_bytes() const override {  // the samples and their stored logits
    return memory_ ? memory_->buffer().bytes() + memory_->buffer().size() * C_ * int64_t(sizeof(float)) : 0;
  }
  std::string memory_description() const override {
    return memory_ ? memory_->buffer().describe() + fmt::format(", with {} stored logits each", C_) : std::string();
  }
  void save_state(StateArchive& a) const override { memory_->save(a, "strategy.memory"); }
  void load_state(const StateArchive& a) override { memory_->load(a, "strategy.memory"); }

 private:
  // Rows [0, B) the batch (its logits kept for the memory), then the logit rows, then the label
  // rows; every term scaled from the step's mean over all rows to a mean over its own.
  void shape(const OutputRows& r) {
    const float total = float(r.total);
    for (int i = 0; i < r.rows.B; ++i) {
      const int row = r.begin + i;
      const float* z = r.logits + size_t(i) * C_;
      float* d = r.delta + size_t(i) * C_;
      float scale;
      if (row < B_) {
        std::copy_n(z, C_, batch_logits_.begin() + std::ptrdiff_t(size_t(row) * C_));
        scale = total / float(B_);
      } else if (row < B_ + logit_rows_) {
        std::fill_n(d, C_, 0.0f);
        r.loss[i] = float(logit_mse(z, stored_.data() + size_t(row - B_) * C_, C_, alpha_ * total / float(logit_rows_), d));
        continue;
      } else {
        scale = beta_ * total / float(label_rows_);
      }
      for (int c = 0; c < C_; ++c) d[c] *= scale;
      r.loss[i] *= scale;
    }
  }

  float alpha_ = 0, beta_;
  int C_ = 0, dim_ = 0, draw_ = 0, B_ = 0, logit_rows_ = 0, label_rows_ = 0;
  std::unique_ptr<ReplayMemory> memory_;
  BatchBuffers logit_draw_, label_draw_, rows_;  // the two draws, and the two joined
  std::vector<float> stored_, batch_logits_;
  OutputLoss loss_;
  StepPlan plan_;
};

}  // namespace

std::unique_ptr<Strategy> make_der_plus_plus(const StrategyParams& p, int64_t) {
  return std::make_unique<DerPlusPlus>(p);
}

}  // namespace clb
