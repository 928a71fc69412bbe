#pragma once
// Task identification from the stream (issue 5, docs/DESIGN.md §5 and §9): with --task-boundaries detect the
// strategy is not told where tasks begin; this detector watches the inputs and says when the
// stream has moved to another task, and the harness consolidates there (EWC's Fisher on the
// samples since the last boundary, a fresh optimizer).
//
// The signal: each batch's feature mean against the running mean of the current segment,
//   d_b = B |mean(x_b) - mu|^2 / dim,   r_b = d_b / (mean of d over the segment so far)
// Within a task d_b is sampling noise and r_b stays near 1 (a mean of `dim` squared deviations:
// relative spread about sqrt(2/dim)); when the input distribution moves (a new permutation,
// rotation or class pair) d_b jumps by orders of magnitude. A Page-Hinkley test on r_b,
//   m_b = sum over the segment of (r_i - 1 - delta),  fire when m_b - min_i m_i > lambda,
// fires on one large jump or on a run of moderate ones (gradual drift), and never in the first
// `warmup` batches of a segment, whose statistics are still forming. Firing starts a new segment.
// It sees what moves the inputs' mean: a new permutation or rotation of images (pixel means
// differ across an image), new classes. A shift that keeps the mean (new class means around the
// same overall mean, a change of labels only) shows in the loss instead: a second Page-Hinkley
// test on each batch's training loss (measured before its update) relative to its recent level (a
// moving average), which falls while a task is learnt and jumps when the task changes.
#include <cstdint>
#include <string>
#include <vector>

#include "framework/core/state_archive.h"

namespace clb {

// Recurrence: when a segment has seen `warmup` batches its input mean is compared with the
// signatures (input means of their latest segments) of the identities known. The segment is an
// old task again only when its inputs single that task out; else it is a new one. Which channel
// opened the segment decides what the inputs can say:
//  - the input channel (or the stream's start): the inputs moved by many times the batch noise,
//    so a signature within `recognise` times the segment's noise level (its mean d_b) matches.
//    That scale tolerates a segment whose first batches still mix in the old task (blurry).
//  - the loss channel: the inputs did not move, by the detector's own test, so at the batch
//    noise's scale this segment matches the one it was split from and any task of similar
//    inputs. Only the sampling noise of the two means can separate them: a signature matches
//    within `recognise` times noise (1/n1 + 1/n2), n1 and n2 their batches (what two means of one
//    distribution differ by). The identity it was split from never matches: the inputs' match
//    with it is no evidence against the loss, which said the task changed.
// Either way one identity must match, no more: signatures within the threshold of each other
// mean the input mean cannot tell those tasks apart (the drifting mixture: every task has much
// the same mean), and taking the nearer would be a guess. What the input mean cannot see it
// cannot recognise: a task that recurs with the mean of others (or a change of labels only) is
// called new each time, and task-id accuracy counts that as wrong.
struct DetectorConfig {
  int warmup = 8;          // batches of a segment before it may end (tasks shorter than this merge)
  double delta = 1.0;      // tolerated excess of r_b over 1
  double lambda = 20.0;    // Page-Hinkley threshold on the cumulative excess
  double loss_delta = 0.25, loss_lambda = 2.0;  // the same for the loss ratio
  double loss_floor = 0.2;                      // nats: the smallest loss level a ratio is taken to
  double recognise = 4.0;  // signature distance, in units of the segment's noise, that still matches
};

class InputShiftDetector {
 public:
  InputShiftDetector(int dim, const DetectorConfig& cfg = {});
  // Looks at a batch (B rows of dim features) before it is trained on; true when it belongs to a
  // new segment (the detector has then started that segment with this batch).
  bool observe(const float* x, int B);
  // After that batch's step: its loss (before the update). True when the loss says the batch
  // belongs to a new segment (which then starts with it).
  bool observe_loss(double loss);
  int64_t batches_in_segment() const { return n_; }
  // The current segment's task identity (0, 1, ... in order of first appearance), or -1 before
  // its warm-up ends; identified_now() is true on the batch that assigned it.
  int identity() const { return id_; }
  bool identified_now() const { return identified_now_; }
  // The identities whose signatures (the current segment's: its running mean) lie within the
  // recognition threshold of `mean`, the mean of some inputs (a test set), nearest first: at the
  // batch noise's scale, or with `batches` (the batches `mean` averages) at the scale of the
  // sampling noise of two means (see DetectorConfig).
  std::vector<int> matches(const std::vector<double>& mean, int64_t batches = 0) const;
  // The one identity that matches `mean` (see DetectorConfig); -1 when none or several do.
  int recognise(const std::vector<double>& mean) const;
  // True when the current segment was opened by the loss channel (the inputs did not move).
  bool opened_by_loss() const { return opened_by_loss_; }
  // Its statistics under `key` in a checkpoint, and back into a detector with the same settings.
  void save(StateArchive& a, const std::string& key) const;
  void load(const StateArchive& a, const std::string& key);

 private:
  void start_segment(const std::vector<double>& batch_mean, bool by_loss);
  void identify();
  double segment_noise() const;  // mean d_b over the segment so far (n_ >= 2)
  int dim_;
  DetectorConfig cfg_;
  std::vector<double> mu_;  // the segment's running feature mean
  int64_t n_ = 0;           // batches in the segment
  double d_sum_ = 0;        // sum of d_b over the segment (for its mean)
  double m_ = 0, m_min_ = 0;
  std::vector<double> last_mean_;  // the last batch's feature mean
  int last_B_ = 0, largest_B_ = 0;
  int64_t loss_n_ = 0;
  double loss_level_ = 0, lm_ = 0, lm_min_ = 0;  // loss_level_: moving average, weight 0.3
  int id_ = -1;
  bool identified_now_ = false;
  bool opened_by_loss_ = false;  // the loss channel opened the segment (else the input channel or the stream's start)
  int split_from_ = -1;          // the identity of the segment before this one (-1: none)
  double noise_ = 0;  // the noise level (mean d_b) of the latest identified segment
  std::vector<std::vector<double>> signatures_;  // by identity: the input mean of its latest segment
  std::vector<int64_t> signature_batches_;       // and that segment's batches (at its warm-up, if running)
};

// sums[j] += x[i][j] over `rows` rows of sums.size() features: the detector's batch means and the
// harness's test-set means.
void add_feature_sums(const float* x, int64_t rows, std::vector<double>& sums);

// How detected boundaries line up with the true ones (global batch indices where a new task's
// first batch was seen): a true boundary is found when a detection falls from `lead` batches
// before it (blurry streams) to `window` batches after it, between its neighbours; its delay is
// the distance (negative when early); other detections are false alarms.
struct DetectionStats {
  int64_t found = 0, missed = 0, false_alarms = 0;
  double mean_delay = 0;  // batches, over the found boundaries (negative: found early)
  double false_alarms_per_1000 = 0, missed_per_1000 = 0;  // per 1,000 batches of the stream
};
DetectionStats score_detections(const std::vector<int64_t>& truth, const std::vector<int64_t>& detected,
                                int64_t total_batches, int64_t window, int64_t lead = 0);

// Task-id accuracy over identified segments: segment i is right when it was called new and its
// true task had not been seen, or called identity k and the first segment called k had the same
// true task. truth[i] and assigned[i] per segment, in order.
double task_id_accuracy(const std::vector<int>& truth, const std::vector<int>& assigned);

}  // namespace clb
