#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "strata/testing/fixtures.h"
#include "strata/transport/http.h"
#include "strata/transport/http_client.h"

namespace strata::http {
namespace {

using nlohmann::json;

std::unique_ptr<HttpServer> MakeServer(ServerConfig cfg) {
  auto s = HttpServer::Create(cfg);
  EXPECT_TRUE(s.ok()) << s.status();
  auto& server = **s;
  server.Route("POST", "/api/v1/echo", [](const Request& r) -> Result<Response> {
    if (auto bad = CheckContentType(r, "application/json")) return *bad;
    STRATA_ASSIGN_OR_RETURN(json body, ParseJsonBody(r));
    return Response::Json({{"echo", body}});
  });
  server.Route("GET", "/api/v1/items/{id}", [](const Request& r) -> Result<Response> {
    if (r.PathParam("id") != "42") return NotFoundError("item '" + r.PathParam("id") + "' is unknown");
    return Response::Json({{"id", "42"}, {"q", r.Query("q").value_or("")}});
  });
  server.Route("DELETE", "/api/v1/items/{id}", [](const Request&) -> Result<Response> {
    return Response::NoContent();
  });
  server.Route("GET", "/api/v1/slow", [](const Request& r) -> Result<Response> {
    int ms = std::stoi(r.Query("ms").value_or("300"));
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return Response::Json({{"slept_ms", ms}});
  });
  server.Route("GET", "/api/v1/throw", [](const Request&) -> Result<Response> {
    throw std::runtime_error("secret-internal-detail");
  });
  EXPECT_TRUE(server.Start().ok());
  return std::move(s).value();
}

std::unique_ptr<HttpClient> ClientFor(const HttpServer& s, std::string token = "",
                                      std::string scheme = "http", std::string ca = "") {
  auto c = HttpClient::Create({.base_url = scheme + "://127.0.0.1:" + std::to_string(s.port()),
                               .max_retries = 0,
                               .token = std::move(token),
                               .ca_file = std::move(ca)});
  EXPECT_TRUE(c.ok()) << c.status();
  return std::move(c).value();
}

void ExpectProblem(const ClientResponse& r, int status, std::string_view detail_part) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(r.Header("content-type"), "application/problem+json");
  auto j = r.Json();
  ASSERT_TRUE(j.ok()) << r.body;
  EXPECT_EQ((*j)["status"], status);
  EXPECT_EQ((*j)["title"], std::string(StatusTitle(status)));
  EXPECT_NE((*j)["detail"].get<std::string>().find(detail_part), std::string::npos) << r.body;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = MakeServer({.service = "t_basic", .max_body_bytes = 1 << 20});
    client_ = ClientFor(*server_);
  }
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(HttpServerTest, JsonRoundTrip) {
  json in = {{"name", "fog-1"}, {"values", {1, 2.5, "x"}}, {"nested", {{"ok", true}}}};
  auto r = client_->Post("/api/v1/echo", in.dump(), "application/json");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ((*r->Json())["echo"], in);
}

TEST_F(HttpServerTest, PathAndQueryParams) {
  auto r = client_->Get("/api/v1/items/42?q=hello%20world");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r->Json())["q"], "hello world");
  ExpectProblem(*client_->Get("/api/v1/items/7"), 404, "item '7' is unknown");
  EXPECT_EQ(client_->Delete("/api/v1/items/7")->status, 204);
}

TEST_F(HttpServerTest, MalformedJsonIs400Problem) {
  ExpectProblem(*client_->Post("/api/v1/echo", "{\"a\": [1, 2", "application/json"), 400,
                "malformed JSON");
  ExpectProblem(*client_->Post("/api/v1/echo", "", "application/json"), 400, "empty");
  ExpectProblem(*client_->Post("/api/v1/echo", "{\"x\": 1e999}", "application/json"), 400,
                "number overflow");
}

TEST_F(HttpServerTest, WrongContentTypeIs415) {
  ExpectProblem(*client_->Post("/api/v1/echo", "{}", "text/plain"), 415, "application/json");
}

TEST_F(HttpServerTest, BodyOverLimitIs413) {
  std::string big(1 << 20, 'x');
  big += "yy";  // one MiB + 2 bytes
  auto r = client_->Post("/api/v1/echo", big, "application/json");
  ASSERT_TRUE(r.ok()) << r.status();
  ExpectProblem(*r, 413, "exceeds the limit");
}

TEST_F(HttpServerTest, UnknownRouteIs404AndWrongMethodIs405) {
  ExpectProblem(*client_->Get("/api/v1/nothing"), 404, "no route");
  auto r = client_->Put("/api/v1/items/42", "{}", "application/json");
  ExpectProblem(*r, 405, "not allowed");
  EXPECT_EQ(r->Header("allow"), "DELETE, GET");
  ExpectProblem(*client_->Get("/api/v1/echo"), 405, "POST");
}

TEST_F(HttpServerTest, HandlerExceptionIs500WithoutLeakingDetails) {
  auto r = client_->Get("/api/v1/throw");
  ExpectProblem(*r, 500, "internal error");
  EXPECT_EQ(r->body.find("secret-internal-detail"), std::string::npos);
}

TEST_F(HttpServerTest, ChunkedAndCompressedBodiesAreRefused) {
  auto chunked = client_->Post("/api/v1/echo", "{}", "application/json",
                               {{"Transfer-Encoding", "chunked"}});
  // httplib's client may itself refuse to send a bogus chunked header; if it sent it, 411.
  if (chunked.ok()) {
    EXPECT_EQ(chunked->status, 411);
  }
  auto gz = client_->Post("/api/v1/echo", "{}", "application/json", {{"Content-Encoding", "gzip"}});
  ASSERT_TRUE(gz.ok());
  ExpectProblem(*gz, 415, "compressed");
}

TEST_F(HttpServerTest, KeepsServingAfterBadRequests) {
  for (int i = 0; i < 5; ++i) {
    (void)client_->Post("/api/v1/echo", "not json", "application/json");
    (void)client_->Post("/api/v1/echo", std::string((1 << 20) + 10, 'z'), "application/json");
    (void)client_->Get("/api/v1/throw");
    (void)client_->Get("/nope");
  }
  EXPECT_EQ(client_->Get("/healthz")->status, 200);
  auto r = client_->Post("/api/v1/echo", "[1]", "application/json");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
}

TEST(HttpMetricsTest, MetricsReflectRequests) {
  // Metrics are process-wide: a service label of its own keeps this test's counts exact.
  auto server = MakeServer({.service = "t_metrics"});
  auto client = ClientFor(*server);
  for (int i = 0; i < 3; ++i) (void)client->Post("/api/v1/echo", "{}", "application/json");
  (void)client->Post("/api/v1/echo", "{", "application/json");
  (void)client->Get("/api/v1/items/1");
  auto m = client->Get("/metrics");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->status, 200);
  const std::string& t = m->body;
  EXPECT_NE(t.find("strata_http_requests_total{code=\"200\",method=\"POST\",route=\"/api/v1/echo\","
                   "service=\"t_metrics\"} 3"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("strata_http_requests_total{code=\"400\",method=\"POST\",route=\"/api/v1/echo\","
                   "service=\"t_metrics\"} 1"),
            std::string::npos);
  EXPECT_NE(t.find("strata_http_requests_total{code=\"404\",method=\"GET\","
                   "route=\"/api/v1/items/{id}\",service=\"t_metrics\"} 1"),
            std::string::npos);
  EXPECT_NE(t.find("strata_http_request_duration_seconds_count{method=\"POST\","
                   "route=\"/api/v1/echo\",service=\"t_metrics\"} 4"),
            std::string::npos);
}

TEST_F(HttpServerTest, ReadinessChecks) {
  std::atomic<bool> ready{false};
  server_->AddReadinessCheck("model", [&] {
    return ready ? Status::Ok() : UnavailableError("model not loaded");
  });
  auto r = client_->Get("/readyz");
  ExpectProblem(*r, 503, "not ready");
  EXPECT_EQ((*r->Json())["checks"]["model"], "model not loaded");
  ready = true;
  EXPECT_EQ(client_->Get("/readyz")->status, 200);
}

TEST(HttpAuthTest, BearerTokenRequiredExceptForProbes) {
  auto server = MakeServer({.service = "t_auth", .auth = {.enabled = true, .token = "s3cret-token"}});
  auto anon = ClientFor(*server);
  auto wrong = ClientFor(*server, "s3cret-tokem");
  auto prefix = ClientFor(*server, "s3cret");
  auto right = ClientFor(*server, "s3cret-token");
  auto r = anon->Get("/api/v1/items/42");
  ExpectProblem(*r, 401, "bearer token");
  EXPECT_EQ(r->Header("www-authenticate"), "Bearer realm=\"strata\"");
  EXPECT_EQ(r->body.find("s3cret"), std::string::npos);
  ExpectProblem(*wrong->Get("/api/v1/items/42"), 401, "bearer token");
  ExpectProblem(*prefix->Get("/api/v1/items/42"), 401, "bearer token");
  ExpectProblem(*anon->Get("/metrics"), 401, "bearer token");
  EXPECT_EQ(right->Get("/api/v1/items/42")->status, 200);
  EXPECT_EQ(right->Get("/metrics")->status, 200);
  EXPECT_EQ(anon->Get("/healthz")->status, 200);
  EXPECT_EQ(anon->Get("/readyz")->status, 200);
}

TEST(HttpAuthTest, TokenFromEnvironmentAndMissingTokenRejected) {
  setenv("STRATA_TEST_TOKEN_ENV", "from-env", 1);
  auto ok = HttpServer::Create({.auth = {.enabled = true, .token_env = "STRATA_TEST_TOKEN_ENV"}});
  EXPECT_TRUE(ok.ok()) << ok.status();
  auto missing = HttpServer::Create({.auth = {.enabled = true, .token_env = "STRATA_NO_SUCH_VAR"}});
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("STRATA_NO_SUCH_VAR"), std::string::npos);
}

TEST(HttpTlsTest, RoundTripOverTlsWithSelfSignedCert) {
  testing::TempDir dir;
  auto files = testing::MakeSelfSignedCert(dir.path());
  ASSERT_TRUE(files.ok()) << files.status();
  auto server = MakeServer({.service = "t_tls", .tls = {files->cert_file, files->key_file}});
  EXPECT_TRUE(server->tls());
  auto client = ClientFor(*server, "", "https", files->cert_file);
  json in = {{"secure", true}};
  auto r = client->Post("/api/v1/echo", in.dump(), "application/json");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r->Json())["echo"], in);
  // A plaintext client cannot talk to the TLS port.
  auto plain = ClientFor(*server);
  EXPECT_FALSE(plain->Get("/healthz").ok() && plain->Get("/healthz")->status == 200);
  // Unreadable certificate files are rejected at Create.
  auto bad = HttpServer::Create({.tls = {dir.File("missing.pem"), dir.File("missing.key")}});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST(HttpShutdownTest, StopLetsInFlightRequestFinish) {
  auto server = MakeServer({.service = "t_stop"});
  auto client = ClientFor(*server);
  Result<ClientResponse> slow = UnavailableError("not run");
  std::thread t([&] { slow = client->Get("/api/v1/slow?ms=600"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  server->Stop();
  server->Wait();
  t.join();
  ASSERT_TRUE(slow.ok()) << slow.status();
  EXPECT_EQ(slow->status, 200);
  EXPECT_EQ((*slow->Json())["slept_ms"], 600);
  auto after = ClientFor(*server)->Get("/healthz");
  EXPECT_FALSE(after.ok());
  EXPECT_EQ(after.status().code(), StatusCode::kUnavailable);
}

TEST(HttpOverloadTest, ExcessConnectionsGet503) {
  std::atomic<bool> entered{false}, release{false};
  auto s = HttpServer::Create({.service = "t_overload", .workers = 1, .max_queue = 0});
  ASSERT_TRUE(s.ok());
  (*s)->Route("GET", "/api/v1/hold", [&](const Request&) -> Result<Response> {
    entered = true;
    for (int i = 0; i < 500 && !release; ++i)  // bounded: at most 5 s
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return Response::Json({{"held", true}});
  });
  (*s)->Route("GET", "/api/v1/ping", [](const Request&) -> Result<Response> {
    return Response::Json({{"pong", true}});
  });
  ASSERT_TRUE((*s)->Start().ok());
  auto c1 = ClientFor(**s);
  std::thread hold([&] { (void)c1->Get("/api/v1/hold"); });
  for (int i = 0; i < 500 && !entered; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(entered);
  auto c2 = ClientFor(**s);
  auto r = c2->Get("/api/v1/ping");
  release = true;
  hold.join();
  ASSERT_TRUE(r.ok()) << r.status();
  ExpectProblem(*r, 503, "overloaded");
  EXPECT_EQ(r->Header("retry-after"), "1");
  // Once the first client closes its keep-alive connection the worker is free again (an idle
  // keep-alive connection holds a worker in cpp-httplib's model).
  c1.reset();
  auto c3 = ClientFor(**s);
  Result<ClientResponse> r3 = UnavailableError("not run");
  for (int i = 0; i < 50; ++i) {  // bounded: the worker notices the close within milliseconds
    r3 = c3->Get("/api/v1/ping");
    if (r3.ok() && r3->status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(r3->status, 200);
  EXPECT_NE(r3->body.find("pong"), std::string::npos);
}

TEST(HttpConfigTest, CreateRejectsBadLimits) {
  EXPECT_FALSE(HttpServer::Create({.port = 70000}).ok());
  EXPECT_FALSE(HttpServer::Create({.workers = 0}).ok());
  EXPECT_FALSE(HttpServer::Create({.max_body_bytes = 0}).ok());
}

TEST(OpenApiTest, MismatchesAreReported) {
  auto server = MakeServer({.service = "t_openapi"});
  json spec = {{"openapi", "3.1.0"},
               {"paths",
                {{"/api/v1/echo", {{"post", json::object()}}},
                 {"/api/v1/items/{id}", {{"get", json::object()}, {"delete", json::object()}}},
                 {"/api/v1/slow", {{"get", json::object()}}},
                 {"/api/v1/ghost", {{"get", json::object()}}}}}};
  auto mism = OpenApiMismatches(*server, spec.dump());
  ASSERT_EQ(mism.size(), 2u);
  EXPECT_EQ(mism[0], "route missing from OpenAPI: GET /api/v1/throw");
  EXPECT_EQ(mism[1], "OpenAPI path without a route: GET /api/v1/ghost");
}

}  // namespace
}  // namespace strata::http
