// Renderers of the `strata federate simulate` report: text table, JSON rows, SVG (SSQ ratio and
// epsilon over rounds).
#include <cstdio>

#include "federate.h"
#include "svg.h"

namespace strata::cli::fed {

nlohmann::json RowsToJson(const std::vector<RoundRow>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const RoundRow& r : rows)
    out.push_back({{"round", r.round}, {"kind", r.kind}, {"outcome", r.outcome},
                   {"participants", r.participants}, {"dropouts", r.dropouts}, {"ssq", r.ssq},
                   {"ssq_ratio", r.ssq_ratio}, {"ari", r.ari}, {"bytes_per_node", r.bytes_per_node},
                   {"raw_bytes_per_node", r.raw_bytes_per_node}, {"round_ms", r.round_ms},
                   {"epsilon", r.epsilon}, {"suppressed_segments", r.suppressed}});
  return out;
}

void PrintTable(const std::vector<RoundRow>& rows) {
  std::printf("%5s %-5s %-9s %5s %5s %12s %8s %6s %10s %10s %9s %7s\n", "round", "kind", "outcome",
              "part", "drop", "ssq", "ssq/cen", "ari", "B/node", "raw B/node", "ms", "eps");
  for (const RoundRow& r : rows)
    std::printf("%5llu %-5s %-9s %5d %5d %12.1f %8.4f %6.3f %10.0f %10.0f %9.1f %7.3f\n",
                static_cast<unsigned long long>(r.round), r.kind.c_str(), r.outcome.c_str(),
                r.participants, r.dropouts, r.ssq, r.ssq_ratio, r.ari, r.bytes_per_node,
                r.raw_bytes_per_node, r.round_ms, r.epsilon);
}

std::string RenderSvg(const std::vector<RoundRow>& rows, const SimulateOptions& o) {
  svg::Svg s(900, 760);
  svg::Series ssq{"federated SSQ / centralised", svg::Palette(0), {}};
  svg::Series eps{"epsilon spent (delta 1e-6)", svg::Palette(1), {}};
  for (const RoundRow& r : rows) {
    if (r.ssq_ratio > 0) ssq.points.emplace_back(static_cast<double>(r.round), r.ssq_ratio);
    eps.points.emplace_back(static_cast<double>(r.round), r.epsilon);
  }
  char title[200];
  std::snprintf(title, sizeof(title), "Federated k-means: %d nodes, alpha %.2f, dropout %.2f%s%s",
                o.nodes, o.alpha, o.dropout, o.secure ? ", secure" : "",
                o.edges_per_fog > 0 ? ", hierarchy" : "");
  svg::DrawLineChart(s, {90, 60, 640, 280}, {title, "round", "SSQ ratio", {ssq}});
  svg::DrawLineChart(s, {90, 430, 640, 260}, {"Privacy budget spent", "round", "epsilon", {eps}});
  svg::DrawLegend(s, 750, 60, "", {{ssq.name, ssq.colour}, {eps.name, eps.colour}});
  return s.Finish();
}

}  // namespace strata::cli::fed
