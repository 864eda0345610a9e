// http_overload_bench: overload and slow-client behaviour of Strata's HTTP server.
//
// 1. Overload: strata-hello's routes (GET /api/v1/sleep?ms=20, i.e. 20 ms of work per request)
//    on an in-process HttpServer (8 workers). Measures the sustainable rate closed-loop (8
//    clients = one per worker), then drives open-loop load (fixed arrival schedule, latency
//    counted from the scheduled send time, so client lateness is not hidden) at 1x and 2x that
//    rate (and 0.8x) with a bounded number of requests, for max_queue 64 (default) and 8.
//    Reports admitted p50/p99, the share of 503/429, p50/p99 of rejections (from the actual
//    send), timeouts (5 s) and other errors.
// 2. Slow clients: 16 idle keep-alive + 16 slowloris + 16 silent connections, then fresh GET
//    /healthz requests; Strata's guarded server vs a bare httplib server with 8 pool threads
//    (the thread-per-connection model it replaced), in the same run.
// 3. --service detect|ingest|lookup|all (overload_services.cc): the same 1x/2x procedure against
//    the real strata-detect (POST /api/v1/frames, a vtest.avi JPEG, YOLO-fastest body) and
//    strata-segment (POST /api/v1/events, GET /api/v1/customers/{id}/segment) binaries, with
//    max_queue sized from a p99 target; --seconds N per load level (default 15).
// Usage: http_overload_bench [--quick] [--service WHICH [--seconds N]]   (other --benchmark_*
// flags from scripts/bench.sh are ignored). Results go into docs/benchmarks.md by hand.
#include <httplib.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "../../services/hello/hello_routes.h"
#include "overload_load.h"
#include "strata/transport/http.h"

namespace strata::bench {
namespace {

using namespace std::chrono_literals;

const std::string kSleepReq = "GET /api/v1/sleep?ms=20 HTTP/1.1\r\nHost: bench\r\n\r\n";

std::unique_ptr<http::HttpServer> StartHello(int max_queue) {
  http::ServerConfig cfg;
  cfg.service = "bench_overload_q" + std::to_string(max_queue);
  cfg.workers = 8;
  cfg.max_queue = max_queue;
  auto s = http::HttpServer::Create(cfg);
  if (!s.ok()) return nullptr;
  hello::RegisterRoutes(**s);
  if (!(*s)->Start().ok()) return nullptr;
  return std::move(s).value();
}

const RequestFn kSleep = [](int) { return kSleepReq; };

void Overload(bool quick) {
  std::printf("== overload: GET /api/v1/sleep?ms=20 (strata-hello routes), 8 workers\n");
  std::printf("(ok latency from the scheduled send time; rejection latency from the actual send)\n");
  std::printf("%-9s %-5s %9s %7s %9s %9s %9s %8s %9s %9s %8s %6s\n", "max_queue", "load",
              "offered/s", "sent", "ok/s", "ok p50ms", "ok p99ms", "rej%", "rej p50ms", "rej p99ms",
              "timeouts", "errors");
  for (int q : {64, 8}) {
    auto server = StartHello(q);
    if (!server) {
      std::printf("cannot start server\n");
      return;
    }
    double sustainable = ClosedLoop(server->port(), kSleep, 8, quick ? 1000ms : 3000ms).rate;
    std::printf("max_queue=%d: sustainable (closed loop, 8 clients) = %.0f req/s\n", q, sustainable);
    for (double mult : {0.8, 1.0, 2.0}) {
      double rate = sustainable * mult;
      int total = static_cast<int>(rate * (quick ? 2 : 5));
      OpenLoopResult r = OpenLoop(server->port(), rate, total, 160, kSleep);
      std::printf("%-9d %-5s %9.0f %7d %9.0f %9.1f %9.1f %7.1f%% %9.2f %9.2f %8d %6d\n", q,
                  mult == 0.8 ? "0.8x" : mult == 1.0 ? "1x" : "2x", rate, r.sent, r.achieved,
                  r.ok_p50, r.ok_p99, 100.0 * r.rejected / std::max(1, r.sent), r.rej_p50,
                  r.rej_p99, r.timeouts, r.errors);
      std::this_thread::sleep_for(300ms);
    }
    server->Stop();
    server->Wait();
  }
}

// Hostile connections against `port`, then 5 fresh GET /healthz; prints p50/max and failures.
void SlowClients(const char* name, int port) {
  std::vector<std::unique_ptr<RawHttp>> hostile;
  const std::string get = "GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n";
  for (int i = 0; i < 16; ++i) {  // idle keep-alives
    hostile.push_back(std::make_unique<RawHttp>(port));
    bool closes = false;
    if (hostile.back()->Connect() && hostile.back()->Send(get)) (void)hostile.back()->Read(6000ms, &closes);
  }
  for (int i = 0; i < 32; ++i) {  // 16 slowloris (one byte sent so far) + 16 silent
    hostile.push_back(std::make_unique<RawHttp>(port));
    if (hostile.back()->Connect() && i < 16) (void)hostile.back()->Send("G");
  }
  std::this_thread::sleep_for(200ms);
  std::vector<double> ms;
  int failed = 0;
  for (int i = 0; i < 5; ++i) {
    RawHttp c(port);
    auto t0 = Clock::now();
    bool closes = false;
    int status = c.Connect() && c.Send(get) ? c.Read(5000ms, &closes) : 0;
    double took = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (status == 200) ms.push_back(took);
    else failed++;
  }
  double p50 = Percentile(ms, 0.5), mx = ms.empty() ? 0 : ms.back();
  std::printf("%-34s healthz ok %d/5  p50 %.1f ms  max %.1f ms  (timeout 5 s)\n", name,
              static_cast<int>(ms.size()), p50, mx);
  (void)failed;
}

void SlowClientComparison() {
  std::printf("\n== slow clients: 16 idle keep-alive + 16 slowloris + 16 silent, then /healthz\n");
  {
    http::ServerConfig cfg;
    cfg.service = "bench_slow";
    auto s = http::HttpServer::Create(cfg);
    if (s.ok() && (*s)->Start().ok()) SlowClients("strata guarded (8 workers)", (*s)->port());
  }
  httplib::Server bare;
  bare.new_task_queue = [] { return new httplib::ThreadPool(8); };
  bare.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"status\":\"ok\"}", "application/json");
  });
  int port = bare.bind_to_any_port("127.0.0.1");
  std::thread t([&] { bare.listen_after_bind(); });
  for (int i = 0; i < 500 && !bare.is_running(); ++i) std::this_thread::sleep_for(1ms);
  SlowClients("bare httplib (8 pool threads)", port);
  bare.stop();
  t.join();
}

}  // namespace
}  // namespace strata::bench

int main(int argc, char** argv) {
  bool quick = false;
  std::string service;
  double seconds = 15;
  for (int i = 1; i < argc; ++i) {
    quick |= std::strcmp(argv[i], "--quick") == 0;
    if (std::strcmp(argv[i], "--service") == 0 && i + 1 < argc) service = argv[++i];
    if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) seconds = std::atof(argv[++i]);
  }
  if (!service.empty()) {
    strata::bench::ServiceOverload(service, quick ? 3 : seconds);
    return 0;
  }
  strata::bench::Overload(quick);
  strata::bench::SlowClientComparison();
  return 0;
}
