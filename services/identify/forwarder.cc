// Forwarder: bounded drop-oldest queue + one sender thread to strata-notify (see forwarder.h).
#include "forwarder.h"

#include <spdlog/spdlog.h>

#include "strata/metrics/metrics.h"
#include "strata/transport/client_config.h"

namespace strata::identify_service {
namespace {

void CountForward(const char* result) {
  metrics::GetCounter("strata_identify_forward_total",
                      "Crops forwarded to strata-notify, by result (sent, failed, dropped, retry)",
                      {{"result", result}})
      .Inc();
}

bool Retryable(const Result<http::ClientResponse>& r) {
  return !r.ok() || r->status == 429 || r->status >= 500;
}

}  // namespace

Result<std::unique_ptr<Forwarder>> Forwarder::Create(const Config& config) {
  if (config.queue < 1) return InvalidArgumentError("identify.notify_queue: must be >= 1");
  if (config.attempts < 1) return InvalidArgumentError("forwarder attempts: must be >= 1");
  std::unique_ptr<Forwarder> f(new Forwarder(config));
  http::ClientConfig cc{.base_url = config.notify_url,
                        .connect_timeout = config.timeout,
                        .read_timeout = config.timeout,
                        .write_timeout = config.timeout,
                        .max_retries = 0,
                        .link_src = "identify",
                        .link_dst = "notify"};
  CopyHttpClientAuth(config.auth, &cc);
  STRATA_ASSIGN_OR_RETURN(auto client, http::HttpClient::Create(cc));
  if (config.spool_dir.empty()) {
    f->client_ = std::move(client);
    f->thread_ = std::thread([p = f.get()] { p->Loop(); });
    return f;
  }
  if (config.backoff.count() < 1 || config.backoff_max < config.backoff)
    return InvalidArgumentError("identify.notify_backoff_max: must be >= the backoff (>= 1ms)");
  STRATA_ASSIGN_OR_RETURN(auto queue,
                          store::DiskQueue::Open({.path = config.spool_dir + "/notify-forward.db",
                                                  .name = "identify_notify_forward",
                                                  .max_items = config.spool_max_items,
                                                  .max_bytes = config.spool_max_bytes}));
  if (queue->size() > 0)
    spdlog::info("identify: {} crops spooled in {} from before, sending them", queue->size(),
                 config.spool_dir);
  STRATA_ASSIGN_OR_RETURN(
      f->spool_,
      store::DiskQueueSender::Create(std::move(queue), std::move(client),
                                     {.path = "/api/v1/sightings",
                                      .backoff_min = config.backoff,
                                      .backoff_max = config.backoff_max},
                                     [p = f.get()](const store::QueueItem&, store::SendOutcome o,
                                                   int) { p->OnSpoolResult(o); }));
  return f;
}

Forwarder::~Forwarder() { Stop(); }

void Forwarder::OnSpoolResult(store::SendOutcome outcome) {
  const char* result = outcome == store::SendOutcome::kSent     ? "sent"
                       : outcome == store::SendOutcome::kPoison ? "dropped"
                                                                : "retry";
  {
    std::lock_guard lock(mu_);
    ++(outcome == store::SendOutcome::kSent     ? stats_.sent
       : outcome == store::SendOutcome::kPoison ? stats_.dropped
                                                : stats_.retries);
  }
  CountForward(result);
}

int64_t Forwarder::spooled() const { return spool_ ? spool_->queue().size() : 0; }

void Forwarder::Stop() {
  if (spool_) spool_->Stop();
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status Forwarder::Enqueue(ForwardItem item) {
  if (spool_) {
    std::unique_lock push_lock(push_mu_);  // so the eviction delta is this push's own
    uint64_t before = spool_->queue().evicted();
    auto id = spool_->Push(item.body, item.headers);
    uint64_t lost = spool_->queue().evicted() - before + (id.ok() ? 0 : 1);
    push_lock.unlock();
    if (!id.ok()) spdlog::warn("identify: crop not spooled: {}", id.status().ToString());
    if (lost > 0) {
      {
        std::lock_guard lock(mu_);
        stats_.dropped += lost;
      }
      for (uint64_t i = 0; i < lost; ++i) CountForward("dropped");
    }
    // A crop larger than the whole spool can never be kept: dropped (counted), not retried.
    bool too_big = static_cast<int64_t>(item.body.size()) > config_.spool_max_bytes;
    if (!id.ok() && !too_big)
      return UnavailableError("crop not spooled for notify: " + id.status().message());
    return Status::Ok();
  }
  bool dropped = false;
  {
    std::lock_guard lock(mu_);
    if (stop_) return Status::Ok();
    if (static_cast<int>(queue_.size()) >= config_.queue) {
      queue_.pop_front();
      ++stats_.dropped;
      dropped = true;
    }
    queue_.push_back(std::move(item));
  }
  cv_.notify_all();
  if (dropped) {
    CountForward("dropped");
    spdlog::warn("identify: notify queue full ({}), dropped the oldest crop", config_.queue);
  }
  return Status::Ok();
}

void Forwarder::Loop() {
  for (;;) {  // bounded by Stop()
    ForwardItem item;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      item = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
    }
    bool ok = Send(item);
    {
      std::lock_guard lock(mu_);
      busy_ = false;
      ++(ok ? stats_.sent : stats_.failed);
    }
    cv_.notify_all();
    CountForward(ok ? "sent" : "failed");
  }
}

bool Forwarder::Send(const ForwardItem& item) {
  std::chrono::milliseconds backoff = config_.backoff;
  http::HeaderList headers = item.headers;  // one id for all tries: notify drops repeats
  headers.emplace_back("X-Strata-Message-Id", ids_.Next(Clock::Real()->Now()));
  for (int attempt = 1;; ++attempt) {
    auto r = client_->Post("/api/v1/sightings", item.body, "image/jpeg", headers);
    if (r.ok() && r->status / 100 == 2) return true;
    std::string why = r.ok() ? r->ToStatus().ToString() : r.status().ToString();
    if (attempt >= config_.attempts || !Retryable(r)) {
      spdlog::warn("identify: crop not forwarded to notify after {} tries: {}", attempt, why);
      return false;
    }
    std::unique_lock lock(mu_);
    ++stats_.retries;
    if (cv_.wait_for(lock, backoff, [this] { return stop_; })) return false;
    backoff *= 2;
  }
}

Forwarder::Stats Forwarder::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

bool Forwarder::WaitIdle(std::chrono::milliseconds timeout) {
  if (spool_) return spool_->WaitIdle(timeout);
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return stop_ || (queue_.empty() && !busy_); });
}

}  // namespace strata::identify_service
