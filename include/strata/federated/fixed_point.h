// Fixed-point encoding of real-valued updates into the ring Z_{2^64} used by secure aggregation.
//
// x ↦ round_half_even(x · 2^frac_bits) as a two's-complement int64, stored as uint64. Sums are
// taken modulo 2^64 (unsigned wrap-around), then read back as int64 and divided by 2^frac_bits.
// The decoded sum is exact (bit-for-bit equal to the sum of the encoded integers) as long as the
// true integer sum stays in (−2^63, 2^63): with |x| ≤ max_abs per value and n contributors that
// holds when n · max_abs · 2^frac_bits < 2^63, which Validate() checks against max_contributors.
// Defaults: frac_bits = 20 (resolution 9.5e-7), max_abs = 2^32, max_contributors = 2^10
// (2^10 · 2^32 · 2^20 = 2^62). Encoding error per value ≤ 2^-(frac_bits+1).
// Thread-safety: pure functions.
//
//   FixedPointConfig fp;
//   std::vector<uint64_t> enc = EncodeFixed(values, fp).value();
//   std::vector<double> back = DecodeFixed(enc, fp);
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "strata/core/status.h"

namespace strata::federated {

struct FixedPointConfig {
  int frac_bits = 20;
  double max_abs = 4294967296.0;  // 2^32
  uint64_t max_contributors = 1024;

  // InvalidArgument when frac_bits ∉ [0, 52] or the overflow bound above does not hold.
  Status Validate() const;
};

// InvalidArgument naming the index when a value is not finite or |x| > max_abs.
Result<std::vector<uint64_t>> EncodeFixed(std::span<const double> values,
                                          const FixedPointConfig& c);
std::vector<double> DecodeFixed(std::span<const uint64_t> ring, const FixedPointConfig& c);
// a += b (mod 2^64), element-wise.
void AddRing(std::span<uint64_t> a, std::span<const uint64_t> b);

}  // namespace strata::federated
