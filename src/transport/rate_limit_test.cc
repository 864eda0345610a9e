// Per-client rate limit: RateLimiter bucket math on an injected clock (no sleeping, no timing
// assertions), and HttpServer's `rate_limit` on port 0: a client over its rate gets 429 +
// Retry-After while another client (other source address 127.0.0.2, or another principal) is
// still served, probes stay exempt, and the `server.rate_limit` config keys parse. With one worker
// blocked in a handler, a flooding client's excess is answered 429 by the epoll front (no worker),
// pipelined on one kept-alive connection, while another address is still queued and served; the
// TLS listener answers from the front too.
#include "rate_limit.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "service_token.h"
#include "strata/metrics/metrics.h"
#include "strata/testing/fixtures.h"
#include "strata/transport/http.h"
#include "strata/transport/http_client.h"
#include "strata/transport/service.h"

namespace strata::http {
namespace {

using namespace std::chrono_literals;
using Clock = RateLimiter::Clock;

TEST(RateLimiter, BurstThenRefusedThenRefillsAtTheRateUpToTheBurst) {
  RateLimiter rl({.requests_per_second = 2, .burst = 3});
  const Clock::time_point t0{};
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(rl.Admit("a", t0).allowed) << i;
  RateLimiter::Decision d = rl.Admit("a", t0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_seconds, 1);  // 0.5 s until a token, rounded up to whole seconds
  EXPECT_FALSE(rl.Admit("a", t0 + 400ms).allowed);  // 0.8 tokens
  EXPECT_TRUE(rl.Admit("a", t0 + 500ms).allowed);   // 1.0 token (0.8 + 0.2)
  EXPECT_FALSE(rl.Admit("a", t0 + 500ms).allowed);
  // A long idle period refills to the burst, never beyond.
  const auto later = t0 + 60s;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(rl.Admit("a", later).allowed) << i;
  EXPECT_FALSE(rl.Admit("a", later).allowed);
}

TEST(RateLimiter, RetryAfterIsTheWholeSecondsUntilATokenAndAtLeastOne) {
  RateLimiter rl({.requests_per_second = 0.1, .burst = 1});
  const Clock::time_point t0{};
  EXPECT_TRUE(rl.Admit("k", t0).allowed);
  EXPECT_EQ(rl.Admit("k", t0).retry_after_seconds, 10);
  EXPECT_EQ(rl.Admit("k", t0 + 2500ms).retry_after_seconds, 8);  // 7.5 s left
  EXPECT_EQ(rl.Admit("k", t0 + 9999ms).retry_after_seconds, 1);  // 1 ms left → 1, never 0
  EXPECT_TRUE(rl.Admit("k", t0 + 10s).allowed);
  // A fast rate still says at least 1 second.
  RateLimiter fast({.requests_per_second = 1000, .burst = 1});
  EXPECT_TRUE(fast.Admit("k", t0).allowed);
  RateLimiter::Decision d = fast.Admit("k", t0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_seconds, 1);
}

TEST(RateLimiter, ClientsHaveTheirOwnBucketsAndBurstDefaultsToTheRate) {
  RateLimiter rl({.requests_per_second = 4});  // burst 0 → 4
  EXPECT_EQ(rl.burst(), 4);
  const Clock::time_point t0{};
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(rl.Admit("ip:127.0.0.1", t0).allowed);
  EXPECT_FALSE(rl.Admit("ip:127.0.0.1", t0).allowed);
  EXPECT_TRUE(rl.Admit("ip:127.0.0.2", t0).allowed);
  EXPECT_TRUE(rl.Admit("p:roof", t0).allowed);
  EXPECT_EQ(rl.size(), 3u);
  RateLimiter slow({.requests_per_second = 0.5});  // burst → 1, never 0
  EXPECT_EQ(slow.burst(), 1);
}

TEST(RateLimiter, TableIsBoundedAndForgetsTheLeastRecentlyUsedClient) {
  RateLimiter rl({.requests_per_second = 0.001, .burst = 1, .max_clients = 3});
  const Clock::time_point t0{};
  for (const char* k : {"a", "b", "c"}) EXPECT_TRUE(rl.Admit(k, t0).allowed) << k;
  EXPECT_FALSE(rl.Admit("a", t0).allowed);  // a is now the most recent; b the oldest
  EXPECT_TRUE(rl.Admit("d", t0).allowed);   // evicts b
  EXPECT_EQ(rl.size(), 3u);
  EXPECT_FALSE(rl.Admit("a", t0).allowed);  // a kept its empty bucket
  EXPECT_FALSE(rl.Admit("c", t0).allowed);  // so did c
  EXPECT_TRUE(rl.Admit("b", t0).allowed);   // b was forgotten: back with a full bucket (evicts d)
  EXPECT_EQ(rl.size(), 3u);
  EXPECT_TRUE(rl.Admit("d", t0).allowed);  // d was the least recently used
  // A big table stays bounded too (sharded LRU).
  RateLimiter big({.requests_per_second = 1, .max_clients = 1000});
  for (int i = 0; i < 5000; ++i) big.Admit("ip:" + std::to_string(i), t0);
  EXPECT_LE(big.size(), 1000u);
  EXPECT_GE(big.size(), 900u);
}

TEST(RateLimiter, ConcurrentCallersNeverGetMoreThanTheBurst) {
  RateLimiter rl({.requests_per_second = 1, .burst = 50});
  const Clock::time_point t0{};  // frozen clock: no refill
  std::atomic<int> admitted{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 8; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < 100; ++i) admitted += rl.Admit("shared", t0).allowed;
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(admitted.load(), 50);
}

// One request on a fresh connection from `source` (a loopback address); Connection: close.
struct RawAnswer {
  int status = 0;
  std::string head, body;
  std::string Header(const std::string& name) const {
    size_t p = head.find("\r\n" + name + ": ");
    if (p == std::string::npos) return "";
    p += name.size() + 4;
    return head.substr(p, head.find("\r\n", p) - p);
  }
};
RawAnswer Get(int port, const std::string& path, const std::string& source = "127.0.0.1",
              const std::string& token = "") {
  RawAnswer out;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in src{};
  src.sin_family = AF_INET;
  inet_pton(AF_INET, source.c_str(), &src.sin_addr);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<uint16_t>(port));
  dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) {
    ::close(fd);
    return out;
  }
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n";
  if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
  req += "\r\n";
  (void)::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string buf;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {  // until the server closes, ≤ 5 s
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    char b[4096];
    ssize_t n = ::recv(fd, b, sizeof b, 0);
    if (n <= 0) break;
    buf.append(b, static_cast<size_t>(n));
  }
  ::close(fd);
  size_t end = buf.find("\r\n\r\n");
  if (buf.size() < 12 || end == std::string::npos) return out;
  out.status = std::atoi(buf.c_str() + 9);
  out.head = buf.substr(0, end);
  out.body = buf.substr(end + 4);
  return out;
}

std::unique_ptr<HttpServer> StartServer(ServerConfig cfg) {
  auto s = HttpServer::Create(cfg);
  EXPECT_TRUE(s.ok()) << s.status();
  if (!s.ok()) return nullptr;
  (*s)->Route("GET", "/api/v1/items", [](const Request& r) -> Result<Response> {
    return Response::Json({{"principal", r.principal}});
  });
  EXPECT_TRUE((*s)->Start().ok());
  return std::move(s).value();
}

void Expect429(const RawAnswer& a) {
  EXPECT_EQ(a.status, 429) << a.head;
  EXPECT_NE(a.head.find("application/problem+json"), std::string::npos) << a.head;
  EXPECT_NE(a.body.find("rate limit exceeded"), std::string::npos) << a.body;
  // 0.01 tokens/s: a token is up to 100 s away; whole seconds, at least 1.
  int retry = std::atoi(a.Header("Retry-After").c_str());
  EXPECT_GE(retry, 1) << a.head;
  EXPECT_LE(retry, 100) << a.head;
}

TEST(RateLimitServer, ClientOverItsRateGets429WhileAnotherAddressIsServedAndProbesAreExempt) {
  auto server =
      StartServer({.service = "t_rl_ip", .rate_limit = {.requests_per_second = 0.01, .burst = 2}});
  ASSERT_TRUE(server);
  const int port = server->port();
  EXPECT_EQ(Get(port, "/api/v1/items").status, 200);
  EXPECT_EQ(Get(port, "/api/v1/items").status, 200);
  Expect429(Get(port, "/api/v1/items"));
  Expect429(Get(port, "/api/v1/nowhere"));  // limited before routing: not a 404
  // Another client address (the whole 127/8 is loopback on Linux) has its own bucket.
  RawAnswer other = Get(port, "/api/v1/items", "127.0.0.2");
  ASSERT_NE(other.status, 0) << "cannot connect from 127.0.0.2";
  EXPECT_EQ(other.status, 200) << other.head;
  // Probes and metrics stay exempt for the limited client.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Get(port, "/healthz").status, 200);
    EXPECT_EQ(Get(port, "/readyz").status, 200);
  }
  RawAnswer metrics = Get(port, "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("strata_http_rate_limited_total{service=\"t_rl_ip\"} 2\n"),
            std::string::npos)
      << metrics.body.substr(0, 2000);
}

TEST(RateLimitServer, PrincipalsOfServiceTokensHaveTheirOwnBucketsOnOneAddress) {
  testing::TempDir dir;
  const std::string key_file = dir.File("keys");
  auto line = auth::NewKeyLine();
  ASSERT_TRUE(line.ok());
  {
    FILE* f = std::fopen(key_file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(line->c_str(), f);
    std::fclose(f);
  }
  auto keys = auth::KeySet::LoadFile(key_file);
  ASSERT_TRUE(keys.ok()) << keys.status();
  auto alpha = auth::IssueToken(*keys, "alpha", "fog", std::chrono::hours(1));
  auto beta = auth::IssueToken(*keys, "beta", "fog", std::chrono::hours(1));
  ASSERT_TRUE(alpha.ok() && beta.ok());
  ServerConfig cfg{.service = "t_rl_principal"};
  cfg.auth = {.enabled = true, .token_env = "", .key_file = key_file};
  cfg.rate_limit = {.requests_per_second = 0.01, .burst = 2, .exempt = {"/healthz"}};
  auto server = StartServer(cfg);
  ASSERT_TRUE(server);
  const int port = server->port();
  for (int i = 0; i < 2; ++i) {
    RawAnswer a = Get(port, "/api/v1/items", "127.0.0.1", *alpha);
    EXPECT_EQ(a.status, 200) << a.head;
    EXPECT_NE(a.body.find("\"alpha\""), std::string::npos) << a.body;
  }
  Expect429(Get(port, "/api/v1/items", "127.0.0.1", *alpha));
  RawAnswer b = Get(port, "/api/v1/items", "127.0.0.1", *beta);  // same address, other principal
  EXPECT_EQ(b.status, 200) << b.head;
  EXPECT_NE(b.body.find("\"beta\""), std::string::npos) << b.body;
  EXPECT_EQ(Get(port, "/api/v1/items").status, 401);  // no token: auth answers first
  for (int i = 0; i < 4; ++i) EXPECT_EQ(Get(port, "/healthz", "127.0.0.1", *alpha).status, 200);
}

TEST(RateLimiterHead, ParseHeadReadsWhatTheFrontNeeds) {
  HeadFacts h = ParseHead(
      "POST /api/v1/he%6Cp?x=1 HTTP/1.1\r\nHost: t\r\nauthorization:  \r\n"
      "Authorization: Bearer x\r\ncontent-length: 12\r\n\r\n");
  EXPECT_EQ(h.method, "POST");
  EXPECT_EQ(h.path, "/api/v1/help");  // decoded, no query: what Dispatch sees as req.path
  EXPECT_FALSE(h.authorization);      // the first field counts (empty), like httplib
  EXPECT_TRUE(h.keep_alive);
  EXPECT_TRUE(h.body_known);
  EXPECT_EQ(h.content_length, 12u);
  HeadFacts c = ParseHead("GET / HTTP/1.1\r\nConnection: Close\r\nAUTHORIZATION: Bearer y\r\n\r\n");
  EXPECT_FALSE(c.keep_alive);
  EXPECT_TRUE(c.authorization);
  EXPECT_FALSE(ParseHead("GET / HTTP/1.0\r\n\r\n").keep_alive);
  EXPECT_FALSE(ParseHead("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").body_known);
  EXPECT_FALSE(ParseHead("POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n").body_known);
  EXPECT_FALSE(
      ParseHead("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n").body_known);
  EXPECT_TRUE(RateLimitExempt("/assets/a.js", {"/healthz", "/assets/*"}));
  EXPECT_FALSE(RateLimitExempt("/healthzz", {"/healthz", "/assets/*"}));
}

// Reads one response (head + Content-Length body unless `head_request`) from `fd` into `out`,
// ≤ 5 s; false on EOF or time out.
bool ReadOne(int fd, std::string& buf, RawAnswer* out, bool head_request = false) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    size_t end = buf.find("\r\n\r\n");
    if (end != std::string::npos) {
      RawAnswer a;
      a.head = buf.substr(0, end);
      a.status = std::atoi(buf.c_str() + 9);
      size_t len =
          head_request ? 0 : static_cast<size_t>(std::atol(a.Header("Content-Length").c_str()));
      if (buf.size() >= end + 4 + len) {
        a.body = buf.substr(end + 4, len);
        buf.erase(0, end + 4 + len);
        *out = a;
        return true;
      }
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    char b[4096];
    ssize_t n = ::recv(fd, b, sizeof b, 0);
    if (n <= 0) return false;
    buf.append(b, static_cast<size_t>(n));
  }
  return false;
}

TEST(RateLimitServer, FrontAnswers429WithoutAWorkerWhileTheOnlyWorkerIsBusy) {
  ServerConfig cfg{.service = "t_rl_front"};
  cfg.workers = 1;
  cfg.max_queue = 2;
  cfg.rate_limit = {.requests_per_second = 0.01, .burst = 1};
  auto created = HttpServer::Create(cfg);
  ASSERT_TRUE(created.ok()) << created.status();
  std::unique_ptr<HttpServer> server = std::move(created).value();
  std::atomic<bool> entered{false}, release{false};
  std::atomic<int> items{0};
  server->Route("GET", "/api/v1/block", [&](const Request&) -> Result<Response> {
    entered = true;
    for (int i = 0; i < 1000 && !release; ++i) std::this_thread::sleep_for(10ms);  // ≤ 10 s
    return Response::Json({{"blocked", true}});
  });
  server->Route("GET", "/api/v1/items", [&](const Request&) -> Result<Response> {
    ++items;
    return Response::Json({{"ok", true}});
  });
  ASSERT_TRUE(server->Start().ok());
  const int port = server->port();
  metrics::Counter limited = metrics::GetCounter(
      "strata_http_rate_limited_total", "Requests refused with 429 by the per-client rate limit",
      {{"service", "t_rl_front"}});
  const double limited_before = limited.Value();

  // 127.0.0.1 spends its only token on a request that occupies the only worker.
  RawAnswer blocked, other;
  std::thread blocker, second;
  struct Joiner {  // also on a failed ASSERT: unblock the handler, join the clients
    std::atomic<bool>& release;
    std::thread &a, &b;
    ~Joiner() {
      release = true;
      if (a.joinable()) a.join();
      if (b.joinable()) b.join();
    }
  } joiner{release, blocker, second};
  blocker = std::thread([&] { blocked = Get(port, "/api/v1/block"); });
  for (int i = 0; i < 500 && !entered; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(entered.load());
  // 127.0.0.2 is within its rate: queued behind the busy worker.
  second = std::thread([&] { other = Get(port, "/api/v1/items", "127.0.0.2"); });

  // The flood from 127.0.0.1: 4 pipelined requests on one connection (one with a small body,
  // which is skipped), all answered 429 in order while the worker is still blocked.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<uint16_t>(port));
  dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst), 0);
  std::unique_ptr<int, void (*)(int*)> fd_closer(&fd, [](int* f) { ::close(*f); });
  const std::string get = "GET /api/v1/items HTTP/1.1\r\nHost: t\r\n\r\n";
  const std::string flood = get +
                            "POST /api/v1/items HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
                            "\r\nhello" +
                            "HEAD /api/v1/nowhere HTTP/1.1\r\nHost: t\r\n\r\n" +
                            "GET /api/v1/items HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::send(fd, flood.data(), flood.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(flood.size()));
  std::string buf;
  for (int i = 0; i < 4; ++i) {
    RawAnswer a;
    ASSERT_TRUE(ReadOne(fd, buf, &a, i == 2)) << "answer " << i;
    EXPECT_EQ(a.status, 429) << i << a.head;
    int retry = std::atoi(a.Header("Retry-After").c_str());
    EXPECT_GE(retry, 1) << a.head;
    EXPECT_LE(retry, 100) << a.head;
    EXPECT_NE(a.head.find("application/problem+json"), std::string::npos) << a.head;
    if (i == 2)
      EXPECT_TRUE(a.body.empty()) << a.body;  // HEAD: no body
    else
      EXPECT_NE(a.body.find("rate limit exceeded"), std::string::npos) << a.body;
    EXPECT_NE(a.head.find(i < 3 ? "Connection: keep-alive" : "Connection: close"),
              std::string::npos)
        << i << a.head;
  }
  EXPECT_FALSE(release.load());
  EXPECT_EQ(items.load(), 0);  // no handler ran for the flood (nor yet for 127.0.0.2)
  EXPECT_EQ(limited.Value() - limited_before, 4);
  pollfd pfd{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 5000), 1);
  char b;
  EXPECT_LE(::recv(fd, &b, 1, MSG_DONTWAIT), 0);  // closed after the Connection: close request

  release = true;
  blocker.join();
  second.join();
  EXPECT_EQ(blocked.status, 200) << blocked.head;
  ASSERT_NE(other.status, 0) << "cannot connect from 127.0.0.2";
  EXPECT_EQ(other.status, 200) << other.head;
  EXPECT_EQ(items.load(), 1);
  Expect429(Get(port, "/api/v1/items"));  // 127.0.0.1 is still over its rate
  EXPECT_EQ(limited.Value() - limited_before, 5);
}

TEST(RateLimitServer, TlsListenerAnswers429FromTheFrontToo) {
  testing::TempDir dir;
  auto files = testing::MakeSelfSignedCert(dir.path());
  ASSERT_TRUE(files.ok()) << files.status();
  ServerConfig cfg{.service = "t_rl_tls"};
  cfg.tls = {files->cert_file, files->key_file};
  cfg.rate_limit = {.requests_per_second = 0.01, .burst = 2};
  auto server = StartServer(cfg);
  ASSERT_TRUE(server);
  auto client =
      HttpClient::Create({.base_url = "https://127.0.0.1:" + std::to_string(server->port()),
                          .max_retries = 0,
                          .ca_file = files->cert_file});
  ASSERT_TRUE(client.ok()) << client.status();
  for (int i = 0; i < 2; ++i) {
    auto r = (*client)->Get("/api/v1/items");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, 200) << r->body;
  }
  for (int i = 0; i < 3; ++i) {  // GET, POST with a body (skipped by the front), GET
    auto r = i == 1 ? (*client)->Post("/api/v1/items", "{\"a\":1}", "application/json")
                    : (*client)->Get("/api/v1/items");
    ASSERT_TRUE(r.ok()) << i << r.status();
    EXPECT_EQ(r->status, 429) << i << r->body;
    EXPECT_EQ(r->Header("content-type"), "application/problem+json");
    EXPECT_GE(std::atoi(r->Header("retry-after").c_str()), 1);
  }
  EXPECT_EQ((*client)->Get("/healthz")->status, 200);
}

TEST(RateLimitConfig, ServerSectionParsesAndRejectsBadValues) {
  auto parse = [](const std::string& yaml, ServerConfig* out) {
    auto root = ConfigNode::Parse(yaml, "svc.yaml");
    EXPECT_TRUE(root.ok()) << root.status();
    return ParseServerConfig(*root, ServiceArgs{.service = "svc"}, out);
  };
  ServerConfig off;
  ASSERT_TRUE(parse("server:\n  port: 0\n", &off).ok());
  EXPECT_EQ(off.rate_limit.requests_per_second, 0);  // off by default
  EXPECT_EQ(off.rate_limit.exempt, (std::vector<std::string>{"/healthz", "/readyz", "/metrics"}));
  ServerConfig on;
  Status s = parse(
      "server:\n  rate_limit:\n    requests_per_second: 50\n    burst: 100\n"
      "    exempt: [/healthz, \"/assets/*\"]\n    max_clients: 500\n",
      &on);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(on.rate_limit.requests_per_second, 50);
  EXPECT_EQ(on.rate_limit.burst, 100);
  EXPECT_EQ(on.rate_limit.exempt, (std::vector<std::string>{"/healthz", "/assets/*"}));
  EXPECT_EQ(on.rate_limit.max_clients, 500u);
  ServerConfig bad;
  Status typo = parse("server:\n  rate_limit:\n    rps: 5\n", &bad);
  EXPECT_FALSE(typo.ok());
  EXPECT_NE(typo.message().find("rps"), std::string::npos) << typo;
  Status negative = parse("server:\n  rate_limit:\n    requests_per_second: -1\n", &bad);
  EXPECT_FALSE(negative.ok());
  EXPECT_NE(negative.message().find("requests_per_second"), std::string::npos) << negative;
  EXPECT_FALSE(parse("server:\n  rate_limit:\n    max_clients: 0\n", &bad).ok());
}

}  // namespace
}  // namespace strata::http
