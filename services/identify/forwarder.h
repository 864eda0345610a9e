// Forwarder: sends identified crops on to strata-notify (POST <notify_url>/api/v1/sightings) from
// one background thread, so a slow or absent notify never delays POST /api/v1/faces.
//
// The queue is bounded (`queue`); when it is full the OLDEST waiting crop is dropped (the newest
// sighting matters most) and counted. Each crop is tried up to `attempts` times with exponential
// backoff on transport errors, 429 and 5xx (a 4xx answer is final). Every request goes through
// transport::HttpClient labelled identify -> notify, so the LinkMeter records the hop's bytes and
// latency (strata_link_*{src="identify",dst="notify"}). Outcomes are counted in
// strata_identify_forward_total{result="sent"|"failed"|"dropped"}.
// Delivery is best effort: crops still queued when the process stops are lost (notify's alert log
// is the durable record).
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

#include "strata/transport/http_client.h"

namespace strata::identify_service {

struct ForwarderConfig {
  std::string notify_url;                   // strata-notify base URL, http(s)://host:port
  int queue = 64;                           // crops waiting; beyond, the oldest is dropped
  int attempts = 3;                         // tries per crop (1 = no retry)
  std::chrono::milliseconds backoff{200};   // before the 2nd try; doubles after each failure
  std::chrono::milliseconds timeout{5000};  // connect/read/write timeout of one try
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

  // Queues one crop (never blocks; drops the oldest waiting crop when the queue is full).
  void Enqueue(ForwardItem item);
  // Stops the sender (an in-progress try finishes; backoff waits are cut short). Idempotent.
  void Stop();
  Stats stats() const;
  // Blocks until nothing is queued or in flight, or `timeout`; returns whether it got idle.
  bool WaitIdle(std::chrono::milliseconds timeout);

 private:
  explicit Forwarder(Config c) : config_(std::move(c)) {}
  void Loop();
  // Sends one crop with retries; true when notify answered 2xx.
  bool Send(const ForwardItem& item);

  Config config_;
  std::unique_ptr<http::HttpClient> client_;  // sender thread only
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ForwardItem> queue_;
  bool stop_ = false, busy_ = false;
  Stats stats_;
  std::thread thread_;
};

}  // namespace strata::identify_service
