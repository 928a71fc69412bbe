#include "framework/harness/boundary_source.h"

#include <algorithm>

#include "framework/backend/backend.h"
#include "framework/core/error.h"
#include "framework/model/evaluate.h"
#include "framework/stream/task_detector.h"

namespace clb {

namespace {

constexpr int64_t kDetectionWindow = 50;  // batches after a true boundary within which a detection finds it

class GivenBoundaries final : public BoundarySource {
 public:
  explicit GivenBoundaries(int tasks) : tasks_(tasks) {}
  // Each task starts with fresh optimizer state: momentum from the previous task's loss surface
  // would carry the model away from the anchors before the penalty can act.
  bool restarts_at_task(int) const override { return true; }
  // After the last task nothing trains against a new penalty term: nothing to consolidate.
  bool consolidates_at_task_end(int t) const override { return t + 1 < tasks_; }

 private:
  int tasks_;
};

class DetectedBoundaries final : public BoundarySource {
 public:
  DetectedBoundaries(const RunConfig& cfg, const Scenario& sc, const Mlp& init, RunResult& r)
      : cfg_(cfg), sc_(sc), model_(init), r_(r), detector_(sc.input_dim, cfg.detector),
        masked_(has_class_masks(sc.tasks)) {}

  bool restarts_at_task(int t) const override { return t == 0; }
  bool consolidates_at_task_end(int) const override { return false; }
  bool watches_losses() const override { return true; }

  // The detector sees each batch before it is trained on.
  std::optional<Boundary> before_batch(int t, const SampleRef* refs, int B) override {
    if (t != task_) {
      if (t > 0) r_.detection.true_boundaries.push_back(batch_);
      task_ = t;
    }
    gather(sc_.tasks, Split::kTrain, refs, B, model_.arch.num_outputs(), observed_);
    std::optional<Boundary> found;
    if ((fired_ = detector_.observe(observed_.x.data(), B))) {
      r_.detection.detected_boundaries.push_back(batch_);
      found = Boundary{std::exchange(segment_, {})};
    }
    segment_.insert(segment_.end(), refs, refs + B);
    if (detector_.identified_now()) {
      const Task& task = sc_.tasks[size_t(t)];
      r_.detection.segment_truth.push_back(task.identity >= 0 ? task.identity : t);
      r_.detection.segment_identity.push_back(detector_.identity());
      // The head of an identity: the class mask of the task trained when it was first given.
      if (detector_.identity() == int(identity_mask_.size())) identity_mask_.push_back(task.class_mask);
    }
    return found;
  }

  // The loss of the batch just trained on, measured before its update.
  std::optional<Boundary> after_batch(const std::vector<double>& losses, int B) override {
    const int64_t batch = batch_++;
    if (fired_ || losses.empty() || !detector_.observe_loss(losses.back())) return {};
    // This batch opened the new task: the old one's samples are the segment before it.
    r_.detection.detected_boundaries.push_back(batch);
    std::vector<SampleRef> opening(segment_.end() - B, segment_.end());
    segment_.resize(segment_.size() - size_t(B));
    return Boundary{std::exchange(segment_, std::move(opening))};
  }

  // Task-IL without task labels at test time: each test set is evaluated with the head (class
  // mask) of the identities its inputs match, when they all have the same one (two identities of
  // one task: a segment the loss split off); all classes compete when none matches (before any
  // training) or the matches have different heads (the inputs cannot say which).
  std::optional<std::vector<double>> evaluate(Engine& engine, int trained, std::vector<double>* loss) override {
    if (!masked_) return {};
    engine.read_params(model_.params);
    if (!host_) host_ = make_backend("cpu");
    const int T = int(sc_.tasks.size());
    std::vector<Task> picked = sc_.tasks;
    std::vector<double> acc(static_cast<size_t>(T));
    loss->assign(size_t(T), 0.0);
    BatchBuffers buf;
    for (int j = 0; j < T; ++j) {
      const auto refs = sample_refs(sc_.tasks[size_t(j)], Split::kTest);
      std::vector<double> mean(size_t(sc_.input_dim), 0.0);
      for (size_t start = 0; start < refs.size(); start += 1024) {
        const int n = int(std::min<size_t>(1024, refs.size() - start));
        gather(sc_.tasks, Split::kTest, refs.data() + start, n, model_.arch.num_outputs(), buf);
        add_feature_sums(buf.x.data(), n, mean);
      }
      for (double& v : mean) v /= double(std::max<size_t>(refs.size(), 1));
      picked[size_t(j)].class_mask = head_of(detector_.matches(mean));
      if (j < trained) {  // a task not trained yet has no head to pick
        ++r_.detection.heads_picked;
        r_.detection.heads_right += picked[size_t(j)].class_mask == sc_.tasks[size_t(j)].class_mask;
      }
      acc[size_t(j)] = clb::evaluate(*host_, model_, picked, j, cfg_.eval_batch, &r_.eval_samples, &(*loss)[size_t(j)]);
    }
    return acc;
  }

  void save_state(StateArchive& a) const override {
    detector_.save(a, "boundaries.detector");
    std::vector<int32_t> task(segment_.size()), row(segment_.size());
    for (size_t i = 0; i < segment_.size(); ++i) task[i] = segment_[i].task, row[i] = segment_[i].row;
    a.put("boundaries.segment.task", task);
    a.put("boundaries.segment.row", row);
    a.put("boundaries.position", std::vector<int64_t>{batch_, task_, fired_});
    a.put("boundaries.identity_masks", identity_mask_);
  }
  void load_state(const StateArchive& a) override {
    detector_.load(a, "boundaries.detector");
    const auto task = a.get<std::vector<int32_t>>("boundaries.segment.task");
    const auto row = a.get<std::vector<int32_t>>("boundaries.segment.row");
    if (task.size() != row.size()) a.bad("boundaries.segment", "has lists of different lengths");
    segment_.resize(task.size());
    for (size_t i = 0; i < task.size(); ++i) {
      if (task[i] < 0 || task[i] >= int32_t(sc_.tasks.size()) || row[i] < 0 ||
          row[i] >= sc_.tasks[size_t(task[i])].train->n)
        a.bad("boundaries.segment", fmt::format("names row {} of task {}, which this run does not have", row[i], task[i] + 1));
      segment_[i] = SampleRef{task[i], row[i]};
    }
    const auto pos = a.get<std::vector<int64_t>>("boundaries.position");
    if (pos.size() != 3) a.bad("boundaries.position", "does not hold 3 numbers");
    batch_ = pos[0], task_ = int(pos[1]), fired_ = pos[2] != 0;
    identity_mask_ = a.get<std::vector<std::vector<uint8_t>>>("boundaries.identity_masks");
    for (const auto& mask : identity_mask_)
      if (!mask.empty() && int(mask.size()) != model_.arch.num_outputs())
        a.bad("boundaries.identity_masks", fmt::format("holds a mask of {} classes for a model of {} outputs",
                                                       mask.size(), model_.arch.num_outputs()));
  }

  // The head all of `ids` share; none (all classes) when they are none or differ.
  std::vector<uint8_t> head_of(const std::vector<int>& ids) const {
    for (int id : ids)
      if (id >= int(identity_mask_.size()) || identity_mask_[size_t(id)] != identity_mask_[size_t(ids[0])]) return {};
    return ids.empty() ? std::vector<uint8_t>{} : identity_mask_[size_t(ids[0])];
  }

  void finish(int batch_size) override {
    // A blurry boundary may be found while the mix is still rising: up to half its width early.
    const int64_t lead = (cfg_.blurry_width / 2 + batch_size - 1) / batch_size;
    r_.detection.scores = score_detections(r_.detection.true_boundaries, r_.detection.detected_boundaries, batch_,
                                           kDetectionWindow, lead);
    r_.detection.task_id_accuracy = task_id_accuracy(r_.detection.segment_truth, r_.detection.segment_identity);
  }

 private:
  const RunConfig& cfg_;
  const Scenario& sc_;
  Mlp model_;
  RunResult& r_;
  InputShiftDetector detector_;
  bool masked_;
  std::unique_ptr<Backend> host_;
  std::vector<SampleRef> segment_;  // the samples since the last boundary
  BatchBuffers observed_;
  int64_t batch_ = 0;               // global index of the next batch
  int task_ = -1;
  bool fired_ = false;              // the input channel fired on the current batch
  std::vector<std::vector<uint8_t>> identity_mask_;
};

}  // namespace

std::unique_ptr<BoundarySource> make_boundary_source(const RunConfig& cfg, const Scenario& sc, const Mlp& init,
                                                     const std::string& learner, bool needs_boundaries,
                                                     RunResult& result) {
  if (!cfg.detect_boundaries) return std::make_unique<GivenBoundaries>(int(sc.tasks.size()));
  if (needs_boundaries)
    fail_setting("@task_boundaries detect: {} trains on every task seen so far, which needs the boundaries; run it "
                 "with @task_boundaries given",
         learner);
  return std::make_unique<DetectedBoundaries>(cfg, sc, init, result);
}

}  // namespace clb
