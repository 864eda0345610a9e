// Publisher: drains strata-notify's SQLite outbox to its sinks — MQTT (QoS 1; a row stays until
// the broker acknowledged it, so alerts raised while the broker is down go out after it is back)
// and an optional webhook (POST of the alert JSON; non-2xx or transport errors are retried with
// doubling backoff up to max_attempts, then the row is marked failed and counted).
// One thread per configured sink, so a slow webhook never delays MQTT. Rows of one sink go out in
// order; a row waiting for a retry holds back the later rows of the same alert.
// Thread-safety: Start/Stop/Wake/stats may be called from any thread.
//
//   STRATA_ASSIGN_OR_RETURN(auto pub, Publisher::Create(cfg.mqtt, cfg.webhook, store.get()));
//   pub->Start();
//   ... store->Save(row, outbox); pub->Wake();
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "notify_config.h"
#include "notify_store.h"
#include "strata/transport/http_client.h"
#include "strata/transport/mqtt.h"

namespace strata::notify_service {

struct PublisherStats {
  int64_t mqtt_published = 0;
  int64_t webhook_attempts = 0;
  int64_t webhook_delivered = 0;
  int64_t webhook_failed = 0;  // rows given up after max_attempts
};

class Publisher {
 public:
  // InvalidArgument for a malformed MQTT or webhook URL. Does not connect yet.
  static Result<std::unique_ptr<Publisher>> Create(const MqttSinkConfig& mqtt,
                                                   const WebhookConfig& webhook,
                                                   NotifyStore* store);
  ~Publisher();  // Stop()

  bool has_mqtt() const { return mqtt_ != nullptr; }
  bool has_webhook() const { return webhook_ != nullptr; }
  // Starts the sink threads (once); the MQTT thread connects in the background.
  void Start();
  // Stops and joins the threads; undelivered rows stay in the outbox. Idempotent.
  void Stop();
  // New rows were saved: look now instead of at the next poll.
  void Wake();
  PublisherStats stats() const;
  bool mqtt_connected() const;

 private:
  Publisher() = default;
  void Loop(const std::string& sink);
  // Sends what is due; returns the number of rows still pending for `sink`.
  int64_t DrainOnce(const std::string& sink);
  Status SendMqtt(const Delivery& d);
  Status SendWebhook(const Delivery& d);
  void Failed(const std::string& sink, const Delivery& d, const Status& why);
  void UpdatePendingGauge();  // strata_notify_outbox_pending

  MqttSinkConfig mqtt_config_;
  WebhookConfig webhook_config_;
  NotifyStore* store_ = nullptr;
  std::unique_ptr<mqtt::MqttClient> mqtt_;
  std::unique_ptr<http::HttpClient> webhook_;
  std::string webhook_path_;
  bool mqtt_ever_connected_ = false;  // MQTT thread only
  std::chrono::steady_clock::time_point next_connect_{};

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false, started_ = false;
  uint64_t wake_seq_ = 0;
  std::map<int64_t, std::chrono::steady_clock::time_point> not_before_;  // row id → retry time
  std::vector<std::thread> threads_;
  std::atomic<int64_t> mqtt_published_{0}, webhook_attempts_{0}, webhook_delivered_{0},
      webhook_failed_{0};
};

}  // namespace strata::notify_service
