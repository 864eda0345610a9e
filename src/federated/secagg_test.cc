// Differential tests: the secure-aggregated sum equals the plain sum bit-exactly (fixed point,
// mod 2^64) with 0, 1 and n−t dropouts; more dropouts fail cleanly; tampering is detected.
#include "strata/federated/secagg.h"

#include <gtest/gtest.h>

#include <set>

#include "strata/core/rng.h"
#include "strata/federated/fixed_point.h"
#include "strata/federated/shamir.h"
#include "strata/federated/update.h"

namespace strata::federated {
namespace {

struct Harness {
  SecAggConfig cfg;
  std::vector<AuthKey> tokens;
  std::vector<SecAggClient> clients;
  std::optional<SecAggServer> server;
  std::vector<std::vector<uint64_t>> inputs;
  std::vector<double> plain_doubles_sum;
};

Harness Make(int n, int t, size_t m, uint64_t seed, uint64_t round = 7) {
  Harness h;
  h.cfg.round_id = round;
  for (int i = 0; i < n; ++i) h.cfg.nodes.push_back("edge-" + std::to_string(i));
  h.cfg.threshold = t;
  h.cfg.vector_length = m;
  SecureRandom token_rng = SecureRandom::Deterministic(SeedFromU64(seed * 1000));
  Rng rng(seed);
  FixedPointConfig fp;
  for (int i = 0; i < n; ++i) {
    AuthKey k;
    token_rng.Fill(k);
    h.tokens.push_back(k);
    h.clients.push_back(
        SecAggClient::Create(h.cfg, i, k,
                             SecureRandom::Deterministic(SeedFromU64(seed * 1000 + i + 1)))
            .value());
    std::vector<double> x(m);
    for (double& v : x) v = rng.Normal(0, 1000);
    h.inputs.push_back(EncodeFixed(x, fp).value());
  }
  h.server = SecAggServer::Create(h.cfg, h.tokens).value();
  return h;
}

// Runs a round. Nodes in `drop_after_share` never send masked input; nodes in `drop_at_unmask`
// never answer the unmask request.
Result<SecAggResult> RunRound(Harness& h, const std::set<int>& drop_after_share,
                              const std::set<int>& drop_at_unmask = {}) {
  SecAggServer& s = *h.server;
  for (auto& c : h.clients) STRATA_RETURN_IF_ERROR(s.HandleAdvertise(c.AdvertiseKeys().value()));
  STRATA_ASSIGN_OR_RETURN(auto keys, s.CloseAdvertise());
  for (auto& c : h.clients) {
    STRATA_ASSIGN_OR_RETURN(auto msg, c.ShareKeys(keys));
    STRATA_RETURN_IF_ERROR(s.HandleShareKeys(msg));
  }
  STRATA_RETURN_IF_ERROR(s.CloseShareKeys());
  for (size_t i = 0; i < h.clients.size(); ++i) {
    if (drop_after_share.contains(static_cast<int>(i))) continue;
    STRATA_ASSIGN_OR_RETURN(auto bundle, s.ShareBundleFor(i));
    STRATA_ASSIGN_OR_RETURN(auto msg, h.clients[i].MaskedInput(bundle, h.inputs[i]));
    STRATA_RETURN_IF_ERROR(s.HandleMaskedInput(msg));
  }
  STRATA_ASSIGN_OR_RETURN(auto req, s.CloseMaskedInput());
  for (size_t i = 0; i < h.clients.size(); ++i) {
    if (drop_after_share.contains(static_cast<int>(i)) ||
        drop_at_unmask.contains(static_cast<int>(i)))
      continue;
    STRATA_ASSIGN_OR_RETURN(auto msg, h.clients[i].Unmask(req));
    STRATA_RETURN_IF_ERROR(s.HandleUnmask(msg));
  }
  return s.Finish();
}

std::vector<uint64_t> PlainSum(const Harness& h, const std::set<int>& excluded) {
  std::vector<uint64_t> sum(h.cfg.vector_length, 0);
  for (size_t i = 0; i < h.inputs.size(); ++i) {
    if (!excluded.contains(static_cast<int>(i))) AddRing(sum, h.inputs[i]);
  }
  return sum;
}

TEST(FedSecAggTest, SumIsBitExactWithNoDropouts) {
  Harness h = Make(10, 6, 300, 1);
  auto r = RunRound(h, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->sum, PlainSum(h, {}));
  EXPECT_EQ(r->survivors.size(), 10u);
  EXPECT_TRUE(r->dropped.empty());
}

TEST(FedSecAggTest, SumIsBitExactWithOneDropout) {
  Harness h = Make(10, 6, 300, 2);
  auto r = RunRound(h, {3});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->sum, PlainSum(h, {3}));
  EXPECT_EQ(r->dropped, std::vector<uint32_t>{3});
}

TEST(FedSecAggTest, SumIsBitExactWithNMinusTDropouts) {
  Harness h = Make(10, 6, 300, 3);
  auto r = RunRound(h, {0, 4, 5, 9});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->sum, PlainSum(h, {0, 4, 5, 9}));
  EXPECT_EQ(r->survivors.size(), 6u);
}

TEST(FedSecAggTest, SurvivesDropoutsAtBothStages) {
  Harness h = Make(10, 6, 64, 4);
  // 2 drop before masked input, 2 more never answer the unmask request: 6 responses = t.
  auto r = RunRound(h, {1, 2}, {7, 8});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->sum, PlainSum(h, {1, 2}));  // 7 and 8 sent masked input, so they are in the sum
}

TEST(FedSecAggTest, MoreThanNMinusTDropoutsFailsCleanly) {
  Harness h = Make(10, 6, 64, 5);
  auto r = RunRound(h, {0, 1, 2, 3, 4});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("no sum released"), std::string::npos) << r.status();
  EXPECT_EQ(h.server->stage(), SecAggServer::Stage::kFailed);
  EXPECT_FALSE(h.server->Finish().ok());
}

TEST(FedSecAggTest, TooFewUnmaskResponsesFailsCleanly) {
  Harness h = Make(10, 6, 64, 6);
  auto r = RunRound(h, {0, 1}, {2, 3, 4});  // 8 survivors, only 5 answer
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status();
  EXPECT_EQ(h.server->stage(), SecAggServer::Stage::kFailed);
}

TEST(FedSecAggTest, MaskedInputLooksNothingLikeThePlainInput) {
  Harness h = Make(5, 3, 512, 7);
  auto& s = *h.server;
  for (auto& c : h.clients) ASSERT_TRUE(s.HandleAdvertise(c.AdvertiseKeys().value()).ok());
  auto keys = s.CloseAdvertise().value();
  for (auto& c : h.clients) ASSERT_TRUE(s.HandleShareKeys(c.ShareKeys(keys).value()).ok());
  ASSERT_TRUE(s.CloseShareKeys().ok());
  std::vector<uint64_t> zeros(512, 0);
  auto wire = h.clients[0].MaskedInput(s.ShareBundleFor(0).value(), zeros).value();
  auto msg = MaskedInputMsg::Decode(wire, h.tokens).value();
  int equal = 0, small = 0, high_bit = 0;
  for (uint64_t v : msg.y) {
    equal += v == 0;
    small += (v < (uint64_t{1} << 40) || v > ~uint64_t{0} - (uint64_t{1} << 40));  // |v| < 2^40
    high_bit += static_cast<int>(v >> 63);
  }
  EXPECT_EQ(equal, 0);
  EXPECT_EQ(small, 0);
  EXPECT_GT(high_bit, 200);  // uniform: ~256 of 512
  EXPECT_LT(high_bit, 312);
}

TEST(FedSecAggTest, TamperedShareIsDetectedByRecipient) {
  Harness h = Make(5, 3, 16, 8);
  auto& s = *h.server;
  for (auto& c : h.clients) ASSERT_TRUE(s.HandleAdvertise(c.AdvertiseKeys().value()).ok());
  auto keys = s.CloseAdvertise().value();
  for (auto& c : h.clients) ASSERT_TRUE(s.HandleShareKeys(c.ShareKeys(keys).value()).ok());
  ASSERT_TRUE(s.CloseShareKeys().ok());
  auto bundle = ShareBundleMsg::Decode(s.ShareBundleFor(1).value()).value();
  bundle.shares[2].ciphertext[5] ^= 0x01;
  auto r = h.clients[1].MaskedInput(bundle.Encode(), h.inputs[1]);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << r.status();
}

TEST(FedSecAggTest, TamperedMaskedInputIsRejectedAndRoundContinues) {
  Harness h = Make(6, 4, 32, 9);
  auto& s = *h.server;
  for (auto& c : h.clients) ASSERT_TRUE(s.HandleAdvertise(c.AdvertiseKeys().value()).ok());
  auto keys = s.CloseAdvertise().value();
  for (auto& c : h.clients) ASSERT_TRUE(s.HandleShareKeys(c.ShareKeys(keys).value()).ok());
  ASSERT_TRUE(s.CloseShareKeys().ok());
  for (size_t i = 0; i < 6; ++i) {
    auto wire = h.clients[i].MaskedInput(s.ShareBundleFor(i).value(), h.inputs[i]).value();
    if (i == 2) {
      wire[30] ^= 0x80;
      Status st = s.HandleMaskedInput(wire);
      EXPECT_EQ(st.code(), StatusCode::kUnauthenticated) << st;
      continue;
    }
    ASSERT_TRUE(s.HandleMaskedInput(wire).ok());
  }
  auto req = s.CloseMaskedInput().value();
  for (size_t i = 0; i < 6; ++i) {
    if (i != 2) {
      ASSERT_TRUE(s.HandleUnmask(h.clients[i].Unmask(req).value()).ok());
    }
  }
  auto r = s.Finish();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->sum, PlainSum(h, {2}));  // node 2 is treated as dropped; its masks are removed
}

TEST(FedSecAggTest, TamperedUnmaskShareFailsTheRound) {
  Harness h = Make(6, 4, 32, 10);
  auto& s = *h.server;
  for (auto& c : h.clients) ASSERT_TRUE(s.HandleAdvertise(c.AdvertiseKeys().value()).ok());
  auto keys = s.CloseAdvertise().value();
  for (auto& c : h.clients) ASSERT_TRUE(s.HandleShareKeys(c.ShareKeys(keys).value()).ok());
  ASSERT_TRUE(s.CloseShareKeys().ok());
  for (size_t i = 0; i < 6; ++i) {
    ASSERT_TRUE(s.HandleMaskedInput(
                     h.clients[i].MaskedInput(s.ShareBundleFor(i).value(), h.inputs[i]).value())
                    .ok());
  }
  auto req = s.CloseMaskedInput().value();
  for (size_t i = 0; i < 6; ++i) {
    auto wire = h.clients[i].Unmask(req).value();
    if (i == 0) {  // a malicious node corrupts its share and re-authenticates it
      auto m = UnmaskResponseMsg::Decode(wire, h.tokens).value();
      m.shares[1].y[0] = (m.shares[1].y[0] + 1) % kShamirPrime;
      wire = m.Encode(h.tokens[0]);
    }
    ASSERT_TRUE(s.HandleUnmask(wire).ok());
  }
  auto r = s.Finish();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << r.status();
  EXPECT_EQ(h.server->stage(), SecAggServer::Stage::kFailed);
}

TEST(FedSecAggTest, RejectsReplayWrongRoundBadTokenAndDuplicates) {
  Harness h = Make(4, 3, 8, 11, /*round=*/7);
  auto& s = *h.server;
  SecAggConfig old_cfg = h.cfg;
  old_cfg.round_id = 6;
  auto old_client = SecAggClient::Create(old_cfg, 0, h.tokens[0], SecureRandom()).value();
  EXPECT_EQ(s.HandleAdvertise(old_client.AdvertiseKeys().value()).code(),
            StatusCode::kFailedPrecondition);
  SecAggConfig future = h.cfg;
  future.round_id = 9;
  auto future_client = SecAggClient::Create(future, 0, h.tokens[0], SecureRandom()).value();
  EXPECT_EQ(s.HandleAdvertise(future_client.AdvertiseKeys().value()).code(),
            StatusCode::kInvalidArgument);
  auto forged = SecAggClient::Create(h.cfg, 1, h.tokens[0], SecureRandom()).value();  // wrong token
  EXPECT_EQ(s.HandleAdvertise(forged.AdvertiseKeys().value()).code(), StatusCode::kUnauthenticated);
  auto adv = h.clients[0].AdvertiseKeys().value();
  EXPECT_TRUE(s.HandleAdvertise(adv).ok());
  EXPECT_EQ(s.HandleAdvertise(adv).code(), StatusCode::kAlreadyExists);
  std::vector<uint8_t> masked = MaskedInputMsg{7, 0, {1, 2}}.Encode(h.tokens[0]);
  EXPECT_EQ(s.HandleMaskedInput(masked).code(), StatusCode::kFailedPrecondition);  // wrong stage
}

TEST(FedSecAggTest, ClientAnswersOnlyOneUnmaskRequest) {
  Harness h = Make(4, 3, 8, 12);
  auto& s = *h.server;
  for (auto& c : h.clients) ASSERT_TRUE(s.HandleAdvertise(c.AdvertiseKeys().value()).ok());
  auto keys = s.CloseAdvertise().value();
  for (auto& c : h.clients) ASSERT_TRUE(s.HandleShareKeys(c.ShareKeys(keys).value()).ok());
  ASSERT_TRUE(s.CloseShareKeys().ok());
  ASSERT_TRUE(h.clients[0].MaskedInput(s.ShareBundleFor(0).value(), h.inputs[0]).ok());
  UnmaskRequestMsg both{7, {0, 1, 2}, {2}};
  EXPECT_EQ(h.clients[0].Unmask(both.Encode()).status().code(), StatusCode::kFailedPrecondition);
  UnmaskRequestMsg ok{7, {0, 1, 2}, {3}};
  EXPECT_TRUE(h.clients[0].Unmask(ok.Encode()).ok());
  UnmaskRequestMsg again{7, {0, 1, 3}, {2}};
  EXPECT_EQ(h.clients[0].Unmask(again.Encode()).status().code(), StatusCode::kFailedPrecondition);
}

TEST(FedSecAggTest, DeterministicModeIsReproducible) {
  Harness a = Make(4, 3, 8, 13), b = Make(4, 3, 8, 13);
  EXPECT_EQ(a.clients[2].AdvertiseKeys().value(), b.clients[2].AdvertiseKeys().value());
}

TEST(FedSecAggTest, SecureSumOfSufficientStatsMatchesPlainSum) {
  const int n = 8, k = 4, d = 3;
  FixedPointConfig fp;
  Rng rng(99);
  std::vector<SufficientStats> stats;
  SufficientStats plain = SufficientStats::Zero(k, d, true);
  for (int i = 0; i < n; ++i) {
    SufficientStats s = SufficientStats::Zero(k, d, true);
    for (int p = 0; p < 50; ++p) {
      std::vector<double> x = {rng.Normal(0, 3), rng.Normal(1, 2), rng.Uniform(-5, 5)};
      s.Add(static_cast<int>(rng.UniformInt(0, k - 1)), x);
    }
    ASSERT_TRUE(plain.Accumulate(s).ok());
    stats.push_back(s);
  }
  Harness h = Make(n, 5, plain.FlatSize(), 14);
  std::vector<uint64_t> ring_plain(plain.FlatSize(), 0);
  for (int i = 0; i < n; ++i) {
    h.inputs[i] = EncodeFixed(stats[i].Flatten(), fp).value();
    AddRing(ring_plain, h.inputs[i]);
  }
  auto r = RunRound(h, {6});
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<uint64_t> expected(plain.FlatSize(), 0);
  for (int i = 0; i < n; ++i) {
    if (i != 6) AddRing(expected, h.inputs[i]);
  }
  EXPECT_EQ(r->sum, expected);
  // Decoded: within n·2^-(frac+1) of the float sum over survivors.
  SufficientStats survivors = SufficientStats::Zero(k, d, true);
  for (int i = 0; i < n; ++i) {
    if (i != 6) {
      ASSERT_TRUE(survivors.Accumulate(stats[i]).ok());
    }
  }
  auto decoded = SufficientStats::Unflatten(DecodeFixed(r->sum, fp), k, d, true).value();
  for (size_t j = 0; j < decoded.sums.size(); ++j)
    EXPECT_NEAR(decoded.sums[j], survivors.sums[j], 1e-5);
  for (int j = 0; j < k; ++j)
    EXPECT_EQ(decoded.counts[j], survivors.counts[j]);  // counts are exact
}

TEST(FedSecAggTest, EveryMutationOrTruncationOfAnAuthenticatedMessageIsRejected) {
  std::vector<AuthKey> tokens(3);
  SecureRandom rng = SecureRandom::Deterministic(SeedFromU64(3));
  for (auto& t : tokens) rng.Fill(t);
  UnmaskResponseMsg resp{5, 1, {{0, ShareKind::kSelfMaskSeed, std::vector<uint64_t>(8, 42)}}};
  std::vector<std::vector<uint8_t>> wires = {
      MaskedInputMsg{5, 2, {1, 2, 3}}.Encode(tokens[2]), resp.Encode(tokens[1]),
      ShareKeysMsg{5, 0, {}, {{0, 1, std::vector<uint8_t>(144, 7)}}}.Encode(tokens[0])};
  Rng mut(8);
  int checked = 0;
  for (const auto& wire : wires) {
    for (size_t pos = 0; pos < wire.size(); ++pos) {
      std::vector<uint8_t> b = wire;
      b[pos] ^= static_cast<uint8_t>(1 + mut.UniformInt(0, 254));
      EXPECT_FALSE(MaskedInputMsg::Decode(b, tokens).ok());
      EXPECT_FALSE(UnmaskResponseMsg::Decode(b, tokens).ok());
      EXPECT_FALSE(ShareKeysMsg::Decode(b, tokens).ok());
      EXPECT_FALSE(MaskedInputMsg::Decode(std::span<const uint8_t>(wire).first(pos), tokens).ok());
      ++checked;
    }
  }
  EXPECT_TRUE(MaskedInputMsg::Decode(wires[0], tokens).ok());
  EXPECT_TRUE(UnmaskResponseMsg::Decode(wires[1], tokens).ok());
  EXPECT_TRUE(ShareKeysMsg::Decode(wires[2], tokens).ok());
  EXPECT_GT(checked, 300);
}

TEST(FedSecAggTest, ConfigValidation) {
  SecAggConfig c;
  c.nodes = {"a", "b", "c", "d"};
  c.vector_length = 4;
  c.threshold = 2;  // not > n/2
  EXPECT_EQ(c.Validate().code(), StatusCode::kInvalidArgument);
  c.threshold = 3;
  EXPECT_TRUE(c.Validate().ok());
  c.nodes = {"a", "a", "c", "d"};
  EXPECT_EQ(c.Validate().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace strata::federated
