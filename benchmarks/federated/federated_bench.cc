// Federated-learning benchmarks (Google Benchmark).
//
// Times are thread CPU times (CLOCK_THREAD_CPUTIME_ID).
// BM_SecAggRound/N/m/dropout%: one complete secure-aggregation round with N simulated nodes in this
// process (serially), m-value updates. Counters: client_ms (mean CPU per node for all four client
// steps), server_ms (server work per round, including dropout recovery), round_ms_parallel =
// server_ms + the slowest node's client time (what a round costs when nodes run on their own
// machines), up_B / down_B (bytes sent / received per node), expansion (up_B / plaintext bytes of
// the same update as 8-byte fixed point). BM_PlainRound is the plaintext peer (decode + sum of
// ModelUpdate messages) run in the same invocation.
#include <benchmark/benchmark.h>
#include <sodium.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <optional>

#include "strata/core/clock.h"
#include "strata/core/rng.h"
#include "strata/federated/aggregator.h"
#include "strata/federated/compress.h"
#include "strata/federated/fixed_point.h"
#include "strata/federated/hungarian.h"
#include "strata/federated/secagg.h"

namespace strata::federated {
namespace {

using Clk = std::chrono::steady_clock;
void Check(const Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "benchmark step failed: %s\n", s.ToString().c_str());
    std::abort();
  }
}

double Ms(Clk::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct RoundCost {
  double server_ms = 0, client_total_ms = 0, client_max_ms = 0;
  double up_bytes = 0, down_bytes = 0;
};

RoundCost SecAggRound(int n, size_t m, double dropout, uint64_t seed) {
  SecAggConfig cfg;
  cfg.round_id = seed;
  for (int i = 0; i < n; ++i) cfg.nodes.push_back("edge-" + std::to_string(i));
  cfg.threshold = (2 * n) / 3 + 1;
  cfg.vector_length = m;
  std::vector<AuthKey> tokens(n);
  SecureRandom trng = SecureRandom::Deterministic(SeedFromU64(seed));
  for (auto& t : tokens) trng.Fill(t);
  std::vector<SecAggClient> clients;
  std::vector<std::vector<uint64_t>> inputs(n, std::vector<uint64_t>(m));
  Rng rng(seed);
  for (int i = 0; i < n; ++i) {
    clients.push_back(SecAggClient::Create(cfg, i, tokens[i],
                                           SecureRandom::Deterministic(SeedFromU64(seed + 1 + i)))
                          .value());
    for (auto& v : inputs[i]) v = rng.Next() >> 20;
  }
  const int dropped = static_cast<int>(dropout * n);
  RoundCost cost;
  std::vector<double> client_ms(n, 0);
  auto client = [&](int i, auto&& f) {
    auto t0 = Clk::now();
    auto r = f();
    client_ms[i] += Ms(Clk::now() - t0);
    cost.up_bytes += r.size();
    return r;
  };
  auto server_time = [&](auto&& f) {
    auto t0 = Clk::now();
    auto r = f();
    cost.server_ms += Ms(Clk::now() - t0);
    return r;
  };
  SecAggServer server = SecAggServer::Create(cfg, tokens).value();
  for (int i = 0; i < n; ++i) {
    auto msg = client(i, [&] { return clients[i].AdvertiseKeys().value(); });
    Check(server_time([&] { return server.HandleAdvertise(msg); }));
  }
  auto keys = server_time([&] { return server.CloseAdvertise().value(); });
  cost.down_bytes += static_cast<double>(keys.size()) * n;
  for (int i = 0; i < n; ++i) {
    auto msg = client(i, [&] { return clients[i].ShareKeys(keys).value(); });
    Check(server_time([&] { return server.HandleShareKeys(msg); }));
  }
  Check(server_time([&] { return server.CloseShareKeys(); }));
  for (int i = dropped; i < n; ++i) {  // the first `dropped` nodes drop after sharing keys
    auto bundle = server_time([&] { return server.ShareBundleFor(i).value(); });
    cost.down_bytes += bundle.size();
    auto msg = client(i, [&] { return clients[i].MaskedInput(bundle, inputs[i]).value(); });
    Check(server_time([&] { return server.HandleMaskedInput(msg); }));
  }
  auto req = server_time([&] { return server.CloseMaskedInput().value(); });
  for (int i = dropped; i < n; ++i) {
    cost.down_bytes += req.size();
    auto msg = client(i, [&] { return clients[i].Unmask(req).value(); });
    Check(server_time([&] { return server.HandleUnmask(msg); }));
  }
  auto result = server_time([&] { return server.Finish(); });
  if (!result.ok()) std::abort();
  for (double ms : client_ms) {
    cost.client_total_ms += ms;
    cost.client_max_ms = std::max(cost.client_max_ms, ms);
  }
  return cost;
}

void BM_SecAggRound(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const size_t m = static_cast<size_t>(state.range(1));
  const double dropout = state.range(2) / 100.0;
  RoundCost total;
  int rounds = 0;
  for (auto _ : state) {
    RoundCost c = SecAggRound(n, m, dropout, 1000 + rounds);
    total.server_ms += c.server_ms;
    total.client_total_ms += c.client_total_ms;
    total.client_max_ms += c.client_max_ms;
    total.up_bytes += c.up_bytes;
    total.down_bytes += c.down_bytes;
    ++rounds;
  }
  state.counters["client_ms"] = total.client_total_ms / rounds / n;
  state.counters["server_ms"] = total.server_ms / rounds;
  state.counters["round_ms_parallel"] = (total.server_ms + total.client_max_ms) / rounds;
  state.counters["up_B"] = total.up_bytes / rounds / n;
  state.counters["down_B"] = total.down_bytes / rounds / n;
  state.counters["expansion"] = total.up_bytes / rounds / n / (8.0 * m);
}
BENCHMARK(BM_SecAggRound)
    ->Args({10, 1000, 0})
    ->Args({100, 1000, 0})
    ->Args({100, 1000, 10})
    ->Args({100, 1000, 30})
    ->Args({1000, 100, 0})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

// Plaintext peer: N encoded ModelUpdates (k×d = m values) decoded and summed by RoundAggregator.
void BM_PlainRound(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const int k = 50, d = 20;  // 1000 sums (+50 counts)
  ManualClock clock(FromUnixSeconds(1000));
  AggregatorConfig cfg;
  for (int i = 0; i < n; ++i) cfg.nodes.push_back("edge-" + std::to_string(i));
  cfg.k = k;
  cfg.d = d;
  cfg.min_participants = 1;
  GlobalModel g{1, k, d, std::vector<double>(k * d, 0.0), std::vector<double>(k, 1.0)};
  Rng rng(1);
  std::vector<std::vector<uint8_t>> wires;
  for (int i = 0; i < n; ++i) {
    SufficientStats s = SufficientStats::Zero(k, d, false);
    for (double& v : s.sums) v = rng.Normal();
    for (double& v : s.counts) v = 10;
    wires.push_back(ModelUpdate{1, cfg.nodes[i], 1, s}.Encode());
  }
  size_t bytes = 0;
  for (auto _ : state) {
    auto agg = RoundAggregator::Create(cfg, g, &clock).value();
    RoundInfo r = agg.StartRound().value();
    for (auto& w : wires) {
      w[4] = static_cast<uint8_t>(r.round_id);
      Check(agg.SubmitEncoded(w));
    }
    benchmark::DoNotOptimize(agg.Close().value());
    bytes = wires[0].size();
  }
  state.counters["up_B"] = static_cast<double>(bytes);
}
BENCHMARK(BM_PlainRound)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

// The primitive that dominates client cost: one X25519 key agreement (2 per peer per round).
void BM_X25519(benchmark::State& state) {
  Check(EnsureSodium());
  uint8_t sk[32], pk[32], out[32];
  randombytes_buf(sk, sizeof(sk));
  crypto_scalarmult_base(pk, sk);
  for (auto _ : state) benchmark::DoNotOptimize(crypto_scalarmult(out, sk, pk));
}
BENCHMARK(BM_X25519)->Unit(benchmark::kMicrosecond);

void BM_Hungarian(benchmark::State& state) {
  const int k = static_cast<int>(state.range(0)), d = 16;
  Rng rng(2);
  std::vector<double> a(k * d), b(k * d);
  for (double& v : a) v = rng.Normal();
  for (double& v : b) v = rng.Normal();
  for (auto _ : state) benchmark::DoNotOptimize(AlignSegments(a, k, b, k, d, 3.0));
}
BENCHMARK(BM_Hungarian)->Arg(16)->Arg(64)->Unit(benchmark::kMicrosecond);

void BM_Compress(benchmark::State& state) {
  Codec codec = static_cast<Codec>(state.range(0));
  Rng rng(3);
  std::vector<double> v(1050);
  for (double& x : v) x = rng.Normal(0, 100);
  size_t bytes = 0;
  for (auto _ : state) {
    auto c = Compress(v, codec).value();
    bytes = c.Encode().size();
    benchmark::DoNotOptimize(Decompress(c));
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Compress)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace strata::federated

BENCHMARK_MAIN();
