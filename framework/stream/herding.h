#pragma once
// The pure math of iCaRL (Rebuffi et al., CVPR 2017): herding picks a class's exemplars so that
// the mean of the first k of them tracks the class mean for every k (a prefix of the picks is
// itself a good memory, which is why iCaRL can shrink a class's exemplar set by truncation), and
// the nearest-mean-of-exemplars classifier predicts from those means instead of the output layer,
// whose bias towards the newest classes is what iCaRL works around.
// Features are compared on the unit sphere (the paper normalises phi(x) and the means); sums and
// distances in double: a float sum over a few hundred rows can reorder near-equal candidates.
#include <cstdint>
#include <vector>

namespace clb {

// Rows of x (n x dim, row-major) scaled to unit L2 norm in place (a zero row stays zero).
void l2_normalize_rows(float* x, int64_t n, int dim);

// iCaRL's herding (Algorithm 4 of the paper): from n feature rows (already L2-normalised), picks
// m distinct rows in order: mu = mean of all rows; the k-th pick (k = 1..m) is the not-yet-picked
// row p that minimises || mu - (1/k) (phi(p) + sum of the k-1 rows picked before) ||.
// Ties: the lowest index. m > n: all n rows. O(m * n * dim), the running sum kept incrementally.
std::vector<int32_t> herding_select(const float* features, int64_t n, int dim, int m);

// iCaRL's nearest-mean-of-exemplars classifier: the class whose mean (rows of `means`,
// num_classes x dim, each L2-normalised; a class with has_mean[c] == 0 cannot be predicted) is
// nearest to the L2-normalised feature (a normalised copy: `feature` is left as it is); only
// classes with allowed[c] != 0 (allowed null: all). Returns -1 when no class can be predicted.
// Ties: the lowest class.
int32_t nearest_mean_class(const float* feature, int dim, const float* means, const uint8_t* has_mean,
                           const uint8_t* allowed, int num_classes);

}  // namespace clb
