#include "strata/federated/compress.h"

#include <gtest/gtest.h>

#include <cmath>

#include "strata/core/rng.h"

namespace strata::federated {
namespace {

TEST(FedCompressTest, HalfConversionKnownValues) {
  EXPECT_EQ(FloatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(FloatToHalf(-2.0f), 0xc000);
  EXPECT_EQ(FloatToHalf(65504.0f), 0x7bff);
  EXPECT_EQ(FloatToHalf(1e6f), 0x7c00);                              // overflow → inf
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -24)), 0x0001);             // smallest subnormal
  EXPECT_EQ(FloatToHalf(1.0f + std::ldexp(1.0f, -11)), 0x3c00);      // tie → even
  EXPECT_EQ(FloatToHalf(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);  // tie → even (up)
  for (uint16_t h : {0x3c00, 0x0001, 0x03ff, 0x7bff, 0xb555})
    EXPECT_EQ(FloatToHalf(HalfToFloat(h)), h);
}

TEST(FedCompressTest, ErrorBoundsAndBytes) {
  Rng rng(3);
  std::vector<double> v(1000);
  for (double& x : v) x = rng.Normal(0, 100);
  v[10] = 1e5;  // large sums and small values coexist: blocks keep them apart
  auto c8 = Compress(v, Codec::kInt8).value();
  auto back8 = Decompress(CompressedVector::Decode(c8.Encode()).value());
  for (size_t i = 0; i < v.size(); ++i) {
    EXPECT_LE(std::fabs(back8[i] - v[i]), c8.block_scale[i / 64] * 0.5 + 1e-9) << i;
  }
  auto c16 = Compress(v, Codec::kFp16).value();
  auto back16 = Decompress(CompressedVector::Decode(c16.Encode()).value());
  for (size_t i = 0; i < v.size(); ++i) {
    EXPECT_LE(std::fabs(back16[i] - v[i]), c16.block_scale[i / 64] * std::ldexp(1.0, -10)) << i;
  }
  auto c64 = Compress(v, Codec::kFloat64).value();
  EXPECT_EQ(Decompress(CompressedVector::Decode(c64.Encode()).value()), v);
  const size_t blocks = 16;  // ceil(1000 / 64)
  EXPECT_EQ(c8.Encode().size(), 13 + 8 * blocks + 1000);
  EXPECT_EQ(c16.Encode().size(), 13 + 4 * blocks + 2000);
  EXPECT_EQ(c64.Encode().size(), 13 + 8000u);
  std::printf("bytes per 1000-value update: f64 %zu, fp16 %zu, int8 %zu\n", c64.Encode().size(),
              c16.Encode().size(), c8.Encode().size());
}

TEST(FedCompressTest, MalformedPayloadsAreCleanErrors) {
  std::vector<double> v = {1, 2, 3};
  std::vector<uint8_t> wire = Compress(v, Codec::kInt8).value().Encode();
  for (size_t len = 0; len < wire.size(); ++len) {
    EXPECT_FALSE(CompressedVector::Decode(std::span<const uint8_t>(wire).first(len)).ok());
  }
  std::vector<uint8_t> bad_codec = wire;
  bad_codec[4] = 9;
  EXPECT_EQ(CompressedVector::Decode(bad_codec).status().code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t> huge = wire;
  huge[8] = 0x7f;  // size ≈ 2^30
  EXPECT_EQ(CompressedVector::Decode(huge).status().code(), StatusCode::kInvalidArgument);
  std::vector<double> inf = {1, INFINITY};
  EXPECT_EQ(Compress(inf, Codec::kInt8).status().code(), StatusCode::kInvalidArgument);
}

TEST(FedCompressTest, ErrorFeedbackRemovesAccumulatedBias) {
  Rng rng(4);
  std::vector<double> v(256);
  for (double& x : v) x = rng.Uniform(-1, 1);
  ErrorFeedbackCompressor ef(Codec::kInt8);
  const int rounds = 20;
  std::vector<double> sum_ef(v.size(), 0), sum_plain(v.size(), 0);
  for (int r = 0; r < rounds; ++r) {
    auto a = Decompress(ef.Compress(v).value());
    auto b = Decompress(Compress(v, Codec::kInt8).value());
    for (size_t i = 0; i < v.size(); ++i) sum_ef[i] += a[i], sum_plain[i] += b[i];
  }
  double err_ef = 0, err_plain = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    err_ef += std::fabs(sum_ef[i] - rounds * v[i]);
    err_plain += std::fabs(sum_plain[i] - rounds * v[i]);
  }
  EXPECT_LT(err_ef * 5, err_plain);  // accumulated error stays bounded with feedback
  std::vector<double> shorter(10, 0.0);
  EXPECT_EQ(ef.Compress(shorter).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace strata::federated
