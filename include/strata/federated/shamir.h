// Shamir t-of-n secret sharing over the prime field GF(2^61 − 1).
//
// A byte secret is cut into 4-byte chunks; each chunk (< 2^32 < p) is the constant term of its own
// random polynomial of degree t−1, and share i holds the polynomial values at x_i (non-zero,
// distinct). Any t shares reconstruct the secret by Lagrange interpolation at 0; fewer reveal
// nothing about it. Reconstruct uses the first t shares; ConsistentShares checks that further
// shares lie on the same polynomials (detects a tampered share when more than t are present).
// Thread-safety: pure functions; the SecureRandom is caller-owned.
//
//   std::vector<uint32_t> xs = {1, 2, 3, 4, 5};
//   auto shares = ShamirSplit(secret, /*threshold=*/3, xs, rng).value();
//   std::vector<ShamirShare> any3 = {shares[0], shares[2], shares[4]};
//   auto secret2 = ShamirReconstruct(any3, 3, secret.size()).value();
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "strata/core/status.h"
#include "strata/federated/secure_random.h"

namespace strata::federated {

inline constexpr uint64_t kShamirPrime = (uint64_t{1} << 61) - 1;

struct ShamirShare {
  uint32_t x = 0;           // evaluation point, 1-based
  std::vector<uint64_t> y;  // one field element per 4-byte chunk of the secret
};

uint64_t FieldMul(uint64_t a, uint64_t b);
uint64_t FieldAdd(uint64_t a, uint64_t b);
uint64_t FieldSub(uint64_t a, uint64_t b);
uint64_t FieldInv(uint64_t a);  // a != 0

// Number of field elements a secret of `bytes` bytes is cut into.
inline size_t ShamirChunks(size_t bytes) { return (bytes + 3) / 4; }

// InvalidArgument when threshold < 1, threshold > xs.size(), or xs has zeros or duplicates.
Result<std::vector<ShamirShare>> ShamirSplit(std::span<const uint8_t> secret, int threshold,
                                             std::span<const uint32_t> xs, SecureRandom& rng);

// Lagrange coefficients λ_i at 0 for the points xs: secret = Σ λ_i · y_i.
std::vector<uint64_t> LagrangeAtZero(std::span<const uint32_t> xs);

// FailedPrecondition with fewer than `threshold` shares; InvalidArgument on duplicate x or chunk
// count mismatch; DataLoss when a reconstructed chunk is out of range (a corrupted share).
Result<std::vector<uint8_t>> ShamirReconstruct(std::span<const ShamirShare> shares, int threshold,
                                               size_t secret_bytes);

// As ShamirReconstruct with precomputed λ = LagrangeAtZero(x of shares[0..t)) (reused across
// secrets held by the same parties). Precondition: lambda.size() <= shares.size().
Result<std::vector<uint8_t>> ShamirCombine(std::span<const ShamirShare> shares,
                                           std::span<const uint64_t> lambda, size_t secret_bytes);

// True when every share beyond the first `threshold` lies on the interpolated polynomials.
bool ConsistentShares(std::span<const ShamirShare> shares, int threshold);

}  // namespace strata::federated
