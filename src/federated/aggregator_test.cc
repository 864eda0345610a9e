#include "strata/federated/aggregator.h"

#include <gtest/gtest.h>

namespace strata::federated {
namespace {

constexpr int kK = 3, kD = 2;

GlobalModel Initial() { return GlobalModel{1, kK, kD, {0, 0, 5, 5, -5, 5}, {1, 1, 1}}; }

AggregatorConfig Config(AggregatorConfig::Role role = AggregatorConfig::Role::kCloud) {
  AggregatorConfig c;
  c.role = role;
  c.aggregator_id = role == AggregatorConfig::Role::kCloud ? "cloud" : "fog-1";
  c.nodes = {"a", "b", "c", "d"};
  c.k = kK;
  c.d = kD;
  c.min_participants = 2;
  c.round_timeout = std::chrono::seconds(30);
  c.max_retries = 1;
  return c;
}

ModelUpdate Update(const RoundInfo& r, const std::string& node, double v) {
  SufficientStats s = SufficientStats::Zero(kK, kD, false);
  std::vector<double> x = {v, v};
  s.Add(0, x, 1.0);
  s.Add(1, x, 2.0);
  return ModelUpdate{r.round_id, node, r.model_version, s};
}

TEST(FedAggregatorTest, RejectsBadUpdatesPreciselyAndTheRoundContinues) {
  ManualClock clock(FromUnixSeconds(1000));
  auto agg = RoundAggregator::Create(Config(), Initial(), &clock).value();
  RoundInfo r1 = agg.StartRound().value();
  ASSERT_TRUE(agg.Submit(Update(r1, "a", 1)).ok());
  ASSERT_TRUE(agg.Close().ok());  // a alone: retry (min 2)
  RoundInfo r = agg.StartRound().value();
  EXPECT_EQ(r.round_id, r1.round_id + 1);
  EXPECT_EQ(r.attempt, 1);

  EXPECT_EQ(agg.Submit(Update(r, "zz", 1)).code(), StatusCode::kPermissionDenied);
  RoundInfo old = r;
  old.round_id = r1.round_id;
  Status replay = agg.Submit(Update(old, "a", 1));
  EXPECT_EQ(replay.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(replay.message().find("closed round"), std::string::npos) << replay;
  RoundInfo future = r;
  future.round_id = r.round_id + 5;
  EXPECT_EQ(agg.Submit(Update(future, "a", 1)).code(), StatusCode::kInvalidArgument);
  RoundInfo stale = r;
  stale.model_version = 0;
  EXPECT_EQ(agg.Submit(Update(stale, "a", 1)).code(), StatusCode::kFailedPrecondition);
  ModelUpdate wrong_dim = Update(r, "a", 1);
  wrong_dim.stats = SufficientStats::Zero(kK, kD + 1, false);
  Status dim = agg.Submit(wrong_dim);
  EXPECT_EQ(dim.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(dim.message().find("d=3"), std::string::npos) << dim;
  ModelUpdate nan = Update(r, "a", 1);
  nan.stats.sums[0] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(agg.Submit(nan).code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t> truncated = Update(r, "a", 1).Encode();
  truncated.resize(truncated.size() - 3);
  EXPECT_EQ(agg.SubmitEncoded(truncated).code(), StatusCode::kDataLoss);

  ASSERT_TRUE(agg.Submit(Update(r, "a", 1)).ok());
  EXPECT_EQ(agg.Submit(Update(r, "a", 1)).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(agg.Submit(Update(r, "b", 3)).ok());
  EXPECT_FALSE(agg.Due());
  clock.Advance(std::chrono::seconds(31));
  EXPECT_EQ(agg.Submit(Update(r, "c", 1)).code(), StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(agg.Due());
  RoundOutcome out = agg.Close().value();
  ASSERT_EQ(out.state, RoundOutcome::State::kCompleted);
  EXPECT_EQ(out.participants, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(out.missing, (std::vector<std::string>{"c", "d"}));
  ASSERT_TRUE(out.model.has_value());
  EXPECT_EQ(out.model->version, 2u);
  EXPECT_DOUBLE_EQ(out.model->centroids[0], 2.0);   // (1 + 3) / 2
  EXPECT_DOUBLE_EQ(out.model->centroids[4], -5.0);  // segment 2 untouched
  EXPECT_EQ(out.sum.contributors, 2u);
}

TEST(FedAggregatorTest, RetriesThenFailsWhenTooFewParticipants) {
  ManualClock clock(FromUnixSeconds(1000));
  auto agg = RoundAggregator::Create(Config(), Initial(), &clock).value();
  RoundInfo r = agg.StartRound().value();
  EXPECT_EQ(agg.StartRound().status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(agg.Submit(Update(r, "a", 1)).ok());
  clock.Advance(std::chrono::seconds(31));
  RoundOutcome o1 = agg.Close().value();
  EXPECT_EQ(o1.state, RoundOutcome::State::kRetry);
  EXPECT_EQ(agg.model().version, 1u);  // unchanged
  RoundInfo r2 = agg.StartRound().value();
  EXPECT_EQ(r2.model_version, 1u);
  RoundOutcome o2 = agg.Close().value();
  EXPECT_EQ(o2.state, RoundOutcome::State::kFailed);  // max_retries = 1
  EXPECT_EQ(agg.Close().status().code(), StatusCode::kFailedPrecondition);
}

TEST(FedAggregatorTest, FogForwardsSumOfEdgesAndCloudResultMatchesFlatAggregation) {
  ManualClock clock(FromUnixSeconds(1000));
  AggregatorConfig cloud_cfg = Config();
  cloud_cfg.nodes = {"fog-1", "fog-2"};
  cloud_cfg.min_participants = 2;
  auto cloud = RoundAggregator::Create(cloud_cfg, Initial(), &clock).value();
  AggregatorConfig fog1_cfg = Config(AggregatorConfig::Role::kFog);
  AggregatorConfig fog2_cfg = fog1_cfg;
  fog2_cfg.aggregator_id = "fog-2";
  fog2_cfg.nodes = {"e", "f"};
  auto fog1 = RoundAggregator::Create(fog1_cfg, Initial(), &clock).value();
  auto fog2 = RoundAggregator::Create(fog2_cfg, Initial(), &clock).value();
  EXPECT_EQ(fog1.StartRound().status().code(), StatusCode::kFailedPrecondition);

  AggregatorConfig flat_cfg = Config();
  flat_cfg.nodes = {"a", "b", "c", "d", "e", "f"};
  auto flat = RoundAggregator::Create(flat_cfg, Initial(), &clock).value();
  RoundInfo fr = flat.StartRound().value();

  RoundInfo cr = cloud.StartRound().value();
  RoundInfo r1 = fog1.JoinParentRound(cr, cloud.model()).value();
  RoundInfo r2 = fog2.JoinParentRound(cr, cloud.model()).value();
  EXPECT_EQ(r1.round_id, cr.round_id);
  const std::vector<std::pair<std::string, double>> edges = {{"a", 1}, {"b", 2},  {"c", 4},
                                                             {"d", 8}, {"e", 16}, {"f", 32}};
  for (const auto& [node, v] : edges) {
    auto& fog = (node == "e" || node == "f") ? fog2 : fog1;
    ASSERT_TRUE(fog.Submit(Update(fog.current(), node, v)).ok());
    ASSERT_TRUE(flat.Submit(Update(fr, node, v)).ok());
  }
  RoundOutcome o1 = fog1.Close().value(), o2 = fog2.Close().value();
  ASSERT_TRUE(o1.forward.has_value());
  EXPECT_EQ(o1.forward->node_id, "fog-1");
  EXPECT_EQ(o1.forward->stats.contributors, 4u);
  ASSERT_TRUE(cloud.SubmitEncoded(o1.forward->Encode()).ok());
  ASSERT_TRUE(cloud.SubmitEncoded(o2.forward->Encode()).ok());
  RoundOutcome co = cloud.Close().value();
  RoundOutcome fo = flat.Close().value();
  ASSERT_EQ(co.state, RoundOutcome::State::kCompleted);
  EXPECT_EQ(co.model->centroids, fo.model->centroids);
  EXPECT_EQ(co.sum.contributors, 6u);
  EXPECT_EQ(co.model->version, 2u);
  (void)r2;
}

TEST(FedAggregatorTest, SecureAggregateCountsParticipantsAndTransformCanFailTheRound) {
  ManualClock clock(FromUnixSeconds(1000));
  auto agg = RoundAggregator::Create(Config(), Initial(), &clock).value();
  RoundInfo r = agg.StartRound().value();
  SufficientStats sum = Update(r, "a", 2).stats;
  EXPECT_EQ(agg.SubmitAggregate(r.round_id, sum, {"a", "x"}).code(), StatusCode::kPermissionDenied);
  ASSERT_TRUE(agg.SubmitAggregate(r.round_id, sum, {"a", "b", "c"}).ok());
  EXPECT_EQ(agg.Submit(Update(r, "b", 1)).code(), StatusCode::kAlreadyExists);
  auto failed = agg.Close([](SufficientStats&) { return ResourceExhaustedError("budget"); });
  EXPECT_EQ(failed.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(agg.model().version, 1u);
}

TEST(FedAggregatorTest, CreateRejectsBadConfig) {
  ManualClock clock;
  AggregatorConfig c = Config();
  c.min_participants = 5;
  EXPECT_EQ(RoundAggregator::Create(c, Initial(), &clock).status().code(),
            StatusCode::kInvalidArgument);
  c = Config();
  c.nodes = {"a", "a"};
  EXPECT_EQ(RoundAggregator::Create(c, Initial(), &clock).status().code(),
            StatusCode::kInvalidArgument);
  c = Config();
  c.d = 3;
  EXPECT_EQ(RoundAggregator::Create(c, Initial(), &clock).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(RoundAggregator::Create(Config(), Initial(), nullptr).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace strata::federated
