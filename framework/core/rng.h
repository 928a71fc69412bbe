#pragma once
// A small seeded RNG (splitmix64 seeding + xoshiro256**) with our own distributions, so a seed
// gives the same numbers with every standard library (std:: distributions are not portable).
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

namespace clb {

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& s : s_) s = splitmix(seed);
  }
  // Independent stream for a (seed, purpose, index...) tuple.
  static Rng derive(uint64_t seed, uint64_t a, uint64_t b = 0, uint64_t c = 0) {
    uint64_t h = seed;
    for (uint64_t v : {a, b, c}) h = splitmix(h) ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
    return Rng(h);
  }
  uint64_t next() {
    const uint64_t r = rotl(s_[1] * 5, 7) * 9, t = s_[1] << 17;
    s_[2] ^= s_[0], s_[3] ^= s_[1], s_[1] ^= s_[2], s_[0] ^= s_[3], s_[2] ^= t, s_[3] = rotl(s_[3], 45);
    return r;
  }
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }            // [0, 1)
  float uniform(float lo, float hi) { return lo + float(uniform()) * (hi - lo); }
  uint64_t below(uint64_t n) { return uint64_t(uniform() * double(n)); }  // [0, n), n < 2^53
  double normal() {  // Box-Muller
    const double u1 = 1.0 - uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // The generator's position, to continue it elsewhere (checkpoints).
  std::array<uint64_t, 4> state() const { return {s_[0], s_[1], s_[2], s_[3]}; }
  void set_state(const std::array<uint64_t, 4>& s) {
    for (int i = 0; i < 4; ++i) s_[i] = s[size_t(i)];
  }
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t splitmix(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t s_[4];
};

}  // namespace clb
