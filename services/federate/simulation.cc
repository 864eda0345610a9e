// RunFederation: the real services and clients, in-process over loopback HTTP (see simulation.h).
#include <spdlog/spdlog.h>

#include <atomic>
#include <thread>

#include "edge.h"
#include "simulation.h"
#include "strata/core/rng.h"
#include "strata/transport/link_meter.h"

namespace strata::federate {

namespace {

using Ms = std::chrono::milliseconds;

struct Aggregator {
  std::unique_ptr<AggregatorService> svc;
  std::unique_ptr<http::HttpServer> server;
  std::string url;
};

// `clients` = connections expected at once. Keep-alive pins one worker per idle connection, so
// it is used only when every client fits in the worker pool; otherwise one request per
// connection. (Reconnect storms are limited by cpp-httplib 0.11's listen backlog of 5: a SYN
// dropped there costs the client a 1 s retransmit.)
Result<Aggregator> StartAggregator(const AggregatorOptions& o, int clients) {
  constexpr int kWorkers = 16;
  Aggregator a;
  STRATA_ASSIGN_OR_RETURN(a.svc, AggregatorService::Create(o));
  STRATA_ASSIGN_OR_RETURN(a.server, http::HttpServer::Create(
                                        {.service = "federate-sim",
                                         .keep_alive_max_requests = clients + 2 <= kWorkers ? 100 : 1,
                                         .workers = kWorkers,
                                         .max_queue = 8192}));
  a.svc->RegisterRoutes(*a.server);
  STRATA_RETURN_IF_ERROR(a.server->Start());
  a.url = "http://127.0.0.1:" + std::to_string(a.server->port());
  return a;
}

std::string NewToken(Rng& rng) {
  federated::AuthKey k{};
  for (auto& b : k) b = static_cast<uint8_t>(rng.Next());
  return TokenHex(k);
}

// Polls `url` and steps its edges until the aggregator is done/failed or `stop` is set.
void Drive(const std::string& url, std::vector<EdgeClient*> edges, const std::atomic<bool>* stop) {
  auto poll = http::HttpClient::Create({.base_url = url, .max_retries = 1});
  if (!poll.ok()) return;
  while (!stop->load()) {
    bool acted = false;
    auto resp = (*poll)->Get("/api/v1/round");
    Result<RoundView> r = InvalidArgumentError("no round");
    if (resp.ok() && resp->status == 200) {
      auto j = resp->Json();
      if (j.ok()) r = RoundView::FromJson(*j);
    }
    if (r.ok()) {
      for (EdgeClient* e : edges) {
        auto s = e->Step(*r);
        if (!s.ok()) spdlog::debug("{}: {}", e->id(), s.status().message());
        acted = acted || (s.ok() && *s);
      }
      if (r->state == "done" || r->state == "failed") return;
    }
    if (!acted) std::this_thread::sleep_for(Ms(5));
  }
}

}  // namespace

Result<SimResult> RunFederation(const SimConfig& c, const FederatedData& data) {
  if (c.nodes < 1 || static_cast<int>(data.node_points.size()) < c.nodes)
    return InvalidArgumentError("need data for every node");
  Rng rng(c.seed * 7919 + 1);
  const Ms timeout = c.round_timeout.count() > 0 ? c.round_timeout : Ms(1000 + 5 * c.nodes);
  const Ms phase = c.phase_timeout.count() > 0 ? c.phase_timeout : timeout / 2;
  const int fogs = c.edges_per_fog > 0 ? (c.nodes + c.edges_per_fog - 1) / c.edges_per_fog : 0;
  auto half = [&](int n) { return c.min_participants > 0 ? std::min(c.min_participants, n) : std::max(1, n / 2); };

  AggregatorOptions base;
  base.k = c.k;
  base.d = data.d;
  base.seed = c.seed;
  base.init = c.init;
  base.rounds = c.rounds;
  base.round_timeout = timeout;
  base.phase_timeout = phase;
  base.poll_interval = Ms(10);
  base.secure = c.secure;
  base.min_support = c.min_support;
  base.int8_model = c.int8_model;
  base.update_encoding = c.update_encoding;
  base.error_feedback = c.error_feedback;
  std::vector<std::string> edge_tokens;
  for (int i = 0; i < c.nodes; ++i) edge_tokens.push_back(NewToken(rng));

  AggregatorOptions cloud_opt = base;
  cloud_opt.role = "cloud";
  cloud_opt.id = "cloud";
  if (c.dp_epsilon > 0) {
    cloud_opt.dp = true;
    cloud_opt.dp_epsilon = c.dp_epsilon;
    cloud_opt.clip_norm = c.clip_norm;
  }
  std::vector<std::string> fog_tokens;
  for (int f = 0; f < fogs; ++f) {
    fog_tokens.push_back(NewToken(rng));
    cloud_opt.nodes.push_back({"fog-" + std::to_string(f), fog_tokens.back()});
  }
  if (fogs == 0)
    for (int i = 0; i < c.nodes; ++i) cloud_opt.nodes.push_back({"edge-" + std::to_string(i), edge_tokens[i]});
  cloud_opt.min_participants = half(static_cast<int>(cloud_opt.nodes.size()));
  const int per_group = std::max(1, c.driver_threads / std::max(1, fogs));
  STRATA_ASSIGN_OR_RETURN(Aggregator cloud,
                          StartAggregator(cloud_opt, fogs > 0 ? fogs + 2 : c.nodes + per_group + 2));

  std::vector<Aggregator> fog_aggs;
  for (int f = 0; f < fogs; ++f) {
    AggregatorOptions o = base;
    o.role = "fog";
    o.id = "fog-" + std::to_string(f);
    o.parent_url = cloud.url;
    o.parent_token = fog_tokens[f];
    for (int i = f * c.edges_per_fog; i < std::min(c.nodes, (f + 1) * c.edges_per_fog); ++i)
      o.nodes.push_back({"edge-" + std::to_string(i), edge_tokens[i]});
    o.min_participants = half(static_cast<int>(o.nodes.size()));
    STRATA_ASSIGN_OR_RETURN(Aggregator a, StartAggregator(o, static_cast<int>(o.nodes.size()) + per_group + 2));
    fog_aggs.push_back(std::move(a));
  }

  std::vector<std::unique_ptr<EdgeClient>> edges;
  std::vector<uint64_t> baseline;
  for (int i = 0; i < c.nodes; ++i) {
    EdgeOptions e;
    e.id = "edge-" + std::to_string(i);
    e.aggregator_url = fogs > 0 ? fog_aggs[i / c.edges_per_fog].url : cloud.url;
    e.token = edge_tokens[i];
    e.points = data.node_points[i];
    e.d = data.d;
    e.int8_model = c.int8_model;
    e.error_feedback = c.error_feedback;
    e.seed = c.seed * 1000 + i;
    e.secure_seed = c.seed * 1000 + i + 1;
    const double p = c.dropout;
    const uint64_t seed = c.seed;
    auto custom = c.drop;
    e.drop = [i, p, seed, custom](uint64_t round) {
      if (custom) return custom(i, round);
      if (p <= 0 || round == 0) return false;
      return Rng(seed * 1'000'003 + i * 10'007 + round).Bernoulli(p);
    };
    STRATA_ASSIGN_OR_RETURN(auto edge, EdgeClient::Create(e));
    edges.push_back(std::move(edge));
    baseline.push_back(LinkMeter::Global().Get(e.id, "aggregator").bytes);
  }

  const auto t0 = std::chrono::steady_clock::now();
  STRATA_RETURN_IF_ERROR(cloud.svc->Start());
  for (auto& f : fog_aggs) STRATA_RETURN_IF_ERROR(f.svc->Start());
  std::atomic<bool> stop{false};
  std::atomic<int> finished{0};
  std::vector<std::thread> drivers;
  const int groups = std::max(1, fogs);
  for (int g = 0; g < groups; ++g) {
    const int lo = fogs > 0 ? g * c.edges_per_fog : 0;
    const int hi = fogs > 0 ? std::min(c.nodes, lo + c.edges_per_fog) : c.nodes;
    const std::string url = fogs > 0 ? fog_aggs[g].url : cloud.url;
    for (int t = 0; t < per_group && lo + t < hi; ++t) {
      std::vector<EdgeClient*> part;
      for (int i = lo + t; i < hi; i += per_group) part.push_back(edges[i].get());
      drivers.emplace_back([url, part, &stop, &finished] {
        Drive(url, part, &stop);
        ++finished;
      });
    }
  }

  auto edge_bytes = [&] {
    uint64_t total = 0;
    for (int i = 0; i < c.nodes; ++i)
      total += LinkMeter::Global().Get("edge-" + std::to_string(i), "aggregator").bytes - baseline[i];
    return total;
  };
  SimResult res;
  const auto limit = t0 + (timeout + 4 * phase) * (c.rounds + 2) * 4 + std::chrono::seconds(30);
  size_t seen = 0;
  uint64_t last_bytes = 0;
  auto last_t = t0;
  auto collect = [&] {
    auto hist = cloud.svc->History();
    for (; seen < hist.size(); ++seen) {
      auto now = std::chrono::steady_clock::now();
      uint64_t b = edge_bytes();
      SimRound r{hist[seen], std::chrono::duration<double, std::milli>(now - last_t).count(),
                 static_cast<double>(b - last_bytes) / c.nodes};
      last_bytes = b;
      last_t = now;
      if (c.on_round) c.on_round(r.record);
      res.rounds.push_back(std::move(r));
    }
  };
  while (!cloud.svc->Finished() && std::chrono::steady_clock::now() < limit) {
    collect();
    std::this_thread::sleep_for(Ms(5));
  }
  collect();
  res.state = cloud.svc->Finished() ? cloud.svc->Round().state : "timeout";
  // Let the edges see the final state (they install the last model), then stop everything.
  const auto drain = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (finished.load() < static_cast<int>(drivers.size()) && std::chrono::steady_clock::now() < drain)
    std::this_thread::sleep_for(Ms(5));
  stop = true;
  for (auto& t : drivers) t.join();
  res.wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  for (auto& f : fog_aggs) f.svc->Stop();
  cloud.svc->Stop();
  for (auto& f : fog_aggs) f.server->Stop();
  cloud.server->Stop();
  if (auto m = cloud.svc->Model()) res.model = *m;
  res.epsilon = cloud.svc->EpsilonSpent();
  for (int i = 0; i < c.nodes; ++i)
    res.edge_bytes.push_back(LinkMeter::Global().Get("edge-" + std::to_string(i), "aggregator").bytes - baseline[i]);
  return res;
}

}  // namespace strata::federate
