#include "strata/federated/update.h"

#include <gtest/gtest.h>

#include "strata/core/rng.h"
#include "strata/federated/secagg_messages.h"

namespace strata::federated {
namespace {

ModelUpdate Sample() {
  ModelUpdate u;
  u.round_id = 9;
  u.node_id = "edge-7";
  u.model_version = 3;
  u.stats = SufficientStats::Zero(3, 2, true);
  std::vector<double> x = {1.5, -2.0};
  u.stats.Add(1, x, 2.0);
  u.stats.contributors = 1;
  return u;
}

TEST(FedUpdateTest, StatsAddAndFlattenRoundTrip) {
  ModelUpdate u = Sample();
  EXPECT_EQ(u.stats.sums[2], 3.0);
  EXPECT_EQ(u.stats.sums[3], -4.0);
  EXPECT_EQ(u.stats.counts[1], 2.0);
  EXPECT_EQ(u.stats.second[1], 2.0 * (2.25 + 4.0));
  auto back = SufficientStats::Unflatten(u.stats.Flatten(), 3, 2, true).value();
  EXPECT_EQ(back.sums, u.stats.sums);
  EXPECT_EQ(back.second, u.stats.second);
  EXPECT_EQ(SufficientStats::Unflatten(u.stats.Flatten(), 3, 2, false).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(FedUpdateTest, MessagesRoundTrip) {
  ModelUpdate u = Sample();
  ModelUpdate v = ModelUpdate::Decode(u.Encode()).value();
  EXPECT_EQ(v.round_id, 9u);
  EXPECT_EQ(v.node_id, "edge-7");
  EXPECT_EQ(v.stats.sums, u.stats.sums);
  EXPECT_EQ(v.stats.second, u.stats.second);
  GlobalModel g{4, 2, 2, {1, 2, 3, 4}, {5, 6}};
  GlobalModel h = GlobalModel::Decode(g.Encode()).value();
  EXPECT_EQ(h.centroids, g.centroids);
  EXPECT_EQ(h.version, 4u);
  CentroidReport c{"n", 1, 2, {1, 2}, {3}};
  EXPECT_EQ(CentroidReport::Decode(c.Encode()).value().centroids, c.centroids);
}

TEST(FedUpdateTest, EncodedSizesAreExact) {
  ModelUpdate u = Sample();
  EXPECT_EQ(u.Encode().size(), ModelUpdate::EncodedSize(3, 2, true, 6));
  u.stats = SufficientStats::Zero(50, 20, false);
  EXPECT_EQ(u.Encode().size(), ModelUpdate::EncodedSize(50, 20, false, 6));
  AuthKey key{};
  EXPECT_EQ(AdvertiseKeysMsg{}.Encode(key).size(), AdvertiseKeysBytes());
  ShareKeysMsg sk{1, 0, {}, std::vector<EncryptedShare>(7, {0, 1, std::vector<uint8_t>(144)})};
  EXPECT_EQ(sk.Encode(key).size(), ShareKeysBytes(7));
  EXPECT_EQ((MaskedInputMsg{1, 0, std::vector<uint64_t>(9)}.Encode(key).size()),
            MaskedInputBytes(9));
  UnmaskResponseMsg ur{
      1, 0, std::vector<UnmaskedShare>(5, {0, ShareKind::kSelfMaskSeed, std::vector<uint64_t>(8)})};
  EXPECT_EQ(ur.Encode(key).size(), UnmaskResponseBytes(5));
}

TEST(FedUpdateTest, EveryTruncationIsACleanError) {
  std::vector<uint8_t> wire = Sample().Encode();
  for (size_t len = 0; len < wire.size(); ++len) {
    auto r = ModelUpdate::Decode(std::span<const uint8_t>(wire).first(len));
    ASSERT_FALSE(r.ok()) << len;
    EXPECT_TRUE(r.status().code() == StatusCode::kDataLoss ||
                r.status().code() == StatusCode::kInvalidArgument)
        << r.status();
  }
  wire.push_back(0);
  EXPECT_EQ(ModelUpdate::Decode(wire).status().code(), StatusCode::kInvalidArgument);
}

TEST(FedUpdateTest, OversizedAndInconsistentMessagesAreRejected) {
  std::vector<uint8_t> wire = Sample().Encode();
  // Header(4) round(8) node id (4 + 6) version(8) then k, d.
  const size_t k_off = 4 + 8 + 4 + 6 + 8;
  std::vector<uint8_t> huge = wire;
  huge[k_off + 3] = 0x7f;  // k ≈ 2^30
  EXPECT_EQ(ModelUpdate::Decode(huge).status().code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t> flag = wire;
  flag[k_off + 8] = 7;  // second-moment flag
  EXPECT_EQ(ModelUpdate::Decode(flag).status().code(), StatusCode::kInvalidArgument);
  ModelUpdate nan = Sample();
  nan.stats.counts[0] = std::numeric_limits<double>::infinity();
  EXPECT_EQ(ModelUpdate::Decode(nan.Encode()).status().code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t> long_id = Sample().Encode();
  ModelUpdate id = Sample();
  id.node_id.assign(500, 'x');
  EXPECT_EQ(ModelUpdate::Decode(id.Encode()).status().code(), StatusCode::kInvalidArgument);
}

TEST(FedUpdateTest, RandomMutationsNeverCrashDecoders) {
  Rng rng(5);
  std::vector<std::vector<uint8_t>> seeds = {
      Sample().Encode(), GlobalModel{1, 1, 1, {0}, {0}}.Encode(),
      KeyListMsg{3, {AdvertiseKeysMsg{3, 0, {}, {}}}}.Encode(),
      UnmaskRequestMsg{3, {0, 1}, {2}}.Encode(),
      ShareBundleMsg{3, 1, {{0, 1, {1, 2, 3}}}}.Encode()};
  int rejected = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<uint8_t> b = seeds[iter % seeds.size()];
    int flips = static_cast<int>(rng.UniformInt(1, 4));
    for (int f = 0; f < flips; ++f)
      b[rng.UniformInt(0, b.size() - 1)] = static_cast<uint8_t>(rng.Next());
    if (rng.Bernoulli(0.3)) b.resize(rng.UniformInt(0, b.size()));
    rejected += !ModelUpdate::Decode(b).ok();
    rejected += !GlobalModel::Decode(b).ok();
    rejected += !KeyListMsg::Decode(b).ok();
    rejected += !UnmaskRequestMsg::Decode(b).ok();
    rejected += !ShareBundleMsg::Decode(b).ok();
  }
  EXPECT_GT(rejected, 3000 * 4);  // each buffer is of one type at most, so ≥ 4 of 5 decoders refuse
}

}  // namespace
}  // namespace strata::federated
