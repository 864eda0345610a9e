// strata-notify's outbox: alerts raised while the broker is down are kept and published after it
// comes back, also across kill -9 of the real binary; webhook deliveries are retried with backoff
// and given up after max_attempts.
#include <atomic>
#include <csignal>
#include <fstream>

#include "notify_test_util.h"

namespace strata::notify_service {
namespace {

TEST_F(NotifyFixture, AlertRaisedWhileTheBrokerIsDownIsPublishedAfterItReturns) {
  StartBroker(/*persistence=*/true);  // keeps the subscriber's session across the restart
  NotifyConfig cfg = BaseConfig();
  cfg.mqtt.url = broker_->uri();
  StartService(cfg);
  AlertCollector sub;
  ASSERT_TRUE(sub.Start(broker_->uri(), "notify-outbox-sub", /*clean_session=*/false).ok());
  broker_->Stop();
  json d = PostOk({.track = 11});
  ASSERT_EQ(d["phase"], "new");  // acknowledged although no sink is reachable
  std::string id = d["alert_id"];
  EXPECT_EQ(GetJson("/api/v1/events/" + id)["alert_id"], id);
  auto pending = service_->outbox_pending();
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(*pending, 2);  // alert JSON + snapshot, waiting
  EXPECT_TRUE(sub.Alerts(id, "new").empty());
  ASSERT_TRUE(broker_->Restart().ok());
  ASSERT_TRUE(WaitFor([&] { return sub.Alerts(id, "new").size() == 1; }, std::chrono::seconds(20)));
  EXPECT_TRUE(WaitFor([&] { return service_->outbox_pending().value_or(-1) == 0; }));
  EXPECT_EQ(sub.Alerts(id, "new")[0]["track_id"], 11);
}

// The real binary, killed with SIGKILL right after it acknowledged: the alert is in the log after
// a restart and still reaches MQTT once the broker is back.
TEST_F(NotifyFixture, AcknowledgedAlertSurvivesKillNineAndIsPublishedLater) {
  StartBroker(/*persistence=*/true);
  AlertCollector sub;
  ASSERT_TRUE(sub.Start(broker_->uri(), "notify-kill-sub", /*clean_session=*/false).ok());
  broker_->Stop();
  std::ofstream(dir_.File("notify.yaml"))
      << "notify:\n  mqtt: {url: '" << broker_->uri() << "'}\n  sweep_interval: 1h\n";
  auto start = [&]() -> std::unique_ptr<testing::Subprocess> {
    std::remove(dir_.File("port").c_str());
    auto p = testing::Subprocess::Start({std::string(STRATA_BINARY_DIR) + "/bin/strata-notify",
                                         "--config", dir_.File("notify.yaml"), "--port", "0",
                                         "--port-file", dir_.File("port"), "--data-dir",
                                         dir_.File("data")});
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok()) return nullptr;
    auto port = testing::WaitForPortFile(dir_.File("port"), std::chrono::seconds(10));
    EXPECT_TRUE(port.ok()) << port.status() << (*p)->Stderr();
    client_ = std::move(http::HttpClient::Create(
                            {.base_url = "http://127.0.0.1:" + std::to_string(port.value_or(1)),
                             .max_retries = 0}))
                  .value();
    return std::move(p).value();
  };
  auto proc = start();
  ASSERT_TRUE(proc);
  json d = PostOk({.track = 31});
  ASSERT_EQ(d["phase"], "new");
  std::string id = d["alert_id"];
  proc->Signal(SIGKILL);
  ASSERT_TRUE(proc->Wait(std::chrono::seconds(10)).ok());
  proc = start();
  ASSERT_TRUE(proc);
  EXPECT_EQ(GetJson("/api/v1/events/" + id)["track_id"], 31);
  EXPECT_EQ(client_->Get("/api/v1/events/" + id + "/snapshot.jpg")->body, jpeg_);
  ASSERT_TRUE(broker_->Restart().ok());
  EXPECT_TRUE(WaitFor([&] { return sub.Alerts(id, "new").size() == 1; }, std::chrono::seconds(20)));
  client_.reset();
  proc->Signal(SIGTERM);
  EXPECT_TRUE(proc->Wait(std::chrono::seconds(10)).ok());
}

class WebhookTest : public NotifyFixture {
 protected:
  // A webhook receiver that answers `fail_first` 500s, then 200.
  void StartHook(int fail_first) {
    fail_first_ = fail_first;
    auto srv = http::HttpServer::Create({.service = "hook"});
    ASSERT_TRUE(srv.ok());
    hook_ = std::move(srv).value();
    hook_->Route("POST", "/hook", [this](const http::Request& r) -> Result<http::Response> {
      int n = ++calls_;
      {
        std::lock_guard lock(mu_);
        bodies_.push_back(r.body);
        alert_header_ = r.Header("X-Strata-Alert-Id");
      }
      if (n <= fail_first_) return http::Problem(500, "receiver failing on purpose");
      return http::Response::NoContent();
    });
    ASSERT_TRUE(hook_->Start().ok());
  }
  NotifyConfig HookConfig(int max_attempts) {
    NotifyConfig cfg = BaseConfig();
    cfg.webhook.url = "http://127.0.0.1:" + std::to_string(hook_->port()) + "/hook";
    cfg.webhook.backoff = std::chrono::milliseconds(50);
    cfg.webhook.max_attempts = max_attempts;
    return cfg;
  }
  void TearDown() override {
    StopService();
    if (hook_) hook_->Stop();
  }
  std::unique_ptr<http::HttpServer> hook_;
  std::atomic<int> calls_{0};
  int fail_first_ = 0;
  std::mutex mu_;
  std::vector<std::string> bodies_;
  std::string alert_header_;
};

TEST_F(WebhookTest, FailingTwiceThenOkIsDeliveredOnceAfterThreeAttempts) {
  StartHook(2);
  StartService(HookConfig(5));
  json d = PostOk({.track = 21});
  std::string id = d["alert_id"];
  ASSERT_TRUE(WaitFor([&] { return service_->publisher_stats().webhook_delivered == 1; }));
  PublisherStats st = service_->publisher_stats();
  EXPECT_EQ(st.webhook_attempts, 3);
  EXPECT_EQ(st.webhook_failed, 0);
  EXPECT_EQ(calls_.load(), 3);
  EXPECT_EQ(service_->outbox_pending().value_or(-1), 0);
  std::lock_guard lock(mu_);
  EXPECT_EQ(alert_header_, id);
  json body = json::parse(bodies_.back(), nullptr, false);
  EXPECT_EQ(body["alert_id"], id);
  EXPECT_EQ(body["phase"], "new");
  EXPECT_EQ(body["event_type"], "unknown_face");
}

TEST_F(WebhookTest, AlwaysFailingIsGivenUpAfterMaxAttemptsAndCounted) {
  StartHook(1000);
  StartService(HookConfig(2));
  PostOk({.track = 22});
  ASSERT_TRUE(WaitFor([&] { return service_->publisher_stats().webhook_failed == 1; }));
  EXPECT_EQ(service_->publisher_stats().webhook_attempts, 2);
  EXPECT_EQ(calls_.load(), 2);
  EXPECT_EQ(service_->outbox_pending().value_or(-1), 0);  // failed rows are not retried
  auto metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find("strata_notify_webhook_total{result=\"failed\"}"),
            std::string::npos);
}

}  // namespace
}  // namespace strata::notify_service
