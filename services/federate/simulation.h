// In-process federation over loopback HTTP, for `strata federate simulate` and the service tests:
// the real AggregatorService(s) on real HttpServers (port 0) and N real EdgeClients, stepped by a
// few driver threads (each edge still makes its own HTTP calls, metered in the LinkMeter as
// edge-<i> → aggregator). Topology: flat (edges → cloud) or a hierarchy (edges → fogs → cloud).
// Also: a synthetic non-IID data generator with ground truth, the adjusted Rand index and the
// centralised k-means reference.
// Thread-safety: RunFederation is blocking and self-contained; call it from one thread.
//
//   FederatedData data = MakeFederatedData(10, 8, 4, 300, 0.5, 7);
//   SimResult r = RunFederation({.nodes = 10, .rounds = 5}, data).value();
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "aggregator_service.h"
#include "strata/core/status.h"

namespace strata::federate {

struct FederatedData {
  int k = 0, d = 0;
  std::vector<std::vector<double>> node_points;  // per node, row-major n_i×d
  std::vector<double> pooled;                    // all points, node by node
  std::vector<int> labels;                       // generating segment of each pooled point
  double raw_bytes_per_node = 0;  // retail: mean NDJSON event bytes; gaussian: feature bytes
};

// k Gaussian segments (centres uniform in [−10, 10]^d, unit variance). Each node draws its segment
// proportions from Dirichlet(alpha) (alpha <= 0: IID, uniform proportions) and then
// `points_per_node` points.
FederatedData MakeFederatedData(int nodes, int k, int d, int points_per_node, double alpha,
                                uint64_t seed);
// Retail data (d = 16): per node, strata-segment's event generator (k ≤ 8 behaviours, segment
// mix from Dirichlet(alpha)) folded into customer profiles; a node's points are its customers'
// profile features as of its newest event, labels the generator's segments. Customers without
// any event are absent, so a node may hold fewer than `customers_per_node` points.
FederatedData MakeRetailData(int nodes, int k, int customers_per_node, double alpha, uint64_t seed);
double AdjustedRandIndex(const std::vector<int>& a, const std::vector<int>& b);
// Centralised Lloyd k-means (k-means++), best SSQ of `restarts` runs: k×d centroids.
std::vector<double> CentralisedKMeans(const std::vector<double>& points, int d, int k, int restarts,
                                      uint64_t seed);

struct SimConfig {
  int nodes = 10;
  int rounds = 5;
  int k = 8;
  double dropout = 0.0;  // per edge and round: shares keys (secure) then stays silent
  bool secure = false;
  double dp_epsilon = 0.0;  // > 0: central DP over the run, delta 1e-6
  double clip_norm = 25.0;  // with DP
  int edges_per_fog = 0;    // > 0: hierarchy
  std::string init = "kfed";
  int min_participants = 0;  // 0 = about half the children (at least 1)
  int min_support = 2;
  bool int8_model = false;
  std::string update_encoding = "f64";  // plain rounds: f64 | fp16 | int8 (every aggregator)
  bool error_feedback = false;          // edges and fogs keep the quantisation residual
  uint64_t seed = 1;
  std::chrono::milliseconds round_timeout{0};  // 0 = 1 s + 5 ms per node
  std::chrono::milliseconds phase_timeout{0};  // 0 = round_timeout / 2
  int driver_threads = 4;  // <= 4: cpp-httplib 0.11 listens with a backlog of 5
  // Overrides `dropout`: true when edge `i` skips round `round`.
  std::function<bool(int edge, uint64_t round)> drop;
  // Called from the monitoring thread when the cloud records a round.
  std::function<void(const RoundRecord&)> on_round;
};

struct SimRound {
  RoundRecord record;
  double wall_ms = 0;               // since the previous cloud record
  double bytes_per_edge = 0;        // edge uploads during this round, averaged over edges
};

struct SimResult {
  std::vector<SimRound> rounds;
  federated::GlobalModel model;
  std::vector<uint64_t> edge_bytes;  // total upload per edge
  double epsilon = 0;
  double wall_ms = 0;
  std::string state;  // the cloud's final state: done | failed | timeout
};

// Runs the whole federation until the cloud is done/failed (or a generous time limit passes).
Result<SimResult> RunFederation(const SimConfig& config, const FederatedData& data);

}  // namespace strata::federate
