#include "framework/stream/task_detector.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "framework/core/error.h"

namespace clb {

namespace {

// |a - b|^2 / dim.
double mean_sq_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double d = 0;
  for (size_t j = 0; j < a.size(); ++j) d += (a[j] - b[j]) * (a[j] - b[j]);
  return d / double(a.size());
}

}  // namespace

void add_feature_sums(const float* x, int64_t rows, std::vector<double>& sums) {
  const size_t dim = sums.size();
  for (int64_t i = 0; i < rows; ++i)
    for (size_t j = 0; j < dim; ++j) sums[j] += x[size_t(i) * dim + j];
}

InputShiftDetector::InputShiftDetector(int dim, const DetectorConfig& cfg) : dim_(dim), cfg_(cfg), mu_(size_t(dim), 0.0) {
  CLB_ASSERT(dim > 0 && cfg.warmup >= 2);
}

void InputShiftDetector::start_segment(const std::vector<double>& batch_mean, bool by_loss) {
  if (id_ >= 0) signatures_[size_t(id_)] = mu_, signature_batches_[size_t(id_)] = n_;  // the ending segment's
  split_from_ = id_, opened_by_loss_ = by_loss;
  mu_ = batch_mean;
  n_ = 1, d_sum_ = 0, m_ = 0, m_min_ = 0, id_ = -1;
  loss_n_ = 0, loss_level_ = 0, lm_ = 0, lm_min_ = 0;
}

bool InputShiftDetector::observe_loss(double loss) {
  // A short batch's mean loss is too noisy to compare (a task's last batch): not looked at.
  if (!std::isfinite(loss) || n_ == 0 || 2 * last_B_ < largest_B_) return false;
  if (loss_n_ >= 1 && n_ >= cfg_.warmup) {
    // Against the recent loss level (an average over the last few batches): the segment's mean
    // would still carry the high losses of its first batches.
    // Near-zero losses (a 2-way task-IL head once learnt) make ratios noise: below the floor the
    // level counts as the floor.
    const double r = loss / std::max(loss_level_, cfg_.loss_floor);
    lm_ += r - 1.0 - cfg_.loss_delta;
    lm_min_ = std::min(lm_min_, lm_);
    if (lm_ - lm_min_ > cfg_.loss_lambda) {
      // The batch that showed it opens the new segment: undo its share of the old one's mean.
      start_segment(last_mean_, true);
      return true;
    }
  }
  loss_level_ = loss_n_ == 0 ? loss : loss_level_ + 0.3 * (loss - loss_level_);
  ++loss_n_;
  return false;
}

std::vector<int> InputShiftDetector::matches(const std::vector<double>& mean, int64_t batches) const {
  std::vector<std::pair<double, int>> near;
  auto consider = [&](int id, const std::vector<double>& sig, int64_t sig_batches) {
    const double d = largest_B_ * mean_sq_diff(mean, sig);  // in the units of the segment's noise (d_b)
    // Two means of one distribution over n1 and n2 batches differ by about noise (1/n1 + 1/n2).
    const double unit = batches > 0 ? noise_ * (1.0 / double(batches) + 1.0 / double(sig_batches)) : noise_;
    if (d < cfg_.recognise * unit) near.emplace_back(d, id);
  };
  for (size_t k = 0; k < signatures_.size(); ++k)
    if (int(k) != id_) consider(int(k), signatures_[k], signature_batches_[k]);
  if (id_ >= 0) consider(id_, mu_, n_);  // the running segment: its signature is not stored yet
  std::sort(near.begin(), near.end());
  std::vector<int> ids;
  for (const auto& [d, id] : near) ids.push_back(id);
  return ids;
}

double InputShiftDetector::segment_noise() const { return std::max(d_sum_ / double(n_ - 1), 1e-30); }

void InputShiftDetector::identify() {
  noise_ = segment_noise();
  // An old identity only when the inputs single it out: in the batch noise's units after an input
  // shift, in the two means' sampling noise after a loss jump; never, after a loss jump, the
  // identity this segment was split from (DetectorConfig: the rules and why).
  const std::vector<int> near = opened_by_loss_ ? matches(mu_, n_) : matches(mu_);
  if (near.size() == 1 && !(opened_by_loss_ && near[0] == split_from_)) {
    id_ = near[0];
  } else {
    id_ = int(signatures_.size());
    signatures_.push_back(mu_);
    signature_batches_.push_back(n_);
  }
  identified_now_ = true;
}

int InputShiftDetector::recognise(const std::vector<double>& mean) const {
  const std::vector<int> near = matches(mean);
  return near.size() == 1 ? near[0] : -1;
}

bool InputShiftDetector::observe(const float* x, int B) {
  CLB_ASSERT(B > 0);
  identified_now_ = false;
  std::vector<double> mean(size_t(dim_), 0.0);
  add_feature_sums(x, B, mean);
  for (double& v : mean) v /= B;
  last_mean_ = mean;
  last_B_ = B;
  largest_B_ = std::max(largest_B_, B);
  if (n_ == 0) {
    start_segment(mean, false);
    return false;  // the stream's first batch starts the first segment: not a boundary
  }
  // Times B: the noise of a batch mean scales as 1/B, so short batches (a task's last) compare.
  const double d = B * mean_sq_diff(mean, mu_);
  // Page-Hinkley on d relative to the segment's mean d (from the second batch on).
  if (n_ >= 2) {
    const double r = d / segment_noise();
    m_ += r - 1.0 - cfg_.delta;
    m_min_ = std::min(m_min_, m_);
    if (n_ >= cfg_.warmup && m_ - m_min_ > cfg_.lambda) {
      start_segment(mean, false);
      return true;
    }
  }
  d_sum_ += d;
  ++n_;
  for (int j = 0; j < dim_; ++j) mu_[size_t(j)] += (mean[size_t(j)] - mu_[size_t(j)]) / double(n_);
  if (n_ == cfg_.warmup) identify();
  return false;
}

DetectionStats score_detections(const std::vector<int64_t>& truth, const std::vector<int64_t>& detected,
                                int64_t total_batches, int64_t window, int64_t lead) {
  DetectionStats s;
  std::vector<bool> used(detected.size(), false);
  double delay_sum = 0;
  for (size_t t = 0; t < truth.size(); ++t) {
    const int64_t from = std::max(truth[t] - lead, t > 0 ? truth[t - 1] + 1 : int64_t(0));
    const int64_t to = std::min(truth[t] + window, t + 1 < truth.size() ? truth[t + 1] - lead : total_batches);
    bool found = false;
    for (size_t k = 0; k < detected.size() && !found; ++k)
      if (!used[k] && detected[k] >= from && detected[k] < to) {
        used[k] = true, found = true;
        delay_sum += double(detected[k] - truth[t]);
      }
    found ? ++s.found : ++s.missed;
  }
  s.false_alarms = int64_t(std::count(used.begin(), used.end(), false));
  s.mean_delay = s.found ? delay_sum / double(s.found) : 0;
  s.false_alarms_per_1000 = total_batches ? 1000.0 * double(s.false_alarms) / double(total_batches) : 0;
  s.missed_per_1000 = total_batches ? 1000.0 * double(s.missed) / double(total_batches) : 0;
  return s;
}

double task_id_accuracy(const std::vector<int>& truth, const std::vector<int>& assigned) {
  CLB_ASSERT(truth.size() == assigned.size());
  if (truth.empty()) return 0;
  std::vector<int> first_truth_of;  // by assigned identity: the true task of its first segment
  std::vector<int> seen_truth;
  int right = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    const int a = assigned[i];
    const bool truth_seen = std::find(seen_truth.begin(), seen_truth.end(), truth[i]) != seen_truth.end();
    if (a >= int(first_truth_of.size())) {  // called new
      first_truth_of.resize(size_t(a) + 1, -1);
      first_truth_of[size_t(a)] = truth[i];
      right += !truth_seen;
    } else {
      right += first_truth_of[size_t(a)] == truth[i];
    }
    if (!truth_seen) seen_truth.push_back(truth[i]);
  }
  return double(right) / double(truth.size());
}

void InputShiftDetector::save(StateArchive& a, const std::string& key) const {
  a.put_doubles(key + ".mu", mu_);
  a.put_doubles(key + ".last_mean", last_mean_);
  a.put_doubles(key + ".scalars", {d_sum_, m_, m_min_, loss_level_, lm_, lm_min_, noise_});
  a.put(key + ".counts",
        std::vector<int64_t>{n_, last_B_, largest_B_, loss_n_, id_, identified_now_, opened_by_loss_, split_from_});
  a.put(key + ".identities", int64_t(signatures_.size()));
  for (size_t i = 0; i < signatures_.size(); ++i) a.put_doubles(key + ".signature." + std::to_string(i), signatures_[i]);
  a.put(key + ".signature_batches", signature_batches_);
}

void InputShiftDetector::load(const StateArchive& a, const std::string& key) {
  mu_ = a.doubles(key + ".mu");
  last_mean_ = a.doubles(key + ".last_mean");
  if ((!mu_.empty() && int(mu_.size()) != dim_) || (!last_mean_.empty() && int(last_mean_.size()) != dim_))
    a.bad(key + ".mu", fmt::format("does not hold {} features", dim_));
  const std::vector<double> s = a.doubles(key + ".scalars", 7);
  d_sum_ = s[0], m_ = s[1], m_min_ = s[2], loss_level_ = s[3], lm_ = s[4], lm_min_ = s[5], noise_ = s[6];
  const auto c = a.get<std::vector<int64_t>>(key + ".counts");
  if (c.size() != 8) a.bad(key + ".counts", "does not hold 8 counts");
  n_ = c[0], last_B_ = int(c[1]), largest_B_ = int(c[2]), loss_n_ = c[3], id_ = int(c[4]), identified_now_ = c[5] != 0;
  opened_by_loss_ = c[6] != 0, split_from_ = int(c[7]);
  const int64_t identities = a.get<int64_t>(key + ".identities");
  if (identities < 0 || identities > (1 << 20)) a.bad(key + ".identities", "is not a count of identities");
  if (id_ < -1 || id_ >= identities || split_from_ < -1 || split_from_ >= identities)
    a.bad(key + ".counts", fmt::format("names an identity beyond the {} known", identities));
  signatures_.assign(size_t(identities), {});
  for (size_t i = 0; i < signatures_.size(); ++i) signatures_[i] = a.doubles(key + ".signature." + std::to_string(i), dim_);
  signature_batches_ = a.get<std::vector<int64_t>>(key + ".signature_batches");
  if (signature_batches_.size() != signatures_.size() ||
      std::any_of(signature_batches_.begin(), signature_batches_.end(), [](int64_t n) { return n < 1; }))
    a.bad(key + ".signature_batches", fmt::format("does not hold a positive count for each of the {} identities", identities));
}

}  // namespace clb
