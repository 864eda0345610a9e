// DiskQueueSender: the forwarding half of store-and-forward — one thread that POSTs a DiskQueue's
// items oldest first to an upstream and deletes each only after a 2xx (docs/surveillance.md
// "Store-and-forward").
//
// Each item is sent with its stored headers (DecodeMeta of the item's meta) plus
// `X-Strata-Message-Id: <item id>`, so the receiver can drop a retry whose first answer was lost.
// Transport errors, 401, 403, 408, 429 and 5xx are retried forever with capped exponential
// backoff (the item stays at the head: order is kept; 401/403 are the link's credentials, not the
// message); any other 4xx is poison: the item is deleted and counted. Outcomes:
// strata_store_forward_total{queue, result="sent"|"poison"|"retry"}. Thread-safety:
// Push/Wake/WaitIdle/Stop/stats are safe from any thread; the sender thread owns the HTTP client.
// The destructor stops (an in-flight try finishes; backoff waits are cut short).
//
//   STRATA_ASSIGN_OR_RETURN(auto q, store::DiskQueue::Open({.path = p, .name = "uplink"}));
//   STRATA_ASSIGN_OR_RETURN(auto client, http::HttpClient::Create({.base_url = url}));
//   STRATA_ASSIGN_OR_RETURN(auto s, DiskQueueSender::Create(std::move(q), std::move(client),
//                                                          {.path = "/api/v1/faces"}));
//   STRATA_ASSIGN_OR_RETURN(std::string id, s->Push(jpeg, headers));
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "strata/store/disk_queue.h"
#include "strata/transport/http_client.h"

namespace strata::store {

struct DiskQueueSenderConfig {
  std::string path;  // e.g. "/api/v1/faces"
  std::string content_type = "image/jpeg";
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{5000};
};

// What happened to one item; `status` is the HTTP status (0 = transport error).
enum class SendOutcome { kSent, kPoison, kRetry };
using SendObserver = std::function<void(const QueueItem&, SendOutcome, int status)>;

class DiskQueueSender {
 public:
  using Config = DiskQueueSenderConfig;
  struct Stats {
    uint64_t sent = 0, poison = 0, retries = 0;
  };
  // Starts the sender thread, which sends what the queue already holds (e.g. after a restart).
  // `observer` (optional) runs on the sender thread after each try.
  static Result<std::unique_ptr<DiskQueueSender>> Create(std::unique_ptr<DiskQueue> queue,
                                                         std::unique_ptr<http::HttpClient> client,
                                                         const Config& config,
                                                         SendObserver observer = {});
  ~DiskQueueSender();

  // Durably queues one message (evicting the oldest beyond the bounds) and wakes the sender.
  // Returns the message id.
  Result<std::string> Push(const std::string& body, const http::HeaderList& headers);
  void Stop();
  // Blocks until the queue is empty and nothing is in flight, or `timeout`.
  bool WaitIdle(std::chrono::milliseconds timeout);
  Stats stats() const;
  DiskQueue& queue() { return *queue_; }

 private:
  DiskQueueSender(std::unique_ptr<DiskQueue> q, std::unique_ptr<http::HttpClient> c, Config cfg,
                  SendObserver o);
  void Loop();
  // One try of the head item: its outcome (kRetry also for a store error), nullopt when empty.
  std::optional<SendOutcome> SendHead();

  std::unique_ptr<DiskQueue> queue_;
  std::unique_ptr<http::HttpClient> client_;
  Config config_;
  SendObserver observer_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false, busy_ = false;
  Stats stats_;
  std::thread thread_;
};

}  // namespace strata::store
