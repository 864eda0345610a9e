// Slow and hostile HTTP clients against a real HttpServer (port 0, raw loopback sockets):
// slowloris, idle keep-alives, silent sockets, bad chunked bodies, huge headers / header counts,
// gzip bombs, absurd Content-Length, a 1 MB request line, the connection cap and pipelining.
// For each: the hostile connection gets the right 4xx or is closed, and meanwhile a normal
// request and /healthz on fresh connections still succeed (5 s client timeout = liveness bound,
// not a performance assertion). Every wait is bounded. Run: ctest -R http_hostile_test
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "strata/testing/fixtures.h"
#include "strata/transport/http.h"
#include "strata/transport/http_client.h"

namespace strata::http {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

ServerConfig SmallConfig(std::string service) {
  ServerConfig c;
  c.service = std::move(service);
  c.workers = 2;
  c.max_queue = 4;
  c.header_timeout = 2000ms;
  c.keep_alive_timeout = 5000ms;
  return c;
}

std::unique_ptr<HttpServer> Start(ServerConfig cfg, std::atomic<bool>* release = nullptr) {
  auto s = HttpServer::Create(cfg);
  EXPECT_TRUE(s.ok()) << s.status();
  (*s)->Route("GET", "/api/v1/ping", [](const Request&) -> Result<Response> {
    return Response::Json({{"pong", true}});
  });
  (*s)->Route("POST", "/api/v1/echo", [](const Request& r) -> Result<Response> {
    STRATA_ASSIGN_OR_RETURN(nlohmann::json j, ParseJsonBody(r));
    return Response::Json({{"echo", j}});
  });
  (*s)->Route("GET", "/api/v1/hold", [release](const Request&) -> Result<Response> {
    for (int i = 0; i < 500 && release && !*release; ++i) std::this_thread::sleep_for(10ms);
    return Response::Json({{"held", true}});
  });
  EXPECT_TRUE((*s)->Start().ok());
  return std::move(s).value();
}

// A normal request and the health probe, each on a fresh connection, within a 5 s timeout.
void ExpectLive(const HttpServer& s) {
  for (const char* path : {"/api/v1/ping", "/healthz"}) {
    auto c = HttpClient::Create({.base_url = "http://127.0.0.1:" + std::to_string(s.port()),
                                 .connect_timeout = 5000ms,
                                 .read_timeout = 5000ms,
                                 .max_retries = 0});
    ASSERT_TRUE(c.ok());
    auto r = (*c)->Get(path);
    ASSERT_TRUE(r.ok()) << path << ": " << r.status();
    EXPECT_EQ(r->status, 200) << path << ": " << r->body;
  }
}

class Raw {
 public:
  explicit Raw(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Raw() { ::close(fd_); }
  bool connected() const { return connected_; }
  // False once the peer has closed or reset the connection.
  bool Send(std::string_view data) {
    size_t off = 0;
    for (int i = 0; i < 100000 && off < data.size(); ++i) {
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, 2000) <= 0) return false;
      ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n <= 0 && errno != EAGAIN) return false;
      if (n > 0) off += static_cast<size_t>(n);
    }
    return off == data.size();
  }
  // Reads until one full response (head + Content-Length body) arrived, EOF, or `timeout`.
  std::string ReadResponse(std::chrono::milliseconds timeout = 5000ms) {
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      size_t end = buf_.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t cl = buf_.find("Content-Length: ");
        size_t len = cl < end ? std::stoul(buf_.substr(cl + 16)) : 0;
        if (buf_.size() >= end + 4 + len) {
          std::string out = buf_.substr(0, end + 4 + len);
          buf_.erase(0, end + 4 + len);
          return out;
        }
      }
      if (!Fill(deadline)) break;
    }
    return std::exchange(buf_, "");
  }
  // True when the server closed (EOF or reset) within `timeout`; data before it is discarded.
  bool ClosedWithin(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char b[4096];
      ssize_t n = ::recv(fd_, b, sizeof b, 0);
      if (n <= 0) return true;
    }
    return false;
  }

 private:
  bool Fill(Clock::time_point deadline) {
    pollfd p{fd_, POLLIN, 0};
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(1, ms.count()))) <= 0) return false;
    char b[8192];
    ssize_t n = ::recv(fd_, b, sizeof b, 0);
    if (n <= 0) return false;
    buf_.append(b, static_cast<size_t>(n));
    return true;
  }
  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

int StatusOf(const std::string& response) {
  if (response.rfind("HTTP/1.1 ", 0) != 0 || response.size() < 12) return 0;
  return std::stoi(response.substr(9, 3));
}

constexpr std::string_view kGet = "GET /api/v1/ping HTTP/1.1\r\nHost: t\r\n\r\n";

TEST(HostileClientTest, SlowlorisIsCutByHeadDeadlineWhileOthersAreServed) {
  auto s = Start(SmallConfig("t_slowloris"));
  std::string head = "GET /api/v1/ping HTTP/1.1\r\nHost: t\r\nX-Slow: " + std::string(40, 'a');
  std::vector<std::unique_ptr<Raw>> slow;
  for (int i = 0; i < 6; ++i) slow.push_back(std::make_unique<Raw>(s->port()));  // 3x workers
  std::atomic<bool> stop{false};
  std::thread trickle([&] {  // 1 byte per 200 ms on every slow connection; at most 4 s
    for (size_t i = 0; i < 20 && !stop; ++i) {
      for (auto& r : slow) (void)r->Send(head.substr(i, 1));
      std::this_thread::sleep_for(200ms);
    }
  });
  std::this_thread::sleep_for(600ms);
  ExpectLive(*s);
  for (auto& r : slow) {
    std::string resp = r->ReadResponse(6000ms);
    EXPECT_EQ(StatusOf(resp), 408) << resp;
    EXPECT_NE(resp.find("Connection: close"), std::string::npos);
    EXPECT_TRUE(r->ClosedWithin(3000ms));
  }
  stop = true;
  trickle.join();
  ExpectLive(*s);
}

TEST(HostileClientTest, IdleKeepAlivesDoNotHoldWorkers) {
  auto s = Start(SmallConfig("t_idle"));
  std::vector<std::unique_ptr<Raw>> idle;
  for (int i = 0; i < 20; ++i) {  // 10x workers, each idle after one request
    idle.push_back(std::make_unique<Raw>(s->port()));
    ASSERT_TRUE(idle.back()->Send(kGet));
    ASSERT_EQ(StatusOf(idle.back()->ReadResponse()), 200);
  }
  ExpectLive(*s);
  // The idle connections are still usable keep-alives, not silently dropped.
  ASSERT_TRUE(idle.front()->Send(kGet));
  EXPECT_EQ(StatusOf(idle.front()->ReadResponse()), 200);
}

TEST(HostileClientTest, SilentSocketsAreClosedAfterHeadDeadline) {
  auto s = Start(SmallConfig("t_silent"));
  std::vector<std::unique_ptr<Raw>> silent;
  for (int i = 0; i < 30; ++i) silent.push_back(std::make_unique<Raw>(s->port()));
  ExpectLive(*s);
  for (auto& r : silent) EXPECT_TRUE(r->ClosedWithin(5000ms));
  ExpectLive(*s);
}

TEST(HostileClientTest, ConnectionCapAnswers503AndEvictsIdleFirst) {
  std::atomic<bool> release{false};
  ServerConfig cfg = SmallConfig("t_cap");
  cfg.max_connections = 3;
  auto s = Start(cfg, &release);
  // Two idle keep-alives, then a third connection: all under the cap.
  // (Pauses order the idle times even when the machine is busy.)
  Raw a(s->port()), b(s->port());
  ASSERT_TRUE(a.Send(kGet));
  ASSERT_EQ(StatusOf(a.ReadResponse()), 200);
  std::this_thread::sleep_for(200ms);
  ASSERT_TRUE(b.Send(kGet));
  ASSERT_EQ(StatusOf(b.ReadResponse()), 200);
  std::this_thread::sleep_for(200ms);
  // At the cap, a new connection evicts the oldest idle one (a) instead of being refused.
  Raw c(s->port());
  std::this_thread::sleep_for(200ms);
  Raw d(s->port());
  ASSERT_TRUE(d.Send(kGet));
  EXPECT_EQ(StatusOf(d.ReadResponse()), 200);
  EXPECT_TRUE(a.ClosedWithin(2000ms));
  // Three connections busy in handlers (2 workers + 1 queued): nothing is evictable → 503 at once.
  std::vector<std::unique_ptr<Raw>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<Raw>(s->port()));
    ASSERT_TRUE(held.back()->Send("GET /api/v1/hold HTTP/1.1\r\nHost: t\r\n\r\n"));
    std::this_thread::sleep_for(100ms);
  }
  Raw over(s->port());
  std::string resp = over.ReadResponse(3000ms);
  EXPECT_EQ(StatusOf(resp), 503) << resp;
  EXPECT_NE(resp.find("too many connections"), std::string::npos) << resp;
  EXPECT_NE(resp.find("Retry-After: 1"), std::string::npos) << resp;
  EXPECT_TRUE(over.ClosedWithin(2000ms));
  release = true;
  for (auto& h : held) EXPECT_EQ(StatusOf(h->ReadResponse()), 200);
  held.clear();
  ExpectLive(*s);
}

// Queue full (1 worker busy, no queue): the front answers 503 + Retry-After and keeps the
// connection like its 429 (a second request on the SAME connection is served once the worker is
// free; a small body is skipped); Connection: close or a body too big to skip still closes.
TEST(HostileClientTest, QueueFull503KeepsTheConnectionUnlessTheRequestCloses) {
  std::atomic<bool> release{false};
  ServerConfig cfg = SmallConfig("t_queue503");
  cfg.workers = 1;
  cfg.max_queue = 0;
  auto s = Start(cfg, &release);
  const std::string hold = "GET /api/v1/hold HTTP/1.1\r\nHost: t\r\n\r\n";
  Raw holder(s->port());
  ASSERT_TRUE(holder.Send(hold));
  // Probes on a keep-alive connection until the held request occupies the only worker: the
  // probe gets 503 and the holder no answer (a holder that lost the race for the worker resends).
  auto wait_busy = [&](Raw& probe) {
    std::string r;
    for (int i = 0; i < 100; ++i) {  // bounded: the hold reaches the worker within milliseconds
      if (!probe.Send(kGet)) return std::string("send failed");
      r = probe.ReadResponse();
      std::string h = holder.ReadResponse(StatusOf(r) == 503 ? 200ms : 1ms);
      if (StatusOf(r) == 503 && h.empty()) return r;
      if (StatusOf(h) == 503 && !holder.Send(hold)) return std::string("resend failed");
      std::this_thread::sleep_for(10ms);
    }
    return r;
  };
  Raw a(s->port());
  std::string resp = wait_busy(a);
  ASSERT_EQ(StatusOf(resp), 503) << resp;
  EXPECT_NE(resp.find("Retry-After: 1\r\n"), std::string::npos) << resp;
  EXPECT_NE(resp.find("Connection: keep-alive\r\n"), std::string::npos) << resp;
  EXPECT_NE(resp.find("overloaded"), std::string::npos) << resp;
  // Same connection, a small body (dropped by the front) followed by a pipelined GET: both 503,
  // in order, and the connection still open.
  ASSERT_TRUE(a.Send("POST /api/v1/echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     "Content-Length: 9\r\n\r\n{\"x\": 1}\n" + std::string(kGet)));
  resp = a.ReadResponse();
  EXPECT_EQ(StatusOf(resp), 503) << resp;
  EXPECT_NE(resp.find("/api/v1/echo"), std::string::npos) << resp;
  resp = a.ReadResponse();
  EXPECT_EQ(StatusOf(resp), 503) << resp;
  EXPECT_NE(resp.find("/api/v1/ping"), std::string::npos) << resp;
  // The worker frees: the next request on the SAME connection is served.
  release = true;
  ASSERT_EQ(StatusOf(holder.ReadResponse()), 200);
  for (int i = 0; i < 50; ++i) {  // bounded: the worker is back within milliseconds
    ASSERT_TRUE(a.Send(kGet));
    resp = a.ReadResponse();
    if (StatusOf(resp) == 200) break;
    ASSERT_EQ(StatusOf(resp), 503) << resp;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(StatusOf(resp), 200) << resp;
  EXPECT_NE(resp.find("pong"), std::string::npos) << resp;
  // Busy again: a 503 to "Connection: close" or to a body over 64 KiB closes the connection.
  release = false;
  ASSERT_TRUE(holder.Send(hold));
  Raw b(s->port());
  resp = wait_busy(b);
  ASSERT_EQ(StatusOf(resp), 503) << resp;
  ASSERT_TRUE(b.Send("GET /api/v1/ping HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
  resp = b.ReadResponse();
  EXPECT_EQ(StatusOf(resp), 503) << resp;
  EXPECT_NE(resp.find("Retry-After: 1\r\n"), std::string::npos) << resp;
  EXPECT_NE(resp.find("Connection: close\r\n"), std::string::npos) << resp;
  EXPECT_TRUE(b.ClosedWithin(2000ms));
  Raw big(s->port());
  ASSERT_TRUE(big.Send("POST /api/v1/echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                       "Content-Length: 100000\r\n\r\n"));
  resp = big.ReadResponse();
  EXPECT_EQ(StatusOf(resp), 503) << resp;
  EXPECT_NE(resp.find("Connection: close\r\n"), std::string::npos) << resp;
  EXPECT_TRUE(big.ClosedWithin(2000ms));
  release = true;
  EXPECT_EQ(StatusOf(holder.ReadResponse()), 200);
  Raw c(s->port());  // still serving (retried: the only worker may still be winding down)
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(c.Send(kGet));
    resp = c.ReadResponse();
    if (StatusOf(resp) == 200) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(StatusOf(resp), 200) << resp;
}

struct BadRequest {
  std::string name;
  std::string request;
  int status;
  std::string detail;
};

std::string GzipBomb() {  // 10 MiB of zeros → ~10 KB of gzip
  std::string out;
  FILE* p = ::popen("head -c 10485760 /dev/zero | gzip -c", "r");
  if (!p) return out;
  char b[4096];
  for (size_t n; (n = fread(b, 1, sizeof b, p)) > 0;) out.append(b, n);
  ::pclose(p);
  return out;
}

TEST(HostileClientTest, MalformedAndHugeRequestsGetPrecise4xxAndClose) {
  auto s = Start(SmallConfig("t_bad"));
  std::string bomb = GzipBomb();
  ASSERT_GT(bomb.size(), 1000u);
  ASSERT_LT(bomb.size(), 100000u);
  std::string many_headers;
  for (int i = 0; i < 1000; ++i) many_headers += "X-H" + std::to_string(i) + ": 1\r\n";
  const std::vector<BadRequest> cases = {
      {"bad chunked body",
       "POST /api/v1/echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
       "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\nffffffffffffffff\r\n",
       411, "chunked"},
      {"huge header", "GET /api/v1/ping HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(70000, 'b') +
                          "\r\n\r\n",
       431, "header"},
      {"huge header count", "GET /api/v1/ping HTTP/1.1\r\nHost: t\r\n" + many_headers + "\r\n", 431,
       "fields"},
      {"gzip bomb",
       "POST /api/v1/echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
       "Content-Encoding: gzip\r\nContent-Length: " + std::to_string(bomb.size()) + "\r\n\r\n" + bomb,
       415, "compressed"},
      {"absurd Content-Length",
       "POST /api/v1/echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
       "Content-Length: 99999999999999\r\n\r\n{}",
       413, "exceeds the limit"},
      {"overflowing Content-Length",
       "POST /api/v1/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 184467440737095516160\r\n\r\n{}",
       400, "Content-Length"},
      {"1 MB request line", "GET /" + std::string(1 << 20, 'a') + " HTTP/1.1\r\nHost: t\r\n\r\n", 414,
       "request line"},
  };
  for (const BadRequest& bad : cases) {
    SCOPED_TRACE(bad.name);
    Raw r(s->port());
    ASSERT_TRUE(r.connected());
    std::thread sender([&] { (void)r.Send(bad.request); });  // may be cut short by the close
    std::string resp = r.ReadResponse(5000ms);
    sender.join();
    EXPECT_EQ(StatusOf(resp), bad.status) << resp.substr(0, 300);
    EXPECT_NE(resp.find("application/problem+json"), std::string::npos);
    EXPECT_NE(resp.find(bad.detail), std::string::npos) << resp.substr(0, 300);
    EXPECT_TRUE(r.ClosedWithin(3000ms));
    ExpectLive(*s);
  }
}

TEST(HostileClientTest, PipelinedRequestsAreAllAnswered) {
  auto s = Start(SmallConfig("t_pipeline"));
  Raw r(s->port());
  std::string two = std::string(kGet) +
                    "POST /api/v1/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 7\r\n\r\n{\"a\":1}" +
                    "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
  ASSERT_TRUE(r.Send(two));
  EXPECT_EQ(StatusOf(r.ReadResponse()), 200);
  std::string echo = r.ReadResponse();
  EXPECT_EQ(StatusOf(echo), 200);
  EXPECT_NE(echo.find("{\"echo\":{\"a\":1}}"), std::string::npos) << echo;
  std::string health = r.ReadResponse();
  EXPECT_EQ(StatusOf(health), 200);
  EXPECT_NE(health.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(r.ClosedWithin(2000ms));
}

TEST(HostileClientTest, TlsListenerSurvivesSilentAndNonTlsClients) {
  testing::TempDir dir;
  auto tls = testing::MakeSelfSignedCert(dir.path());
  ASSERT_TRUE(tls.ok()) << tls.status();
  ServerConfig cfg = SmallConfig("t_tls_hostile");
  cfg.tls = {.cert_file = tls->cert_file, .key_file = tls->key_file};
  auto s = Start(cfg);
  auto client = HttpClient::Create({.base_url = "https://127.0.0.1:" + std::to_string(s->port()),
                                    .read_timeout = 5000ms,
                                    .max_retries = 0,
                                    .ca_file = tls->cert_file});
  ASSERT_TRUE(client.ok());
  ASSERT_EQ((*client)->Get("/healthz")->status, 200);  // this keep-alive then idles
  std::vector<std::unique_ptr<Raw>> hostile;
  for (int i = 0; i < 10; ++i) hostile.push_back(std::make_unique<Raw>(s->port()));  // silent
  for (int i = 0; i < 10; ++i) {  // plaintext HTTP to a TLS port: the handshake fails
    hostile.push_back(std::make_unique<Raw>(s->port()));
    ASSERT_TRUE(hostile.back()->Send(kGet));
  }
  for (int i = 0; i < 3; ++i) {  // the persistent TLS connection still works, repeatedly
    auto r = (*client)->Get("/api/v1/ping");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, 200);
  }
  auto fresh = HttpClient::Create({.base_url = "https://127.0.0.1:" + std::to_string(s->port()),
                                   .read_timeout = 5000ms,
                                   .max_retries = 0,
                                   .ca_file = tls->cert_file});
  ASSERT_TRUE(fresh.ok());
  auto r = (*fresh)->Get("/healthz");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  for (size_t i = 10; i < hostile.size(); ++i) EXPECT_TRUE(hostile[i]->ClosedWithin(3000ms));
  for (size_t i = 0; i < 10; ++i) EXPECT_TRUE(hostile[i]->ClosedWithin(5000ms));
}

TEST(HostileClientTest, CreateRejectsBadGuardLimits) {
  ServerConfig c;
  c.max_connections = 0;
  EXPECT_FALSE(HttpServer::Create(c).ok());
  c = ServerConfig{};
  c.max_header_bytes = 10;
  EXPECT_FALSE(HttpServer::Create(c).ok());
}

}  // namespace
}  // namespace strata::http
