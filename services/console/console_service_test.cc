// Tests of strata-console against real upstream HttpServers on loopback: the overview (ready,
// failing, down; links summed from strata_link_* metrics with rates and percentiles), the SSE
// stream (`overview` and a new `alert`), and the proxy (problem+json and binary bodies passed
// through, the console's upstream token, 404/502/405/400, the body cap).
#include "console_service.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <mutex>
#include <thread>

#include "strata/testing/fixtures.h"
#include "strata/transport/http_client.h"
#include "strata/transport/link_meter.h"

namespace strata::console {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

const std::string kUpToken = "upstream-secret";
const std::string kJpeg = std::string("\xff\xd8\xff\xe0", 4) +
                          std::string("\0\x01\x02\x7f\x80", 5) + std::string(3000, '\x9c') +
                          std::string("\xff\xd9", 2);

std::string Url(const http::HttpServer& s) {
  return "http://127.0.0.1:" + std::to_string(s.port());
}

class ConsoleServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hello_ = Start({.service = "t_hello"}, [](http::HttpServer& s) {
      s.Route("GET", "/api/v1/hello", [](const http::Request&) -> Result<http::Response> {
        return http::Response::Json({{"greeting", "hello"}});
      });
    });
    sick_ = Start({.service = "t_sick"}, [](http::HttpServer& s) {
      s.AddReadinessCheck("db", [] { return UnavailableError("locked"); });
    });
    // A stand-in for strata-notify; it wants the console's upstream token.
    notify_ = Start({.service = "t_notify", .auth = {.enabled = true, .token = kUpToken}},
                    [this](http::HttpServer& s) { NotifyRoutes(s); });
    auto port = testing::FreeLoopbackPort();
    ASSERT_TRUE(port.ok());
    closed_url_ = "http://127.0.0.1:" + std::to_string(*port);
    opts_.server.service = "console_service_test";
    opts_.server.max_body_bytes = 64 << 10;
    opts_.console.poll_interval = std::chrono::hours(1);  // the tests poll by hand
    opts_.console.upstream_token = kUpToken;
    opts_.console.upstreams = {
        {"hello", "hello", "fog", "fog-1", Url(*hello_)},
        {"sick", "detect", "fog", "fog-1", Url(*sick_)},
        {"gone", "roof", "edge", "edge-9", closed_url_},
        {"notify", "notify", "cloud", "cloud-1", Url(*notify_)},
    };
    auto c = ConsoleService::Create(opts_, {});
    ASSERT_TRUE(c.ok()) << c.status();
    console_ = std::move(c).value();
    ASSERT_TRUE(console_->server().Start().ok());
    client_ = std::move(http::HttpClient::Create({.base_url = Url(console_->server()),
                                                  .max_retries = 0,
                                                  .token = "caller-token-not-forwarded"}))
                  .value();
  }

  std::unique_ptr<http::HttpServer> Start(http::ServerConfig cfg,
                                          std::function<void(http::HttpServer&)> routes) {
    auto s = http::HttpServer::Create(cfg);
    EXPECT_TRUE(s.ok()) << s.status();
    routes(**s);
    EXPECT_TRUE((*s)->Start().ok());
    return std::move(s).value();
  }

  void NotifyRoutes(http::HttpServer& s) {
    s.Route("GET", "/api/v1/events", [this](const http::Request& r) -> Result<http::Response> {
      if (r.Query("limit") != "50") return InvalidArgumentError("expected limit=50");
      std::lock_guard lock(mu_);
      json events = json::array();
      for (auto it = alerts_.rbegin(); it != alerts_.rend(); ++it)  // newest first
        events.push_back({{"alert_id", *it}, {"event_type", "unknown_face"}, {"camera", "cam-1"}});
      return http::Response::Json({{"events", events}, {"next", nullptr}});
    });
    s.Route("GET", "/api/v1/events/{id}", [](const http::Request& r) -> Result<http::Response> {
      return NotFoundError("alert '" + r.PathParam("id") + "' is unknown");
    });
    s.Route("GET", "/api/v1/events/{id}/snapshot.jpg",
            [](const http::Request&) -> Result<http::Response> {
              return http::Response::Bytes(kJpeg, "image/jpeg");
            });
    s.Route("POST", "/api/v1/events/{id}/ack",
            [](const http::Request& r) -> Result<http::Response> {
              return http::Response::Json({{"id", r.PathParam("id")},
                                           {"body", r.body},
                                           {"content_type", r.Header("content-type")},
                                           {"authorization", r.Header("authorization")},
                                           {"query", r.Query("camera").value_or("")}});
            });
    s.Route("GET", "/api/v1/big", [](const http::Request&) -> Result<http::Response> {
      return http::Response::Bytes(std::string(100 << 10, 'x'), "application/octet-stream");
    });
  }

  void AddAlert(const std::string& id) {
    std::lock_guard lock(mu_);
    alerts_.push_back(id);
  }

  static const json* Service(const json& overview, const std::string& name) {
    for (const json& node : overview["nodes"])
      for (const json& s : node["services"])
        if (s["name"] == name) return &s;
    return nullptr;
  }
  static const json* Link(const json& overview, const std::string& src, const std::string& dst) {
    for (const json& l : overview["links"])
      if (l["src"] == src && l["dst"] == dst) return &l;
    return nullptr;
  }

  std::mutex mu_;
  std::vector<std::string> alerts_;
  std::unique_ptr<http::HttpServer> hello_, sick_, notify_;
  std::string closed_url_;
  Options opts_;
  std::unique_ptr<ConsoleService> console_;
  std::unique_ptr<http::HttpClient> client_;
};

TEST_F(ConsoleServiceTest, OverviewHasStatesNodesAndLinks) {
  // Three reachable upstreams run in this process, so each /metrics shows this traffic: the
  // console's totals are three times what the meter recorded.
  for (int i = 0; i < 10; ++i)
    LinkMeter::Global().Record("roof-ct", "fog-ct", std::string(100, 'a'), 0.004);
  auto before = client_->Get("/api/v1/overview");
  ASSERT_TRUE(before.ok());
  EXPECT_EQ((*Service(*before->Json(), "hello"))["detail"], "not polled yet");

  console_->poller().PollOnce();
  auto r = client_->Get("/api/v1/overview");
  ASSERT_TRUE(r.ok());
  json o = *r->Json();
  EXPECT_EQ(o["poll_interval_ms"], 3600 * 1000);
  EXPECT_GT(o["generated_at_ms"].get<int64_t>(), 1700000000000);
  ASSERT_EQ(o["nodes"].size(), 3u);
  EXPECT_EQ(o["nodes"][0]["name"], "fog-1");
  EXPECT_EQ(o["nodes"][0]["tier"], "fog");
  EXPECT_EQ(o["nodes"][0]["services"].size(), 2u);
  EXPECT_EQ(o["nodes"][1]["tier"], "edge");
  EXPECT_EQ((*Service(o, "hello"))["state"], "ready");
  EXPECT_EQ((*Service(o, "hello"))["url"], Url(*hello_));
  EXPECT_EQ((*Service(o, "sick"))["state"], "failing");
  EXPECT_EQ((*Service(o, "sick"))["type"], "detect");
  EXPECT_EQ((*Service(o, "sick"))["detail"], "db: locked");
  EXPECT_EQ((*Service(o, "gone"))["state"], "down");
  EXPECT_FALSE((*Service(o, "gone"))["detail"].get<std::string>().empty());
  EXPECT_EQ((*Service(o, "notify"))["state"], "ready");

  LinkStats meter = LinkMeter::Global().Get("roof-ct", "fog-ct");
  const json* link = Link(o, "roof-ct", "fog-ct");
  ASSERT_NE(link, nullptr) << o["links"].dump();
  EXPECT_EQ((*link)["bytes_total"], 3 * meter.bytes);
  EXPECT_EQ((*link)["messages_total"], 3 * meter.messages);
  EXPECT_EQ((*link)["bytes_per_s"], 0.0);  // no previous poll yet
  double p50 = (*link)["latency_ms_p50"], p95 = (*link)["latency_ms_p95"];
  EXPECT_GT(p50, 0);
  EXPECT_LE(p50, 10);  // 4 ms lies in a bucket no wider than (2.5, 10] ms
  EXPECT_GE(p95, p50);

  for (int i = 0; i < 5; ++i)
    LinkMeter::Global().Record("roof-ct", "fog-ct", std::string(100, 'a'), 0.004);
  console_->poller().PollOnce();
  o = *client_->Get("/api/v1/overview")->Json();
  link = Link(o, "roof-ct", "fog-ct");
  ASSERT_NE(link, nullptr);
  EXPECT_EQ((*link)["messages_total"], 3 * LinkMeter::Global().Get("roof-ct", "fog-ct").messages);
  EXPECT_GT((*link)["bytes_per_s"].get<double>(), 0);
  EXPECT_GT((*link)["messages_per_s"].get<double>(), 0);

  console_->poller().PollOnce();  // nothing new since the last poll
  o = *client_->Get("/api/v1/overview")->Json();
  EXPECT_EQ((*Link(o, "roof-ct", "fog-ct"))["bytes_per_s"], 0.0);
}

TEST_F(ConsoleServiceTest, EveryRouteIsInTheOpenApiDocumentAndBack) {
  auto mismatches = http::OpenApiMismatches(console_->server(), OpenApi());
  EXPECT_TRUE(mismatches.empty()) << mismatches.front();
  EXPECT_EQ((*client_->Get("/api/v1/openapi.json")->Json())["info"]["title"], "strata-console");
}

TEST_F(ConsoleServiceTest, ServicesListsTheUpstreams) {
  json s = *client_->Get("/api/v1/services")->Json();
  ASSERT_EQ(s["services"].size(), 4u);
  EXPECT_EQ(s["services"][2], json({{"name", "gone"},
                                    {"type", "roof"},
                                    {"tier", "edge"},
                                    {"node", "edge-9"},
                                    {"url", closed_url_}}));
}

TEST_F(ConsoleServiceTest, StreamSendsOverviewsAndOnlyNewAlerts) {
  AddAlert("01OLD");
  console_->poller().PollOnce();  // remembers 01OLD without announcing it

  httplib::Client raw("127.0.0.1", console_->server().port());
  raw.set_read_timeout(10, 0);
  std::mutex buf_mu;
  std::string buf;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    raw.Get("/api/v1/stream", [&](const char* d, size_t n) {
      std::lock_guard lock(buf_mu);
      buf.append(d, n);
      return !done.load();
    });
  });
  auto wait_for = [&](const std::string& needle) {
    for (int i = 0; i < 200; ++i) {  // bounded: 10 s
      {
        std::lock_guard lock(buf_mu);
        if (buf.find(needle) != std::string::npos) return true;
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    return false;
  };
  EXPECT_TRUE(wait_for("event: overview\ndata: {"));
  AddAlert("01NEW");
  console_->poller().PollOnce();
  EXPECT_TRUE(wait_for("event: alert\nid: 01NEW\ndata: "));
  EXPECT_TRUE(wait_for("\n\n"));
  done = true;
  console_->poller().PollOnce();  // one more write, so the reader sees `done`
  reader.join();

  std::lock_guard lock(buf_mu);
  EXPECT_EQ(buf.find("id: 01OLD"), std::string::npos);
  size_t at = buf.find("event: alert\nid: 01NEW\ndata: ");
  ASSERT_NE(at, std::string::npos);
  size_t start = at + std::string("event: alert\nid: 01NEW\ndata: ").size();
  json alert = json::parse(buf.substr(start, buf.find('\n', start) - start));
  EXPECT_EQ(alert["alert_id"], "01NEW");
  EXPECT_EQ(alert["camera"], "cam-1");
  // Every overview is one data line of the overview JSON.
  size_t ov = buf.rfind("event: overview\ndata: ");
  ASSERT_NE(ov, std::string::npos);
  size_t ov_start = ov + std::string("event: overview\ndata: ").size();
  json overview = json::parse(buf.substr(ov_start, buf.find('\n', ov_start) - ov_start));
  EXPECT_EQ(overview["nodes"].size(), 3u);
}

TEST_F(ConsoleServiceTest, ProxyPassesAnswersThrough) {
  // An upstream problem+json comes back as it is.
  auto missing = client_->Get("/api/v1/svc/notify/events/01XYZ");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->Header("content-type"), "application/problem+json");
  EXPECT_NE(missing->body.find("alert '01XYZ' is unknown"), std::string::npos) << missing->body;
  EXPECT_NE(missing->body.find("/api/v1/events/01XYZ"), std::string::npos);  // upstream's instance

  auto jpeg = client_->Get("/api/v1/svc/notify/events/01XYZ/snapshot.jpg");
  EXPECT_EQ(jpeg->status, 200);
  EXPECT_EQ(jpeg->Header("content-type"), "image/jpeg");
  EXPECT_EQ(jpeg->body, kJpeg);

  auto ack = client_->Post("/api/v1/svc/notify/events/01A%20B/ack?camera=cam%201",
                           R"({"by":"operator"})", "application/json");
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(ack->status, 200) << ack->body;
  json a = *ack->Json();
  EXPECT_EQ(a["id"], "01A B");
  EXPECT_EQ(a["body"], R"({"by":"operator"})");
  EXPECT_EQ(a["content_type"], "application/json");
  EXPECT_EQ(a["authorization"], "Bearer " + kUpToken);  // the console's token, not the caller's
  EXPECT_EQ(a["query"], "cam 1");

  EXPECT_EQ(client_->Get("/api/v1/svc/hello/hello")->body, R"({"greeting":"hello"})");
}

TEST_F(ConsoleServiceTest, ProxyErrors) {
  auto unknown = client_->Get("/api/v1/svc/nope/events");
  EXPECT_EQ(unknown->status, 404);
  EXPECT_NE(unknown->body.find("unknown service 'nope'"), std::string::npos);
  auto down = client_->Get("/api/v1/svc/gone/stats");
  EXPECT_EQ(down->status, 502);
  EXPECT_EQ(down->Header("content-type"), "application/problem+json");
  EXPECT_NE(down->body.find("upstream 'gone' is unreachable"), std::string::npos);
  auto big = client_->Get("/api/v1/svc/notify/big");
  EXPECT_EQ(big->status, 502);
  EXPECT_NE(big->body.find("limit of 65536"), std::string::npos) << big->body;
  httplib::Client raw("127.0.0.1", console_->server().port());
  auto patch = raw.Patch("/api/v1/svc/notify/events", "{}", "application/json");
  ASSERT_TRUE(patch);
  EXPECT_EQ(patch->status, 405);
  auto dots = client_->Get("/api/v1/svc/notify/events/%2e%2e/%2e%2e/healthz");
  EXPECT_EQ(dots->status, 400);
  EXPECT_EQ(client_->Get("/healthz")->status, 200);
}

TEST_F(ConsoleServiceTest, UpstreamRefusingTheTokenIsA502NotA401) {
  Options o = opts_;
  o.console.upstream_token = "wrong";
  auto c = ConsoleService::Create(o, {});
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->server().Start().ok());
  auto cl = http::HttpClient::Create({.base_url = Url((*c)->server()), .max_retries = 0});
  auto r = (*cl)->Get("/api/v1/svc/notify/events?limit=50");
  EXPECT_EQ(r->status, 502);
  EXPECT_NE(r->body.find("refused the console's upstream token"), std::string::npos);
}

TEST_F(ConsoleServiceTest, StartAndStopWithAnOpenStream) {
  console_->Start();  // background poller
  httplib::Client raw("127.0.0.1", console_->server().port());
  std::atomic<size_t> got{0};
  std::thread reader([&] {
    raw.Get("/api/v1/stream", [&](const char*, size_t n) {
      got += n;
      return true;
    });
  });
  for (int i = 0; i < 200 && got == 0; ++i) std::this_thread::sleep_for(milliseconds(50));
  EXPECT_GT(got, 0u);
  console_->Stop();  // returns although the stream is open
  reader.join();
}

}  // namespace
}  // namespace strata::console
