// strata federate simulate: runs the real federate aggregator(s) and N edge clients in-process over
// loopback HTTP (services/federate/simulation.h) on synthetic non-IID data, and reports per round
// participants, dropouts, SSQ vs centralised k-means on the pooled data, ARI vs ground truth,
// bytes sent per node vs the node's raw data bytes, round time and epsilon; optional SVG plot.
#include <unistd.h>

#include <cstdio>

#include "federate.h"
#include "simulation.h"
#include "strata/federated/kmeans.h"
#include "verbs.h"

namespace strata::cli {
namespace {

using fed::RoundRow;
using fed::SimulateOptions;

int Simulate(const SimulateOptions& o) {
  namespace ff = strata::federate;
  ff::FederatedData data =
      o.dataset == "retail" ? ff::MakeRetailData(o.nodes, o.k, o.points_per_node, o.alpha, o.seed)
                            : ff::MakeFederatedData(o.nodes, o.k, o.d, o.points_per_node, o.alpha, o.seed);
  const int d = data.d;
  const std::vector<double> central = ff::CentralisedKMeans(data.pooled, d, o.k, 10, o.seed);
  const double central_ssq = federated::Ssq(data.pooled, d, central, o.k);
  const bool tty = isatty(STDERR_FILENO);
  ff::SimConfig sc;
  sc.nodes = o.nodes;
  sc.rounds = o.rounds;
  sc.k = o.k;
  sc.dropout = o.dropout;
  sc.secure = o.secure;
  sc.dp_epsilon = o.dp_epsilon;
  sc.edges_per_fog = o.edges_per_fog;
  sc.init = o.init;
  sc.int8_model = o.int8_model;
  sc.update_encoding = o.update_encoding;
  sc.error_feedback = o.error_feedback;
  sc.seed = o.seed;
  sc.round_timeout = std::chrono::milliseconds(o.round_timeout_ms);
  sc.on_round = [&](const ff::RoundRecord& r) {
    if (tty)
      std::fprintf(stderr, "\rround %llu/%d %-9s %zu participants, %zu missing   ",
                   static_cast<unsigned long long>(r.round_id), o.rounds, r.outcome.c_str(),
                   r.participants.size(), r.missing.size());
  };
  auto res = ff::RunFederation(sc, data);
  if (tty) std::fprintf(stderr, "\n");
  if (!res.ok()) return Fail("federate simulate: " + res.status().message());
  std::vector<RoundRow> rows;
  const double raw = data.raw_bytes_per_node;  // retail: NDJSON events; gaussian: the points
  for (const ff::SimRound& s : res->rounds) {
    RoundRow row{.round = s.record.round_id, .kind = s.record.kind, .outcome = s.record.outcome,
                 .participants = static_cast<int>(s.record.participants.size()),
                 .dropouts = static_cast<int>(s.record.missing.size())};
    if (s.record.model) {
      const auto& m = *s.record.model;
      row.ssq = federated::Ssq(data.pooled, d, m.centroids, m.k);
      row.ssq_ratio = central_ssq > 0 ? row.ssq / central_ssq : 0;
      std::vector<int> assigned;
      for (size_t i = 0; i < data.labels.size(); ++i)
        assigned.push_back(federated::NearestCentroid(
            m.centroids, m.k, std::span<const double>(data.pooled).subspan(i * d, d)));
      row.ari = ff::AdjustedRandIndex(assigned, data.labels);
    }
    row.bytes_per_node = s.bytes_per_edge;
    row.raw_bytes_per_node = raw;
    row.round_ms = s.record.duration_ms;
    row.epsilon = s.record.epsilon_total;
    row.suppressed = s.record.suppressed_segments;
    rows.push_back(row);
  }
  double total_bytes = 0;
  for (uint64_t b : res->edge_bytes) total_bytes += static_cast<double>(b);
  // Upload per edge per completed FedLloyd round: the update bytes the encoding is about.
  double lloyd_bytes = 0;
  int lloyd_rounds = 0;
  for (const RoundRow& r : rows)
    if (r.kind == "lloyd" && r.outcome == "completed") lloyd_bytes += r.bytes_per_node, ++lloyd_rounds;
  const double update_bytes = lloyd_rounds > 0 ? lloyd_bytes / lloyd_rounds : 0;
  const double final_ssq = res->model.k > 0 ? federated::Ssq(data.pooled, d, res->model.centroids, o.k) : 0;
  if (!o.svg.empty()) {
    if (Status s = WriteText(o.svg, fed::RenderSvg(rows, o)); !s.ok()) return Fail(s.message());
  }
  if (o.json) {
    nlohmann::json j = {{"nodes", o.nodes}, {"rounds_requested", o.rounds}, {"k", o.k}, {"d", d},
                        {"dataset", o.dataset},
                        {"alpha", o.alpha}, {"dropout", o.dropout}, {"secure", o.secure},
                        {"dp_epsilon", o.dp_epsilon}, {"edges_per_fog", o.edges_per_fog},
                        {"state", res->state}, {"centralised_ssq", central_ssq},
                        {"final_ssq", final_ssq},
                        {"final_ssq_ratio", central_ssq > 0 ? final_ssq / central_ssq : 0},
                        {"epsilon_spent", res->epsilon}, {"wall_ms", res->wall_ms},
                        {"bytes_per_node", total_bytes / o.nodes}, {"raw_bytes_per_node", raw},
                        {"update_encoding", o.secure ? "f64" : o.update_encoding},
                        {"error_feedback", o.error_feedback},
                        {"update_bytes_per_edge_per_round", update_bytes},
                        {"rounds", fed::RowsToJson(rows)}};
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    fed::PrintTable(rows);
    std::printf("state %s; centralised SSQ %.1f; final SSQ %.1f (x%.4f); epsilon %.3f; %.0f B sent "
                "per node (raw %s %.0f B); %s updates %.0f B per edge per round; wall %.0f ms\n",
                res->state.c_str(), central_ssq, final_ssq,
                central_ssq > 0 ? final_ssq / central_ssq : 0, res->epsilon, total_bytes / o.nodes,
                o.dataset == "retail" ? "events" : "points", raw,
                o.secure ? "f64" : o.update_encoding.c_str(), update_bytes, res->wall_ms);
  }
  return res->state == "done" ? 0 : 1;
}

}  // namespace

void RegisterFederate(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("federate", "Federated learning of the segmentation model");
  cmd->require_subcommand(1);
  auto o = std::make_shared<SimulateOptions>();
  auto* sim = cmd->add_subcommand(
      "simulate", "Run a cloud (and fogs) and N edges in-process over loopback HTTP and report");
  sim->option_defaults()->always_capture_default();
  sim->add_option("--nodes", o->nodes, "Edge nodes")->check(CLI::Range(2, 5000));
  sim->add_option("--rounds", o->rounds, "FedLloyd rounds after the cold start")->check(CLI::Range(1, 1000));
  sim->add_option("--k", o->k, "Segments (retail: 1..8)")->check(CLI::Range(1, 256));
  sim->add_option("--d", o->d, "Feature dimensions")->check(CLI::Range(1, 256));
  sim->add_option("--points-per-node", o->points_per_node, "Customers per node")->check(CLI::Range(1, 1000000));
  sim->add_option("--non-iid", o->alpha, "Dirichlet alpha of the per-node segment mix (0 = IID)")
      ->check(CLI::Range(0.0, 1000.0));
  sim->add_option("--dropout", o->dropout, "Probability an edge drops out of a round (after sharing keys)")
      ->check(CLI::Range(0.0, 0.9));
  sim->add_flag("--secure", o->secure, "Secure aggregation (SecAgg with dropout recovery)");
  sim->add_option("--dp-epsilon", o->dp_epsilon, "Central DP budget over the run (delta 1e-6); 0 = off")
      ->check(CLI::Range(0.0, 1000.0));
  sim->add_option("--hierarchy", o->edges_per_fog, "Edges per fog aggregator (0 = flat)")
      ->check(CLI::Range(0, 5000));
  sim->add_flag("--int8-model", o->int8_model, "Broadcast the global model int8-compressed");
  sim->add_option("--update-encoding", o->update_encoding,
                  "Plain rounds: encoding of the edges' updates (f64 | fp16 | int8; secure rounds "
                  "always use fixed point)")
      ->check(CLI::IsMember({"f64", "fp16", "int8"}));
  sim->add_flag("--error-feedback", o->error_feedback,
                "Compressed updates: add each round's quantisation residual to the next round's sums");
  sim->add_option("--dataset", o->dataset,
                  "gaussian (k Gaussians in d dims) | retail (strata-segment's event generator folded "
                  "into 16 profile features per customer; k <= 8, --d ignored)")
      ->check(CLI::IsMember({"gaussian", "retail"}));
  sim->add_option("--init", o->init, "Cold start: kfed | random")->check(CLI::IsMember({"kfed", "random"}));
  sim->add_option("--seed", o->seed, "Random seed");
  sim->add_option("--round-timeout-ms", o->round_timeout_ms, "Round deadline (0 = 1 s + 5 ms per node)")
      ->check(CLI::Range(0, 3600000));
  sim->add_flag("--json", o->json, "Machine-readable report");
  sim->add_option("--svg", o->svg, "Write an SVG plot of SSQ ratio and epsilon over rounds");
  sim->callback([&ctx, o] { ctx.action = [o] { return Simulate(*o); }; });
}

}  // namespace strata::cli
