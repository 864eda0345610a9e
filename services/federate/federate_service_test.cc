// strata-federate's aggregator HTTP API on a real server (port 0): OpenAPI coverage, bad input →
// 4xx while the round continues, the minimum-support rule, MQTT publication, and "no raw event
// leaves a node" (a LinkMeter tap sees every byte the edges send).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <mutex>
#include <thread>

#include "aggregator_service.h"
#include "edge.h"
#include "strata/segment/profile.h"
#include "strata/segment/quantized_model.h"
#include "simulation.h"
#include "strata/federated/secagg.h"
#include "strata/federated/secagg_messages.h"
#include "strata/federated/update_codec.h"
#include "strata/testing/fixtures.h"
#include "strata/transport/http_client.h"
#include "strata/transport/link_meter.h"
#include "strata/transport/mqtt.h"

namespace strata::embedded {
extern const std::string_view federate_openapi;
}

namespace strata::federate {
namespace {

namespace fed = strata::federated;
using Ms = std::chrono::milliseconds;

const std::string kTokA(64, 'a'), kTokB(64, 'b'), kTokC(64, 'c');

// Polls `pred` every 5 ms for at most `limit`.
template <typename F>
bool WaitFor(F pred, Ms limit = Ms(5000)) {
  for (int i = 0; i < limit.count() / 5; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(Ms(5));
  }
  return pred();
}

class FederateCloudTest : public ::testing::Test {
 protected:
  void Start(AggregatorOptions o) {
    auto svc = AggregatorService::Create(o);
    ASSERT_TRUE(svc.ok()) << svc.status();
    svc_ = std::move(svc).value();
    auto srv = http::HttpServer::Create({.service = "federate_test", .max_body_bytes = 64 << 10});
    ASSERT_TRUE(srv.ok());
    server_ = std::move(srv).value();
    svc_->RegisterRoutes(*server_);
    server_->SetOpenApi(std::string(embedded::federate_openapi));
    ASSERT_TRUE(server_->Start().ok());
    client_ = std::move(http::HttpClient::Create(
                            {.base_url = "http://127.0.0.1:" + std::to_string(server_->port()),
                             .max_retries = 0}))
                  .value();
    ASSERT_TRUE(svc_->Start().ok());
  }
  static AggregatorOptions Options() {
    AggregatorOptions o;
    o.nodes = {{"a", kTokA}, {"b", kTokB}, {"c", kTokC}};
    o.k = 2;
    o.d = 2;
    o.init = "random";
    o.rounds = 2;
    o.round_timeout = Ms(20000);
    o.poll_interval = Ms(5);
    return o;
  }
  http::ClientResponse Post(uint64_t path_round, const std::string& body, const std::string& token,
                            const std::string& tail = "/update") {
    auto r = client_->Post("/api/v1/rounds/" + std::to_string(path_round) + tail, body,
                           "application/octet-stream", {{kNodeTokenHeader, token}});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : http::ClientResponse{};
  }
  static std::string Update(uint64_t round, const std::string& node, uint64_t version,
                            std::vector<double> counts, std::vector<double> sums, int d = 2) {
    fed::SufficientStats s = fed::SufficientStats::Zero(static_cast<int>(counts.size()), d, false);
    s.counts = counts;
    s.sums = sums;
    std::vector<uint8_t> b = fed::ModelUpdate{round, node, version, s}.Encode();
    return std::string(b.begin(), b.end());
  }
  std::unique_ptr<AggregatorService> svc_;
  std::unique_ptr<http::HttpServer> server_;
  std::unique_ptr<http::HttpClient> client_;
};

TEST_F(FederateCloudTest, EveryRouteIsInTheOpenApiDocument) {
  Start(Options());
  EXPECT_TRUE(http::OpenApiMismatches(*server_, embedded::federate_openapi).empty());
}

TEST_F(FederateCloudTest, BadInputIsRejectedWith4xxAndTheRoundContinues) {
  Start(Options());
  ASSERT_TRUE(WaitFor([&] { return svc_->Round().open(); }));
  const uint64_t r = svc_->Round().round_id, v = svc_->Round().model_version;
  const std::string good_a = Update(r, "a", v, {1, 1}, {1, 1, 2, 2});
  auto expect = [&](const http::ClientResponse& resp, int code, const char* what) {
    EXPECT_EQ(resp.status, code) << what << ": " << resp.body;
    EXPECT_EQ(resp.Header("content-type"), "application/problem+json") << what;
  };
  expect(Post(r, "not an update", kTokA), 400, "malformed");
  expect(Post(r, good_a.substr(0, good_a.size() - 5), kTokA), 400, "truncated");
  expect(Post(r, std::string(100 << 10, 'x'), kTokA), 413, "oversized");
  expect(Post(r, Update(r, "mallory", v, {1, 1}, {1, 1, 2, 2}), kTokA), 403, "unknown node");
  expect(Post(r, good_a, kTokB), 401, "bad token");
  expect(Post(r, Update(r, "a", v, {1, 1, 1}, {1, 1, 1, 1, 1, 1}), kTokA), 400, "wrong k");
  expect(Post(r, Update(r, "a", v, {1, 1}, {1, 1, 1, 1, 1, 1}, 3), kTokA), 400, "wrong d");
  expect(Post(r + 5, Update(r + 5, "a", v, {1, 1}, {1, 1, 2, 2}), kTokA), 400, "future round");
  expect(Post(r, Update(r + 5, "a", v, {1, 1}, {1, 1, 2, 2}), kTokA), 400, "path/body round mismatch");
  expect(Post(r, Update(r, "a", v + 7, {1, 1}, {1, 1, 2, 2}), kTokA), 422, "stale model version");
  // The round is still open and accepts the good updates; a duplicate is a conflict.
  EXPECT_EQ(Post(r, good_a, kTokA).status, 202);
  expect(Post(r, good_a, kTokA), 409, "duplicate");
  EXPECT_EQ(Post(r, Update(r, "b", v, {1, 1}, {3, 3, 4, 4}), kTokB).status, 202);
  EXPECT_EQ(Post(r, Update(r, "c", v, {0, 2}, {0, 0, 8, 8}), kTokC).status, 202);
  ASSERT_TRUE(WaitFor([&] { return svc_->Round().round_id > r && svc_->Round().open(); }));
  auto hist = svc_->History();
  ASSERT_FALSE(hist.empty());
  EXPECT_EQ(hist.back().outcome, "completed");
  EXPECT_EQ(hist.back().participants.size(), 3u);
  // Replaying the old round's update now is rejected (422), and the new round is unaffected.
  expect(Post(r, good_a, kTokA), 422, "replay");
  EXPECT_TRUE(svc_->Round().open());
}

TEST_F(FederateCloudTest, CompressedUpdatesDecodeAndMalformedOnesAre4xx) {
  AggregatorOptions o = Options();
  o.update_encoding = "int8";
  Start(o);
  ASSERT_TRUE(WaitFor([&] { return svc_->Round().open(); }));
  const RoundView rv = svc_->Round();
  EXPECT_EQ(rv.update_encoding, "int8");
  const uint64_t r = rv.round_id, v = rv.model_version;
  const fed::GlobalModel model = *svc_->Model();
  auto packed = [&](const std::string& node, std::vector<double> counts, std::vector<double> sums,
                    fed::UpdateEncoding e = fed::UpdateEncoding::kInt8, uint64_t version = 0) {
    fed::SufficientStats s = fed::SufficientStats::Zero(2, 2, false);
    s.counts = counts;
    s.sums = sums;
    fed::GlobalModel ref = model;
    if (version) ref.version = version;
    std::vector<uint8_t> b = fed::CompressUpdate({r, node, ref.version, s}, ref, e).value().Encode();
    return std::string(b.begin(), b.end());
  };
  const std::string good_a = packed("a", {1, 1}, {1, 1, 2, 2});
  auto expect = [&](const http::ClientResponse& resp, int code, const char* what) {
    EXPECT_EQ(resp.status, code) << what << ": " << resp.body;
  };
  expect(Post(r, good_a.substr(0, good_a.size() - 3), kTokA), 400, "truncated");
  expect(Post(r, good_a + "xy", kTokA), 400, "trailing bytes");
  std::string bad_enc = good_a;
  bad_enc[4 + 8 + 4 + 1 + 8 + 8] = 9;  // the encoding byte (node id "a")
  expect(Post(r, bad_enc, kTokA), 400, "unknown encoding");
  std::string nan_scale = good_a;
  const size_t scale0 = 4 + 8 + 4 + 1 + 8 + 8 + 2 + 8 + 2;  // varint counts {1, 1}
  for (int i = 0; i < 4; ++i) nan_scale[scale0 + i] = static_cast<char>(0xff);
  expect(Post(r, nan_scale, kTokA), 400, "NaN scale");
  expect(Post(r, packed("a", {1, 1}, {1, 1, 2, 2}, fed::UpdateEncoding::kFp16), kTokA), 400,
         "not the announced encoding");
  expect(Post(r, packed("a", {1, 1}, {1, 1, 2, 2}, fed::UpdateEncoding::kInt8, v + 3), kTokA), 422,
         "stale model version");
  expect(Post(r, packed("a", {1, 1}, {1, 1, 2, 2}), kTokB), 401, "bad token");
  // The round continues: int8 updates (and a lossless f64 one) are accepted and summed.
  EXPECT_EQ(Post(r, good_a, kTokA).status, 202);
  expect(Post(r, good_a, kTokA), 409, "duplicate");
  EXPECT_EQ(Post(r, packed("b", {1, 1}, {3, 3, 4, 4}), kTokB).status, 202);
  EXPECT_EQ(Post(r, Update(r, "c", v, {0, 2}, {0, 0, 8, 8}), kTokC).status, 202);
  ASSERT_TRUE(WaitFor([&] { return svc_->Model()->version > v; }));
  const fed::GlobalModel after = *svc_->Model();
  EXPECT_NEAR(after.centroids[0], 2.0, 0.02);  // (1 + 3) / 2, int8 residuals
  EXPECT_NEAR(after.centroids[2], 3.5, 0.02);  // (2 + 4 + 8) / 4
  EXPECT_EQ(svc_->History().back().participants.size(), 3u);
}

TEST_F(FederateCloudTest, SecureRoutesRejectBadMessagesAndTheRoundContinues) {
  AggregatorOptions o = Options();
  o.secure = true;
  o.phase_timeout = Ms(20000);
  Start(o);
  ASSERT_TRUE(WaitFor([&] { return svc_->Round().open(); }));
  const RoundView r = svc_->Round();
  ASSERT_EQ(r.stage, SecStage::kAdvertise);
  ASSERT_EQ(r.threshold, 3);
  fed::SecAggConfig cfg{r.round_id, r.nodes, r.threshold, SecureVectorLength(2, 2)};
  auto key = [](const std::string& hex) { return ParseToken(hex).value(); };
  auto adv = [&](int index, const std::string& token) {
    auto c = fed::SecAggClient::Create(cfg, index, key(token), fed::SecureRandom::Deterministic(fed::SeedFromU64(index)));
    std::vector<uint8_t> b = c->AdvertiseKeys().value();
    return std::string(b.begin(), b.end());
  };
  EXPECT_EQ(Post(r.round_id, "garbage", kTokA, "/secagg/advertise").status, 400);
  EXPECT_EQ(Post(r.round_id, adv(0, kTokB), kTokA, "/secagg/advertise").status, 401);  // bad HMAC
  EXPECT_EQ(Post(r.round_id, adv(0, kTokA), kTokA, "/secagg/masked").status, 422);     // wrong stage
  EXPECT_EQ(Post(r.round_id + 3, adv(0, kTokA), kTokA, "/secagg/advertise").status, 400);  // unknown round
  EXPECT_EQ(Post(r.round_id, Update(r.round_id, "a", r.model_version, {1, 1}, {1, 1, 1, 1}), kTokA).status,
            422);  // plain update to a secure round
  auto early = client_->Get("/api/v1/rounds/" + std::to_string(r.round_id) + "/secagg/keys");
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(early->status, 425);
  // The round continues: valid advertisements are accepted, a duplicate is a conflict.
  EXPECT_EQ(Post(r.round_id, adv(0, kTokA), kTokA, "/secagg/advertise").status, 202);
  EXPECT_EQ(Post(r.round_id, adv(0, kTokA), kTokA, "/secagg/advertise").status, 409);
  EXPECT_EQ(Post(r.round_id, adv(1, kTokB), kTokB, "/secagg/advertise").status, 202);
  EXPECT_EQ(Post(r.round_id, adv(2, kTokC), kTokC, "/secagg/advertise").status, 202);
  ASSERT_TRUE(WaitFor([&] { return svc_->Round().stage == SecStage::kShareKeys; }));
  auto keys = client_->Get("/api/v1/rounds/" + std::to_string(r.round_id) + "/secagg/keys");
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->status, 200);
  auto list = fed::KeyListMsg::Decode({reinterpret_cast<const uint8_t*>(keys->body.data()), keys->body.size()});
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->keys.size(), 3u);
}

TEST_F(FederateCloudTest, SegmentBackedByOneNodeIsNotUpdated) {
  AggregatorOptions o = Options();
  o.nodes = {{"a", kTokA}, {"b", kTokB}};
  Start(o);
  ASSERT_TRUE(WaitFor([&] { return svc_->Round().open(); }));
  const fed::GlobalModel before = *svc_->Model();
  const uint64_t r = svc_->Round().round_id, v = before.version;
  // Segment 0: both nodes; segment 1: only node a.
  ASSERT_EQ(Post(r, Update(r, "a", v, {2, 5}, {2, 4, 50, 50}), kTokA).status, 202);
  ASSERT_EQ(Post(r, Update(r, "b", v, {2, 0}, {6, 8, 0, 0}), kTokB).status, 202);
  ASSERT_TRUE(WaitFor([&] { return svc_->Model()->version > v; }));
  const fed::GlobalModel after = *svc_->Model();
  EXPECT_DOUBLE_EQ(after.centroids[0], 2.0);  // (2 + 6) / 4
  EXPECT_DOUBLE_EQ(after.centroids[1], 3.0);  // (4 + 8) / 4
  EXPECT_DOUBLE_EQ(after.centroids[2], before.centroids[2]);  // not moved towards (10, 10)
  EXPECT_DOUBLE_EQ(after.centroids[3], before.centroids[3]);
  EXPECT_EQ(svc_->History().back().suppressed_segments, 1);
}

TEST_F(FederateCloudTest, RoundHistoryReportsBytesDropoutsShiftAndNoBudgetWithoutDp) {
  AggregatorOptions o = Options();
  o.round_timeout = Ms(1500);  // node c never posts: the round closes at the deadline
  o.min_support = 1;
  Start(o);
  ASSERT_TRUE(WaitFor([&] { return svc_->Round().open(); }));
  const fed::GlobalModel before = *svc_->Model();
  const uint64_t r = svc_->Round().round_id, v = before.version;
  const std::string ua = Update(r, "a", v, {1, 0}, {3, 4, 0, 0});
  const std::string ub = Update(r, "b", v, {1, 0}, {3, 4, 0, 0});
  ASSERT_EQ(Post(r, ua, kTokA).status, 202);
  ASSERT_EQ(Post(r, "garbage", kTokB).status, 400);  // rejected bytes are not counted
  ASSERT_EQ(Post(r, ub, kTokB).status, 202);
  ASSERT_TRUE(WaitFor([&] { return svc_->Model()->version > v; }, Ms(10000)));
  auto resp = client_->Get("/api/v1/rounds");
  ASSERT_TRUE(resp.ok());
  ASSERT_EQ(resp->status, 200);
  auto j = nlohmann::json::parse(resp->body);
  EXPECT_TRUE(j["epsilon_budget"].is_null());
  EXPECT_EQ(j["epsilon_spent"], 0.0);
  ASSERT_FALSE(j["items"].empty());
  const auto& row = j["items"].back();
  EXPECT_EQ(row["outcome"], "completed");
  EXPECT_EQ(row["bytes_received"].get<uint64_t>(), ua.size() + ub.size());
  EXPECT_EQ(row["dropouts"], 1);
  EXPECT_EQ(row["missing"], nlohmann::json::array({"c"}));
  // Segment 0 moved from its random start towards (3, 4); segment 1 (no points) stayed.
  const fed::GlobalModel after = *svc_->Model();
  EXPECT_DOUBLE_EQ(after.centroids[2], before.centroids[2]);
  const double dx = after.centroids[0] - before.centroids[0], dy = after.centroids[1] - before.centroids[1];
  EXPECT_GT(std::hypot(dx, dy), 0.0);
  EXPECT_NEAR(row["centroid_shift"].get<double>(), std::hypot(dx, dy), 1e-9);
}

TEST_F(FederateCloudTest, RoundsReportTheDpBudgetNextToTheSpend) {
  AggregatorOptions o = Options();
  o.dp = true;
  o.dp_epsilon = 2.0;
  o.dp_budget = 3.5;
  o.clip_norm = 10;
  Start(o);
  auto resp = client_->Get("/api/v1/rounds");
  ASSERT_TRUE(resp.ok());
  auto j = nlohmann::json::parse(resp->body);
  EXPECT_DOUBLE_EQ(j["epsilon_budget"].get<double>(), 3.5);
  EXPECT_DOUBLE_EQ(j["epsilon_spent"].get<double>(), 0.0);
}

TEST_F(FederateCloudTest, FogSupportHeaderCountsItsEdges) {
  AggregatorOptions o = Options();
  o.nodes = {{"a", kTokA}};
  o.min_participants = 1;
  Start(o);
  ASSERT_TRUE(WaitFor([&] { return svc_->Round().open(); }));
  const uint64_t r = svc_->Round().round_id, v = svc_->Round().model_version;
  fed::SufficientStats s = fed::SufficientStats::Zero(2, 2, false);
  s.counts = {3, 2};
  s.sums = {3, 3, 4, 4};
  s.contributors = 3;  // a fog forwarding three edges
  std::vector<uint8_t> b = fed::ModelUpdate{r, "a", v, s}.Encode();
  auto resp = client_->Post("/api/v1/rounds/" + std::to_string(r) + "/update",
                            std::string(b.begin(), b.end()), "application/octet-stream",
                            {{kNodeTokenHeader, kTokA}, {kSupportHeader, "3,2"}});
  ASSERT_TRUE(resp.ok());
  ASSERT_EQ(resp->status, 202) << resp->body;
  ASSERT_TRUE(WaitFor([&] { return svc_->Model()->version > v; }));
  const fed::GlobalModel m = *svc_->Model();
  EXPECT_DOUBLE_EQ(m.centroids[0], 1.0);  // both segments backed by >= 2 edges: updated
  EXPECT_DOUBLE_EQ(m.centroids[2], 2.0);
  EXPECT_EQ(svc_->History().back().suppressed_segments, 0);
}

TEST_F(FederateCloudTest, PublishesRetainedModelAndRoundOnMqtt) {
  auto broker = testing::MosquittoBroker::Start();
  if (!broker.ok()) GTEST_SKIP() << "mosquitto not available: " << broker.status();
  auto pub = mqtt::MqttClient::Create({.uri = (*broker)->uri(), .client_id = "fed-pub"});
  ASSERT_TRUE(pub.ok());
  ASSERT_TRUE((*pub)->Connect(Ms(5000)).ok());
  AggregatorOptions o = Options();
  o.nodes = {{"a", kTokA}};
  o.min_participants = 1;
  o.rounds = 1;
  Start(o);
  mqtt::MqttClient* raw = pub->get();
  svc_->SetPublisher([raw](const std::string& topic, const std::string& payload) {
    (void)raw->Publish("strata/fl/default/" + topic, payload, 1, true);
  });
  ASSERT_TRUE(WaitFor([&] { return svc_->Round().open(); }));
  const uint64_t r = svc_->Round().round_id, v = svc_->Round().model_version;
  ASSERT_EQ(Post(r, Update(r, "a", v, {1, 1}, {1, 1, 2, 2}), kTokA).status, 202);
  ASSERT_TRUE(WaitFor([&] { return svc_->Finished(); }));
  // A late subscriber gets both retained messages.
  std::mutex mu;
  std::map<std::string, std::string> got;
  auto sub = mqtt::MqttClient::Create({.uri = (*broker)->uri(), .client_id = "fed-sub"});
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE((*sub)->Subscribe("strata/fl/default/#", 1, [&](const mqtt::Message& m) {
                      std::lock_guard l(mu);
                      got[m.topic] = m.payload;
                    }).ok());
  ASSERT_TRUE((*sub)->Connect(Ms(5000)).ok());
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard l(mu);
    return got.size() >= 2;
  }));
  std::lock_guard l(mu);
  auto round = nlohmann::json::parse(got["strata/fl/default/round"]);
  EXPECT_EQ(round["state"], "completed");
  EXPECT_EQ(round["clients"]["ok"], 1);
  const std::string& mb = got["strata/fl/default/model"];
  auto model = fed::GlobalModel::Decode({reinterpret_cast<const uint8_t*>(mb.data()), mb.size()});
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->version, v + 1);
}

TEST(FederateConfigTest, ExampleConfigParsesAndBadKeysAreNamed) {
  auto root = ConfigNode::LoadFile(std::string(STRATA_SOURCE_DIR) + "/configs/federate.yaml");
  ASSERT_TRUE(root.ok()) << root.status();
  ServiceArgs args;
  Options o;
  ASSERT_TRUE(ParseConfig(*root, args, &o).ok());
  EXPECT_EQ(o.role, "cloud");
  EXPECT_EQ(o.aggregator.nodes.size(), 2u);
  EXPECT_TRUE(o.aggregator.secure);
  auto bad = ConfigNode::Parse("federate:\n  role: cloud\n  nodes: [{id: a, token: \"12\"}]\n");
  ASSERT_TRUE(bad.ok());
  Status s = ParseConfig(*bad, args, &o);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("token"), std::string::npos) << s.message();
}

TEST(FederateConfigTest, PointsCsvIsReadAndBadLinesAreNamed) {
  testing::TempDir dir;
  std::ofstream(dir.File("p.csv")) << "# customer features\n1,2,3\n4.5,-5,6e1\n";
  std::ofstream(dir.File("bad.csv")) << "1,2,3\n4,x,6\n";
  std::vector<double> pts;
  int d = 0;
  ASSERT_TRUE(LoadPointsCsv(dir.File("p.csv"), &pts, &d).ok());
  EXPECT_EQ(d, 3);
  EXPECT_EQ(pts, (std::vector<double>{1, 2, 3, 4.5, -5, 60}));
  pts.clear();
  Status s = LoadPointsCsv(dir.File("bad.csv"), &pts, &d);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find(":2:"), std::string::npos) << s.message();
}

TEST(FederateSegmentInstallTest, GlobalModelBecomesAStrataSegmentModel) {
  fed::GlobalModel g{7, 3, segment::kNumFeatures, std::vector<double>(3 * segment::kNumFeatures, 0.5),
                     {10, 20, 30}};
  g.centroids[segment::kNumFeatures] = 2.0;  // segment 2 (id 2), feature 0
  auto bytes = SegmentModelBytes(g);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto m = segment::DeserializeModel(*bytes);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->version, 7u);
  EXPECT_EQ(m->k(), 3);
  EXPECT_EQ(m->ids, (std::vector<uint32_t>{1, 2, 3}));
  EXPECT_FLOAT_EQ(m->centroids(1, 0), 2.0f);
  EXPECT_FLOAT_EQ(m->weights[2], 30.0f);
  g.d = 4;
  g.centroids.resize(12);
  EXPECT_EQ(SegmentModelBytes(g).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace strata::federate
