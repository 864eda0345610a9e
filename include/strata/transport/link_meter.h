// LinkMeter: counts every message sent between services, per (src, dst) link.
//
// The HTTP and MQTT wrappers call Record for each message they send, with the payload bytes and
// the measured latency (HTTP: request→response; MQTT QoS 1: publish→PUBACK). Counters go to
// Prometheus (strata_link_bytes_total{src,dst}, strata_link_messages_total{src,dst},
// strata_link_latency_seconds{src,dst}) and to Snapshot() for run reports. Taps see every payload,
// so a test can inspect every byte a node sends.
// Thread-safety: all methods are safe to call from any thread.
//
//   LinkMeter::Global().Record("roof", "fog", jpeg, 0.004);
//   for (const LinkStats& s : LinkMeter::Global().Snapshot()) Print(s);
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace strata {

struct LinkStats {
  std::string src, dst;
  uint64_t messages = 0;
  uint64_t bytes = 0;
  // Latency over the most recent messages (a sliding window of 4096), in milliseconds.
  double latency_ms_p50 = 0, latency_ms_p95 = 0, latency_ms_p99 = 0;
};

class LinkMeter {
 public:
  using Tap = std::function<void(std::string_view src, std::string_view dst,
                                 std::string_view payload)>;

  LinkMeter();
  ~LinkMeter();
  // The process-wide meter used by the transport wrappers.
  static LinkMeter& Global();

  // Counts one message of payload.size() bytes. Empty src or dst means "not metered".
  void Record(std::string_view src, std::string_view dst, std::string_view payload,
              double latency_seconds);
  std::vector<LinkStats> Snapshot() const;
  // Stats for one link; zero counts when the link has carried nothing.
  LinkStats Get(std::string_view src, std::string_view dst) const;
  // Adds a tap; returns an id for RemoveTap.
  int AddTap(Tap tap);
  void RemoveTap(int id);

 private:
  struct Link;
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<Link>> links_;
  std::map<int, Tap> taps_;
  int next_tap_ = 1;
};

}  // namespace strata
