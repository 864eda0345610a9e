// http_tls_bench: TLS overhead of Strata's HTTP server against plaintext, same routes, same
// client (strata HttpClient = cpp-httplib + OpenSSL), same run.
//   - persistent connections: one keep-alive client, sequential POST /api/v1/echo of 16 B and
//     64 KiB (the body is echoed back), throughput and p50/p99 per request;
//   - the 16 B case again with ~1 ms of handler work (sleep), i.e. a cheap real endpoint;
//   - handshakes: a new connection per request (GET /healthz), connections/s and p99, with an
//     RSA-2048 (strata::testing::MakeSelfSignedCert) and an ECDSA P-256 certificate (openssl
//     CLI). The client side (a new HttpClient: SSL_CTX + CA file load) is part of that cost.
// Prints each TLS/plain ratio. Usage: http_tls_bench [--quick] (--benchmark_* flags ignored).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "raw_http.h"
#include "strata/testing/fixtures.h"
#include "strata/transport/http.h"
#include "strata/transport/http_client.h"

namespace strata::bench {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Stats {
  double per_sec = 0, p50_ms = 0, p99_ms = 0;
  int failures = 0;
};

std::unique_ptr<http::HttpServer> Start(const testing::TlsFiles* tls) {
  http::ServerConfig cfg;
  cfg.service = tls ? "bench_tls" : "bench_plain";
  cfg.keep_alive_max_requests = 1000000;  // measure steady keep-alive, not reconnects
  if (tls) cfg.tls = {.cert_file = tls->cert_file, .key_file = tls->key_file};
  auto s = http::HttpServer::Create(cfg);
  if (!s.ok()) {
    std::fprintf(stderr, "create: %s\n", s.status().ToString().c_str());
    return nullptr;
  }
  (*s)->Route("POST", "/api/v1/echo", [](const http::Request& r) -> Result<http::Response> {
    return http::Response::Text(r.body, "application/octet-stream");
  });
  // The same with ~1 ms of handler work (a sleep), to put the crypto cost next to real work.
  (*s)->Route("POST", "/api/v1/work", [](const http::Request& r) -> Result<http::Response> {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return http::Response::Text(r.body, "application/octet-stream");
  });
  if (!(*s)->Start().ok()) return nullptr;
  return std::move(s).value();
}

http::ClientConfig ClientCfg(const http::HttpServer& s, const testing::TlsFiles* tls) {
  return {.base_url = std::string(tls ? "https" : "http") + "://127.0.0.1:" +
                      std::to_string(s.port()),
          .max_retries = 0,
          .ca_file = tls ? tls->cert_file : ""};
}

Stats Persistent(const http::HttpServer& s, const testing::TlsFiles* tls, size_t body_size,
                 int n, const std::string& path = "/api/v1/echo") {
  auto c = http::HttpClient::Create(ClientCfg(s, tls));
  Stats st;
  if (!c.ok()) return {.failures = n};
  std::string body(body_size, 'x');
  (void)(*c)->Post(path, body, "application/octet-stream");  // connect + warm up
  std::vector<double> ms;
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    auto a = Clock::now();
    auto r = (*c)->Post(path, body, "application/octet-stream");
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
    if (!r.ok() || r->status != 200 || r->body.size() != body_size) st.failures++;
  }
  st.per_sec = n / std::chrono::duration<double>(Clock::now() - t0).count();
  st.p50_ms = Percentile(ms, 0.5);
  st.p99_ms = Percentile(ms, 0.99);
  return st;
}

Stats Handshakes(const http::HttpServer& s, const testing::TlsFiles* tls, int n) {
  Stats st;
  std::vector<double> ms;
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    auto a = Clock::now();
    auto c = http::HttpClient::Create(ClientCfg(s, tls));  // a new connection each time
    auto r = c.ok() ? (*c)->Get("/healthz") : Result<http::ClientResponse>(UnavailableError("x"));
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
    if (!r.ok() || r->status != 200) st.failures++;
  }
  st.per_sec = n / std::chrono::duration<double>(Clock::now() - t0).count();
  st.p50_ms = Percentile(ms, 0.5);
  st.p99_ms = Percentile(ms, 0.99);
  return st;
}

void Row(const char* name, const Stats& plain, const Stats& tls) {
  std::printf("%-22s %10.0f %10.0f %7.3f | %8.3f %8.3f | %8.3f %8.3f %7.2f | fail %d/%d\n", name,
              plain.per_sec, tls.per_sec, tls.per_sec / plain.per_sec, plain.p50_ms, tls.p50_ms,
              plain.p99_ms, tls.p99_ms, tls.p99_ms / plain.p99_ms, plain.failures, tls.failures);
}

}  // namespace
}  // namespace strata::bench

int main(int argc, char** argv) {
  using namespace strata;
  bool quick = false;
  for (int i = 1; i < argc; ++i) quick |= std::strcmp(argv[i], "--quick") == 0;
  testing::TempDir dir;
  auto tls = testing::MakeSelfSignedCert(dir.path());
  if (!tls.ok()) {
    std::fprintf(stderr, "cannot make a certificate: %s\n", tls.status().ToString().c_str());
    return 1;
  }
  // An ECDSA P-256 certificate too: the handshake cost depends mostly on the key type.
  testing::TlsFiles ec{dir.File("ec.crt"), dir.File("ec.key")};
  std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                    "-days 1 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 -keyout '" +
                    ec.key_file + "' -out '" + ec.cert_file + "' >/dev/null 2>&1";
  bool have_ec = std::system(cmd.c_str()) == 0;
  auto plain_srv = bench::Start(nullptr);
  auto tls_srv = bench::Start(&*tls);
  auto ec_srv = have_ec ? bench::Start(&ec) : nullptr;
  if (!plain_srv || !tls_srv) return 1;
  const int n = quick ? 500 : 3000;
  std::printf("== TLS vs plaintext, loopback, one client, %d requests per cell (ratio = TLS/plain)\n",
              n);
  std::printf("%-22s %10s %10s %7s | %8s %8s | %8s %8s %7s |\n", "case", "plain/s", "tls/s", "ratio",
              "p50 pl", "p50 tls", "p99 pl", "p99 tls", "ratio");
  // Alternate plain/TLS rounds so background load on a shared machine hits both alike.
  for (size_t size : {size_t{16}, size_t{64} << 10}) {
    bench::Stats p, t;
    for (int round = 0; round < 3; ++round) {
      bench::Stats a = bench::Persistent(*plain_srv, nullptr, size, n / 3);
      bench::Stats b = bench::Persistent(*tls_srv, &*tls, size, n / 3);
      if (round == 0 || a.per_sec > p.per_sec) p = a;  // best round of each
      if (round == 0 || b.per_sec > t.per_sec) t = b;
    }
    bench::Row(size == 16 ? "keep-alive 16 B" : "keep-alive 64 KiB", p, t);
  }
  {
    bench::Stats p = bench::Persistent(*plain_srv, nullptr, 16, n / 6, "/api/v1/work");
    bench::Stats t = bench::Persistent(*tls_srv, &*tls, 16, n / 6, "/api/v1/work");
    bench::Row("keep-alive 16 B, 1ms work", p, t);
  }
  bench::Stats hp = bench::Handshakes(*plain_srv, nullptr, n / 3);
  bench::Stats ht = bench::Handshakes(*tls_srv, &*tls, n / 3);
  bench::Row("new conn, RSA-2048", hp, ht);
  if (ec_srv) bench::Row("new conn, ECDSA P-256", hp, bench::Handshakes(*ec_srv, &ec, n / 3));
  return 0;
}
