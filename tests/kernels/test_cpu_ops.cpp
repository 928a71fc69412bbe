// The CPU ops one by one against float64 loops, on awkward shapes (1, 31, 257; not multiples of
// 4 or 8), with task-IL class masks where the op takes them.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "kernels/cpu/cpu_ops.h"
#include "framework/core/rng.h"

namespace clb {
namespace {

std::vector<float> randn(size_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = float(rng.normal());
  return v;
}

struct Dims {
  int B, n_in, n_out;
};
class Ops : public ::testing::TestWithParam<Dims> {};

TEST_P(Ops, LinearForwardWithBiasAndRelu) {
  const auto [B, n_in, n_out] = GetParam();
  const auto x = randn(size_t(B) * n_in, 1), W = randn(size_t(n_out) * n_in, 2), b = randn(n_out, 3);
  for (bool relu : {false, true}) {
    std::vector<float> y(size_t(B) * n_out, -7.0f);  // garbage in y must not leak into the result
    LinearForwardArgs a{x.data(), W.data(), b.data(), y.data(), B, n_in, n_out, relu};
    cpu::linear_forward(a);
    for (int i = 0; i < B; ++i)
      for (int o = 0; o < n_out; ++o) {
        double z = b[o];
        for (int k = 0; k < n_in; ++k) z += double(x[size_t(i) * n_in + k]) * W[size_t(o) * n_in + k];
        if (relu) z = std::max(z, 0.0);
        // fp32 dot products of up to 257 terms: rtol 1e-4 of the sum of |terms| (README, "Tests").
        double mag = std::abs(b[o]);
        for (int k = 0; k < n_in; ++k) mag += std::abs(double(x[size_t(i) * n_in + k]) * W[size_t(o) * n_in + k]);
        ASSERT_NEAR(y[size_t(i) * n_out + o], z, 1e-5 * mag + 1e-6) << i << "," << o;
      }
  }
}

TEST_P(Ops, LinearBackwardWithStackedRowsAndReluMask) {
  const auto [B, n_in, n_out] = GetParam();
  const int K = 3;  // three output deltas per sample share one input row (exact / sampled Fisher)
  auto X = randn(size_t(B) * n_in, 4);
  for (size_t k = 0; k < X.size(); k += 3) X[k] = 0.0f;  // relu zeros: masked in dX
  const auto W = randn(size_t(n_out) * n_in, 5), dY = randn(size_t(B) * K * n_out, 6);
  std::vector<float> dX(size_t(B) * K * n_in);
  LinearBackwardArgs a;
  a.dY = dY.data(), a.X = X.data(), a.W = W.data(), a.dX = dX.data();
  a.B = B, a.n_in = n_in, a.n_out = n_out, a.rows_per_sample = K, a.relu_mask = true;
  cpu::linear_backward(a);
  for (int r = 0; r < B * K; ++r)
    for (int j = 0; j < n_in; ++j) {
      double want = 0, mag = 0;
      for (int o = 0; o < n_out; ++o) {
        want += double(dY[size_t(r) * n_out + o]) * W[size_t(o) * n_in + j];
        mag += std::abs(double(dY[size_t(r) * n_out + o]) * W[size_t(o) * n_in + j]);
      }
      if (X[size_t(r / K) * n_in + j] <= 0.0f) want = 0, mag = 0;
      ASSERT_NEAR(dX[size_t(r) * n_in + j], want, 1e-5 * mag + 1e-7) << r << "," << j;
    }
  // dW and db with a scale (K = 1).
  std::vector<float> dW(size_t(n_out) * n_in), db(n_out);
  LinearBackwardArgs g;
  g.dY = dY.data(), g.X = X.data(), g.W = W.data(), g.dW = dW.data(), g.db = db.data();
  g.B = B, g.n_in = n_in, g.n_out = n_out, g.scale = 0.25f;
  cpu::linear_backward(g);
  for (int o = 0; o < n_out; ++o) {
    double wb = 0, mb = 0;
    for (int i = 0; i < B; ++i) wb += 0.25 * dY[size_t(i) * n_out + o], mb += 0.25 * std::abs(dY[size_t(i) * n_out + o]);
    ASSERT_NEAR(db[o], wb, 1e-5 * mb + 1e-7);
    for (int j = 0; j < n_in; ++j) {
      double w = 0, m = 0;
      for (int i = 0; i < B; ++i) {
        const double t = 0.25 * dY[size_t(i) * n_out + o] * X[size_t(i) * n_in + j];
        w += t, m += std::abs(t);
      }
      ASSERT_NEAR(dW[size_t(o) * n_in + j], w, 1e-5 * m + 1e-7) << o << "," << j;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Awkward, Ops,
                         ::testing::Values(Dims{1, 1, 1}, Dims{31, 17, 5}, Dims{257, 31, 13}, Dims{5, 257, 31}),
                         [](const auto& info) {
                           std::string name = "B";  // appended piece by piece: GCC 12's -Wrestrict misfires on "B" + ...
                           name += std::to_string(info.param.B) + "_in" + std::to_string(info.param.n_in);
                           name += "_out" + std::to_string(info.param.n_out);
                           return name;
                         });

TEST(SoftmaxXent, MaskedRowsMatchDouble) {
  const int B = 31, C = 10;
  const auto z = randn(size_t(B) * C, 7);
  std::vector<int32_t> y(B);
  std::vector<uint8_t> mask(size_t(B) * C, 0);
  for (int i = 0; i < B; ++i) {
    // each row allows classes (i % 5) * 2 and (i % 5) * 2 + 1, like split task-IL; row 0 all
    for (int c = 0; c < C; ++c) mask[size_t(i) * C + c] = i == 0 || c / 2 == i % 5;
    y[i] = (i % 5) * 2 + (i % 2);
  }
  std::vector<float> p(size_t(B) * C), d(size_t(B) * C), loss(B);
  std::vector<int32_t> am(B);
  SoftmaxXentArgs a{z.data(), y.data(), mask.data(), p.data(), d.data(), loss.data(), am.data(), B, C};
  cpu::softmax_xent(a);
  for (int i = 0; i < B; ++i) {
    double zmax = -1e300, sum = 0;
    int best = -1;
    for (int c = 0; c < C; ++c)
      if (mask[size_t(i) * C + c] && z[size_t(i) * C + c] > zmax) zmax = z[size_t(i) * C + c], best = c;
    for (int c = 0; c < C; ++c)
      if (mask[size_t(i) * C + c]) sum += std::exp(double(z[size_t(i) * C + c]) - zmax);
    EXPECT_EQ(am[i], best);
    // Elementwise float32 results of double-accumulated sums: atol 1e-6, rtol 1e-6 (README, "Tests").
    EXPECT_NEAR(loss[i], std::log(sum) - (z[size_t(i) * C + y[i]] - zmax), 1e-6 + 1e-6 * loss[i]);
    for (int c = 0; c < C; ++c) {
      const bool ok = mask[size_t(i) * C + c];
      const double pc = ok ? std::exp(double(z[size_t(i) * C + c]) - zmax) / sum : 0.0;
      EXPECT_NEAR(p[size_t(i) * C + c], pc, 1e-6 + 1e-6 * pc);
      EXPECT_NEAR(d[size_t(i) * C + c], pc - (c == y[i]), 1e-6 + 1e-6 * pc);
      if (!ok) {
        EXPECT_EQ(p[size_t(i) * C + c], 0.0f);  // masked classes get exactly nothing
      }
    }
  }
}

TEST(FisherDiag, StackedRowsSumBeforeTheGemm) {
  const int B = 31, K = 4, n_in = 13, n_out = 7;
  const auto d = randn(size_t(B) * K * n_out, 8), X = randn(size_t(B) * n_in, 9);
  std::vector<float> FW(size_t(n_out) * n_in, 1.0f), Fb(n_out, 1.0f);  // accumulates onto 1
  FisherDiagArgs a{d.data(), X.data(), FW.data(), Fb.data(), B, n_in, n_out, K, 0.5f};
  cpu::fisher_diag(a);
  for (int o = 0; o < n_out; ++o) {
    double fb = 1;
    for (int i = 0; i < B; ++i)
      for (int k = 0; k < K; ++k) fb += 0.5 * d[(size_t(i) * K + k) * n_out + o] * d[(size_t(i) * K + k) * n_out + o];
    EXPECT_NEAR(Fb[o], fb, 1e-5 * fb);  // sums of squares, all positive: rtol 1e-5
    for (int j = 0; j < n_in; ++j) {
      double f = 1;
      for (int i = 0; i < B; ++i)
        for (int k = 0; k < K; ++k) {
          const double g = double(d[(size_t(i) * K + k) * n_out + o]) * X[size_t(i) * n_in + j];
          f += 0.5 * g * g;
        }
      EXPECT_NEAR(FW[size_t(o) * n_in + j], f, 1e-5 * f);
    }
  }
}

// Bytes (image data as the IDX loader holds it) gather as byte / 255.0f: bitwise the gather of their
// float copy, through a pixel map with blanked pixels and without one.
TEST(Gather, BytesMatchTheirFloatCopyBitwise) {
  const int rows_total = 40, dim = 31, B = 17, T = 2;
  Rng rng(5);
  std::vector<uint8_t> table8(size_t(rows_total) * dim);
  for (auto& v : table8) v = uint8_t(rng.below(256));
  table8[0] = 0, table8[1] = 255;
  std::vector<float> table(table8.size());
  for (size_t i = 0; i < table.size(); ++i) table[i] = float(table8[i]) / 255.0f;
  std::vector<int32_t> labels(rows_total), rows(B), tasks(B), maps(size_t(T) * dim);
  for (auto& l : labels) l = int32_t(rng.below(5));
  for (auto& r : rows) r = int32_t(rng.below(rows_total));
  for (auto& t : tasks) t = int32_t(rng.below(T));
  for (auto& m : maps) m = int32_t(rng.below(dim + 1)) - 1;
  rows[0] = 0;
  for (bool mapped : {false, true}) {
    std::vector<float> x8(size_t(B) * dim), x32(x8.size());
    std::vector<int32_t> y8(B), y32(B);
    GatherArgs a;
    a.labels = labels.data(), a.rows = rows.data(), a.tasks = tasks.data();
    a.pixel_maps = mapped ? maps.data() : nullptr, a.B = B, a.dim = dim;
    a.table8 = table8.data(), a.x = x8.data(), a.y = y8.data();
    cpu::gather(a);
    a.table8 = nullptr, a.table = table.data(), a.x = x32.data(), a.y = y32.data();
    cpu::gather(a);
    EXPECT_EQ(std::memcmp(x8.data(), x32.data(), x8.size() * sizeof(float)), 0) << mapped;
    EXPECT_EQ(y8, y32);
    if (!mapped) {
      EXPECT_EQ(x8[1], 1.0f);
    }
  }
}

}  // namespace
}  // namespace clb
