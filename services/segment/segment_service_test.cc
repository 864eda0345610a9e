// strata-segment's HTTP API against a real server on port 0 and real SQLite files.
#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "segment_config.h"
#include "strata/segment/generator.h"
#include "strata/segment/quantized_model.h"
#include "strata/testing/fixtures.h"
#include "strata/transport/http_client.h"

namespace strata::segment_service {
namespace {

using nlohmann::json;

std::string NdjsonFromGenerator(int customers, int64_t events, uint64_t seed) {
  auto gen = segment::Generator::Create({.customers = customers, .events = events, .k = 4, .seed = seed});
  std::string body;
  segment::Event e;
  while (gen->Next(&e)) body += codec::EventToJson(e).dump() + "\n";
  return body;
}

class SegmentServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }
  void Start() {
    Config cfg{.node = "edge-test", .data_dir = dir_.path()};
    cfg.segmenter.clustering.warmup_points = 512;
    cfg.segmenter.clustering.k_init = 4;
    auto svc = SegmentService::Create(cfg);
    ASSERT_TRUE(svc.ok()) << svc.status();
    service_ = std::move(svc).value();
    auto srv = http::HttpServer::Create({.service = "segment_test", .max_body_bytes = 4 << 20});
    ASSERT_TRUE(srv.ok());
    server_ = std::move(srv).value();
    service_->RegisterRoutes(*server_);
    ASSERT_TRUE(server_->Start().ok());
    client_ = std::move(http::HttpClient::Create(
                            {.base_url = "http://127.0.0.1:" + std::to_string(server_->port()),
                             .max_retries = 0}))
                  .value();
  }
  void Stop() {
    client_.reset();
    server_.reset();
    service_.reset();
  }
  Result<http::ClientResponse> Post(const std::string& body) {
    return client_->Post("/api/v1/events", body, "application/x-ndjson");
  }
  testing::TempDir dir_;
  std::unique_ptr<SegmentService> service_;
  std::unique_ptr<http::HttpServer> server_;
  std::unique_ptr<http::HttpClient> client_;
};

TEST_F(SegmentServiceTest, EveryRouteIsInTheOpenApiDocument) {
  auto m = http::OpenApiMismatches(*server_, OpenApi());
  EXPECT_TRUE(m.empty()) << m.front();
}

TEST_F(SegmentServiceTest, BatchKeepsValidLinesAndReportsBadOnes) {
  std::string body =
      "{\"customer_id\":\"alice\",\"ts\":\"2024-01-02T10:00:00Z\",\"type\":\"purchase\",\"amount\":30}\n"
      "{\"customer_id\":\"bob\",\"ts\":\"2024-01-02T10:05:00Z\",\"type\":\"purchase\",\"amount\":-4}\n"
      "garbage\n"
      "{\"customer_id\":\"\",\"ts\":1,\"type\":\"view\"}\n"
      "{\"customer_id\":\"carol\",\"ts\":1704189600,\"type\":\"view\",\"quantity\":0}\n";
  auto r = Post(body);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200) << r->body;
  json j = *r->Json();
  EXPECT_EQ(j["accepted"], 2);
  ASSERT_EQ(j["errors"].size(), 3u);
  EXPECT_EQ(j["errors"][0]["line"], 2);
  EXPECT_EQ(j["errors"][1]["line"], 3);
  EXPECT_EQ(j["errors"][2]["line"], 4);
  EXPECT_EQ(service_->customers(), 2);
}

TEST_F(SegmentServiceTest, BadRequestsGetPreciseErrors) {
  auto none_valid = Post("x\ny\n");
  EXPECT_EQ(none_valid->status, 422);
  EXPECT_EQ((*none_valid->Json())["accepted"], 0);
  EXPECT_EQ(Post("")->status, 400);
  EXPECT_EQ(client_->Post("/api/v1/events", "{}", "text/csv")->status, 415);
  EXPECT_EQ(Post(std::string(5 << 20, '\n'))->status, 413);
  EXPECT_EQ(client_->Get("/api/v1/customers/nobody")->status, 404);
  EXPECT_EQ(client_->Get("/api/v1/customers/" + std::string(200, 'x'))->status, 400);
  EXPECT_EQ(client_->Get("/api/v1/segments/abc/customers")->status, 400);
  EXPECT_EQ(client_->Put("/api/v1/model", "not a model", "application/octet-stream")->status, 400);
  EXPECT_EQ(client_->Get("/healthz")->status, 200);  // still serving
}

TEST_F(SegmentServiceTest, SegmentsCustomersAndModelRoundTrip) {
  ASSERT_EQ(Post(NdjsonFromGenerator(600, 12000, 3))->status, 200);
  auto segs = client_->Get("/api/v1/segments");
  ASSERT_TRUE(segs.ok());
  json s = *segs->Json();
  ASSERT_GE(s["items"].size(), 2u) << s.dump();
  EXPECT_EQ(s["customers"], service_->customers());
  EXPECT_GT(service_->customers(), 550);
  EXPECT_TRUE(s["items"][0]["label"].is_string());
  EXPECT_EQ(s["items"][0]["centroid"].size(), segment::kNumFeatures);

  std::string customer = segment::Generator::Create({.customers = 600, .k = 4, .seed = 3})->CustomerId(7);
  auto c = client_->Get("/api/v1/customers/" + customer);
  ASSERT_EQ(c->status, 200) << c->body;
  json cj = *c->Json();
  EXPECT_EQ(cj["customer_id"], customer);
  EXPECT_EQ(cj["profile"].size(), segment::kNumFeatures);
  EXPECT_GE(cj["segment"]["confidence"].get<double>(), 0.0);
  EXPECT_LE(cj["segment"]["confidence"].get<double>(), 1.0);
  EXPECT_FALSE(cj["segment"]["explanation"].empty());
  uint32_t seg_id = cj["segment"]["id"];
  auto members = client_->Get("/api/v1/segments/" + std::to_string(seg_id) + "/customers?limit=10000");
  ASSERT_EQ(members->status, 200);
  json listed = *members->Json();  // keep the document alive while iterating it
  bool found = false;
  for (const auto& id : listed["items"]) found |= id == customer;
  EXPECT_TRUE(found) << "customer " << customer << " not listed in its segment " << seg_id;
  EXPECT_EQ(client_->Get("/api/v1/segments/999999/customers")->status, 404);

  auto model = client_->Get("/api/v1/model");
  ASSERT_EQ(model->status, 200);
  auto decoded = segment::DeserializeModel(model->body);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  auto q = client_->Get("/api/v1/model?format=int8");
  ASSERT_EQ(q->status, 200);
  EXPECT_LT(q->body.size(), model->body.size());
  auto put = client_->Put("/api/v1/model", model->body, "application/octet-stream");
  ASSERT_EQ(put->status, 200) << put->body;
  EXPECT_EQ((*put->Json())["model_version"], decoded->version);
  std::string truncated = model->body.substr(0, model->body.size() / 2);
  EXPECT_EQ(client_->Put("/api/v1/model", truncated, "application/octet-stream")->status, 400);
}

// Every line of the generated body gets "id": "ev-<line>".
std::string WithIds(const std::string& ndjson) {
  std::string out;
  size_t pos = 0;
  for (int n = 0; pos < ndjson.size(); ++n) {
    size_t end = ndjson.find('\n', pos);
    json e = json::parse(ndjson.substr(pos, end - pos));
    e["id"] = "ev-" + std::to_string(n);
    out += e.dump() + "\n";
    pos = end + 1;
  }
  return out;
}

TEST_F(SegmentServiceTest, ResentEventIdsAreAcknowledgedOnceAndNotAppliedAgain) {
  const std::string body = WithIds(NdjsonFromGenerator(300, 5000, 9));
  auto first = Post(body);
  ASSERT_EQ(first->status, 200) << first->body;
  EXPECT_EQ((*first->Json())["accepted"], 5000);
  EXPECT_EQ((*first->Json())["duplicates"], 0);
  std::string customer = segment::Generator::Create({.customers = 300, .k = 4, .seed = 9})->CustomerId(1);
  auto before = client_->Get("/api/v1/customers/" + customer);
  ASSERT_EQ(before->status, 200) << before->body;
  auto again = Post(body);  // the client never saw the first answer
  ASSERT_EQ(again->status, 200) << again->body;
  EXPECT_EQ((*again->Json())["accepted"], 5000);
  EXPECT_EQ((*again->Json())["duplicates"], 5000);
  auto after = client_->Get("/api/v1/customers/" + customer);
  ASSERT_EQ(after->status, 200) << after->body;
  EXPECT_EQ((*after->Json())["profile"], (*before->Json())["profile"]);
  Stop();
  Start();
  auto tail = Post(body.substr(body.size() / 2 + body.substr(body.size() / 2).find('\n') + 1));
  ASSERT_EQ(tail->status, 200) << tail->body;
  EXPECT_EQ((*tail->Json())["duplicates"], (*tail->Json())["accepted"]);
  EXPECT_GT((*tail->Json())["accepted"].get<int>(), 1000);

  auto bad = Post(R"({"customer_id":"x","ts":1,"type":"view","quantity":0,"id":""})" "\n"
                  R"({"customer_id":"x","ts":1,"type":"view","quantity":0,"id":7})" "\n");
  ASSERT_EQ(bad->status, 422) << bad->body;
  json bj = *bad->Json();
  EXPECT_EQ(bj["errors"][0]["reason"].get<std::string>().rfind("id: empty", 0), 0u) << bj.dump();
  EXPECT_EQ(bj["errors"][1]["reason"], "id: expected a string");
  EXPECT_EQ(client_->Get("/api/v1/customers/x")->status, 404);
}

TEST_F(SegmentServiceTest, AcknowledgedEventsSurviveARestart) {
  ASSERT_EQ(Post(NdjsonFromGenerator(300, 5000, 9))->status, 200);
  int64_t before = service_->customers();
  Stop();  // no snapshot call: recovery must come from the durable log
  Start();
  EXPECT_EQ(service_->customers(), before);
  std::string customer = segment::Generator::Create({.customers = 300, .k = 4, .seed = 9})->CustomerId(1);
  EXPECT_NE(client_->Get("/api/v1/customers/" + customer)->status, 404);
}

TEST(SegmentMqttTest, EventsInOverMqttAndChangesOut) {
  auto broker = testing::MosquittoBroker::Start();
  ASSERT_TRUE(broker.ok()) << broker.status();
  testing::TempDir dir;
  Options opts;
  opts.mqtt_uri = (*broker)->uri();
  opts.service = {.node = "edge-mqtt", .data_dir = dir.path()};
  opts.service.segmenter.clustering.warmup_points = 512;
  auto service = SegmentService::Create(opts.service);
  ASSERT_TRUE(service.ok()) << service.status();
  auto bus = ConnectBus(opts, **service);
  ASSERT_TRUE(bus.ok()) << bus.status();

  std::mutex mu;
  std::vector<json> changes;
  auto watcher = mqtt::MqttClient::Create({.uri = (*broker)->uri(), .client_id = "watcher"});
  ASSERT_TRUE((*watcher)->Subscribe("strata/seg/edge-mqtt/changes", 1, [&](const mqtt::Message& m) {
    std::lock_guard lock(mu);
    changes.push_back(json::parse(m.payload));
  }).ok());
  ASSERT_TRUE((*watcher)->Connect(std::chrono::seconds(5)).ok());
  auto pub = mqtt::MqttClient::Create({.uri = (*broker)->uri(), .client_id = "till"});
  ASSERT_TRUE((*pub)->Connect(std::chrono::seconds(5)).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // subscriptions settle

  // 4000 events in NDJSON messages of 500 lines, plus one message with a bad line.
  std::string all = NdjsonFromGenerator(200, 4000, 5);
  size_t pos = 0;
  int64_t lines = 0;
  while (pos < all.size()) {
    size_t end = pos;
    for (int i = 0; i < 500 && end < all.size(); ++i) end = all.find('\n', end) + 1;
    ASSERT_TRUE((*pub)->Publish("strata/seg/edge-mqtt/events", all.substr(pos, end - pos), 1).ok());
    lines += 500;
    pos = end;
  }
  ASSERT_TRUE((*pub)->Publish("strata/seg/edge-mqtt/events", "{broken\n", 1).ok());
  int64_t expected = segment::Generator::Create({.customers = 200, .events = 4000, .k = 4, .seed = 5})
                         .value().customers();
  bool ingested = false, changed = false;
  for (int i = 0; i < 500 && !(ingested && changed); ++i) {  // bounded: at most 10 s
    ingested = (*service)->customers() > 0;
    {
      std::lock_guard lock(mu);
      changed = !changes.empty();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(ingested);
  EXPECT_LE((*service)->customers(), expected);
  EXPECT_GT((*service)->customers(), expected * 9 / 10);
  ASSERT_TRUE(changed) << "no segment change published on strata/seg/edge-mqtt/changes";
  std::lock_guard lock(mu);
  EXPECT_EQ(changes[0]["node"], "edge-mqtt");
  EXPECT_FALSE(changes[0]["changes"].empty());
  EXPECT_EQ(changes[0]["changes"][0]["kind"], "seeded");
}

TEST(SegmentConfigTest, ParsesAndRejectsWithLines) {
  auto root = ConfigNode::Parse("segment:\n  node: shop-7\n  k_max: 32\nmqtt:\n  uri: tcp://127.0.0.1:1\n", "s.yaml");
  Options o;
  ASSERT_TRUE(ParseConfig(*root, ServiceArgs{.service = "segment"}, &o).ok());
  EXPECT_EQ(o.service.node, "shop-7");
  EXPECT_EQ(o.service.segmenter.clustering.k_max, 32);
  EXPECT_EQ(o.mqtt_uri, "tcp://127.0.0.1:1");
  auto bad = ConfigNode::Parse("segment:\n  node: x\n  k_max: lots\n", "s.yaml");
  Status s = ParseConfig(*bad, ServiceArgs{.service = "segment"}, &o);
  EXPECT_EQ(s.message(), "s.yaml:3: key 'segment.k_max': expected an integer, got 'lots'");
  auto typo = ConfigNode::Parse("segmnt: {}\n", "s.yaml");
  EXPECT_NE(ParseConfig(*typo, ServiceArgs{}, &o).message().find("unknown key 'segmnt'"), std::string::npos);
  EXPECT_FALSE(SegmentService::Create({.node = "Bad Node!"}).ok());
}

}  // namespace
}  // namespace strata::segment_service
