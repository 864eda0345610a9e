// DiskQueueSender: oldest-first forwarding of a DiskQueue (see disk_queue_sender.h).
#include "strata/store/disk_queue_sender.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

#include "strata/metrics/metrics.h"

namespace strata::store {
namespace {

void Count(const std::string& queue, const char* result) {
  metrics::GetCounter("strata_store_forward_total",
                      "Store-and-forward tries, by queue and result (sent, poison, retry)",
                      {{"queue", queue}, {"result", result}})
      .Inc();
}

// 2xx → sent; 408, 429, 5xx and transport errors → retry; 401/403 → retry too (a credential
// problem of the link, fixed by rotating the token, not a bad message); other 4xx (and 1xx/3xx)
// → poison.
SendOutcome Classify(const Result<http::ClientResponse>& r) {
  if (!r.ok()) return SendOutcome::kRetry;
  int s = r->status;
  if (s / 100 == 2) return SendOutcome::kSent;
  if (s == 408 || s == 429 || s == 401 || s == 403 || s >= 500) return SendOutcome::kRetry;
  return SendOutcome::kPoison;
}

}  // namespace

DiskQueueSender::DiskQueueSender(std::unique_ptr<DiskQueue> q, std::unique_ptr<http::HttpClient> c,
                                 Config cfg, SendObserver o)
    : queue_(std::move(q)),
      client_(std::move(c)),
      config_(std::move(cfg)),
      observer_(std::move(o)) {}

Result<std::unique_ptr<DiskQueueSender>> DiskQueueSender::Create(
    std::unique_ptr<DiskQueue> queue, std::unique_ptr<http::HttpClient> client,
    const Config& config, SendObserver observer) {
  if (!queue || !client) return InvalidArgumentError("disk queue sender: queue and client needed");
  if (config.path.empty() || config.path[0] != '/')
    return InvalidArgumentError("disk queue sender: path must start with '/'");
  if (config.backoff_min.count() < 1 || config.backoff_max < config.backoff_min)
    return InvalidArgumentError("disk queue sender: need 1 ms <= backoff_min <= backoff_max");
  std::unique_ptr<DiskQueueSender> s(
      new DiskQueueSender(std::move(queue), std::move(client), config, std::move(observer)));
  s->thread_ = std::thread([p = s.get()] { p->Loop(); });
  return s;
}

DiskQueueSender::~DiskQueueSender() { Stop(); }

void DiskQueueSender::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Result<std::string> DiskQueueSender::Push(const std::string& body,
                                          const http::HeaderList& headers) {
  auto id = queue_->Push(body, EncodeMeta(headers));
  {
    std::lock_guard lock(mu_);  // pairs with the sender's predicate check: no lost wake-up
  }
  cv_.notify_all();
  return id;
}

void DiskQueueSender::Loop() {
  std::chrono::milliseconds backoff = config_.backoff_min;
  for (;;) {  // bounded by Stop()
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stop_ || queue_->size() > 0; });
      if (stop_) return;
      busy_ = true;
    }
    std::optional<SendOutcome> outcome = SendHead();
    std::unique_lock lock(mu_);
    if (!outcome) {
      // emptied meanwhile (evicted while we looked)
    } else if (*outcome == SendOutcome::kRetry) {
      ++stats_.retries;
      cv_.wait_for(lock, backoff, [this] { return stop_; });
      backoff = std::min(backoff * 2, config_.backoff_max);
    } else {
      ++(*outcome == SendOutcome::kSent ? stats_.sent : stats_.poison);
      backoff = config_.backoff_min;
    }
    busy_ = false;
    lock.unlock();
    cv_.notify_all();
  }
}

std::optional<SendOutcome> DiskQueueSender::SendHead() {
  const std::string& name = queue_->config().name;
  auto head = queue_->Peek();
  if (!head.ok()) {
    spdlog::error("store-and-forward {}: cannot read the spool: {}", name, head.status().message());
    return SendOutcome::kRetry;
  }
  if (!head->has_value()) return std::nullopt;
  const QueueItem& item = **head;
  http::HeaderList headers = DecodeMeta(item.meta);
  headers.emplace_back("X-Strata-Message-Id", item.id);
  auto r = client_->Post(config_.path, item.body, config_.content_type, headers);
  SendOutcome outcome = Classify(r);
  int status = r.ok() ? r->status : 0;
  if (outcome == SendOutcome::kRetry) {
    Count(name, "retry");
    if (item.attempts == 0 || item.attempts % 100 == 0)  // do not flood the log while partitioned
      spdlog::warn("store-and-forward {}: {} not delivered yet ({} queued): {}", name, item.id,
                   queue_->size(), r.ok() ? r->ToStatus().ToString() : r.status().ToString());
    Status s = queue_->MarkAttempt(item.id);
    if (!s.ok()) spdlog::error("store-and-forward {}: {}", name, s.message());
  } else {
    Count(name, outcome == SendOutcome::kSent ? "sent" : "poison");
    if (outcome == SendOutcome::kPoison)
      spdlog::warn("store-and-forward {}: {} rejected with {} (dropped): {}", name, item.id, status,
                   r->ToStatus().message());
    Status s = queue_->Ack(item.id);
    if (!s.ok()) spdlog::error("store-and-forward {}: ack of {}: {}", name, item.id, s.message());
  }
  if (observer_) observer_(item, outcome, status);
  return outcome;
}

bool DiskQueueSender::WaitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return stop_ || (queue_->size() == 0 && !busy_); });
}

DiskQueueSender::Stats DiskQueueSender::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace strata::store
