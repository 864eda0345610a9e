#include "strata/transport/link_meter.h"

#include <algorithm>

#include "strata/metrics/metrics.h"

namespace strata {

namespace {
constexpr size_t kWindow = 4096;

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  size_t k = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}
}  // namespace

struct LinkMeter::Link {
  uint64_t messages = 0, bytes = 0;
  std::vector<double> window;  // seconds, ring buffer
  size_t next = 0;
  metrics::Counter bytes_total, msgs_total;
  metrics::Histogram latency;
};

LinkMeter::LinkMeter() = default;
LinkMeter::~LinkMeter() = default;

LinkMeter& LinkMeter::Global() {
  static LinkMeter* m = new LinkMeter();
  return *m;
}

void LinkMeter::Record(std::string_view src, std::string_view dst, std::string_view payload,
                       double latency_seconds) {
  if (src.empty() || dst.empty()) return;
  std::vector<Tap> taps;
  {
    std::lock_guard lock(mu_);
    auto key = std::make_pair(std::string(src), std::string(dst));
    auto& link = links_[key];
    if (!link) {
      link = std::make_unique<Link>();
      metrics::Labels l{{"src", key.first}, {"dst", key.second}};
      link->bytes_total = metrics::GetCounter("strata_link_bytes_total",
                                              "Payload bytes sent over a link", l);
      link->msgs_total = metrics::GetCounter("strata_link_messages_total",
                                             "Messages sent over a link", l);
      link->latency = metrics::GetHistogram("strata_link_latency_seconds",
                                            "Latency of messages over a link", l);
    }
    link->messages++;
    link->bytes += payload.size();
    if (link->window.size() < kWindow) {
      link->window.push_back(latency_seconds);
    } else {
      link->window[link->next] = latency_seconds;
      link->next = (link->next + 1) % kWindow;
    }
    link->bytes_total.Inc(static_cast<double>(payload.size()));
    link->msgs_total.Inc();
    link->latency.Observe(latency_seconds);
    for (auto& [id, t] : taps_) taps.push_back(t);
  }
  for (auto& t : taps) t(src, dst, payload);
}

std::vector<LinkStats> LinkMeter::Snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<LinkStats> out;
  for (const auto& [key, link] : links_) {
    LinkStats s{key.first, key.second, link->messages, link->bytes};
    s.latency_ms_p50 = Quantile(link->window, 0.50) * 1000;
    s.latency_ms_p95 = Quantile(link->window, 0.95) * 1000;
    s.latency_ms_p99 = Quantile(link->window, 0.99) * 1000;
    out.push_back(std::move(s));
  }
  return out;
}

LinkStats LinkMeter::Get(std::string_view src, std::string_view dst) const {
  for (auto& s : Snapshot())
    if (s.src == src && s.dst == dst) return s;
  return LinkStats{std::string(src), std::string(dst)};
}

int LinkMeter::AddTap(Tap tap) {
  std::lock_guard lock(mu_);
  taps_[next_tap_] = std::move(tap);
  return next_tap_++;
}

void LinkMeter::RemoveTap(int id) {
  std::lock_guard lock(mu_);
  taps_.erase(id);
}

}  // namespace strata
