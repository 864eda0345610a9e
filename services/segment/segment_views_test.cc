// strata-segment's dashboard views against a real server on port 0 and real SQLite files:
// GET /api/v1/segments/history (grows with ingested events, bounded) and
// GET /api/v1/segments/projection (PCA points coloured by their real segment), plus the
// SegmentHistory ring buffer and config validation.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "segment_config.h"
#include "strata/segment/generator.h"
#include "strata/testing/fixtures.h"
#include "strata/transport/http_client.h"

namespace strata::segment_service {
namespace {

using nlohmann::json;

// Generator events as NDJSON lines, split into `parts` batches of whole lines.
std::vector<std::string> Batches(int customers, int64_t events, uint64_t seed, int parts) {
  auto gen =
      segment::Generator::Create({.customers = customers, .events = events, .k = 4, .seed = seed});
  std::vector<std::string> out(parts);
  segment::Event e;
  int64_t i = 0;
  while (gen->Next(&e)) out[(i++ * parts) / events] += codec::EventToJson(e).dump() + "\n";
  return out;
}

class SegmentViewsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Config cfg{.node = "edge-test", .data_dir = dir_.path()};
    cfg.segmenter.clustering.warmup_points = 512;
    cfg.segmenter.clustering.k_init = 4;
    cfg.history.every_events = 1000;
    cfg.history.every = std::chrono::hours(1);  // only the event count triggers samples here
    cfg.history.capacity = 5;
    auto svc = SegmentService::Create(cfg);
    ASSERT_TRUE(svc.ok()) << svc.status();
    service_ = std::move(svc).value();
    auto srv =
        http::HttpServer::Create({.service = "segment_views_test", .max_body_bytes = 4 << 20});
    ASSERT_TRUE(srv.ok());
    server_ = std::move(srv).value();
    service_->RegisterRoutes(*server_);
    ASSERT_TRUE(server_->Start().ok());
    client_ = std::move(http::HttpClient::Create(
                            {.base_url = "http://127.0.0.1:" + std::to_string(server_->port()),
                             .max_retries = 0}))
                  .value();
  }
  void Post(const std::string& body) {
    auto r = client_->Post("/api/v1/events", body, "application/x-ndjson");
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->status, 200) << r->body;
  }
  json GetJson(const std::string& path) {
    auto r = client_->Get(path);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return json();
    EXPECT_EQ(r->status, 200) << path << ": " << r->body;
    return r->Json().value_or(json());
  }
  testing::TempDir dir_;
  std::unique_ptr<SegmentService> service_;
  std::unique_ptr<http::HttpServer> server_;
  std::unique_ptr<http::HttpClient> client_;
};

TEST_F(SegmentViewsTest, HistoryGrowsAsEventsArriveAndIsBounded) {
  EXPECT_EQ(GetJson("/api/v1/segments/history")["samples"].size(), 0u);
  std::vector<std::string> batches = Batches(400, 8000, 11, 8);  // 1000 events a batch
  std::vector<size_t> lengths;
  for (const std::string& b : batches) {
    Post(b);
    lengths.push_back(GetJson("/api/v1/segments/history")["samples"].size());
  }
  EXPECT_EQ(lengths, (std::vector<size_t>{1, 2, 3, 4, 5, 5, 5, 5}));  // capacity 5
  json samples = GetJson("/api/v1/segments/history")["samples"];
  ASSERT_EQ(samples.size(), 5u);
  int64_t prev_events = 0;
  for (const json& s : samples) {
    EXPECT_GT(s["events"].get<int64_t>(), prev_events);  // oldest first
    prev_events = s["events"].get<int64_t>();
    EXPECT_GT(s["t_ms"].get<int64_t>(), 1'700'000'000'000);
  }
  EXPECT_EQ(samples.back()["events"], 8000);  // the three oldest were dropped
  EXPECT_EQ(samples.front()["events"], 4000);
  // Sizes: customers per segment id of the current model, summing to all customers.
  json last = samples.back();
  json segs = GetJson("/api/v1/segments");
  std::set<std::string> ids;
  for (const json& s : segs["items"]) ids.insert(std::to_string(s["id"].get<uint32_t>()));
  ASSERT_FALSE(ids.empty());
  int64_t total = 0;
  for (const auto& [id, n] : last["sizes"].items()) {
    EXPECT_TRUE(ids.count(id)) << id;
    total += n.get<int64_t>();
  }
  EXPECT_EQ(total, segs["customers"].get<int64_t>());
  EXPECT_EQ(last["model_version"], segs["model_version"]);
}

TEST_F(SegmentViewsTest, ProjectionHasTheRequestedCountAndRealSegments) {
  // No model yet: a precise 422.
  auto early = client_->Get("/api/v1/segments/projection");
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(early->status, 422) << early->body;
  for (const std::string& b : Batches(300, 6000, 4, 2)) Post(b);

  json p = GetJson("/api/v1/segments/projection?limit=40");
  EXPECT_EQ(p["axes"], json({"pc1", "pc2"}));
  ASSERT_EQ(p["explained"].size(), 2u);
  double e1 = p["explained"][0], e2 = p["explained"][1];
  EXPECT_GT(e1, 0.0);
  EXPECT_GE(e1, e2);
  EXPECT_LE(e1 + e2, 1.0 + 1e-9);
  ASSERT_EQ(p["points"].size(), 40u);
  std::set<std::string> customers;
  double spread = 0;
  for (const json& pt : p["points"]) {
    double x = pt["x"], y = pt["y"];
    EXPECT_TRUE(std::isfinite(x) && std::isfinite(y)) << pt;
    spread += std::abs(x) + std::abs(y);
    std::string c = pt["customer"];
    customers.insert(c);
    json seg = GetJson("/api/v1/customers/" + c + "/segment");
    EXPECT_EQ(pt["segment"], seg["segment"]["id"]) << c;
  }
  EXPECT_EQ(customers.size(), 40u);  // distinct customers
  EXPECT_GT(spread, 0.0);
  json segs = GetJson("/api/v1/segments");
  ASSERT_EQ(p["centroids"].size(), segs["items"].size());
  for (const json& c : p["centroids"])
    EXPECT_TRUE(std::isfinite(c["x"].get<double>()) && std::isfinite(c["y"].get<double>()));
  EXPECT_EQ(p["customers"], segs["customers"]);
  EXPECT_EQ(GetJson("/api/v1/segments/projection")["points"].size(),  // default 1000, capped
            segs["customers"].get<size_t>());
  EXPECT_EQ(GetJson("/api/v1/segments/projection?limit=1")["points"].size(), 1u);

  for (const char* bad : {"0", "5001", "abc", "", "12x", "-3"}) {
    auto r = client_->Get(std::string("/api/v1/segments/projection?limit=") + bad);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 400) << bad;
    EXPECT_EQ(r->Header("content-type").rfind("application/problem+json", 0), 0u) << bad;
    EXPECT_NE(r->body.find("1..5000"), std::string::npos) << r->body;
  }
  EXPECT_EQ(client_->Get("/healthz")->status, 200);
}

TEST(SegmentHistoryConfig, BadValuesAreRejected) {
  EXPECT_FALSE(ValidateHistoryConfig({.every_events = 0}).ok());
  EXPECT_FALSE(ValidateHistoryConfig({.every = std::chrono::milliseconds(0)}).ok());
  EXPECT_FALSE(ValidateHistoryConfig({.capacity = 0}).ok());
  EXPECT_TRUE(ValidateHistoryConfig({}).ok());
  testing::TempDir dir;
  Config cfg{.node = "n", .data_dir = dir.path()};
  cfg.history.capacity = 0;
  auto svc = SegmentService::Create(cfg);
  ASSERT_FALSE(svc.ok());
  EXPECT_NE(svc.status().message().find("capacity"), std::string::npos);
}

TEST(SegmentHistoryConfig, TimeTriggersASampleOnTheNextBatch) {
  auto seg = segment::Segmenter::Create({});
  ASSERT_TRUE(seg.ok());
  SegmentHistory h({.every_events = 1000, .every = std::chrono::seconds(10), .capacity = 10});
  WallTime t0 = FromUnixSeconds(1'800'000'000);
  EXPECT_TRUE(h.Observe(5, *seg, t0, t0));  // the first batch always samples
  EXPECT_FALSE(h.Observe(5, *seg, t0, t0 + std::chrono::seconds(9)));
  EXPECT_TRUE(h.Observe(5, *seg, t0, t0 + std::chrono::seconds(10)));
  EXPECT_FALSE(h.Observe(0, *seg, t0, t0 + std::chrono::seconds(30)));  // no events, no sample
  json j = h.ToJson();
  ASSERT_EQ(j["samples"].size(), 2u);
  EXPECT_EQ(j["samples"][1]["events"], 15);
  EXPECT_EQ(j["samples"][1]["t_ms"], 1'800'000'010'000);
  EXPECT_EQ(j["samples"][1]["sizes"], json::object());  // no model yet
}

}  // namespace
}  // namespace strata::segment_service
