// Rng: a seeded, reproducible random number generator (xoshiro256** seeded by splitmix64).
//
// The same seed gives the same sequence on every platform and compiler: the distributions are
// implemented here rather than taken from <random>, whose distributions are implementation-defined.
// Satisfies UniformRandomBitGenerator, so it works with std::shuffle.
// Thread-safety: not thread-safe; give each thread its own Rng (see Fork).
//
//   Rng rng(42);
//   double x = rng.Normal(0.0, 1.0);
#pragma once

#include <cstdint>
#include <limits>

namespace strata {

class Rng {
 public:
  using result_type = uint64_t;
  explicit Rng(uint64_t seed = 0);

  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<uint64_t>::max(); }
  result_type operator()() { return Next(); }

  uint64_t Next();
  // Uniform in [0, 1).
  double Uniform();
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // Uniform integer in [lo, hi] (inclusive), without modulo bias.
  int64_t UniformInt(int64_t lo, int64_t hi);
  double Normal(double mean = 0.0, double stddev = 1.0);
  bool Bernoulli(double p) { return Uniform() < p; }
  double Exponential(double rate);
  double Gamma(double shape, double scale = 1.0);  // Marsaglia–Tsang
  // A statistically independent generator derived from this one's seed and `stream`.
  Rng Fork(uint64_t stream) const;
  uint64_t seed() const { return seed_; }

 private:
  uint64_t seed_;
  uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0;
};

}  // namespace strata
