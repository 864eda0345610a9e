#include "strata/federated/fixed_point.h"

#include <cmath>

namespace strata::federated {

Status FixedPointConfig::Validate() const {
  if (frac_bits < 0 || frac_bits > 52)
    return InvalidArgumentError("fixed_point.frac_bits must be in [0, 52]");
  if (!(max_abs > 0) || !std::isfinite(max_abs))
    return InvalidArgumentError("fixed_point.max_abs must be > 0");
  if (max_contributors == 0)
    return InvalidArgumentError("fixed_point.max_contributors must be > 0");
  const double bound = static_cast<double>(max_contributors) * max_abs * std::ldexp(1.0, frac_bits);
  if (bound >= std::ldexp(1.0, 63)) {
    return InvalidArgumentError(
        "fixed_point: max_contributors · max_abs · 2^frac_bits must be < 2^63");
  }
  return Status::Ok();
}

Result<std::vector<uint64_t>> EncodeFixed(std::span<const double> values,
                                          const FixedPointConfig& c) {
  std::vector<uint64_t> out(values.size());
  const double scale = std::ldexp(1.0, c.frac_bits);
  for (size_t i = 0; i < values.size(); ++i) {
    double x = values[i];
    if (!std::isfinite(x) || std::fabs(x) > c.max_abs) {
      return InvalidArgumentError("fixed point: value[" + std::to_string(i) +
                                  "] = " + std::to_string(x) + " is not finite or exceeds max_abs");
    }
    // nearbyint uses the default rounding mode (round half to even).
    out[i] = static_cast<uint64_t>(static_cast<int64_t>(std::nearbyint(x * scale)));
  }
  return out;
}

std::vector<double> DecodeFixed(std::span<const uint64_t> ring, const FixedPointConfig& c) {
  std::vector<double> out(ring.size());
  for (size_t i = 0; i < ring.size(); ++i) {
    out[i] = std::ldexp(static_cast<double>(static_cast<int64_t>(ring[i])), -c.frac_bits);
  }
  return out;
}

void AddRing(std::span<uint64_t> a, std::span<const uint64_t> b) {
  for (size_t i = 0; i < a.size(); ++i) a[i] += b[i];
}

}  // namespace strata::federated
