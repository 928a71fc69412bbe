#pragma once
// Intervals for published tables (clbench sweep): a mean over seeds with its 95% Student-t
// interval, and the paired difference of two methods run on the same seeds.
#include <vector>

namespace clb {

// mean ± half_width covers the true mean with 95% probability when the values are independent
// draws from a normal distribution. half_width is NaN below 2 values (no spread is known).
struct Interval {
  double mean = 0, half_width = 0;
  int n = 0;
};

// The 97.5% quantile of Student's t with `df` >= 1 degrees of freedom (12.706 at 1, 1.960 as df
// grows): the two-sided 95% interval's factor.
double t_quantile_975(int df);

// mean ± t_{0.975, n-1} · s / sqrt(n), s the sample standard deviation.
Interval t_interval95(const std::vector<double>& values);

// The interval of the mean of a[i] - b[i]: a and b measured on the same seeds, so the seed's
// share of the variance cancels (a paired t-interval). Both must have one length.
Interval paired_difference95(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace clb
