// Outbox publisher of strata-notify: one thread per sink (see notify_outbox.h).
#include "notify_outbox.h"

#include <spdlog/spdlog.h>

#include <set>

#include "strata/metrics/metrics.h"
#include "strata/transport/client_config.h"

namespace strata::notify_service {
namespace {

using Steady = std::chrono::steady_clock;

metrics::Counter WebhookCounter(const std::string& result) {
  return metrics::GetCounter("strata_notify_webhook_total",
                             "Webhook delivery attempts by result (delivered, retry, failed)",
                             {{"result", result}});
}

}  // namespace

Result<std::unique_ptr<Publisher>> Publisher::Create(const MqttSinkConfig& mqtt,
                                                     const WebhookConfig& webhook,
                                                     NotifyStore* store) {
  std::unique_ptr<Publisher> p(new Publisher());
  p->mqtt_config_ = mqtt;
  p->webhook_config_ = webhook;
  p->store_ = store;
  if (!mqtt.url.empty()) {
    mqtt::Config mc{.uri = mqtt.url, .client_id = mqtt.client_id, .link_src = "notify"};
    CopyMqttAuth(mqtt.auth, &mc);
    STRATA_ASSIGN_OR_RETURN(p->mqtt_, mqtt::MqttClient::Create(mc));
  }
  if (!webhook.url.empty()) {
    size_t scheme = webhook.url.find("://");
    size_t slash = scheme == std::string::npos ? scheme : webhook.url.find('/', scheme + 3);
    p->webhook_path_ = slash == std::string::npos ? "/" : webhook.url.substr(slash);
    STRATA_ASSIGN_OR_RETURN(p->webhook_,
                            http::HttpClient::Create({.base_url = webhook.url.substr(0, slash),
                                                      .connect_timeout = webhook.timeout,
                                                      .read_timeout = webhook.timeout,
                                                      .write_timeout = webhook.timeout,
                                                      .max_retries = 0,
                                                      .link_src = "notify",
                                                      .link_dst = "webhook"}));
  }
  return p;
}

Publisher::~Publisher() { Stop(); }

void Publisher::Start() {
  std::lock_guard lock(mu_);
  if (started_) return;
  started_ = true;
  if (mqtt_) threads_.emplace_back([this] { Loop("mqtt"); });
  if (webhook_) threads_.emplace_back([this] { Loop("webhook"); });
}

void Publisher::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
  if (mqtt_) mqtt_->Disconnect();
}

void Publisher::Wake() {
  {
    std::lock_guard lock(mu_);
    ++wake_seq_;
  }
  cv_.notify_all();
}

PublisherStats Publisher::stats() const {
  return {mqtt_published_.load(), webhook_attempts_.load(), webhook_delivered_.load(),
          webhook_failed_.load()};
}

bool Publisher::mqtt_connected() const { return mqtt_ && mqtt_->IsConnected(); }

void Publisher::Loop(const std::string& sink) {
  while (true) {
    uint64_t seen;
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
      seen = wake_seq_;
    }
    int64_t pending = DrainOnce(sink);
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(pending > 0 ? 100 : 500),
                 [&] { return stop_ || wake_seq_ != seen; });
  }
}

int64_t Publisher::DrainOnce(const std::string& sink) {
  if (sink == "mqtt" && !mqtt_ever_connected_) {
    if (Steady::now() < next_connect_) return 1;
    Status s = mqtt_->Connect(std::chrono::seconds(1));
    if (!s.ok()) {
      if (next_connect_ == Steady::time_point{})  // once, not every retry
        spdlog::warn("notify: MQTT not connected yet ({}); alerts wait in the outbox", s.message());
      next_connect_ = Steady::now() + std::chrono::seconds(2);
      UpdatePendingGauge();
      return 1;
    }
    mqtt_ever_connected_ = true;
  }
  auto rows = store_->Pending(sink, 200);
  if (!rows.ok()) {
    spdlog::error("notify: reading the outbox failed: {}", rows.status().message());
    return 1;
  }
  std::set<std::string> held;  // alerts with a row waiting for a retry
  int64_t left = static_cast<int64_t>(rows->size());
  for (const Delivery& d : *rows) {
    {
      std::lock_guard lock(mu_);
      if (stop_) break;
      auto it = not_before_.find(d.id);
      if (it != not_before_.end() && it->second > Steady::now()) held.insert(d.alert_id);
    }
    if (held.count(d.alert_id)) continue;
    Status s = sink == "mqtt" ? SendMqtt(d) : SendWebhook(d);
    if (!s.ok()) {
      Failed(sink, d, s);
      held.insert(d.alert_id);
      if (sink == "mqtt") break;  // broker down: keep the order, retry later
      continue;
    }
    Status m = store_->MarkDelivered(d.id);
    if (!m.ok()) spdlog::error("notify: outbox row {} not marked: {}", d.id, m.message());
    {
      std::lock_guard lock(mu_);
      not_before_.erase(d.id);
    }
    --left;
  }
  UpdatePendingGauge();
  return left;
}

void Publisher::UpdatePendingGauge() {
  auto total = store_->PendingCount();
  if (total.ok())
    metrics::GetGauge("strata_notify_outbox_pending", "Outbox rows not delivered yet")
        .Set(static_cast<double>(*total));
}

Status Publisher::SendMqtt(const Delivery& d) {
  if (!mqtt_->IsConnected()) return UnavailableError("MQTT broker not connected");
  STRATA_RETURN_IF_ERROR(mqtt_->Publish(d.topic, d.body, 1, false));
  ++mqtt_published_;
  metrics::GetCounter("strata_notify_mqtt_published_total", "MQTT messages published (PUBACKed)")
      .Inc();
  return Status::Ok();
}

Status Publisher::SendWebhook(const Delivery& d) {
  ++webhook_attempts_;
  http::HeaderList headers = {{"X-Strata-Alert-Id", d.alert_id},
                              {"X-Strata-Delivery-Id", std::to_string(d.id)}};
  nlohmann::json doc = nlohmann::json::parse(d.body, nullptr, false);
  if (doc.is_object() && doc.value("traceparent", nlohmann::json()).is_string())
    headers.emplace_back("traceparent", doc["traceparent"].get<std::string>());
  STRATA_ASSIGN_OR_RETURN(http::ClientResponse r,
                          webhook_->Post(webhook_path_, d.body, "application/json", headers));
  if (r.status < 200 || r.status > 299)
    return UnavailableError("webhook answered HTTP " + std::to_string(r.status));
  ++webhook_delivered_;
  WebhookCounter("delivered").Inc();
  return Status::Ok();
}

void Publisher::Failed(const std::string& sink, const Delivery& d, const Status& why) {
  auto now = Steady::now();
  if (sink == "mqtt") {
    std::lock_guard lock(mu_);
    not_before_[d.id] = now + std::chrono::milliseconds(500);
    return;
  }
  int attempts = d.attempts + 1;
  bool give_up = attempts >= webhook_config_.max_attempts;
  Status s = store_->MarkAttempt(d.id, attempts, give_up, why.message());
  if (!s.ok()) spdlog::error("notify: outbox row {} not updated: {}", d.id, s.message());
  if (give_up) {
    ++webhook_failed_;
    WebhookCounter("failed").Inc();
    spdlog::warn("notify: webhook gave up on alert {} after {} attempts: {}", d.alert_id, attempts,
                 why.message());
    std::lock_guard lock(mu_);
    not_before_.erase(d.id);
    return;
  }
  WebhookCounter("retry").Inc();
  auto delay = webhook_config_.backoff * (1LL << std::min(attempts - 1, 20));
  delay = std::min<std::chrono::milliseconds>(delay, std::chrono::minutes(10));
  std::lock_guard lock(mu_);
  not_before_[d.id] = now + delay;
}

}  // namespace strata::notify_service
