// Compressed plain updates: round trip error bounds and sizes, malformed bodies, error feedback,
// and an in-process FedLloyd run per encoding (SSQ vs f64) — the numbers quoted in
// docs/services/federate.md ("Compressed updates").
#include "strata/federated/update_codec.h"

#include <gtest/gtest.h>

#include <cmath>

#include "strata/core/rng.h"
#include "strata/federated/compress.h"
#include "strata/federated/kmeans.h"
#include "strata/federated/wire.h"
#include "test_data.h"

namespace strata::federated {
namespace {

GlobalModel Model(int k, int d, uint64_t version, Rng& rng) {
  GlobalModel m{version, k, d, std::vector<double>(static_cast<size_t>(k) * d),
                std::vector<double>(k, 1)};
  for (double& c : m.centroids) c = rng.Uniform(-10, 10);
  return m;
}

ModelUpdate Stats(const GlobalModel& m, int n, Rng& rng) {
  std::vector<double> pts;
  for (int i = 0; i < n * m.d; ++i) pts.push_back(rng.Normal(0, 6));
  return {5, "edge-1", m.version, LocalStats(pts, m, false).value()};
}

TEST(FedUpdateCodecTest, RoundTripIsCloseAndSmall) {
  Rng rng(1);
  const GlobalModel m = Model(8, 4, 3, rng);
  const ModelUpdate u = Stats(m, 300, rng);
  for (UpdateEncoding e : {UpdateEncoding::kInt8, UpdateEncoding::kFp16}) {
    CompressedUpdate c = CompressUpdate(u, m, e).value();
    std::vector<uint8_t> wire = c.Encode();
    EXPECT_TRUE(c.varint_counts);
    EXPECT_GE(wire.size(), CompressedUpdate::FixedSize(8, 4, e, false, 6) + 8);  // 1–2 B per count
    EXPECT_LE(wire.size(), CompressedUpdate::FixedSize(8, 4, e, false, 6) + 16);
    ModelUpdate back = DecompressUpdate(CompressedUpdate::Decode(wire).value(), m).value();
    EXPECT_EQ(back.round_id, 5u);
    EXPECT_EQ(back.node_id, "edge-1");
    EXPECT_EQ(back.stats.counts, u.stats.counts);  // float32 counts: exact for integers
    for (int j = 0; j < 8; ++j) {
      const double tol =
          c.scales[j] * (e == UpdateEncoding::kInt8 ? 0.5 : std::ldexp(1.0, -11)) + 1e-9;
      for (int i = 0; i < 4; ++i)
        EXPECT_NEAR(back.stats.sums[j * 4 + i], u.stats.sums[j * 4 + i], tol)
            << UpdateEncodingName(e);
    }
  }
  const size_t f64 = u.Encode().size();
  const size_t i8 = CompressUpdate(u, m, UpdateEncoding::kInt8).value().Encode().size();
  const size_t f16 = CompressUpdate(u, m, UpdateEncoding::kFp16).value().Encode().size();
  std::printf("bytes per update k=8 d=4: f64 %zu, fp16 %zu, int8 %zu\n", f64, f16, i8);
  EXPECT_LE(i8 * 10, f64 * 4);
  // Weighted (non-integer) counts travel as float32 and still decode consistently.
  ModelUpdate w = u;
  w.stats.counts[0] += 0.25;
  w.stats.counts[1] = 1e9 + 0.5;
  CompressedUpdate cw = CompressUpdate(w, m, UpdateEncoding::kInt8).value();
  EXPECT_FALSE(cw.varint_counts);
  EXPECT_EQ(cw.Encode().size(),
            CompressedUpdate::FixedSize(8, 4, UpdateEncoding::kInt8, false, 6) + 32);
  ModelUpdate wb = DecompressUpdate(CompressedUpdate::Decode(cw.Encode()).value(), m).value();
  EXPECT_EQ(wb.stats.counts[0], w.stats.counts[0]);
  EXPECT_NEAR(wb.stats.counts[1], w.stats.counts[1], 64);  // float32
  EXPECT_EQ(ParseUpdateEncoding("int8").value(), UpdateEncoding::kInt8);
  EXPECT_FALSE(ParseUpdateEncoding("int4").ok());
}

TEST(FedUpdateCodecTest, MalformedBodiesAreCleanErrors) {
  Rng rng(2);
  const GlobalModel m = Model(3, 2, 1, rng);
  std::vector<uint8_t> wire =
      CompressUpdate(Stats(m, 20, rng), m, UpdateEncoding::kFp16).value().Encode();
  for (size_t len = 0; len < wire.size(); ++len)
    EXPECT_FALSE(CompressedUpdate::Decode(std::span<const uint8_t>(wire).first(len)).ok()) << len;
  std::vector<uint8_t> longer = wire;
  longer.push_back(0);
  EXPECT_EQ(CompressedUpdate::Decode(longer).status().code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t> bad_enc = wire;
  bad_enc[4 + 8 + 4 + 6 + 8 + 8] = 7;  // encoding byte
  EXPECT_EQ(CompressedUpdate::Decode(bad_enc).status().code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t> inf = wire;
  inf[inf.size() - 1] = 0x7c;  // last fp16 value → infinity
  EXPECT_EQ(CompressedUpdate::Decode(inf).status().code(), StatusCode::kInvalidArgument);
  CompressedUpdate c = CompressedUpdate::Decode(wire).value();
  GlobalModel other = m;
  other.version = 2;
  EXPECT_EQ(DecompressUpdate(c, other).status().code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t> overlong = wire;  // a varint count that never ends
  for (size_t i = 4 + 8 + 4 + 6 + 8 + 8 + 2 + 8; i < overlong.size(); ++i) overlong[i] = 0xff;
  EXPECT_FALSE(CompressedUpdate::Decode(overlong).ok());
  // Random byte flips: every body decodes to a usable update or to a clean error, never a crash.
  Rng flip(5);
  int decoded = 0;
  for (int t = 0; t < 3000; ++t) {
    std::vector<uint8_t> b = wire;
    for (int f = 0; f < 3; ++f)
      b[flip.UniformInt(0, static_cast<int64_t>(b.size()) - 1)] ^= static_cast<uint8_t>(flip.Next());
    auto cu = CompressedUpdate::Decode(b);
    if (!cu.ok()) continue;
    auto again = CompressedUpdate::Decode(cu->Encode());
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->counts, cu->counts);
    auto mu = DecompressUpdate(*cu, m);
    if (mu.ok()) {
      ++decoded;
      EXPECT_TRUE(mu->stats.Validate().ok());
    }
  }
  EXPECT_GT(decoded, 0);
  EXPECT_EQ(PeekMessageType(wire), static_cast<uint8_t>(MessageType::kCompressedUpdate));
  EXPECT_FALSE(PeekMessageType(std::vector<uint8_t>{'x', 'y', 1, 1}).has_value());
}

TEST(FedUpdateCodecTest, ErrorFeedbackBoundsTheAccumulatedError) {
  Rng rng(3);
  const GlobalModel m = Model(4, 3, 1, rng);
  const ModelUpdate u = Stats(m, 50, rng);
  UpdateEncoder ef(UpdateEncoding::kInt8, true), plain(UpdateEncoding::kInt8, false);
  std::vector<double> sum_ef(u.stats.sums.size()), sum_plain(u.stats.sums.size());
  const int rounds = 20;
  for (int r = 0; r < rounds; ++r) {
    auto a = DecompressUpdate(CompressedUpdate::Decode(ef.Encode(u, m).value()).value(), m).value();
    auto b =
        DecompressUpdate(CompressedUpdate::Decode(plain.Encode(u, m).value()).value(), m).value();
    for (size_t i = 0; i < sum_ef.size(); ++i)
      sum_ef[i] += a.stats.sums[i], sum_plain[i] += b.stats.sums[i];
  }
  double err_ef = 0, err_plain = 0;
  for (size_t i = 0; i < sum_ef.size(); ++i) {
    err_ef += std::fabs(sum_ef[i] - rounds * u.stats.sums[i]);
    err_plain += std::fabs(sum_plain[i] - rounds * u.stats.sums[i]);
  }
  EXPECT_LT(err_ef * 5, err_plain);
  EXPECT_TRUE(plain.residual().empty());
  UpdateEncoder f64(UpdateEncoding::kF64, true);
  EXPECT_EQ(f64.Encode(u, m).value(), u.Encode());
}

// FedLloyd in-process (20 nodes, Dirichlet 0.5): the final SSQ of each encoding relative to f64.
// "int8 counts" quantises the counts too (generic int8 blocks), the alternative not taken.
TEST(FedUpdateCodecTest, FedLloydSsqPerEncoding) {
  const int kNodes = 20, k = 8, d = 4, rounds = 8;
  testing::FederatedData data = testing::MakeNonIid(kNodes, k, d, 100, 0.5, 7);
  Rng rng(9);
  GlobalModel init{1, k, d, {}, std::vector<double>(k, 0)};
  for (int j = 0; j < k; ++j) {  // k random data points
    const int n =
        static_cast<int>(rng.UniformInt(0, static_cast<int64_t>(data.pooled.size() / d) - 1));
    init.centroids.insert(init.centroids.end(), data.pooled.begin() + n * d,
                          data.pooled.begin() + (n + 1) * d);
  }
  auto run = [&](UpdateEncoding e, bool ef, bool int8_counts) {
    GlobalModel g = init;
    std::vector<UpdateEncoder> enc(kNodes, UpdateEncoder(e, ef));
    for (int r = 0; r < rounds; ++r) {
      SufficientStats sum = SufficientStats::Zero(k, d, false);
      for (int i = 0; i < kNodes; ++i) {
        ModelUpdate u{static_cast<uint64_t>(r), "n", g.version,
                      LocalStats(data.node_points[i], g, false).value()};
        std::vector<uint8_t> body = enc[i].Encode(u, g).value();
        ModelUpdate back =
            e == UpdateEncoding::kF64
                ? ModelUpdate::Decode(body).value()
                : DecompressUpdate(CompressedUpdate::Decode(body).value(), g).value();
        if (int8_counts)
          back.stats.counts = Decompress(Compress(back.stats.counts, Codec::kInt8).value());
        EXPECT_TRUE(sum.Accumulate(back.stats).ok());
      }
      g = ApplyAggregate(g, sum, {}).value();
    }
    return Ssq(data.pooled, d, g.centroids, k);
  };
  const double base = run(UpdateEncoding::kF64, false, false);
  for (auto [e, ef, c8] : {std::tuple{UpdateEncoding::kFp16, false, false},
                           std::tuple{UpdateEncoding::kInt8, false, false},
                           std::tuple{UpdateEncoding::kInt8, true, false},
                           std::tuple{UpdateEncoding::kInt8, false, true}}) {
    const double ratio = run(e, ef, c8) / base;
    std::printf("encoding %s%s%s: SSQ / f64 = %.6f\n", UpdateEncodingName(e), ef ? " +ef" : "",
                c8 ? " (int8 counts)" : "", ratio);
    if (!c8) {
      EXPECT_NEAR(ratio, 1.0, 0.01) << UpdateEncodingName(e);
    }
  }
}

}  // namespace
}  // namespace strata::federated
