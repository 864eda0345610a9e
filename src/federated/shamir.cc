#include "strata/federated/shamir.h"

#include <set>

namespace strata::federated {

uint64_t FieldMul(uint64_t a, uint64_t b) {
  unsigned __int128 z = static_cast<unsigned __int128>(a) * b;
  uint64_t lo = static_cast<uint64_t>(z) & kShamirPrime;
  uint64_t hi = static_cast<uint64_t>(z >> 61);
  uint64_t r = lo + hi;
  if (r >= kShamirPrime) r -= kShamirPrime;
  return r;
}

uint64_t FieldAdd(uint64_t a, uint64_t b) {
  uint64_t r = a + b;
  if (r >= kShamirPrime) r -= kShamirPrime;
  return r;
}

uint64_t FieldSub(uint64_t a, uint64_t b) { return a >= b ? a - b : a + kShamirPrime - b; }

uint64_t FieldInv(uint64_t a) {
  uint64_t result = 1, base = a, e = kShamirPrime - 2;
  while (e) {
    if (e & 1) result = FieldMul(result, base);
    base = FieldMul(base, base);
    e >>= 1;
  }
  return result;
}

namespace {

Status CheckXs(std::span<const uint32_t> xs) {
  std::set<uint32_t> seen;
  for (uint32_t x : xs) {
    if (x == 0) return InvalidArgumentError("Shamir: evaluation point 0 would reveal the secret");
    if (!seen.insert(x).second)
      return InvalidArgumentError("Shamir: duplicate evaluation point " + std::to_string(x));
  }
  return Status::Ok();
}

// Lagrange coefficients at `at` for the points xs.
std::vector<uint64_t> LagrangeAt(std::span<const uint32_t> xs, uint64_t at) {
  std::vector<uint64_t> lambda(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    uint64_t num = 1, den = 1;
    for (size_t j = 0; j < xs.size(); ++j) {
      if (i == j) continue;
      num = FieldMul(num, FieldSub(at, xs[j]));
      den = FieldMul(den, FieldSub(xs[i], xs[j]));
    }
    lambda[i] = FieldMul(num, FieldInv(den));
  }
  return lambda;
}

}  // namespace

Result<std::vector<ShamirShare>> ShamirSplit(std::span<const uint8_t> secret, int threshold,
                                             std::span<const uint32_t> xs, SecureRandom& rng) {
  if (threshold < 1 || static_cast<size_t>(threshold) > xs.size()) {
    return InvalidArgumentError("Shamir: threshold " + std::to_string(threshold) +
                                " must be in [1, " + std::to_string(xs.size()) + "]");
  }
  STRATA_RETURN_IF_ERROR(CheckXs(xs));
  const size_t chunks = ShamirChunks(secret.size());
  std::vector<ShamirShare> shares(xs.size());
  for (size_t s = 0; s < xs.size(); ++s) {
    shares[s].x = xs[s];
    shares[s].y.resize(chunks);
  }
  std::vector<uint64_t> coeff(threshold);
  for (size_t c = 0; c < chunks; ++c) {
    uint64_t v = 0;
    for (size_t b = 0; b < 4 && 4 * c + b < secret.size(); ++b) {
      v |= static_cast<uint64_t>(secret[4 * c + b]) << (8 * b);
    }
    coeff[0] = v;
    for (int i = 1; i < threshold; ++i) coeff[i] = rng.U64() % kShamirPrime;  // bias < 2^-60
    for (size_t s = 0; s < xs.size(); ++s) {
      uint64_t y = 0;  // Horner
      for (int i = threshold - 1; i >= 0; --i) y = FieldAdd(FieldMul(y, xs[s]), coeff[i]);
      shares[s].y[c] = y;
    }
  }
  return shares;
}

std::vector<uint64_t> LagrangeAtZero(std::span<const uint32_t> xs) { return LagrangeAt(xs, 0); }

Result<std::vector<uint8_t>> ShamirReconstruct(std::span<const ShamirShare> shares, int threshold,
                                               size_t secret_bytes) {
  if (threshold < 1 || shares.size() < static_cast<size_t>(threshold)) {
    return FailedPreconditionError("Shamir: " + std::to_string(shares.size()) +
                                   " shares, need threshold " + std::to_string(threshold));
  }
  const size_t chunks = ShamirChunks(secret_bytes);
  std::vector<uint32_t> xs;
  for (int i = 0; i < threshold; ++i) {
    if (shares[i].y.size() != chunks)
      return InvalidArgumentError("Shamir: share has wrong chunk count");
    xs.push_back(shares[i].x);
  }
  STRATA_RETURN_IF_ERROR(CheckXs(xs));
  std::vector<uint64_t> lambda = LagrangeAtZero(xs);
  return ShamirCombine(shares, lambda, secret_bytes);
}

Result<std::vector<uint8_t>> ShamirCombine(std::span<const ShamirShare> shares,
                                           std::span<const uint64_t> lambda, size_t secret_bytes) {
  const size_t chunks = ShamirChunks(secret_bytes);
  if (shares.size() < lambda.size()) return FailedPreconditionError("Shamir: too few shares");
  std::vector<uint8_t> secret(secret_bytes);
  for (size_t c = 0; c < chunks; ++c) {
    uint64_t v = 0;
    for (size_t i = 0; i < lambda.size(); ++i) {
      if (shares[i].y.size() != chunks)
        return InvalidArgumentError("Shamir: share has wrong chunk count");
      v = FieldAdd(v, FieldMul(lambda[i], shares[i].y[c] % kShamirPrime));
    }
    if (v >> 32) return DataLossError("Shamir: reconstructed chunk out of range (corrupted share)");
    for (size_t b = 0; b < 4 && 4 * c + b < secret_bytes; ++b) {
      secret[4 * c + b] = static_cast<uint8_t>(v >> (8 * b));
    }
  }
  return secret;
}

bool ConsistentShares(std::span<const ShamirShare> shares, int threshold) {
  if (threshold < 1 || shares.size() <= static_cast<size_t>(threshold)) return true;
  std::vector<uint32_t> xs;
  for (int i = 0; i < threshold; ++i) xs.push_back(shares[i].x);
  for (size_t e = threshold; e < shares.size(); ++e) {
    std::vector<uint64_t> lambda = LagrangeAt(xs, shares[e].x);
    for (size_t c = 0; c < shares[e].y.size(); ++c) {
      uint64_t v = 0;
      for (int i = 0; i < threshold; ++i) v = FieldAdd(v, FieldMul(lambda[i], shares[i].y[c]));
      if (v != shares[e].y[c]) return false;
    }
  }
  return true;
}

}  // namespace strata::federated
