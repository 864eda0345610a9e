// The `strata surveil` report: what each tier captured, detected, identified and alerted, the
// bytes of every link against the reference design's naive baselines, and per-stage latencies —
// built from the services' own /metrics, roof stats and notify's event log.
// Thread-safety: free functions without shared state.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "strata/metrics/prom_text.h"

namespace strata::cli {

using metrics::PromText;

struct SurveilInputs {
  std::string video;
  double video_fps = 0;       // of the file
  double capture_fps = 10;    // x
  double forward_fps = 5;     // y
  double wall_seconds = 0;    // capture start → pipeline drained
  nlohmann::json roof_stats;  // GET /api/v1/stats of strata-roof
  std::map<std::string, PromText> metrics;  // service name → its /metrics
  nlohmann::json events = nlohmann::json::array();  // notify's alerts (all pages)
  std::map<std::string, int> mqtt_alerts;  // phase → messages seen on <prefix>/camera/+/alert
  bool mqtt = false;
};

// The report as JSON (the --json output); the text report is printed from it.
nlohmann::json BuildSurveilReport(const SurveilInputs& in);
std::string FormatSurveilReport(const nlohmann::json& report);
// Bar chart (SVG) of the bytes each link carried, the naive "every frame" baseline first.
std::string SurveilLinksSvg(const nlohmann::json& report);

}  // namespace strata::cli
