// The cloud aggregator's durable state (aggregator_state.cc): a real cloud on a real HTTP server
// (port 0) with two real EdgeClients runs rounds, is destroyed, and a new one on the same data dir
// resumes the model version, the last round id and the DP epsilon spent; a further round continues
// from there; budget_action stop still stops after a restart; a corrupt state file fails Create.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "aggregator_service.h"
#include "edge.h"
#include "simulation.h"
#include "strata/federated/dp.h"
#include "strata/testing/fixtures.h"

namespace strata::federate {
namespace {

namespace fed = strata::federated;
using Ms = std::chrono::milliseconds;

const std::string kTokA(64, 'a'), kTokB(64, 'b');

AggregatorOptions CloudOptions(const std::string& dir, int rounds) {
  AggregatorOptions o;
  o.nodes = {{"a", kTokA}, {"b", kTokB}};
  o.k = 2;
  o.d = 2;
  o.init = "random";
  o.rounds = rounds;
  o.min_participants = 2;
  o.min_support = 1;
  o.round_timeout = Ms(5000);
  o.poll_interval = Ms(5);
  o.data_dir = dir;
  return o;
}

struct RunResult {
  std::optional<fed::GlobalModel> model;
  RoundView round;
  double epsilon = 0;
  std::vector<RoundRecord> history;
};

// One cloud process lifetime: create, serve, let two edges run until the cloud is finished
// (bounded 20 s), then destroy everything.
Result<RunResult> RunCloud(const AggregatorOptions& o, const FederatedData& data) {
  STRATA_ASSIGN_OR_RETURN(auto svc, AggregatorService::Create(o));
  STRATA_ASSIGN_OR_RETURN(auto server, http::HttpServer::Create({.service = "federate_durable"}));
  svc->RegisterRoutes(*server);
  STRATA_RETURN_IF_ERROR(server->Start());
  STRATA_RETURN_IF_ERROR(svc->Start());
  const std::string url = "http://127.0.0.1:" + std::to_string(server->port());
  std::atomic<bool> stop{false};
  std::vector<std::thread> edges;
  std::vector<Status> edge_status(2);
  for (int i = 0; i < 2; ++i) {
    EdgeOptions e;
    e.id = i == 0 ? "a" : "b";
    e.token = i == 0 ? kTokA : kTokB;
    e.aggregator_url = url;
    e.points = data.node_points[i];
    e.d = 2;
    e.poll_interval = Ms(5);
    e.seed = 7 + i;
    STRATA_ASSIGN_OR_RETURN(auto edge, EdgeClient::Create(e));
    edges.emplace_back([&, i, edge = std::move(edge)]() mutable {
      edge_status[i] = edge->Run(stop, Ms(20000));
    });
  }
  for (int i = 0; i < 4000 && !svc->Finished(); ++i) std::this_thread::sleep_for(Ms(5));
  stop = true;
  for (auto& t : edges) t.join();
  RunResult r{svc->Model(), svc->Round(), svc->EpsilonSpent(), svc->History()};
  svc->Stop();
  server->Stop();
  if (!r.round.state.empty() && r.round.state != "done")
    return InternalError("cloud ended in state " + r.round.state);
  return r;
}

class FederateDurableTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
  FederatedData data_ = MakeFederatedData(2, 2, 2, 60, /*alpha=*/0, 5);
};

TEST_F(FederateDurableTest, RestartResumesModelRoundAndEpsilon) {
  AggregatorOptions o = CloudOptions(dir_.File("data"), 2);
  o.dp = true;
  o.dp_epsilon = 4.0;
  o.clip_norm = 25;
  o.budget_action = "warn";
  auto first = RunCloud(o, data_);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(first->model.has_value());
  EXPECT_EQ(first->model->version, 3u);  // random init v1 + 2 rounds
  EXPECT_EQ(first->round.completed_rounds, 2u);
  EXPECT_GT(first->epsilon, 0);
  ASSERT_TRUE(std::filesystem::exists(dir_.File("data/federate-cloud.state.json")));

  // A new cloud on the same data dir, before it runs anything: same model, round, epsilon.
  auto again = AggregatorService::Create(o);
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_TRUE((*again)->Model().has_value());
  EXPECT_EQ((*again)->Model()->version, first->model->version);
  EXPECT_EQ((*again)->Model()->centroids, first->model->centroids);
  EXPECT_EQ((*again)->Round().round_id, first->round.round_id);
  EXPECT_EQ((*again)->Round().completed_rounds, 2u);
  EXPECT_EQ((*again)->EpsilonSpent(), first->epsilon);  // bit for bit
  again->reset();

  // Two more rounds allowed: they continue after the old ones.
  o.rounds = 4;
  auto second = RunCloud(o, data_);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->model->version, 5u);
  EXPECT_EQ(second->round.completed_rounds, 4u);
  EXPECT_GT(second->epsilon, first->epsilon);
  ASSERT_FALSE(second->history.empty());
  for (const RoundRecord& rec : second->history)
    EXPECT_GT(rec.round_id, first->round.round_id) << "round id reused after restart";
}

TEST_F(FederateDurableTest, BudgetStopStillStopsAfterRestart) {
  AggregatorOptions o = CloudOptions(dir_.File("data"), 4);
  o.dp = true;
  o.dp_epsilon = 4.0;
  o.clip_norm = 25;
  auto mech = fed::GaussianMechanism::Create({.clip_norm = 25, .epsilon = 4.0, .delta = o.dp_delta,
                                              .rounds = 4}, 2);
  ASSERT_TRUE(mech.ok());
  // Room for 2.5 rounds: the run stops after 2 of its 4 rounds.
  o.dp_budget = fed::ZcdpToEpsilon(2.5 * mech->rho_per_round(), o.dp_delta);
  o.budget_action = "stop";
  auto first = RunCloud(o, data_);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->round.completed_rounds, 2u);
  auto second = RunCloud(o, data_);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->round.completed_rounds, 2u) << "a restart reset the privacy budget";
  EXPECT_EQ(second->epsilon, first->epsilon);
  EXPECT_EQ(second->model->version, first->model->version);
  EXPECT_TRUE(second->history.empty());
}

TEST_F(FederateDurableTest, CorruptStateFileRefusesToStart) {
  AggregatorOptions o = CloudOptions(dir_.File("data"), 1);
  auto first = RunCloud(o, data_);
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string path = dir_.File("data/federate-cloud.state.json");
  ASSERT_TRUE(std::filesystem::exists(path));
  for (const std::string& bad : {std::string("{\"format\":1,\"last_round_id\":1,"),  // torn write
                                std::string("{\"format\":1,\"last_round_id\":1,\"completed_rounds\":1,"
                                            "\"model\":\"zz\",\"rho\":[]}")}) {
    std::ofstream(path, std::ios::trunc) << bad;
    auto svc = AggregatorService::Create(o);
    ASSERT_FALSE(svc.ok());
    EXPECT_EQ(svc.status().code(), StatusCode::kDataLoss);
    EXPECT_NE(svc.status().message().find("corrupt"), std::string::npos) << svc.status();
  }
  // No data dir: in memory only, nothing written.
  o.data_dir.clear();
  EXPECT_TRUE(AggregatorService::Create(o).ok());
}

}  // namespace
}  // namespace strata::federate
