#include "strata/federated/shamir.h"

#include <gtest/gtest.h>

namespace strata::federated {
namespace {

std::vector<uint8_t> Secret() {
  std::vector<uint8_t> s(32);
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<uint8_t>(i * 37 + 5);
  return s;
}

TEST(FedShamirTest, AnyTSharesReconstructFewerDoNot) {
  SecureRandom rng = SecureRandom::Deterministic(SeedFromU64(1));
  std::vector<uint32_t> xs = {1, 2, 3, 4, 5, 6, 7};
  auto shares = ShamirSplit(Secret(), 4, xs, rng).value();
  for (int a = 0; a < 7; ++a) {
    for (int b = a + 1; b < 7; ++b) {
      std::vector<ShamirShare> subset;
      for (int i = 0; i < 7; ++i)
        if (i != a && i != b && subset.size() < 4) subset.push_back(shares[i]);
      EXPECT_EQ(ShamirReconstruct(subset, 4, 32).value(), Secret());
    }
  }
  std::vector<ShamirShare> three(shares.begin(), shares.begin() + 3);
  EXPECT_EQ(ShamirReconstruct(three, 4, 32).status().code(), StatusCode::kFailedPrecondition);
  // Interpolating 3 shares as if t were 3 gives garbage, not the secret.
  auto wrong = ShamirReconstruct(three, 3, 32);
  EXPECT_TRUE(!wrong.ok() || *wrong != Secret());
}

TEST(FedShamirTest, ConsistencyCheckCatchesATamperedShare) {
  SecureRandom rng = SecureRandom::Deterministic(SeedFromU64(2));
  std::vector<uint32_t> xs = {3, 9, 11, 20, 21};
  auto shares = ShamirSplit(Secret(), 3, xs, rng).value();
  EXPECT_TRUE(ConsistentShares(shares, 3));
  shares[4].y[2] = FieldAdd(shares[4].y[2], 1);
  EXPECT_FALSE(ConsistentShares(shares, 3));
}

TEST(FedShamirTest, FieldArithmetic) {
  const uint64_t p = kShamirPrime;
  EXPECT_EQ(FieldMul(p - 1, p - 1), 1u);  // (−1)² = 1
  EXPECT_EQ(FieldAdd(p - 1, 2), 1u);
  EXPECT_EQ(FieldSub(1, 2), p - 1);
  for (uint64_t a : std::vector<uint64_t>{2, 12345, p - 2, uint64_t{1} << 60})
    EXPECT_EQ(FieldMul(a, FieldInv(a)), 1u);
}

TEST(FedShamirTest, RejectsBadParameters) {
  SecureRandom rng;
  std::vector<uint32_t> with_zero = {0, 1, 2};
  EXPECT_EQ(ShamirSplit(Secret(), 2, with_zero, rng).status().code(), StatusCode::kInvalidArgument);
  std::vector<uint32_t> dup = {1, 1, 2};
  EXPECT_EQ(ShamirSplit(Secret(), 2, dup, rng).status().code(), StatusCode::kInvalidArgument);
  std::vector<uint32_t> xs = {1, 2};
  EXPECT_EQ(ShamirSplit(Secret(), 3, xs, rng).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace strata::federated
