// strata-identify's outputs: crops forwarded to a fake strata-notify (a real HttpServer on port 0)
// with identity + hops headers, retries, the drop-oldest queue, and MQTT face results on a real
// mosquitto broker.
#include <atomic>
#include <condition_variable>
#include <thread>

#include "identify_test_util.h"
#include "strata/core/clock.h"
#include "strata/metrics/metrics.h"
#include "strata/transport/link_meter.h"

namespace strata::identify_service::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// A stand-in for strata-notify: records every POST /api/v1/sightings; answers `fail_first`
// requests with 503, and holds requests while `hold` is set (at most 5 s each).
class FakeNotify {
 public:
  struct Sighting {
    std::string body;
    std::multimap<std::string, std::string> headers;
    std::string Header(const std::string& k) const {
      auto it = headers.find(k);
      return it == headers.end() ? "" : it->second;
    }
  };
  FakeNotify() {
    server_ = std::move(http::HttpServer::Create({.service = "fake_notify"})).value();
    server_->Route("POST", "/api/v1/sightings", [this](const http::Request& r) {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, 5s, [this] { return !hold_; });
      ++attempts_;
      if (fail_first_ > 0) {
        --fail_first_;
        return Result<http::Response>(UnavailableError("try later"));
      }
      got_.push_back({r.body, r.headers});
      return Result<http::Response>(http::Response::Json({{"ok", true}}, 202));
    });
    EXPECT_TRUE(server_->Start().ok());
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  void FailFirst(int n) {
    std::lock_guard lock(mu_);
    fail_first_ = n;
  }
  void Hold(bool on) {
    {
      std::lock_guard lock(mu_);
      hold_ = on;
    }
    cv_.notify_all();
  }
  std::vector<Sighting> got() {
    std::lock_guard lock(mu_);
    return got_;
  }
  int attempts() {
    std::lock_guard lock(mu_);
    return attempts_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;
  int fail_first_ = 0, attempts_ = 0;
  std::vector<Sighting> got_;
  std::unique_ptr<http::HttpServer> server_;
};

class IdentifyForwardTest : public IdentifyHarness {
 protected:
  void TearDown() override { Stop(); }  // close identify's keep-alive to notify first
  void StartWithNotify() {
    IdentifyConfig cfg;
    cfg.notify_url = notify_.url();
    cfg.notify_backoff = 10ms;
    Start(cfg);
    ASSERT_NE(service_->forwarder(), nullptr);
    ASSERT_EQ(Enrol("dave", SmallJpeg())->status, 201);  // whole-image lbph template
  }
  FakeNotify notify_;
};

TEST_F(IdentifyForwardTest, CropsReachNotifyWithIdentityHopsAndTrace) {
  StartWithNotify();
  LinkStats before = LinkMeter::Global().Get("identify", "notify");
  const std::string jpeg = SmallJpeg();
  http::HeaderList h = CropHeaders("porch", 5);
  h.emplace_back("X-Strata-Box", "0.1000,0.2000,0.3000,0.9000");
  h.emplace_back("X-Strata-Captured-At", "2026-11-30T10:00:00Z");
  h.emplace_back("X-Strata-Hops", "roof;bytes=50000;ms=2.00, detect;bytes=900;ms=30.00");
  h.emplace_back("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  auto r = PostFace(jpeg, h);
  ASSERT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
  EXPECT_EQ((*r->Json())["identity"]["name"], "dave");
  auto person = PostFace(jpeg, CropHeaders("porch", 6, "person"));
  ASSERT_TRUE(person.ok() && person->status == 200);
  ASSERT_TRUE(service_->forwarder()->WaitIdle(10s));
  auto got = notify_.got();
  ASSERT_EQ(got.size(), 2u);
  const FakeNotify::Sighting& s = got[0];
  EXPECT_EQ(s.body, jpeg);
  EXPECT_EQ(s.Header("x-strata-camera"), "porch");
  EXPECT_EQ(s.Header("x-strata-track-id"), "5");
  EXPECT_EQ(s.Header("x-strata-kind"), "face");
  EXPECT_EQ(s.Header("x-strata-box"), "0.1000,0.2000,0.3000,0.9000");
  EXPECT_EQ(s.Header("x-strata-captured-at"), "2026-11-30T10:00:00Z");
  EXPECT_EQ(s.Header("x-strata-identity-status"), "known");
  EXPECT_EQ(s.Header("x-strata-identity-name"), "dave");
  EXPECT_EQ(s.Header("x-strata-identity-metric"), "chi_square");
  EXPECT_EQ(s.Header("x-strata-identity-threshold"), "80.0000");
  const std::string hops = s.Header("x-strata-hops");
  const std::string mine = ", identify;bytes=" + std::to_string(jpeg.size()) + ";ms=";
  EXPECT_EQ(hops.rfind("roof;bytes=50000;ms=2.00, detect;bytes=900;ms=30.00" + mine, 0), 0u)
      << hops;
  EXPECT_EQ(s.Header("traceparent").substr(0, 36), "00-4bf92f3577b34da6a3ce929d0e0e4736-");
  EXPECT_EQ(got[1].Header("x-strata-identity-status"), "no_face");
  EXPECT_EQ(got[1].Header("x-strata-identity-name"), "");
  EXPECT_EQ(got[1].Header("x-strata-hops").rfind("identify;bytes=", 0), 0u);
  LinkStats after = LinkMeter::Global().Get("identify", "notify");
  EXPECT_EQ(after.messages - before.messages, 2u);
  EXPECT_EQ(after.bytes - before.bytes, 2 * jpeg.size());
  EXPECT_NE(metrics::SerializeText().find("strata_identify_forward_total{result=\"sent\"}"),
            std::string::npos);
}

TEST_F(IdentifyForwardTest, FailedSendsAreRetriedWithBackoff) {
  StartWithNotify();
  notify_.FailFirst(2);
  ASSERT_EQ(PostFace(SmallJpeg(), CropHeaders("porch", 9))->status, 200);
  ASSERT_TRUE(service_->forwarder()->WaitIdle(10s));
  EXPECT_EQ(notify_.attempts(), 3);
  EXPECT_EQ(notify_.got().size(), 1u);
  Forwarder::Stats st = service_->forwarder()->stats();
  EXPECT_EQ(st.sent, 1u);
  EXPECT_EQ(st.retries, 2u);
  notify_.FailFirst(5);  // more failures than attempts (3): counted as failed
  ASSERT_EQ(PostFace(SmallJpeg(), CropHeaders("porch", 10))->status, 200);
  ASSERT_TRUE(service_->forwarder()->WaitIdle(10s));
  EXPECT_EQ(service_->forwarder()->stats().failed, 1u);
}

TEST(ForwarderTest, WhenNotifyIsSlowTheOldestCropsAreDropped) {
  FakeNotify notify;
  notify.Hold(true);
  auto fwd = Forwarder::Create({.notify_url = notify.url(), .queue = 2});
  ASSERT_TRUE(fwd.ok()) << fwd.status();
  for (int i = 1; i <= 6; ++i)
    ASSERT_TRUE((*fwd)->Enqueue({"crop" + std::to_string(i), {{"X-Seq", std::to_string(i)}}}).ok());
  notify.Hold(false);
  ASSERT_TRUE((*fwd)->WaitIdle(20s));
  Forwarder::Stats st = (*fwd)->stats();
  EXPECT_GE(st.dropped, 3u);  // 6 crops, at most 1 in flight + 2 queued
  EXPECT_EQ(st.sent + st.dropped, 6u);
  auto got = notify.got();
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back().body, "crop6");  // the newest is never dropped
  EXPECT_FALSE(Forwarder::Create({.notify_url = "nonsense"}).ok());
  EXPECT_FALSE(Forwarder::Create({.notify_url = notify.url(), .queue = 0}).ok());
}

class IdentifyMqttTest : public IdentifyHarness {};

TEST_F(IdentifyMqttTest, FaceResultsArePublishedOnMqtt) {
  auto broker = strata::testing::MosquittoBroker::Start();
  if (!broker.ok()) GTEST_SKIP() << "mosquitto unavailable: " << broker.status();
  auto watcher = mqtt::MqttClient::Create({.uri = (*broker)->uri(), .client_id = "face-watcher"});
  ASSERT_TRUE(watcher.ok());
  std::mutex mu;
  std::vector<mqtt::Message> seen;
  ASSERT_TRUE((*watcher)
                  ->Subscribe("strata/camera/+/face", 0,
                              [&](const mqtt::Message& m) {
                                std::lock_guard lock(mu);
                                seen.push_back(m);
                              })
                  .ok());
  ASSERT_TRUE((*watcher)->Connect(5s).ok());
  IdentifyConfig cfg;
  cfg.mqtt.url = (*broker)->uri();
  cfg.mqtt.client_id = "identify-test";
  Start(cfg);
  ASSERT_EQ(Enrol("erin", SmallJpeg())->status, 201);
  bool received = false;
  for (int attempt = 0; attempt < 10 && !received; ++attempt) {  // QoS 0: retry until subscribed
    ASSERT_EQ(PostFace(SmallJpeg(), CropHeaders("gate", 11))->status, 200);
    for (int i = 0; i < 20 && !received; ++i) {
      std::this_thread::sleep_for(50ms);
      std::lock_guard lock(mu);
      received = !seen.empty();
    }
  }
  ASSERT_TRUE(received) << "no message on strata/camera/+/face";
  std::lock_guard lock(mu);
  EXPECT_EQ(seen[0].topic, "strata/camera/gate/face");
  json msg = json::parse(seen[0].payload);
  EXPECT_EQ(msg["name"], "erin");
  EXPECT_EQ(msg["status"], "known");
  EXPECT_EQ(msg["track_id"], 11);
  EXPECT_TRUE(msg["score"].is_number());
  EXPECT_TRUE(ParseRfc3339(msg["time"].get<std::string>()).ok()) << msg.dump();
}

}  // namespace
}  // namespace strata::identify_service::test
