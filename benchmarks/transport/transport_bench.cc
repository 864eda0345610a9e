// Transport costs: an HTTP JSON round trip over loopback (keep-alive) through Strata's server
// and client, and the per-message cost of the link meter.
#include <benchmark/benchmark.h>

#include "strata/transport/http.h"
#include "strata/transport/http_client.h"
#include "strata/transport/link_meter.h"

namespace strata {
namespace {

void BM_HttpEchoRoundTrip(benchmark::State& state) {
  auto server = http::HttpServer::Create({.service = "bench"});
  (*server)->Route("POST", "/api/v1/echo", [](const http::Request& r) -> Result<http::Response> {
    STRATA_ASSIGN_OR_RETURN(nlohmann::json j, http::ParseJsonBody(r));
    return http::Response::Json(j);
  });
  if (!(*server)->Start().ok()) {
    state.SkipWithError("cannot start server");
    return;
  }
  auto client = http::HttpClient::Create(
      {.base_url = "http://127.0.0.1:" + std::to_string((*server)->port()), .max_retries = 0});
  nlohmann::json body = {{"values", std::vector<double>(static_cast<size_t>(state.range(0)), 1.5)}};
  std::string payload = body.dump();
  for (auto _ : state) {
    auto r = (*client)->Post("/api/v1/echo", payload, "application/json");
    if (!r.ok() || r->status != 200) state.SkipWithError("request failed");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * payload.size()));
  state.counters["req/s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                               benchmark::Counter::kIsRate);
}
BENCHMARK(BM_HttpEchoRoundTrip)->Arg(8)->Arg(1024)->UseRealTime();

void BM_LinkMeterRecord(benchmark::State& state) {
  LinkMeter meter;
  std::string payload(1024, 'x');
  for (auto _ : state) meter.Record("roof", "fog", payload, 0.001);
}
BENCHMARK(BM_LinkMeterRecord);

}  // namespace
}  // namespace strata

BENCHMARK_MAIN();
