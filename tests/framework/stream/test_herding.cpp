// iCaRL's herding and nearest-mean-of-exemplars classifier (framework/stream/herding.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "framework/stream/herding.h"

namespace clb {
namespace {

// n x dim Gaussian rows, unit-normalised; with `duplicates`, some rows copy earlier ones so that
// exact ties occur (and must go to the lower index).
std::vector<float> random_rows(std::mt19937_64& rng, int64_t n, int dim, bool duplicates) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(size_t(n) * dim);
  for (float& v : x) v = normal(rng);
  l2_normalize_rows(x.data(), n, dim);
  if (duplicates)
    for (int64_t i = 3; i < n; i += 4) std::copy_n(&x[size_t(i - 3) * dim], dim, &x[size_t(i) * dim]);
  return x;
}

// Algorithm 4 written out literally, in double: every pick recomputes mu, the sum of the rows
// picked so far and each unpicked row's || mu - (1/k) (phi(p) + sum) || from scratch. Distances
// within 1e-12 of the least are ties (the lowest index): rows that tie exactly (duplicates; in
// dim 1 every row is +1 or -1) differ here by the rounding of mu and 1/k, far below any real gap.
std::vector<int32_t> herding_reference(const std::vector<float>& x, int64_t n, int dim, int m) {
  std::vector<int32_t> picks;
  std::vector<bool> picked(size_t(n), false);
  for (int64_t k = 1; k <= std::min<int64_t>(m, n); ++k) {
    std::vector<double> mu(size_t(dim), 0.0), sum(size_t(dim), 0.0);
    for (int64_t i = 0; i < n; ++i)
      for (int j = 0; j < dim; ++j) mu[j] += x[size_t(i) * dim + j];
    for (double& v : mu) v /= double(n);
    for (int32_t p : picks)
      for (int j = 0; j < dim; ++j) sum[j] += x[size_t(p) * dim + j];
    std::vector<double> dist(size_t(n), std::numeric_limits<double>::infinity());
    double least = std::numeric_limits<double>::infinity();
    for (int64_t p = 0; p < n; ++p) {
      if (picked[p]) continue;
      double sq = 0;
      for (int j = 0; j < dim; ++j) {
        const double e = mu[j] - (1.0 / double(k)) * (double(x[size_t(p) * dim + j]) + sum[j]);
        sq += e * e;
      }
      dist[p] = std::sqrt(sq);
      least = std::min(least, dist[p]);
    }
    int64_t best = 0;
    while (picked[best] || dist[best] > least + 1e-12) ++best;
    picked[best] = true;
    picks.push_back(int32_t(best));
  }
  return picks;
}

TEST(Herding, MatchesBruteForceReference) {
  std::mt19937_64 rng(20170101);
  int cases = 0;
  for (int64_t n : {1, 7, 31, 64})
    for (int dim : {1, 3, 17})
      for (int m : {1, 5, int(n), int(n) + 3})
        for (bool duplicates : {false, true}) {
          const std::vector<float> x = random_rows(rng, n, dim, duplicates);
          EXPECT_EQ(herding_select(x.data(), n, dim, m), herding_reference(x, n, dim, m))
              << "n=" << n << " dim=" << dim << " m=" << m << " duplicates=" << duplicates;
          ++cases;
        }
  EXPECT_EQ(cases, 96);
}

// Four unit vectors in 2-D:
//   p0 = (1, 0)   p1 = (0.6, 0.8)   p2 = (0.6, -0.8)   p3 = (-1, 0)
// mu = (0.3, 0). With t_k = k mu - (sum of the picks before), the k-th pick minimises ||t_k - p||
// (squared distances below):
//   k=1  t = (0.3, 0):   p0 0.49, p1 p2 0.73, p3 1.69    -> p0 (nearest to the mean)
//   k=2  t = (-0.4, 0):  p1 p2 1.64, p3 0.36             -> p3 (balances p0's overshoot, though
//                                                            it is the row farthest from mu)
//   k=3  t = (0.9, 0):   p1 p2 0.73, an exact tie         -> p1 (the lower index)
//   k=4                                                  -> p2
TEST(Herding, HandMadeCase) {
  const std::vector<float> x = {1.0f, 0.0f, 0.6f, 0.8f, 0.6f, -0.8f, -1.0f, 0.0f};
  EXPECT_EQ(herding_select(x.data(), 4, 2, 4), (std::vector<int32_t>{0, 3, 1, 2}));
  EXPECT_EQ(herding_select(x.data(), 4, 2, 2), (std::vector<int32_t>{0, 3}));  // a prefix of the full order
  EXPECT_EQ(herding_reference(x, 4, 2, 4), (std::vector<int32_t>{0, 3, 1, 2}));
}

TEST(Herding, PicksAreDistinctAndInRange) {
  std::mt19937_64 rng(7);
  for (int64_t n : {1, 2, 7, 31, 64, 200})
    for (int dim : {1, 3, 17})
      for (int m : {1, 5, int(n) / 2, int(n) - 1, int(n), int(n) + 3, 10 * int(n)}) {
        if (m < 1) continue;
        const std::vector<float> x = random_rows(rng, n, dim, true);
        const std::vector<int32_t> picks = herding_select(x.data(), n, dim, m);
        ASSERT_EQ(int64_t(picks.size()), std::min<int64_t>(m, n)) << "n=" << n << " m=" << m;
        std::vector<int32_t> sorted = picks;
        std::sort(sorted.begin(), sorted.end());
        EXPECT_TRUE(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end()) << "n=" << n << " m=" << m;
        EXPECT_GE(sorted.front(), 0);
        EXPECT_LT(sorted.back(), n);
        if (m >= n) {
          std::vector<int32_t> all(static_cast<size_t>(n));
          std::iota(all.begin(), all.end(), 0);
          EXPECT_EQ(sorted, all) << "n=" << n << " m=" << m;
        }
      }
  // Nothing to pick from, or nothing asked.
  const std::vector<float> x = {1.0f, 0.0f};
  EXPECT_TRUE(herding_select(x.data(), 1, 2, 0).empty());
  EXPECT_TRUE(herding_select(nullptr, 0, 2, 5).empty());
  // A NaN feature (a bug upstream) makes every distance NaN; the picks still stay distinct.
  std::vector<float> bad = random_rows(rng, 9, 3, false);
  bad[4] = std::numeric_limits<float>::quiet_NaN();
  std::vector<int32_t> picks = herding_select(bad.data(), 9, 3, 20);
  std::sort(picks.begin(), picks.end());
  EXPECT_EQ(picks, (std::vector<int32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST(Herding, L2NormalizeRows) {
  std::mt19937_64 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int dim = 17;
  const std::vector<float> scales = {1e-30f, 1e-6f, 1.0f, 1e6f, 1e30f};
  const int64_t n = int64_t(scales.size()) + 1;
  std::vector<float> x(size_t(n) * dim, 0.0f), before;
  for (size_t i = 0; i < scales.size(); ++i)
    for (int j = 0; j < dim; ++j) x[i * dim + j] = scales[i] * normal(rng);
  // the last row is zero
  before = x;
  l2_normalize_rows(x.data(), n, dim);
  for (int64_t i = 0; i + 1 < n; ++i) {
    double sq = 0, dot = 0, before_sq = 0;
    for (int j = 0; j < dim; ++j) {
      const double v = x[size_t(i) * dim + j], b = before[size_t(i) * dim + j];
      sq += v * v;
      dot += v * b;
      before_sq += b * b;
    }
    EXPECT_NEAR(std::sqrt(sq), 1.0, 1e-6) << "scale " << scales[size_t(i)];
    EXPECT_NEAR(dot / std::sqrt(before_sq), 1.0, 1e-6) << "scale " << scales[size_t(i)];  // same direction
  }
  for (int j = 0; j < dim; ++j) EXPECT_EQ(x[size_t(n - 1) * dim + j], 0.0f);

  std::vector<float> one = {3.0f, -4.0f};
  l2_normalize_rows(one.data(), 1, 2);
  EXPECT_FLOAT_EQ(one[0], 0.6f);
  EXPECT_FLOAT_EQ(one[1], -0.8f);
}

// Class means on the unit circle: c0 = (1, 0), c1 = (0, 1), c2 = (-1, 0), c3 = (0, -1).
TEST(Herding, NearestMeanClass) {
  const std::vector<float> means = {1, 0, 0, 1, -1, 0, 0, -1};
  const uint8_t all4[] = {1, 1, 1, 1};
  const float f[] = {0.9f, 0.2f};  // nearest c0, then c1, then c3, then c2
  EXPECT_EQ(nearest_mean_class(f, 2, means.data(), all4, nullptr, 4), 0);
  EXPECT_EQ(nearest_mean_class(f, 2, means.data(), all4, all4, 4), 0);

  const uint8_t no_c0[] = {0, 1, 1, 1};
  EXPECT_EQ(nearest_mean_class(f, 2, means.data(), no_c0, nullptr, 4), 1);  // c0 has no mean
  const uint8_t only_c2_c3[] = {0, 0, 1, 1};
  EXPECT_EQ(nearest_mean_class(f, 2, means.data(), all4, only_c2_c3, 4), 3);  // c0, c1 not allowed
  const uint8_t only_c2[] = {0, 0, 1, 0};
  EXPECT_EQ(nearest_mean_class(f, 2, means.data(), all4, only_c2, 4), 2);
  EXPECT_EQ(nearest_mean_class(f, 2, means.data(), only_c2, only_c2_c3, 4), 2);  // both masks at once

  // Nothing predictable: no means, nothing allowed, masks that do not overlap, no classes.
  const uint8_t none[] = {0, 0, 0, 0};
  const uint8_t only_c0_c1[] = {1, 1, 0, 0};
  EXPECT_EQ(nearest_mean_class(f, 2, means.data(), none, nullptr, 4), -1);
  EXPECT_EQ(nearest_mean_class(f, 2, means.data(), all4, none, 4), -1);
  EXPECT_EQ(nearest_mean_class(f, 2, means.data(), only_c0_c1, only_c2_c3, 4), -1);
  EXPECT_EQ(nearest_mean_class(f, 2, nullptr, nullptr, nullptr, 0), -1);

  // (1, 1) is as near to c0 as to c1: the lower class.
  const float tie[] = {1.0f, 1.0f};
  EXPECT_EQ(nearest_mean_class(tie, 2, means.data(), all4, nullptr, 4), 0);
  EXPECT_EQ(nearest_mean_class(tie, 2, means.data(), no_c0, nullptr, 4), 1);

  // A zero feature is as near to every unit mean; a NaN one to none: the lowest predictable class.
  const float zero[] = {0.0f, 0.0f};
  const float nan[] = {std::numeric_limits<float>::quiet_NaN(), 0.0f};
  EXPECT_EQ(nearest_mean_class(zero, 2, means.data(), no_c0, nullptr, 4), 1);
  EXPECT_EQ(nearest_mean_class(nan, 2, means.data(), all4, only_c2_c3, 4), 2);
}

// The feature is normalised before it is compared: its scale does not change the answer, and the
// input is not modified. (With unit means, ||f - c||^2 = |f|^2 - 2 f.c + 1 ranks classes by f.c
// alone, which no positive scale changes; the scale check holds the implementation to that in
// floating point.)
TEST(Herding, NearestMeanClassIgnoresFeatureScale) {
  std::mt19937_64 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int dim = 5, classes = 6;
  std::vector<float> means(size_t(classes) * dim);
  for (float& v : means) v = normal(rng);
  l2_normalize_rows(means.data(), classes, dim);
  const std::vector<uint8_t> has(size_t(classes), 1);
  for (int t = 0; t < 200; ++t) {
    std::vector<float> f(dim);
    for (float& v : f) v = normal(rng);
    const std::vector<float> copy = f;
    const int32_t base = nearest_mean_class(f.data(), dim, means.data(), has.data(), nullptr, classes);
    EXPECT_EQ(f, copy);  // the input is left as it is
    ASSERT_GE(base, 0);
    for (float s : {1e-20f, 1e-3f, 0.5f, 7.0f, 1e4f, 1e20f}) {
      std::vector<float> g = f;
      for (float& v : g) v *= s;
      EXPECT_EQ(nearest_mean_class(g.data(), dim, means.data(), has.data(), nullptr, classes), base)
          << "trial " << t << " scale " << s;
    }
  }
}

// The distance is to the normalised feature, not the raw one. Only rows that are not unit can
// show it (outside the contract, a probe of it): with "means" (1, 0) and (0.2, 0), the raw
// feature (0.1, 0) is nearer the second (0.01 against 0.81), its normalisation (1, 0) the first.
TEST(Herding, NearestMeanClassUsesTheNormalisedFeature) {
  const float means[] = {1.0f, 0.0f, 0.2f, 0.0f};
  const uint8_t has[] = {1, 1};
  const float f[] = {0.1f, 0.0f};
  EXPECT_EQ(nearest_mean_class(f, 2, means, has, nullptr, 2), 0);
}

}  // namespace
}  // namespace clb
