// `strata federate simulate`: options, per-round report rows and their renderers (text table,
// JSON, SVG). federate.cc runs the simulation; federate_report.cc renders.
// Thread-safety: used by the CLI's main thread only.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace strata::cli::fed {

struct SimulateOptions {
  int nodes = 10;
  int rounds = 5;
  int k = 8;
  int d = 4;
  int points_per_node = 300;
  double alpha = 0.5;
  double dropout = 0.0;
  bool secure = false;
  double dp_epsilon = 0.0;
  int edges_per_fog = 0;
  bool int8_model = false;
  std::string update_encoding = "f64";  // f64 | fp16 | int8 (plain rounds)
  bool error_feedback = false;
  std::string init = "kfed";
  std::string dataset = "gaussian";  // gaussian | retail
  uint64_t seed = 1;
  int round_timeout_ms = 0;
  bool json = false;
  std::string svg;
};

struct RoundRow {
  uint64_t round = 0;
  std::string kind, outcome;
  int participants = 0, dropouts = 0;
  double ssq = 0, ssq_ratio = 0, ari = 0;  // of the model after this round (0 when none)
  double bytes_per_node = 0, raw_bytes_per_node = 0;
  double round_ms = 0, epsilon = 0;
  int suppressed = 0;
};

nlohmann::json RowsToJson(const std::vector<RoundRow>& rows);
void PrintTable(const std::vector<RoundRow>& rows);
std::string RenderSvg(const std::vector<RoundRow>& rows, const SimulateOptions& o);

}  // namespace strata::cli::fed
