// CropChain: the identify → notify hop of the surveillance chain, real and on loopback, for the
// `partition` and `link` chaos classes: build/bin/strata-notify (alert on every person) ←
// an in-process strata link proxy (orchestrator/link) ← build/bin/strata-identify (faces off,
// store-and-forward `notify_spool_dir: spool`, default backoff 200 ms → 5 s). A sender thread posts
// numbered person crops (one track each, camera "chaos") to identify's POST /api/v1/faces; a crop
// is *acked* when identify answers 200 (it is then in identify's spool). The check reads notify.db
// (alert rows per track). Needs strata_vision (the crops are JPEGs): Start fails otherwise.
// Thread-safety: one trial thread drives it; the sender runs on its own thread.
//
//   STRATA_ASSIGN_OR_RETURN(auto chain, CropChain::Start(options, dir, seed));
//   chain->StartSending(60, 20ms);
//   chain->proxy().Partition(); ... chain->proxy().Heal();
//   auto at = chain->WaitDelivered(60, 30s);  CropChain::Tally t = chain->Finish();
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fault_class.h"
#include "link_proxy.h"

namespace strata::chaos {

// track_id → number of alerts of camera "chaos" in a notify.db (read-only); empty when the file
// cannot be read yet. Every crop chain trial counts its deliveries with it.
std::map<int64_t, int64_t> ChaosAlertsPerTrack(const std::string& notify_db);

class CropChain {
 public:
  using Clock = std::chrono::steady_clock;
  static Result<std::unique_ptr<CropChain>> Start(const ChaosOptions& o, const std::string& dir,
                                                  uint64_t seed);
  ~CropChain();

  link::LinkProxy& proxy() { return *proxy_; }
  // Posts crops 1..n, one every `pace`, on a thread of its own.
  void StartSending(int n, std::chrono::milliseconds pace);
  int answered() const { return answered_.load(); }
  // Waits (bounded by `timeout`) until `n` crops have an answer.
  void WaitAnswered(int n, std::chrono::milliseconds timeout);
  void JoinSender();
  // Polls notify.db (every 25 ms) until every acked crop numbered <= `upto` has an alert.
  // Returns when that was seen (steady clock) or nullopt after `timeout`.
  std::optional<Clock::time_point> WaitDelivered(int upto, std::chrono::milliseconds timeout);

  struct Tally {
    int64_t crops = 0, acked = 0, rejected = 0, no_answer = 0;
    int64_t delivered = 0;          // acked crops with an alert
    int64_t lost = 0;               // acked crops without an alert
    int64_t duplicates = 0;         // alerts beyond one per track
    int64_t unacked_delivered = 0;  // crops without a 200 that still became an alert (allowed)
    std::vector<std::string> lost_ids;
    std::string stop_error;  // a service that did not stop on SIGTERM
    std::string crashed;     // services that had exited before Finish stopped them
  };
  // Stops the sender, identify (SIGTERM) and notify, then counts from notify.db.
  Tally Finish();
  // The failures every crop chain trial shares: a service crashed or did not stop, acknowledged
  // crops without an alert (listed), crops alerted twice, nothing acknowledged at all.
  static void AddFailures(const Tally& tally, FaultTrial* t);

 private:
  CropChain() = default;
  void SendLoop(int n, std::chrono::milliseconds pace);

  std::string dir_, notify_db_, jpeg_;
  std::unique_ptr<RunningService> notify_, identify_;
  std::unique_ptr<link::LinkProxy> proxy_;
  std::thread sender_;
  std::atomic<bool> stop_{false};
  std::atomic<int> answered_{0};
  mutable std::mutex mu_;
  std::vector<int> state_;  // index = crop - 1: 0 not sent, 1 acked, 2 rejected, 3 no answer
};

}  // namespace strata::chaos
