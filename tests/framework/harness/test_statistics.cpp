// The 95% intervals of clbench sweep's tables: the t quantile against published values, the
// interval's arithmetic against a direct float64 computation, and its coverage on normal draws.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "framework/harness/statistics.h"

namespace clb {
namespace {

TEST(Statistics, TQuantileMatchesPublishedTables) {
  // Two-sided 95% critical values of Student's t, as printed to 3 decimals in every table.
  const std::pair<int, double> known[] = {{1, 12.706}, {2, 4.303}, {3, 3.182}, {4, 2.776}, {5, 2.571}, {9, 2.262},
                                          {10, 2.228}, {19, 2.093}, {30, 2.042}, {60, 2.000}, {120, 1.980}};
  for (const auto& [df, t] : known) EXPECT_NEAR(t_quantile_975(df), t, 5e-4) << "df " << df;
  EXPECT_NEAR(t_quantile_975(100000), 1.95996, 1e-4);  // the normal's 97.5% point
}

TEST(Statistics, IntervalIsMeanPlusMinusTTimesStandardError) {
  const std::vector<double> v = {0.81, 0.79, 0.84, 0.80};
  const double mean = (0.81 + 0.79 + 0.84 + 0.80) / 4;
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  const Interval r = t_interval95(v);
  EXPECT_EQ(r.n, 4);
  EXPECT_NEAR(r.mean, mean, 1e-15);
  EXPECT_NEAR(r.half_width, 3.182446 * std::sqrt(ss / 3) / 2, 1e-6);
  const Interval one = t_interval95({0.5});
  EXPECT_EQ(one.mean, 0.5);
  EXPECT_TRUE(std::isnan(one.half_width));  // one seed says nothing about the spread
  EXPECT_TRUE(std::isnan(t_interval95({}).mean));
}

TEST(Statistics, PairedDifferenceCancelsTheSharedSeedEffect) {
  // Each seed shifts both methods alike (an easy or hard draw); b is a + 0.02 up to small noise.
  const std::vector<double> a = {0.60, 0.75, 0.52, 0.68, 0.71};
  const std::vector<double> b = {0.621, 0.769, 0.541, 0.700, 0.729};
  const Interval d = paired_difference95(b, a);
  EXPECT_NEAR(d.mean, 0.02, 1e-3);
  EXPECT_LT(d.half_width, 0.005);  // the paired interval excludes 0 ...
  EXPECT_GT(t_interval95(b).half_width, 0.05);  // ... where the unpaired means overlap widely
}

TEST(Statistics, NinetyFivePercentOfIntervalsCoverTheMean) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal(3.0, 2.0);
  const int trials = 4000;
  int covered = 0;
  for (int t = 0; t < trials; ++t) {
    std::vector<double> v(5);
    for (double& x : v) x = normal(rng);
    const Interval r = t_interval95(v);
    covered += std::abs(r.mean - 3.0) <= r.half_width;
  }
  // Binomial(4000, 0.95): sd 0.34%; 1.2% is 3.5 sd. A z-interval (1.96) would cover only ~88%.
  EXPECT_NEAR(double(covered) / trials, 0.95, 0.012);
}

}  // namespace
}  // namespace clb
