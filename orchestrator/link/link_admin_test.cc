// The admin API on a real HttpServer, with a real HTTP upstream behind the proxy.
#include "link_admin.h"

#include <gtest/gtest.h>

#include <thread>

#include "strata/transport/http_client.h"

namespace strata::link {
namespace {

using namespace std::chrono_literals;

class LinkAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    upstream_ = std::move(http::HttpServer::Create({.service = "upstream"})).value();
    upstream_->Route("GET", "/api/v1/ping", [](const http::Request&) -> Result<http::Response> {
      return http::Response::Json({{"pong", true}});
    });
    ASSERT_TRUE(upstream_->Start().ok());
    auto proxy = LinkProxy::Start(
        {.name = "admin-test", .upstream_host = "127.0.0.1", .upstream_port = upstream_->port()});
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = std::move(proxy).value();
    admin_ = std::move(http::HttpServer::Create({.service = "link"})).value();
    RegisterLinkRoutes(*admin_, *proxy_);
    ASSERT_TRUE(admin_->Start().ok());
    api_ = Client(admin_->port(), 5000ms);
  }
  void TearDown() override {
    if (admin_) admin_->Stop();
  }
  static std::unique_ptr<http::HttpClient> Client(int port, std::chrono::milliseconds timeout) {
    return std::move(
               http::HttpClient::Create({.base_url = "http://127.0.0.1:" + std::to_string(port),
                                         .connect_timeout = timeout,
                                         .read_timeout = timeout,
                                         .max_retries = 0}))
        .value();
  }
  // One request through the proxy on a fresh connection.
  Result<http::ClientResponse> Ping(std::chrono::milliseconds timeout = 2000ms) {
    return Client(proxy_->port(), timeout)->Get("/api/v1/ping");
  }

  std::unique_ptr<http::HttpServer> upstream_, admin_;
  std::unique_ptr<LinkProxy> proxy_;
  std::unique_ptr<http::HttpClient> api_;
};

TEST_F(LinkAdminTest, EveryRouteIsInTheOpenApiDocumentAndBack) {
  auto mismatches = http::OpenApiMismatches(*admin_, LinkOpenApi());
  EXPECT_TRUE(mismatches.empty()) << mismatches.front();
  EXPECT_EQ((*api_->Get("/api/v1/openapi.json")->Json())["openapi"], "3.1.0");
}

TEST_F(LinkAdminTest, GetShowsSettingsAndCountersThatMatchTheBytesSent) {
  auto r = Ping();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  nlohmann::json j = *api_->Get("/api/v1/link")->Json();
  // Counters are bumped just after send() returns: the response can overtake them by a moment.
  for (int i = 0; i < 100 && j["stats"]["bytes"]["downstream"].get<uint64_t>() <= r->body.size();
       ++i) {
    std::this_thread::sleep_for(10ms);
    j = *api_->Get("/api/v1/link")->Json();
  }
  EXPECT_EQ(j["name"], "admin-test");
  EXPECT_EQ(j["settings"]["upstream"]["bandwidth"], "unlimited");
  EXPECT_EQ(j["partitioned"], false);
  EXPECT_EQ(j["stats"]["connections_total"], 1);
  EXPECT_GT(j["stats"]["bytes"]["upstream"].get<uint64_t>(), 0u);
  EXPECT_GT(j["stats"]["bytes"]["downstream"].get<uint64_t>(), r->body.size());
  std::string metrics = api_->Get("/metrics")->body;
  EXPECT_NE(
      metrics.find("strata_link_proxy_bytes_total{direction=\"upstream\",link=\"admin-test\"}"),
      std::string::npos);
}

TEST_F(LinkAdminTest, PutChangesSettings) {
  auto r = api_->Put("/api/v1/link", R"({"latency_ms": 10, "bandwidth": "20mbit",
                                         "downstream": {"loss": 0.01}})",
                     "application/json");
  ASSERT_EQ(r->status, 200) << r->body;
  nlohmann::json j = *r->Json();
  EXPECT_EQ(j["settings"]["upstream"]["bandwidth_bps"], 20'000'000);
  EXPECT_EQ(j["settings"]["downstream"]["latency_ms"], 10);
  EXPECT_EQ(proxy_->settings().downstream.loss, 0.01);
  EXPECT_EQ(proxy_->settings().upstream.loss, 0);
  EXPECT_EQ(Ping()->status, 200);
}

TEST_F(LinkAdminTest, BadInputIsAProblemNamingTheFieldAndTheProxyKeepsServing) {
  struct Case {
    std::string body;
    int status;
    std::string field;
  };
  for (const Case& c : std::vector<Case>{{R"({"latency_ms": -5})", 422, "latency_ms"},
                                         {R"({"loss": "lots"})", 400, "loss"},
                                         {R"({"bandwidth": "warp"})", 422, "bandwidth"},
                                         {R"({"nope": 1})", 400, "nope"},
                                         {R"({"latency_ms": 1e999})", 400, ""},
                                         {R"({"partitioned": "yes"})", 400, "partitioned"},
                                         {"{oops", 400, ""},
                                         {"[1]", 400, ""}}) {
    auto r = api_->Put("/api/v1/link", c.body, "application/json");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, c.status) << c.body << " → " << r->body;
    EXPECT_EQ(r->Header("content-type"), "application/problem+json") << c.body;
    if (!c.field.empty()) {
      EXPECT_EQ((*r->Json())["errors"][0]["field"], c.field) << c.body;
    }
  }
  EXPECT_EQ(api_->Put("/api/v1/link", "{}", "text/plain")->status, 415);
  EXPECT_EQ(api_->Post("/api/v1/link/partition", R"({"mode": "drop"})", "application/json")->status,
            422);
  EXPECT_EQ(api_->Post("/api/v1/link/partition", R"({"x": 1})", "application/json")->status, 400);
  EXPECT_FALSE(proxy_->partitioned());
  EXPECT_EQ(proxy_->settings(), LinkSettings{});
  EXPECT_EQ(Ping()->status, 200);
}

TEST_F(LinkAdminTest, PartitionThenHeal) {
  auto r = api_->Post("/api/v1/link/partition", "", "application/json");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ((*r->Json())["partitioned"], true);
  EXPECT_EQ((*r->Json())["partition_mode"], "blackhole");
  auto during = Ping(300ms);  // blackhole: the request times out
  EXPECT_FALSE(during.ok() && during->status == 200);
  r = api_->Delete("/api/v1/link/partition");
  EXPECT_EQ((*r->Json())["partitioned"], false);
  EXPECT_EQ((*r->Json())["stats"]["partitions_total"], 1);
  EXPECT_EQ(Ping()->status, 200);
  r = api_->Post("/api/v1/link/partition", R"({"mode": "reset"})", "application/json");
  EXPECT_EQ((*r->Json())["partition_mode"], "reset");
  auto reset = Ping(1000ms);
  EXPECT_FALSE(reset.ok());
  EXPECT_EQ(api_->Delete("/api/v1/link/partition")->status, 200);
  EXPECT_EQ(Ping()->status, 200);
}

TEST_F(LinkAdminTest, HalfOpenCountsTheConnectionsItAffected) {
  ASSERT_EQ(Ping()->status, 200);  // one connection through the link (its client is gone)
  auto r = api_->Post("/api/v1/link/half-open", "", "application/json");
  ASSERT_EQ(r->status, 200) << r->body;
  const int n = (*r->Json())["half_opened"].get<int>();
  EXPECT_LE(n, 1);  // 1, unless the proxy already saw the closed client
  EXPECT_EQ((*r->Json())["stats"]["half_opened_total"], n);
  EXPECT_EQ(Ping()->status, 200);  // a new connection is not affected
}

}  // namespace
}  // namespace strata::link
