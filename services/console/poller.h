// Poller: the console's view of the platform. Every poll_interval it asks each upstream for
// GET /readyz and GET /metrics (in parallel, poll_timeout each), builds the overview (the tier
// map: nodes → services with state ready|failing|down, plus links from strata_link_* metrics)
// and publishes it as an `overview` SSE event; it also reads the first `notify` upstream's
// GET /api/v1/events?limit=50 and publishes an `alert` event for each alert id not seen before
// (the first successful read only remembers the ids that already exist).
// Thread-safety: Overview() and PollOnce() are safe from any thread (polls are serialised).
//
//   Poller poller(config, &hub);
//   poller.Start();                     // background thread
//   nlohmann::json now = poller.Overview();
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "console_config.h"
#include "event_hub.h"
#include "links.h"
#include "strata/transport/http_client.h"

namespace strata::console {

class Poller {
 public:
  Poller(ConsoleConfig config, EventHub* hub);
  ~Poller();
  void Start();
  void Stop();
  // Polls every upstream once and publishes the results.
  void PollOnce();
  // The latest overview (before the first poll: every service down with detail "not polled yet").
  nlohmann::json Overview() const;

 private:
  struct Probe {
    std::string state, detail, metrics;
  };
  Probe ProbeOne(size_t i);
  void PollAlerts();
  nlohmann::json BuildOverview(const std::vector<Probe>& probes, const nlohmann::json& links) const;

  const ConsoleConfig config_;
  EventHub* hub_;
  std::vector<std::unique_ptr<http::HttpClient>> clients_;  // one per upstream (poll thread)
  int notify_ = -1;                                         // index of the notify upstream
  std::mutex poll_mu_;                                      // serialises PollOnce
  LinkTracker links_;
  bool alerts_baseline_ = false;
  std::set<std::string> seen_;
  std::deque<std::string> seen_order_;
  mutable std::mutex mu_;  // guards overview_
  nlohmann::json overview_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace strata::console
