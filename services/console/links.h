// Link statistics of the tier map: every (src, dst) link's totals, rates and latency
// percentiles, summed over all upstreams' /metrics (strata_link_bytes_total,
// strata_link_messages_total and the histogram strata_link_latency_seconds, all {src,dst}).
// Rates are the growth since the previous poll; a counter that went down (an upstream
// restarted or stopped answering) gives rate 0 for that poll.
// Thread-safety: LinkTracker is used by the poller thread only.
//
//   LinkTracker links;
//   nlohmann::json arr = links.Update(metrics::PromText::Parse(all_metrics_text), now);
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>

#include "strata/metrics/prom_text.h"

namespace strata::console {

class LinkTracker {
 public:
  // The overview's "links" array for these samples, sorted by (src, dst).
  nlohmann::json Update(const metrics::PromText& m, std::chrono::steady_clock::time_point now);

 private:
  struct Totals {
    double bytes = 0, messages = 0;
  };
  std::map<std::pair<std::string, std::string>, Totals> previous_;
  std::optional<std::chrono::steady_clock::time_point> previous_at_;
};

}  // namespace strata::console
