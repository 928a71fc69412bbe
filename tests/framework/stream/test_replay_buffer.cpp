// The replay memory (framework/stream/replay_buffer.h): what its policies keep, how it is sized,
// that its compact storage is exact, and that bad input leaves it unchanged.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "framework/core/error.h"
#include "framework/stream/replay_buffer.h"

#include "tests/common/test_helpers.h"

namespace clb {
namespace {

ReplayBufferConfig sized(int64_t samples, ReplayPolicy policy = ReplayPolicy::kReservoir, uint64_t seed = 0) {
  ReplayBufferConfig c;
  c.policy = policy, c.max_samples = samples, c.seed = seed;
  return c;
}

// Pearson's chi-square of observed counts against equal expected counts.
double chi_square(const std::vector<double>& counts) {
  double total = 0, chi = 0;
  for (double c : counts) total += c;
  const double expected = total / double(counts.size());
  for (double c : counts) chi += (c - expected) * (c - expected) / expected;
  return chi;
}

// A reservoir holds every sample of the stream with the same probability: over 40 streams of
// 10,000 samples into 500 slots, the kept samples' stream positions fall evenly into the ten
// deciles. Chi-square, 9 degrees of freedom: 27.88 is the 0.1 % critical value, so an unbiased
// reservoir fails this (fixed-seed, deterministic) test with probability 0.001 over seeds, and a
// biased one (a reservoir that favours early or late samples) fails it by far.
TEST(ReplayBuffer, ReservoirKeepsAUniformSampleOfTheStream) {
  constexpr int kStream = 10000, kSlots = 500, kRuns = 40;
  std::vector<double> deciles(10, 0.0);
  const float x = 0.5f;
  for (int run = 0; run < kRuns; ++run) {
    ReplayBuffer buf(1, 1, SampleStorage::kFloat32, sized(kSlots, ReplayPolicy::kReservoir, uint64_t(run)));
    for (int i = 0; i < kStream; ++i) buf.offer(&x, 0, i);  // the task field carries the position
    ASSERT_EQ(buf.size(), kSlots);
    ASSERT_EQ(buf.seen(), kStream);
    for (int64_t s = 0; s < buf.size(); ++s) deciles[size_t(buf.task(s) / (kStream / 10))] += 1;
  }
  constexpr double kCritical = 27.88;
  EXPECT_LT(chi_square(deciles), kCritical);
  // The test has teeth: keeping the first 500 of each stream, or a recency-biased half, fails it.
  std::vector<double> first(10, 0.0), recent(10, 0.0);
  first[0] = kRuns * kSlots;
  for (int d = 0; d < 10; ++d) recent[size_t(d)] = kRuns * kSlots * (d < 5 ? 0.09 : 0.11);
  EXPECT_GT(chi_square(first), kCritical);
  EXPECT_GT(chi_square(recent), kCritical);
}

// Class-balanced: a stream that is 70 % class 0, with class 4 seen only 30 times, still leaves
// class 4 all its samples and splits the rest evenly among the others (470 / 4 = 117 or 118);
// a reservoir on the same stream keeps the stream's imbalance.
TEST(ReplayBuffer, ClassBalancedLeavesEveryClassItsShare) {
  Rng rng(7);
  std::vector<int32_t> labels;
  for (int i = 0; i < 9970; ++i) {
    const double u = rng.uniform();
    labels.push_back(u < 0.7 ? 0 : u < 0.9 ? 1 : u < 0.95 ? 2 : 3);
  }
  for (int i = 0; i < 30; ++i) labels.insert(labels.begin() + int64_t(rng.below(labels.size())), 4);
  const float x = 0.0f;
  ReplayBuffer balanced(1, 5, SampleStorage::kFloat32, sized(500, ReplayPolicy::kClassBalanced, 1));
  ReplayBuffer reservoir(1, 5, SampleStorage::kFloat32, sized(500, ReplayPolicy::kReservoir, 1));
  for (int32_t y : labels) balanced.offer(&x, y, 0), reservoir.offer(&x, y, 0);
  const auto b = balanced.class_counts(), r = reservoir.class_counts();
  EXPECT_EQ(b[4], 30);
  const auto [lo, hi] = std::minmax_element(b.begin(), b.begin() + 4);
  EXPECT_LE(*hi - *lo, 1) << b[0] << " " << b[1] << " " << b[2] << " " << b[3];
  EXPECT_EQ(b[0] + b[1] + b[2] + b[3] + b[4], 500);
  EXPECT_GT(r[0], 300) << "the reservoir mirrors the stream (about 350 of class 0)";
  // The counts it reports are the labels it holds.
  std::vector<int64_t> recount(5, 0);
  for (int64_t s = 0; s < balanced.size(); ++s) ++recount[size_t(balanced.label(s))];
  EXPECT_EQ(recount, b);
}

TEST(ReplayBuffer, SizedBySamplesOrBytes) {
  ReplayBufferConfig c;
  c.max_bytes = 2000 * (784 + 8) + 791;  // 2,000 uint8 samples and not quite one more
  ReplayBuffer u8(784, 10, SampleStorage::kUint8, c);
  EXPECT_EQ(u8.bytes_per_sample(), 784 + 8);
  EXPECT_EQ(u8.capacity(), 2000);
  ReplayBuffer f32(784, 10, SampleStorage::kFloat32, c);
  EXPECT_EQ(f32.capacity(), c.max_bytes / (4 * 784 + 8));
  c.max_samples = 100;  // both given: the smaller
  EXPECT_EQ(ReplayBuffer(784, 10, SampleStorage::kUint8, c).capacity(), 100);
  const std::vector<float> x(784, 0.0f);
  for (int i = 0; i < 3; ++i) u8.offer(x.data(), i, 0);
  EXPECT_EQ(u8.bytes(), 3 * (784 + 8));
  EXPECT_EQ(u8.describe(), "reservoir, 3 of 2000 samples (uint8, 0.00 MiB), 3 seen");
}

TEST(ReplayBuffer, CompactStorageIsExact) {
  std::vector<float> pixels(256), back(256);
  for (int k = 0; k < 256; ++k) pixels[size_t(k)] = float(k) / 255.0f;  // as the IDX loader makes them
  ASSERT_TRUE(is_uint8_exact(pixels.data(), 256));
  ReplayBuffer buf(256, 10, SampleStorage::kUint8, sized(4));
  buf.offer(pixels.data(), 3, 2);
  buf.read(0, back.data());
  EXPECT_EQ(back, pixels);
  EXPECT_EQ(buf.label(0), 3);
  EXPECT_EQ(buf.task(0), 2);
  std::vector<float> any{0.1f, -2.5f, 1e30f};
  EXPECT_FALSE(is_uint8_exact(any.data(), 3));
  ReplayBuffer f32(3, 2, SampleStorage::kFloat32, sized(1));
  f32.offer(any.data(), 1, 0);
  std::vector<float> got(3);
  f32.read(0, got.data());
  EXPECT_EQ(got, any);
}

using test::error_of;

TEST(ReplayBuffer, BadInputIsRefusedAndChangesNothing) {
  EXPECT_NE(error_of([] { ReplayBuffer(784, 10, SampleStorage::kUint8, ReplayBufferConfig{}); })
                .find("memory.samples and memory.bytes are both 0"),
            std::string::npos);
  ReplayBufferConfig tiny;
  tiny.max_bytes = 100;
  EXPECT_NE(error_of([&] { ReplayBuffer(784, 10, SampleStorage::kUint8, tiny); }).find("memory.bytes 100: holds no sample"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_replay_policy("fifo"); }).find("memory.policy 'fifo'"), std::string::npos);
  ReplayBuffer buf(2, 3, SampleStorage::kUint8, sized(4));
  const float ok[2] = {0.0f, 1.0f}, not_pixels[2] = {0.5f, 0.25f};
  buf.offer(ok, 0, 0);
  EXPECT_NE(error_of([&] { buf.offer(ok, 3, 0); }).find("label 3 of task 1 is outside 0..2"), std::string::npos);
  EXPECT_NE(error_of([&] { buf.offer(not_pixels, 1, 0); }).find("not k/255"), std::string::npos);
  EXPECT_EQ(buf.size(), 1);
  EXPECT_EQ(buf.seen(), 1);
  EXPECT_EQ(buf.class_counts(), (std::vector<int64_t>{1, 0, 0}));
}

TEST(ReplayBuffer, DrawsDistinctSlots) {
  ReplayBuffer buf(1, 1, SampleStorage::kFloat32, sized(50));
  const float x = 0.0f;
  for (int i = 0; i < 50; ++i) buf.offer(&x, 0, i);
  Rng rng(3);
  const auto some = buf.draw(20, rng);
  EXPECT_EQ(some.size(), 20u);
  EXPECT_EQ(std::set<int64_t>(some.begin(), some.end()).size(), 20u);
  auto all = buf.draw(80, rng);
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), 50u);
  for (int64_t i = 0; i < 50; ++i) EXPECT_EQ(all[size_t(i)], i);
}

}  // namespace
}  // namespace clb
