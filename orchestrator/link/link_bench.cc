// Costs and accuracy of the link proxy (numbers in docs/link.md): added round-trip latency over
// the configured 2·L, throughput without a cap (vs. a direct loopback connection), the achieved
// rate under a cap, and process CPU seconds per GB forwarded.
//   build/orchestrator/link/link_bench --benchmark_min_time=0.5
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include "link_proxy.h"
#include "link_test_util.h"

namespace strata::link {
namespace {

using namespace testutil;

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::unique_ptr<LinkProxy> Proxy(int upstream, double latency_ms, int64_t bps) {
  LinkSettings s;
  s.upstream.latency_ms = s.downstream.latency_ms = latency_ms;
  s.upstream.bandwidth_bps = s.downstream.bandwidth_bps = bps;
  return std::move(LinkProxy::Start({.name = "bench",
                                     .upstream_host = "127.0.0.1",
                                     .upstream_port = upstream,
                                     .settings = s}))
      .value();
}

// range(0): one-way latency in ms, or -1 for a direct connection without the proxy.
void BM_RoundTrip(benchmark::State& state) {
  EchoServer echo;
  const double latency = static_cast<double>(state.range(0));
  std::unique_ptr<LinkProxy> proxy;
  if (latency >= 0) proxy = Proxy(echo.port(), latency, 0);
  int fd = ConnectTo(proxy ? proxy->port() : echo.port());
  std::string ping(64, 'p');
  double total_ms = 0;
  for (auto _ : state) {
    auto t0 = Clock::now();
    SendAll(fd, ping);
    if (RecvExactly(fd, ping.size(), std::chrono::seconds(5)).size() != ping.size())
      state.SkipWithError("echo failed");
    total_ms += std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  }
  double mean = total_ms / static_cast<double>(state.iterations());
  state.counters["rtt_ms"] = mean;
  state.counters["excess_ms"] = mean - 2 * std::max(0.0, latency);
  close(fd);
}
BENCHMARK(BM_RoundTrip)->Arg(-1)->Arg(0)->Arg(5)->Arg(20)->UseRealTime();

// range(0): 0 = direct, 1 = through the proxy; range(1): cap in Mbit/s (0 = none).
void BM_Stream(benchmark::State& state) {
  EchoServer sink(/*sink=*/true);
  const int64_t bps = state.range(1) * 1'000'000;
  std::unique_ptr<LinkProxy> proxy;
  if (state.range(0) == 1) proxy = Proxy(sink.port(), 0, bps);
  int fd = ConnectTo(proxy ? proxy->port() : sink.port());
  const size_t chunk = bps > 0 ? (256u << 10) : (8u << 20);
  std::string block(chunk, 'x');
  uint64_t target = 0;
  double cpu0 = CpuSeconds();
  for (auto _ : state) {
    SendAll(fd, block);
    target += chunk;
    auto nap = std::chrono::microseconds(bps > 0 ? 2000 : 100);  // the waiting is not the cost
    while (sink.received() < target) std::this_thread::sleep_for(nap);
  }
  double cpu = CpuSeconds() - cpu0;
  state.SetBytesProcessed(static_cast<int64_t>(target));
  state.counters["Mbit/s"] =
      benchmark::Counter(static_cast<double>(target) * 8 / 1e6, benchmark::Counter::kIsRate);
  state.counters["cpu_s_per_GB"] = cpu / (static_cast<double>(target) / 1e9);
  close(fd);
}
BENCHMARK(BM_Stream)->Args({0, 0})->Args({1, 0})->UseRealTime();
BENCHMARK(BM_Stream)->Args({1, 20})->Iterations(8)->UseRealTime();

}  // namespace
}  // namespace strata::link

BENCHMARK_MAIN();
