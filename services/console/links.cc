// LinkTracker (see links.h).
#include "links.h"

#include <algorithm>
#include <set>

namespace strata::console {

nlohmann::json LinkTracker::Update(const metrics::PromText& m,
                                   std::chrono::steady_clock::time_point now) {
  static const std::set<std::string> kNames = {"strata_link_bytes_total",
                                               "strata_link_messages_total",
                                               "strata_link_latency_seconds_bucket"};
  std::set<std::pair<std::string, std::string>> keys;
  for (const metrics::PromText::Sample& s : m.samples()) {
    if (!kNames.count(s.name)) continue;
    auto src = s.labels.find("src"), dst = s.labels.find("dst");
    if (src != s.labels.end() && dst != s.labels.end()) keys.emplace(src->second, dst->second);
  }
  double dt = previous_at_ ? std::chrono::duration<double>(now - *previous_at_).count() : 0;
  std::map<std::pair<std::string, std::string>, Totals> current;
  nlohmann::json out = nlohmann::json::array();
  for (const auto& key : keys) {
    metrics::PromText::Labels labels = {{"src", key.first}, {"dst", key.second}};
    Totals t{m.Sum("strata_link_bytes_total", labels), m.Sum("strata_link_messages_total", labels)};
    double bytes_rate = 0, messages_rate = 0;
    auto prev = previous_.find(key);
    if (prev != previous_.end() && dt > 0) {
      bytes_rate = std::max(0.0, t.bytes - prev->second.bytes) / dt;
      messages_rate = std::max(0.0, t.messages - prev->second.messages) / dt;
    }
    current[key] = t;
    out.push_back(
        {{"src", key.first},
         {"dst", key.second},
         {"bytes_total", static_cast<uint64_t>(t.bytes)},
         {"messages_total", static_cast<uint64_t>(t.messages)},
         {"bytes_per_s", bytes_rate},
         {"messages_per_s", messages_rate},
         {"latency_ms_p50", 1000 * m.Quantile("strata_link_latency_seconds", labels, 0.5)},
         {"latency_ms_p95", 1000 * m.Quantile("strata_link_latency_seconds", labels, 0.95)}});
  }
  previous_ = std::move(current);
  previous_at_ = now;
  return out;
}

}  // namespace strata::console
