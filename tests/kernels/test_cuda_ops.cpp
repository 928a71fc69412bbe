// Every CUDA kernel variant against its CPU twin (kernels/cpu/) on awkward shapes. Built only
// with nvcc; every test skips itself where no CUDA device is usable (any error from the runtime).
#ifdef CLB_HAVE_CUDA
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/cpu/cpu_ops.h"
#include "framework/backend/cuda_backend.h"
#include "framework/core/rng.h"
#include "tests/common/gpu_required.h"

namespace clb::cuda {
namespace {

std::vector<float> randn(size_t n, uint64_t seed, float scale = 1.0f) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = scale * float(rng.normal());
  return v;
}

// |got - want| <= rtol * |want| + atol_frac * max|want|, elementwise.
void expect_close(const std::vector<float>& got, const std::vector<float>& want, double rtol, double atol_frac,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double scale = 0;
  for (float w : want) scale = std::max(scale, double(std::abs(w)));
  int bad = 0;
  for (size_t k = 0; k < got.size(); ++k) {
    const double tol = rtol * std::abs(want[k]) + atol_frac * scale + 1e-30;
    if (!(std::abs(double(got[k]) - want[k]) <= tol) && bad++ < 5)
      ADD_FAILURE() << what << "[" << k << "]: gpu " << got[k] << ", cpu " << want[k];
  }
  EXPECT_EQ(bad, 0) << what;
}

struct Shape {
  int B, n_in, n_out;
};
// Edges of every tile size: one element, ragged M/N/K around 32 and 64 (70 x 100 x 68: two
// 64-tiles with a ragged second in M and N and a 4-deep k-tail; 130 x 36 x 132 with K = 3 stacked rows
// in backward: 390 dX rows), and the product shape.
const Shape kShapes[] = {{1, 1, 1},     {31, 17, 5},   {257, 31, 13},   {5, 257, 31},
                         {70, 100, 68}, {130, 36, 132}, {128, 784, 400}};

class CudaOps : public ::testing::TestWithParam<int> {  // GEMM variant: 0 cuBLAS, 1-4 hand-written
 protected:
  void SetUp() override {
    CLB_SKIP_WITHOUT_GPU();
    Variants v;
    v.gemm = GetParam();
    be = make_backend(v);
  }
  std::unique_ptr<Backend> be;
};

// fp32 GEMMs, reductions of up to 784 terms in another order than OpenBLAS: rtol 1e-4 with a
// floor of 1e-5 of the largest entry (README, "Tests"; no TF32 anywhere).
constexpr double kGemmRtol = 1e-4, kGemmAtol = 1e-5;

TEST_P(CudaOps, LinearForward) {
  for (const Shape& s : kShapes)
    for (bool relu : {false, true}) {
      const auto x = randn(size_t(s.B) * s.n_in, 1), W = randn(size_t(s.n_out) * s.n_in, 2), b = randn(s.n_out, 3);
      std::vector<float> y(size_t(s.B) * s.n_out);
      cpu::linear_forward({x.data(), W.data(), b.data(), y.data(), s.B, s.n_in, s.n_out, relu});
      DeviceArray<float> dx(x), dW(W), db(b), dy(y.size());
      be->linear_forward({dx.data(), dW.data(), db.data(), dy.data(), s.B, s.n_in, s.n_out, relu});
      be->synchronize();
      expect_close(dy.download(), y, kGemmRtol, kGemmAtol, "forward B=" + std::to_string(s.B));
    }
}

// Operands one float past a 16-byte boundary (ld % 4 == 0, so only the pointer stops v4's float4
// loads): the scalar fall-back must give the same result.
TEST_P(CudaOps, MisalignedOperands) {
  const int B = 70, n_in = 100, n_out = 68;
  const auto x = randn(size_t(B) * n_in + 1, 40), W = randn(size_t(n_out) * n_in + 1, 41), b = randn(n_out, 42);
  std::vector<float> y(size_t(B) * n_out);
  cpu::linear_forward({x.data() + 1, W.data() + 1, b.data(), y.data(), B, n_in, n_out, true});
  DeviceArray<float> dx(x), dW(W), db(b), dy(y.size() + 1);
  be->linear_forward({dx.data() + 1, dW.data() + 1, db.data(), dy.data() + 1, B, n_in, n_out, true});
  be->synchronize();
  const auto got = dy.download();
  expect_close(std::vector<float>(got.begin() + 1, got.end()), y, kGemmRtol, kGemmAtol, "forward, offset operands");
}

TEST_P(CudaOps, LinearBackward) {
  for (const Shape& s : kShapes)
    for (int K : {1, 3}) {
      auto X = randn(size_t(s.B) * s.n_in, 4);
      for (size_t k = 0; k < X.size(); k += 3) X[k] = 0.0f;  // ReLU zeros
      const auto W = randn(size_t(s.n_out) * s.n_in, 5), dY = randn(size_t(s.B) * K * s.n_out, 6);
      LinearBackwardArgs a;
      a.B = s.B, a.n_in = s.n_in, a.n_out = s.n_out, a.rows_per_sample = K, a.relu_mask = true, a.scale = 0.5f;
      std::vector<float> dX(size_t(s.B) * K * s.n_in), dW(size_t(s.n_out) * s.n_in), db(s.n_out);
      a.dY = dY.data(), a.X = X.data(), a.W = W.data(), a.dX = dX.data();
      if (K == 1) a.dW = dW.data(), a.db = db.data();
      cpu::linear_backward(a);
      DeviceArray<float> gY(dY), gX(X), gW(W), gdX(dX.size()), gdW(dW.size()), gdb(db.size());
      a.dY = gY.data(), a.X = gX.data(), a.W = gW.data(), a.dX = gdX.data();
      if (K == 1) a.dW = gdW.data(), a.db = gdb.data();
      be->linear_backward(a);
      be->synchronize();
      const std::string tag = " B=" + std::to_string(s.B) + " K=" + std::to_string(K);
      expect_close(gdX.download(), dX, kGemmRtol, kGemmAtol, "dX" + tag);
      if (K == 1) {
        expect_close(gdW.download(), dW, kGemmRtol, kGemmAtol, "dW" + tag);
        expect_close(gdb.download(), db, kGemmRtol, kGemmAtol, "db" + tag);
      }
    }
}

TEST_P(CudaOps, FisherDiag) {
  for (const Shape& s : kShapes)
    for (int K : {1, 10}) {
      const auto d = randn(size_t(s.B) * K * s.n_out, 7), X = randn(size_t(s.B) * s.n_in, 8);
      std::vector<float> FW(size_t(s.n_out) * s.n_in, 0.25f), Fb(s.n_out, 0.25f);  // accumulates
      auto gFWinit = FW, gFbinit = Fb;
      cpu::fisher_diag({d.data(), X.data(), FW.data(), Fb.data(), s.B, s.n_in, s.n_out, K, 0.1f});
      DeviceArray<float> gd(d), gX(X), gFW(gFWinit), gFb(gFbinit);
      be->fisher_diag({gd.data(), gX.data(), gFW.data(), gFb.data(), s.B, s.n_in, s.n_out, K, 0.1f});
      be->synchronize();
      // Sums of positive squares: rtol 1e-5 would hold; the GEMM tolerance covers both.
      const std::string tag = " B=" + std::to_string(s.B) + " K=" + std::to_string(K);
      expect_close(gFW.download(), FW, kGemmRtol, 0.0, "FW" + tag);
      expect_close(gFb.download(), Fb, kGemmRtol, 0.0, "Fb" + tag);
    }
}

INSTANTIATE_TEST_SUITE_P(Variants, CudaOps, ::testing::Values(0, 1, 2, 3, 4));

class CudaElementwise : public ::testing::TestWithParam<int> {  // update variant 1, 2
 protected:
  void SetUp() override {
    CLB_SKIP_WITHOUT_GPU();
    Variants v;
    v.update = GetParam();
    be = make_backend(v);
  }
  std::unique_ptr<Backend> be;
};

// Softmax cross-entropy on the backend against the CPU twin: every output. expf/logf in float
// against the CPU's double exp/log: atol 1e-6, rtol 1e-5; the argmax exactly.
void expect_softmax_like_cpu(Backend& be, const std::vector<float>& z, const std::vector<int32_t>& y,
                             const std::vector<uint8_t>& mask, int B, int C) {
  std::vector<float> p(size_t(B) * C), d(p.size()), loss(B);
  std::vector<int32_t> am(B);
  cpu::softmax_xent({z.data(), y.data(), mask.data(), p.data(), d.data(), loss.data(), am.data(), B, C});
  DeviceArray<float> gz(z), gp(p.size()), gd(d.size()), gl(B);
  DeviceArray<int32_t> gy(y), gam{size_t(B)};
  DeviceArray<uint8_t> gm(mask);
  be.softmax_xent({gz.data(), gy.data(), gm.data(), gp.data(), gd.data(), gl.data(), gam.data(), B, C});
  be.synchronize();
  const std::string tag = " B=" + std::to_string(B) + " C=" + std::to_string(C);
  expect_close(gp.download(), p, 1e-5, 1e-6, "probs" + tag);
  expect_close(gd.download(), d, 1e-5, 1e-6, "delta" + tag);
  expect_close(gl.download(), loss, 1e-5, 1e-6, "loss" + tag);
  EXPECT_EQ(gam.download(), am) << "argmax" << tag;
}

TEST_P(CudaElementwise, SoftmaxXentMasked) {
  for (int B : {1, 31, 257})
    for (int C : {2, 10, 33}) {
      const auto z = randn(size_t(B) * C, 9, 3.0f);
      std::vector<int32_t> y(B);
      std::vector<uint8_t> mask(size_t(B) * C);
      for (int i = 0; i < B; ++i) {
        for (int c = 0; c < C; ++c) mask[size_t(i) * C + c] = (i % 3 == 0) || (c % 2 == i % 2);
        y[i] = i % 2;  // allowed in every row
      }
      expect_softmax_like_cpu(*be, z, y, mask, B, C);
    }
}

// Rows of tied logits (the argmax is the first allowed maximum, as the CPU twin's scan), and labels
// in a masked class (p_y = 0, delta_y = -1, the loss as the CPU computes it).
TEST_P(CudaElementwise, SoftmaxXentTiesAndMaskedLabels) {
  for (int B : {1, 31, 257})
    for (int C : {2, 33, 70}) {
      auto z = randn(size_t(B) * C, 43);
      std::vector<int32_t> y(B);
      std::vector<uint8_t> mask(size_t(B) * C, 1);
      for (int i = 0; i < B; ++i) {
        float* row = z.data() + size_t(i) * C;
        if (i % 2 == 0) std::fill(row, row + C, 0.5f);              // all tied
        if (i % 3 == 0) row[C - 1] = row[C / 2] = 4.0f;             // a tie for the top
        if (i % 4 == 1) mask[size_t(i) * C] = 0, y[i] = 0;          // the label is masked out
        else y[i] = (i * 7) % C;
        if (i % 5 == 2 && C > 2) mask[size_t(i) * C + C / 2] = 0;   // the tied top partly masked
      }
      expect_softmax_like_cpu(*be, z, y, mask, B, C);
    }
  // A row with no class allowed has no argmax: -1 from both twins.
  const std::vector<float> z = {1.0f, 2.0f, 3.0f};
  const std::vector<uint8_t> none(3, 0);
  DeviceArray<float> gz(z);
  DeviceArray<uint8_t> gm(none);
  DeviceArray<int32_t> gam{size_t(1)};
  int32_t am = 0;
  cpu::softmax_xent({z.data(), nullptr, none.data(), nullptr, nullptr, nullptr, &am, 1, 3});
  be->softmax_xent({gz.data(), nullptr, gm.data(), nullptr, nullptr, nullptr, gam.data(), 1, 3});
  be->synchronize();
  EXPECT_EQ(am, -1);
  EXPECT_EQ(gam.download()[0], -1);
}

TEST_P(CudaElementwise, FusedUpdate) {
  for (int64_t n : {int64_t(1), int64_t(31), int64_t(257), int64_t(1000003)})
    for (Optimizer opt : {Optimizer::kSgd, Optimizer::kMomentum, Optimizer::kAdam})
      for (bool penalty : {false, true}) {
        auto theta = randn(n, 10), grad = randn(n, 11), F = randn(n, 12), anchor = randn(n, 13);
        for (auto& f : F) f = std::abs(f);
        auto m = randn(n, 14), v = randn(n, 15);
        for (auto& x : v) x = std::abs(x);
        DeviceArray<float> gt(theta), gg(grad), gF(F), ga(anchor), gm(m), gv(v);
        FusedUpdateArgs a;
        a.n = n, a.opt = opt, a.lr = 0.05f, a.lambda = penalty ? 2.0f : 0.0f, a.step = 4;
        a.theta = theta.data(), a.grad = grad.data(), a.m = m.data(), a.v = v.data();
        if (penalty) a.fisher = F.data(), a.anchor = anchor.data();
        cpu::fused_update(a);
        a.theta = gt.data(), a.grad = gg.data(), a.m = gm.data(), a.v = gv.data();
        if (penalty) a.fisher = gF.data(), a.anchor = ga.data();
        be->fused_update(a);
        be->synchronize();
        // Elementwise float32 with the same formula: atol 1e-6, rtol 1e-6 (README, "Tests").
        expect_close(gt.download(), theta, 1e-6, 1e-6, "theta");
        if (opt != Optimizer::kSgd) expect_close(gm.download(), m, 1e-6, 1e-6, "m");
        if (opt == Optimizer::kAdam) expect_close(gv.download(), v, 1e-6, 1e-6, "v");
      }
}

// A replayed CUDA graph reads Adam's step from the device counter: same result as the value.
TEST_P(CudaElementwise, FusedUpdateReadsTheStepCounter) {
  const int64_t n = 1031;
  auto theta = randn(n, 20), grad = randn(n, 21), m = randn(n, 22), v = randn(n, 23);
  for (auto& x : v) x = std::abs(x);
  DeviceArray<float> gt(theta), gg(grad), gm(m), gv(v);
  DeviceArray<int64_t> done(std::vector<int64_t>{6});
  FusedUpdateArgs a;
  a.n = n, a.opt = Optimizer::kAdam, a.lr = 0.01f, a.step = 7;
  a.theta = theta.data(), a.grad = grad.data(), a.m = m.data(), a.v = v.data();
  cpu::fused_update(a);
  a.theta = gt.data(), a.grad = gg.data(), a.m = gm.data(), a.v = gv.data(), a.step = 1000, a.steps_done = done.data();
  be->fused_update(a);
  be->synchronize();
  expect_close(gt.download(), theta, 1e-6, 1e-6, "theta");
  expect_close(gv.download(), v, 1e-6, 1e-6, "v");
}

// The penalty value reduced in the update's pass against the CPU twin's: double sums in another
// order, rtol 1e-12; theta as without the request.
TEST_P(CudaElementwise, FusedUpdatePenaltyValue) {
  for (int64_t n : {int64_t(1), int64_t(31), int64_t(257), int64_t(1000003)}) {
    auto theta = randn(n, 24), grad = randn(n, 25), F = randn(n, 26), anchor = randn(n, 27);
    for (auto& f : F) f = std::abs(f);
    DeviceArray<float> gt(theta), gg(grad), gF(F), ga(anchor);
    DeviceArray<double> value(1), scratch(kPenaltyPartials);
    FusedUpdateArgs a;
    a.n = n, a.lr = 0.05f, a.lambda = 2.0f;
    double want = 0.0;
    a.theta = theta.data(), a.grad = grad.data(), a.fisher = F.data(), a.anchor = anchor.data(), a.penalty_value = &want;
    cpu::fused_update(a);
    a.theta = gt.data(), a.grad = gg.data(), a.fisher = gF.data(), a.anchor = ga.data();
    a.penalty_value = value.data(), a.penalty_scratch = scratch.data();
    be->fused_update(a);
    be->synchronize();
    EXPECT_NEAR(value.download()[0], want, 1e-12 * want) << "n " << n;
    expect_close(gt.download(), theta, 1e-6, 1e-6, "theta");
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, CudaElementwise, ::testing::Values(1, 2));

// The resident engine's bookkeeping kernels (one variant each) against their CPU twins. Pure data
// movement and integer counts: exact equality. The loss mean: a double tree sum, rtol 1e-12.
class CudaResidentOps : public ::testing::Test {
 protected:
  void SetUp() override {
    CLB_SKIP_WITHOUT_GPU();
    be = make_backend();
  }
  std::unique_ptr<Backend> be;
};

TEST_F(CudaResidentOps, Gather) {
  const int T = 3, C = 7, rows_total = 300;
  for (int dim : {1, 31, 785})
    for (int B : {1, 31, 257})
      for (bool maps : {false, true})
        for (bool bytes : {false, true}) {
          Rng rng{uint64_t(dim * 1000 + B)};
          const auto table = randn(size_t(rows_total) * dim, 30);
          std::vector<uint8_t> table8(table.size());
          for (auto& v : table8) v = uint8_t(rng.below(256));
          std::vector<int32_t> labels(rows_total), rows(B + 5), tasks(B + 5), pixel_maps(size_t(T) * dim);
          for (auto& l : labels) l = int32_t(rng.below(C));
          for (auto& r : rows) r = int32_t(rng.below(rows_total));
          for (auto& t : tasks) t = int32_t(rng.below(T));
          for (auto& p : pixel_maps) p = int32_t(rng.below(uint64_t(dim) + 1)) - 1;  // -1: a blank pixel
          std::vector<uint8_t> class_masks(size_t(T) * C);
          for (auto& c : class_masks) c = uint8_t(rng.below(2));
          const int64_t offset = 5;
          std::vector<float> x(size_t(B) * dim);
          std::vector<int32_t> y(B);
          std::vector<uint8_t> mask(size_t(B) * C);
          GatherArgs a;
          a.table = bytes ? nullptr : table.data(), a.table8 = bytes ? table8.data() : nullptr;
          a.labels = labels.data(), a.rows = rows.data(), a.tasks = tasks.data();
          a.pixel_maps = maps ? pixel_maps.data() : nullptr, a.class_masks = class_masks.data(), a.offset = &offset;
          a.x = x.data(), a.y = y.data(), a.mask = mask.data(), a.B = B, a.dim = dim, a.C = C;
          cpu::gather(a);
          DeviceArray<float> gtable(table), gx(x.size());
          DeviceArray<uint8_t> gtable8(table8);
          DeviceArray<int32_t> glabels(labels), grows(rows), gtasks(tasks), gmaps(pixel_maps), gy{size_t(B)};
          DeviceArray<uint8_t> gcm(class_masks), gmask(mask.size());
          DeviceArray<int64_t> goff(std::vector<int64_t>{offset});
          a.table = bytes ? nullptr : gtable.data(), a.table8 = bytes ? gtable8.data() : nullptr;
          a.labels = glabels.data(), a.rows = grows.data(), a.tasks = gtasks.data();
          a.pixel_maps = maps ? gmaps.data() : nullptr, a.class_masks = gcm.data(), a.offset = goff.data();
          a.x = gx.data(), a.y = gy.data(), a.mask = gmask.data();
          be->gather(a);
          be->synchronize();
          EXPECT_EQ(gx.download(), x) << "dim " << dim << " B " << B << " bytes " << bytes;
          EXPECT_EQ(gy.download(), y);
          EXPECT_EQ(gmask.download(), mask);
        }
}

TEST_F(CudaResidentOps, CountCorrectAndAdvanceStep) {
  for (int B : {1, 31, 257, 1000}) {
    Rng rng{uint64_t(B)};
    std::vector<int32_t> argmax(B), labels(B), groups(B);
    for (int i = 0; i < B; ++i)
      argmax[i] = int32_t(rng.below(3)), labels[i] = int32_t(rng.below(3)), groups[i] = int32_t(rng.below(4));
    std::vector<int64_t> hits = {1, 2, 3, 4};
    DeviceArray<int32_t> ga(argmax), gl(labels), gg(groups);
    DeviceArray<int64_t> gh(hits);
    cpu::count_correct({argmax.data(), labels.data(), groups.data(), hits.data(), B});
    be->count_correct({ga.data(), gl.data(), gg.data(), gh.data(), B});
    be->synchronize();
    EXPECT_EQ(gh.download(), hits) << "B " << B;

    auto loss = randn(B, 31, 2.0f);
    for (auto& l : loss) l = std::abs(l);
    StepCounters c{3, 100, 1};
    std::vector<double> log(4, 0.0);
    DeviceArray<float> gloss(loss);
    DeviceArray<StepCounters> gc(std::vector<StepCounters>{c});
    DeviceArray<double> glog(log);
    cpu::advance_step({&c, loss.data(), log.data(), B});
    be->advance_step({gc.data(), gloss.data(), glog.data(), B});
    be->synchronize();
    const StepCounters got = gc.download()[0];
    EXPECT_EQ(got.steps_done, c.steps_done);
    EXPECT_EQ(got.offset, c.offset);
    EXPECT_EQ(got.logged, c.logged);
    EXPECT_NEAR(glog.download()[1], log[1], 1e-12 * log[1]);
  }
}

TEST(CudaBackend, MissingDeviceIsAClearError) {
#ifdef CLB_CUDA_EMULATION
  setenv("CLB_EMULATED_DEVICES", "0", 1);  // the emulation plays a machine without a GPU
#endif
  std::string why;
  if (usable_devices(&why) > 0) GTEST_SKIP() << "a device is present";
  EXPECT_THROW(make_backend(), Error);  // one line naming the backend setting, not a crash
#ifdef CLB_CUDA_EMULATION
  unsetenv("CLB_EMULATED_DEVICES");
#endif
}

}  // namespace
}  // namespace clb::cuda
#endif  // CLB_HAVE_CUDA
