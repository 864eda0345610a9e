#include "strata/federated/kmeans.h"

#include <gtest/gtest.h>

#include "strata/core/clock.h"
#include "strata/federated/aggregator.h"
#include "test_data.h"

namespace strata::federated {
namespace {

using testing::FederatedData;

GlobalModel KFedInit(const FederatedData& data, int k, int k_local, Rng& rng) {
  std::vector<CentroidReport> reports;
  for (size_t i = 0; i < data.node_points.size(); ++i) {
    reports.push_back(
        KFedLocal("edge-" + std::to_string(i), data.node_points[i], data.d, k_local, 50, rng)
            .value());
  }
  return KFedAggregate(reports, k, rng).value();
}

// Federated SSQ (k-FED cold start + 10 FedLloyd rounds through the RoundAggregator) within 5% of
// centralised Lloyd (best of 5 k-means++) on Dirichlet(0.5) non-IID data, 20 nodes, 3 data seeds.
TEST(FedKMeansTest, SsqWithinFivePercentOfCentralisedOnNonIidData) {
  const int nodes = 20, k = 10, d = 4;
  for (uint64_t seed : {2026u, 7u, 99u}) {
    FederatedData data = testing::MakeNonIid(nodes, k, d, 300, /*alpha=*/0.5, seed);
    std::vector<double> ref = testing::ReferenceLloyd(data.pooled, d, k, /*restarts=*/5, 7);
    const double ref_ssq = testing::ReferenceSsq(data.pooled, d, ref);

    Rng rng(11);
    GlobalModel g = KFedInit(data, k, /*k_local=*/k, rng);
    const double kfed_ssq = Ssq(data.pooled, d, g.centroids, k);
    ManualClock clock(FromUnixSeconds(1'700'000'000));
    AggregatorConfig cfg;
    for (int i = 0; i < nodes; ++i) cfg.nodes.push_back("edge-" + std::to_string(i));
    cfg.k = k;
    cfg.d = d;
    cfg.min_participants = 15;
    auto agg = RoundAggregator::Create(cfg, g, &clock).value();
    for (int round = 0; round < 10; ++round) {
      RoundInfo info = agg.StartRound().value();
      for (int i = 0; i < nodes; ++i) {
        ModelUpdate u{info.round_id, cfg.nodes[i], info.model_version,
                      LocalStats(data.node_points[i], agg.model(), false).value()};
        ASSERT_TRUE(agg.SubmitEncoded(u.Encode()).ok());
      }
      ASSERT_TRUE(agg.Due());
      RoundOutcome out = agg.Close().value();
      ASSERT_EQ(out.state, RoundOutcome::State::kCompleted);
    }
    const double fed_ssq = Ssq(data.pooled, d, agg.model().centroids, k);
    std::printf(
        "seed %llu: SSQ centralised=%.1f k-FED=%.1f (x%.4f) k-FED+10 FedLloyd=%.1f (x%.4f)\n",
        static_cast<unsigned long long>(seed), ref_ssq, kfed_ssq, kfed_ssq / ref_ssq, fed_ssq,
        fed_ssq / ref_ssq);
    EXPECT_LE(fed_ssq, 1.05 * ref_ssq) << "seed " << seed;
    EXPECT_EQ(agg.model().version, 11u);
  }
}

TEST(FedKMeansTest, SumOfLocalStatsEqualsPooledStats) {
  FederatedData data = testing::MakeNonIid(5, 4, 3, 100, 0.5, 3);
  GlobalModel g{1, 4, 3, data.true_centers, std::vector<double>(4, 1.0)};
  SufficientStats sum = SufficientStats::Zero(4, 3, true);
  for (const auto& pts : data.node_points)
    ASSERT_TRUE(sum.Accumulate(LocalStats(pts, g, true).value()).ok());
  SufficientStats pooled = LocalStats(data.pooled, g, true).value();
  for (size_t i = 0; i < sum.sums.size(); ++i) EXPECT_NEAR(sum.sums[i], pooled.sums[i], 1e-9);
  EXPECT_EQ(sum.counts, pooled.counts);
  EXPECT_EQ(sum.contributors, 5u);
  double total = 0;
  for (double c : sum.counts) total += c;
  EXPECT_EQ(total, 500.0);
}

TEST(FedKMeansTest, ApplyAggregateWithDecayMatchesHandComputation) {
  GlobalModel g{4, 2, 1, {0.0, 10.0}, {10.0, 5.0}};
  SufficientStats s = SufficientStats::Zero(2, 1, false);
  s.sums = {20.0, 0.0};
  s.counts = {10.0, 0.0};  // segment 1 got no points: keeps its centroid
  GlobalModel n = ApplyAggregate(g, s, {.decay = 0.5}).value();
  EXPECT_EQ(n.version, 5u);
  EXPECT_DOUBLE_EQ(n.centroids[0], (0.5 * 10 * 0 + 20) / (0.5 * 10 + 10));  // 4/3
  EXPECT_DOUBLE_EQ(n.weights[0], 15.0);
  EXPECT_DOUBLE_EQ(n.centroids[1], 10.0);
  EXPECT_DOUBLE_EQ(n.weights[1], 2.5);
  SufficientStats bad = SufficientStats::Zero(3, 1, false);
  EXPECT_EQ(ApplyAggregate(g, bad, {}).status().code(), StatusCode::kInvalidArgument);
}

TEST(FedKMeansTest, KFedRejectsInconsistentReports) {
  Rng rng(1);
  CentroidReport a{"a", 2, 2, {0, 0, 1, 1}, {1, 1}};
  CentroidReport b{"b", 1, 3, {0, 0, 0}, {1}};
  std::vector<CentroidReport> reports = {a, b};
  EXPECT_EQ(KFedAggregate(reports, 2, rng).status().code(), StatusCode::kInvalidArgument);
  std::vector<CentroidReport> one = {a};
  EXPECT_EQ(KFedAggregate(one, 3, rng).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(KFedAggregate(one, 2, rng).ok());
}

TEST(FedKMeansTest, KFedRecoversWellSeparatedCentres) {
  FederatedData data = testing::MakeNonIid(10, 6, 5, 200, 0.3, 5);
  Rng rng(2);
  GlobalModel g = KFedInit(data, 6, /*k_local=*/6, rng);
  // Every true centre has a learned centroid within distance 1.
  for (int j = 0; j < 6; ++j) {
    std::span<const double> c(&data.true_centers[j * 5], 5);
    double best = 1e18;
    for (int i = 0; i < 6; ++i) best = std::min(best, SquaredDistance(g.Centroid(i), c));
    EXPECT_LT(best, 1.0) << "true centre " << j;
  }
}

TEST(FedKMeansTest, LocalStatsRejectsBadShapes) {
  GlobalModel g{1, 2, 3, std::vector<double>(6, 0.0), {1, 1}};
  std::vector<double> pts(7, 0.0);
  EXPECT_EQ(LocalStats(pts, g, false).status().code(), StatusCode::kInvalidArgument);
  std::vector<double> ok(6, 0.0), w(3, 1.0);
  EXPECT_EQ(LocalStats(ok, g, false, w).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace strata::federated
