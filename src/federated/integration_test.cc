// End to end, the way a federate service composes the library: k-FED cold start, then FedLloyd
// rounds whose sums go through secure aggregation (with dropouts), central DP noise and the
// accountant, into the RoundAggregator.
#include <gtest/gtest.h>

#include <set>

#include "strata/core/clock.h"
#include "strata/federated/aggregator.h"
#include "strata/federated/dp.h"
#include "strata/federated/fixed_point.h"
#include "strata/federated/kmeans.h"
#include "strata/federated/secagg.h"
#include "test_data.h"

namespace strata::federated {
namespace {

constexpr int kNodes = 20, kK = 8, kD = 4;

// One secure round over the nodes not in `dropped`; returns the decoded sum and participants.
Result<std::pair<SufficientStats, std::vector<std::string>>> SecureSum(
    const std::vector<SufficientStats>& stats, const std::vector<std::string>& names,
    const std::set<int>& dropped, uint64_t round) {
  SecAggConfig cfg{round, names, 14, stats[0].FlatSize()};
  std::vector<AuthKey> tokens(names.size());
  SecureRandom trng = SecureRandom::Deterministic(SeedFromU64(round));
  for (auto& t : tokens) trng.Fill(t);
  STRATA_ASSIGN_OR_RETURN(SecAggServer server, SecAggServer::Create(cfg, tokens));
  std::vector<SecAggClient> clients;
  for (size_t i = 0; i < names.size(); ++i) {
    STRATA_ASSIGN_OR_RETURN(
        SecAggClient c,
        SecAggClient::Create(cfg, i, tokens[i],
                             SecureRandom::Deterministic(SeedFromU64(round * 100 + i))));
    STRATA_RETURN_IF_ERROR(server.HandleAdvertise(c.AdvertiseKeys().value()));
    clients.push_back(std::move(c));
  }
  STRATA_ASSIGN_OR_RETURN(auto keys, server.CloseAdvertise());
  for (auto& c : clients) STRATA_RETURN_IF_ERROR(server.HandleShareKeys(c.ShareKeys(keys).value()));
  STRATA_RETURN_IF_ERROR(server.CloseShareKeys());
  FixedPointConfig fp;
  for (size_t i = 0; i < clients.size(); ++i) {
    if (dropped.contains(static_cast<int>(i))) continue;
    STRATA_ASSIGN_OR_RETURN(auto x, EncodeFixed(stats[i].Flatten(), fp));
    STRATA_ASSIGN_OR_RETURN(auto bundle, server.ShareBundleFor(i));
    STRATA_RETURN_IF_ERROR(server.HandleMaskedInput(clients[i].MaskedInput(bundle, x).value()));
  }
  STRATA_ASSIGN_OR_RETURN(auto req, server.CloseMaskedInput());
  for (size_t i = 0; i < clients.size(); ++i) {
    if (!dropped.contains(static_cast<int>(i)))
      STRATA_RETURN_IF_ERROR(server.HandleUnmask(clients[i].Unmask(req).value()));
  }
  STRATA_ASSIGN_OR_RETURN(SecAggResult r, server.Finish());
  STRATA_ASSIGN_OR_RETURN(SufficientStats sum,
                          SufficientStats::Unflatten(DecodeFixed(r.sum, fp), kK, kD, false));
  std::vector<std::string> participants;
  for (uint32_t u : r.survivors) participants.push_back(names[u]);
  return std::make_pair(sum, participants);
}

struct FedRun {
  GlobalModel model;
  double epsilon = 0;
};

FedRun Federate(const testing::FederatedData& data, bool secure, bool dp, int rounds) {
  std::vector<std::string> names;
  for (int i = 0; i < kNodes; ++i) names.push_back("edge-" + std::to_string(i));
  Rng rng(5);
  std::vector<CentroidReport> reports;
  for (int i = 0; i < kNodes; ++i)
    reports.push_back(KFedLocal(names[i], data.node_points[i], kD, kK, 50, rng).value());
  GlobalModel init = KFedAggregate(reports, kK, rng).value();
  ManualClock clock(FromUnixSeconds(1'700'000'000));
  AggregatorConfig cfg;
  cfg.nodes = names;
  cfg.k = kK;
  cfg.d = kD;
  cfg.min_participants = 14;
  auto agg = RoundAggregator::Create(cfg, init, &clock).value();
  const double clip = 25.0;
  auto mech = GaussianMechanism::Create(
                  {.clip_norm = clip, .epsilon = 4.0, .delta = 1e-6, .rounds = rounds}, kD)
                  .value();
  ZcdpAccountant acct({.epsilon_budget = 4.0 + 1e-9, .delta = 1e-6});
  Rng noise(9);
  for (int r = 0; r < rounds; ++r) {
    RoundInfo info = agg.StartRound().value();
    std::vector<SufficientStats> stats;
    for (int i = 0; i < kNodes; ++i) {
      std::vector<double> pts = data.node_points[i];
      ClipRows(pts, kD, clip);
      stats.push_back(LocalStats(pts, agg.model(), false).value());
    }
    std::set<int> dropped = {r % kNodes, (r + 7) % kNodes};  // two nodes drop every round
    if (secure) {
      auto sum = SecureSum(stats, names, dropped, info.round_id);
      EXPECT_TRUE(sum.ok()) << sum.status();
      EXPECT_TRUE(agg.SubmitAggregate(info.round_id, sum->first, sum->second).ok());
    } else {
      for (int i = 0; i < kNodes; ++i) {
        if (!dropped.contains(i)) {
          EXPECT_TRUE(agg.Submit({info.round_id, names[i], info.model_version, stats[i]}).ok());
        }
      }
    }
    clock.Advance(std::chrono::seconds(61));
    auto out = agg.Close([&](SufficientStats& s) -> Status {
      if (!dp) return Status::Ok();
      STRATA_RETURN_IF_ERROR(acct.Spend(mech.rho_per_round()));
      return mech.Apply(s, noise);
    });
    EXPECT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(out->participants.size(), static_cast<size_t>(kNodes - 2));
  }
  if (dp) {
    EXPECT_EQ(acct.Spend(mech.rho_per_round()).code(), StatusCode::kResourceExhausted);
  }
  return {agg.model(), acct.TotalEpsilon()};
}

TEST(FedIntegrationTest, SecureFederatedKMeansMatchesPlainAndCentralised) {
  auto data = testing::MakeNonIid(kNodes, kK, kD, 300, 0.5, 77);
  const double ref =
      testing::ReferenceSsq(data.pooled, kD, testing::ReferenceLloyd(data.pooled, kD, kK, 5, 3));
  FedRun plain = Federate(data, /*secure=*/false, /*dp=*/false, 5);
  FedRun secure = Federate(data, /*secure=*/true, /*dp=*/false, 5);
  for (size_t i = 0; i < plain.model.centroids.size(); ++i) {
    EXPECT_NEAR(secure.model.centroids[i], plain.model.centroids[i], 1e-5);  // fixed-point 2^-20
  }
  FedRun private_run = Federate(data, /*secure=*/true, /*dp=*/true, 5);
  const double s_secure = Ssq(data.pooled, kD, secure.model.centroids, kK);
  const double s_dp = Ssq(data.pooled, kD, private_run.model.centroids, kK);
  std::printf("SSQ ratio vs centralised: secure %.4f, secure+DP(eps=%.2f, delta=1e-6) %.4f\n",
              s_secure / ref, private_run.epsilon, s_dp / ref);
  EXPECT_LE(s_secure, 1.05 * ref);
  EXPECT_LE(s_dp, 1.10 * ref);
  EXPECT_NEAR(private_run.epsilon, 4.0, 1e-6);
}

}  // namespace
}  // namespace strata::federated
