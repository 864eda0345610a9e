// Forwarder: sends identified crops on to strata-notify (POST <notify_url>/api/v1/sightings) from
// one background thread, so a slow or absent notify never delays POST /api/v1/faces.
//
// The queue is bounded (`queue`); when it is full the OLDEST waiting crop is dropped (the newest
// sighting matters most) and counted. Each crop is tried up to `attempts` times with exponential
// backoff on transport errors, 429 and 5xx (a 4xx answer is final). Every request goes through
// transport::HttpClient labelled identify -> notify, so the LinkMeter records the hop's bytes and
// latency (strata_link_*{src="identify",dst="notify"}). Outcomes are counted in
// strata_identify_forward_total{result="sent"|"failed"|"dropped"}.
// Every crop carries a fresh `X-Strata-Message-Id` (ULID); notify drops repeats of an id.
// Without `spool_dir` delivery is best effort: crops still queued when the process stops are lost.
// With `spool_dir` crops are stored-and-forwarded: Enqueue writes them to
// <spool_dir>/notify-forward.db (store::DiskQueue; durable when it returns; bounded by
// spool_max_items/spool_max_bytes, the oldest evicted and counted as dropped) and the sender
// retries forever (capped backoff from `backoff` to `backoff_max`) on transport errors, 408, 429
// and 5xx, deleting a crop only after a 2xx or a final 4xx; spooled crops are sent after a restart.
// Thread-safety: all public methods are safe from any thread; the destructor stops and joins.
//
//   STRATA_ASSIGN_OR_RETURN(auto fwd, Forwarder::Create({.notify_url = "http://127.0.0.1:8090"}));
//   fwd->Enqueue({jpeg, headers});
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "strata/core/ulid.h"
#include "strata/store/disk_queue_sender.h"
#include "strata/transport/http_client.h"

namespace strata::identify_service {

struct ForwarderConfig {
  std::string notify_url;                   // strata-notify base URL, http(s)://host:port
  int queue = 64;                           // crops waiting; beyond, the oldest is dropped
  int attempts = 3;                         // tries per crop (1 = no retry)
  std::chrono::milliseconds backoff{200};   // before the 2nd try; doubles after each failure
  std::chrono::milliseconds timeout{5000};  // connect/read/write timeout of one try
  std::string spool_dir;                    // "" = memory queue; else store-and-forward
  int64_t spool_max_items = 10000;
  int64_t spool_max_bytes = 256ll << 20;
  std::chrono::milliseconds backoff_max{5000};  // spool mode: cap of the retry backoff
  http::ClientConfig auth;  // token / token_file / ca_file for notify (ParseHttpClientAuth)
};

struct ForwardItem {
  std::string body;  // the JPEG crop
  http::HeaderList headers;
};

class Forwarder {
 public:
  using Config = ForwarderConfig;
  struct Stats {
    uint64_t sent = 0, failed = 0, dropped = 0, retries = 0;
  };
  // InvalidArgument for a bad URL, queue < 1 or attempts < 1. Starts the sender thread.
  static Result<std::unique_ptr<Forwarder>> Create(const Config& config);
  ~Forwarder();

  // Queues one crop (drops the oldest waiting crop when the queue is full). Memory mode: never
  // blocks, always OK. Spool mode: returns once the crop is on disk; an error (e.g. disk full)
  // means the crop is NOT kept — the caller must not acknowledge it.
  Status Enqueue(ForwardItem item);
  // Stops the sender (an in-progress try finishes; backoff waits are cut short). Idempotent.
  void Stop();
  // sent, dropped (evicted or rejected), retries (spool mode: failed tries, retried later).
  Stats stats() const;
  int64_t spooled() const;  // crops waiting in the spool (0 without one)
  // Blocks until nothing is queued or in flight, or `timeout`; returns whether it got idle.
  bool WaitIdle(std::chrono::milliseconds timeout);

 private:
  explicit Forwarder(Config c) : config_(std::move(c)) {}
  void Loop();
  // Sends one crop with retries; true when notify answered 2xx.
  bool Send(const ForwardItem& item);
  void OnSpoolResult(store::SendOutcome outcome);

  Config config_;
  std::unique_ptr<http::HttpClient> client_;       // sender thread only (memory mode)
  std::unique_ptr<store::DiskQueueSender> spool_;  // spool mode
  std::mutex push_mu_;                             // spool mode: one Enqueue at a time
  UlidGenerator ids_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ForwardItem> queue_;
  bool stop_ = false, busy_ = false;
  Stats stats_;
  std::thread thread_;
};

}  // namespace strata::identify_service
