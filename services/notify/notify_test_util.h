// Test fixture for strata-notify: a real HttpServer on port 0, a real mosquitto broker, SQLite in
// a TempDir, a ManualClock, and an MQTT subscriber that records every alert message.
// Thread-safety: one test thread; the subscriber's handler takes a mutex.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <functional>
#include <mutex>
#include <opencv2/core.hpp>
#include <thread>

#include "notify_service.h"
#include "strata/testing/fixtures.h"
#include "strata/transport/http_client.h"
#include "strata/transport/mqtt.h"
#include "strata/vision/image_io.h"

namespace strata::notify_service {

using nlohmann::json;

// Polls `pred` every 20 ms for at most `timeout`; returns its last value.
inline bool WaitFor(const std::function<bool()>& pred,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// A small valid JPEG (colour gradient); `shade` varies the bytes.
inline std::string TestJpeg(int shade = 0) {
  cv::Mat img(48, 64, CV_8UC3);
  for (int y = 0; y < img.rows; ++y) img.row(y).setTo(cv::Scalar(y * 4, 128 + shade, 255 - y * 4));
  auto jpeg = vision::EncodeJpeg(img, 90);
  return std::string(jpeg->begin(), jpeg->end());
}

// Records messages under <prefix>/camera/+/alert and .../alert/snapshot.
class AlertCollector {
 public:
  Status Start(const std::string& uri, const std::string& client_id, bool clean_session = true) {
    STRATA_ASSIGN_OR_RETURN(
        client_, mqtt::MqttClient::Create(
                     {.uri = uri, .client_id = client_id, .clean_session = clean_session}));
    auto record = [this](const mqtt::Message& m) {
      std::lock_guard lock(mu_);
      messages_.push_back(m);
    };
    STRATA_RETURN_IF_ERROR(client_->Subscribe("strata/camera/+/alert", 1, record));
    STRATA_RETURN_IF_ERROR(client_->Subscribe("strata/camera/+/alert/snapshot", 1, record));
    STRATA_RETURN_IF_ERROR(client_->Connect(std::chrono::seconds(5)));
    // The subscription is live once a probe comes back.
    bool echoed = WaitFor([&] {
      (void)client_->Publish("strata/camera/probe/alert", "probe", 1, false);
      return WaitFor([&] { return Count("strata/camera/probe/alert") > 0; },
                     std::chrono::milliseconds(300));
    });
    if (!echoed) return UnavailableError("subscription never became live");
    return Status::Ok();
  }
  int Count(const std::string& topic) {
    std::lock_guard lock(mu_);
    int n = 0;
    for (const auto& m : messages_) n += m.topic == topic;
    return n;
  }
  // Alert JSON documents received (the probe excluded), in arrival order.
  std::vector<json> Alerts() {
    std::lock_guard lock(mu_);
    std::vector<json> out;
    for (const auto& m : messages_)
      if (m.payload != "probe" && m.topic.size() > 6 &&
          m.topic.compare(m.topic.size() - 6, 6, "/alert") == 0)
        out.push_back(json::parse(m.payload, nullptr, false));
    return out;
  }
  std::vector<json> Alerts(const std::string& alert_id, const std::string& phase) {
    std::vector<json> out;
    for (const json& a : Alerts())
      if (a.is_object() && a["alert_id"] == alert_id && a["phase"] == phase) out.push_back(a);
    return out;
  }
  mqtt::MqttClient* client() { return client_.get(); }

 private:
  std::unique_ptr<mqtt::MqttClient> client_;
  std::mutex mu_;
  std::vector<mqtt::Message> messages_;
};

struct Sight {
  std::string camera = "cam1";
  int track = 1;
  std::string kind = "face";
  std::string status = "unknown";
  std::string name;
  std::string score = "0.8";
  std::string box;
  std::string hops = "roof-1;bytes=52000;ms=3.5, fog-1;bytes=9100;ms=41.2";
};

class NotifyFixture : public ::testing::Test {
 protected:
  NotifyConfig BaseConfig() {
    NotifyConfig c;
    c.db = dir_.File("notify.db");
    c.snapshots_dir = dir_.File("snapshots");
    c.sweep_interval = std::chrono::hours(1);  // tests call Sweep() after moving the clock
    return c;
  }
  void StartBroker(bool persistence = false) {
    // As root, mosquitto drops to the `mosquitto` user and cannot save into our TempDir.
    auto b = testing::MosquittoBroker::Start(
        {.persistence = persistence,
         .extra_config = persistence && geteuid() == 0 ? "user root" : ""});
    ASSERT_TRUE(b.ok()) << b.status();
    broker_ = std::move(b).value();
  }
  void StartService(const NotifyConfig& cfg) {
    StopService();
    auto svc = NotifyService::Create(cfg, &clock_);
    ASSERT_TRUE(svc.ok()) << svc.status();
    service_ = std::move(svc).value();
    auto srv = http::HttpServer::Create({.service = "notify_test", .max_body_bytes = 1 << 20});
    ASSERT_TRUE(srv.ok());
    server_ = std::move(srv).value();
    service_->RegisterRoutes(*server_);
    ASSERT_TRUE(server_->Start().ok());
    service_->Start();
    client_ = std::move(http::HttpClient::Create(
                            {.base_url = "http://127.0.0.1:" + std::to_string(server_->port()),
                             .max_retries = 0}))
                  .value();
  }
  void StopService() {
    client_.reset();  // closes the keep-alive connection, so Stop() need not wait for it
    if (server_) server_->Stop();
    server_.reset();
    service_.reset();
  }
  void TearDown() override { StopService(); }

  Result<http::ClientResponse> Post(const Sight& s, const std::string& body,
                                    const std::string& type = "image/jpeg") {
    http::HeaderList h = {
        {"X-Strata-Camera", s.camera},
        {"X-Strata-Track-Id", std::to_string(s.track)},
        {"X-Strata-Kind", s.kind},
        {"X-Strata-Identity-Status", s.status},
        {"X-Strata-Score", s.score},
        {"X-Strata-Frame-Id", "f-" + std::to_string(s.track)},
        {"X-Strata-Captured-At", FormatRfc3339(clock_.Now() - std::chrono::milliseconds(250))},
        {"X-Strata-Hops", s.hops}};
    if (!s.name.empty()) h.emplace_back("X-Strata-Identity-Name", s.name);
    if (!s.box.empty()) h.emplace_back("X-Strata-Box", s.box);
    return client_->Post("/api/v1/sightings", body, type, h);
  }
  // Posts and expects 200; returns the decision JSON.
  json PostOk(const Sight& s) {
    auto r = Post(s, jpeg_);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return json();
    EXPECT_EQ(r->status, 200) << r->body;
    return r->Json().value_or(json());
  }
  json GetJson(const std::string& path) {
    auto r = client_->Get(path);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return json();
    EXPECT_EQ(r->status, 200) << path << ": " << r->body;
    return r->Json().value_or(json());
  }

  testing::TempDir dir_;
  ManualClock clock_{FromUnixSeconds(1'800'000'000)};
  std::string jpeg_ = TestJpeg();
  std::unique_ptr<testing::MosquittoBroker> broker_;
  std::unique_ptr<NotifyService> service_;
  std::unique_ptr<http::HttpServer> server_;
  std::unique_ptr<http::HttpClient> client_;
};

}  // namespace strata::notify_service
