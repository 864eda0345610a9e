// Forwarder: bounded drop-oldest queue + one sender thread to strata-notify (see forwarder.h).
#include "forwarder.h"

#include <spdlog/spdlog.h>

#include "strata/metrics/metrics.h"

namespace strata::identify_service {
namespace {

void CountForward(const char* result) {
  metrics::GetCounter("strata_identify_forward_total",
                      "Crops forwarded to strata-notify, by result (sent, failed, dropped)",
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
  STRATA_ASSIGN_OR_RETURN(f->client_, http::HttpClient::Create({.base_url = config.notify_url,
                                                                .connect_timeout = config.timeout,
                                                                .read_timeout = config.timeout,
                                                                .write_timeout = config.timeout,
                                                                .max_retries = 0,
                                                                .link_src = "identify",
                                                                .link_dst = "notify"}));
  f->thread_ = std::thread([p = f.get()] { p->Loop(); });
  return f;
}

Forwarder::~Forwarder() { Stop(); }

void Forwarder::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Forwarder::Enqueue(ForwardItem item) {
  bool dropped = false;
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
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
  for (int attempt = 1;; ++attempt) {
    auto r = client_->Post("/api/v1/sightings", item.body, "image/jpeg", item.headers);
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
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return stop_ || (queue_.empty() && !busy_); });
}

}  // namespace strata::identify_service
