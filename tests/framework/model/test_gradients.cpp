// Backward pass: the float64 oracle against finite differences, then the product (float32, BLAS)
// path against the oracle on awkward shapes, with and without task-IL logit masks.
#include <gtest/gtest.h>

#include "framework/backend/backend.h"
#include "framework/model/mlp_passes.h"
#include "tests/common/reference_mlp.h"
#include "tests/common/test_helpers.h"

namespace clb::test {
namespace {

TEST(Gradients, OracleMatchesFiniteDifferences) {
  Mlp m(MlpArch::parse("5-7-6-3"), 3);
  auto tasks = random_tasks(1, 5, 3, 11);
  const float* x = tasks[0].train->row(0);
  const int y = tasks[0].train->y[0];
  const auto g = ref_sample_grad(m, x, y);
  for (int64_t k = 0; k < m.arch.num_params(); ++k) {
    // Central difference with h = 1e-3 on a float parameter: O(h^2) ~ 1e-6 truncation error, and
    // the step is measured as the float values actually stored.
    const float orig = m.params[k];
    m.params[k] = orig + 1e-3f;
    const double up = ref_loss(m, x, y), hi = m.params[k];
    m.params[k] = orig - 1e-3f;
    const double down = ref_loss(m, x, y), lo = m.params[k];
    m.params[k] = orig;
    const double fd = (up - down) / (hi - lo);
    EXPECT_NEAR(g[k], fd, 1e-5 + 1e-4 * std::abs(fd)) << "param " << k;
  }
}

struct Shape {
  const char* arch;
  int B;
  bool masked;
};

class GradientShapes : public ::testing::TestWithParam<Shape> {};

TEST_P(GradientShapes, BatchGradientMatchesOracle) {
  const Shape s = GetParam();
  const MlpArch arch = MlpArch::parse(s.arch);
  Mlp m(arch, 7);
  const int C = arch.num_outputs();
  std::vector<uint8_t> mask;
  if (s.masked) {
    mask.assign(C, 0);
    mask[0] = mask[C - 1] = 1;
  }
  auto tasks = random_tasks(s.B, arch.input_dim(), C, 5, mask);
  auto refs = sample_refs(tasks[0], Split::kTrain);
  BatchBuffers buf;
  gather(tasks, Split::kTrain, refs.data(), s.B, C, buf);
  auto be = make_backend("cpu");
  MlpWorkspace ws(arch, s.B);
  std::vector<float> grad(arch.num_params());
  const double loss = compute_gradients(*be, m, buf.batch, ws, grad.data()) / s.B;

  std::vector<double> want(arch.num_params(), 0.0);
  double want_loss = 0;
  for (int i = 0; i < s.B; ++i) {
    const uint8_t* mk = s.masked ? mask.data() : nullptr;
    const auto g = ref_sample_grad(m, buf.x.data() + int64_t(i) * arch.input_dim(), buf.y[i], mk);
    for (size_t k = 0; k < g.size(); ++k) want[k] += g[k] / s.B;
    want_loss += ref_loss(m, buf.x.data() + int64_t(i) * arch.input_dim(), buf.y[i], mk) / s.B;
  }
  // fp32 GEMMs with reductions of at most a few hundred terms: rtol 1e-4 (README, "Tests"), plus an
  // absolute floor of 1e-5 of the largest entry for entries that cancel to near zero.
  expect_close(grad, want, 1e-4, 1e-5, "grad");
  EXPECT_NEAR(loss, want_loss, 1e-5 * std::max(1.0, want_loss));
}

INSTANTIATE_TEST_SUITE_P(Awkward, GradientShapes,
                         ::testing::Values(Shape{"1-3-2", 1, false}, Shape{"31-17-5", 31, false},
                                           Shape{"31-17-5", 31, true}, Shape{"257-33-10", 257, false},
                                           Shape{"257-33-10", 7, true}, Shape{"13-9-9-9-6", 257, false}),
                         [](const auto& info) {
                           return arch_name(info.param.arch) + "_B" + std::to_string(info.param.B) +
                                  (info.param.masked ? "_masked" : "");
                         });

}  // namespace
}  // namespace clb::test
