// Store-and-forward on the identify → notify hop and the message-id rule of POST /api/v1/faces:
// a real strata-identify (spool in its data dir) → a real in-process LinkProxy (strata link) → a
// real strata-notify (SQLite in a TempDir, alert on every person). The link is partitioned while
// numbered crops arrive; after heal each crop is exactly one alert (a retry is answered as a
// duplicate, never a second sighting) and the spool empties; crops spooled when identify stops
// are delivered by the next identify on the same data dir. Waits are bounded.
#include <thread>

#include "../notify/notify_service.h"
#include "identify_test_util.h"
#include "link_proxy.h"
#include "strata/metrics/metrics.h"

namespace strata::identify_service::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

double NotifySightings(const std::string& result) {
  return metrics::GetCounter("strata_notify_sightings_total", "", {{"result", result}}).Value();
}

class IdentifySpoolTest : public IdentifyHarness {
 protected:
  void SetUp() override {
    notify_service::NotifyConfig nc;
    nc.db = dir_.File("notify/notify.db");
    nc.snapshots_dir = dir_.File("notify/snapshots");
    nc.alert_on_person = true;
    auto svc = notify_service::NotifyService::Create(nc);
    ASSERT_TRUE(svc.ok()) << svc.status();
    notify_ = std::move(svc).value();
    notify_server_ = std::move(http::HttpServer::Create({.service = "notify"})).value();
    notify_->RegisterRoutes(*notify_server_);
    ASSERT_TRUE(notify_server_->Start().ok());
    notify_->Start();
    auto proxy = link::LinkProxy::Start({.name = "identify_notify",
                                         .upstream_host = "127.0.0.1",
                                         .upstream_port = notify_server_->port()});
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = std::move(proxy).value();
    new_before_ = NotifySightings("new");
    dedup_before_ = NotifySightings("deduplicated");
  }
  void TearDown() override {
    Stop();
    proxy_.reset();
    if (notify_server_) notify_server_->Stop();
  }
  IdentifyConfig SpoolConfig() {
    IdentifyConfig cfg;
    cfg.faces = "off";
    cfg.gallery.allow_plaintext = true;
    cfg.instances = 1;
    cfg.notify_url = "http://127.0.0.1:" + std::to_string(proxy_->port());
    cfg.notify_spool_dir = "spool";  // relative: under the data dir
    cfg.notify_backoff = 20ms;
    cfg.notify_backoff_max = 200ms;
    return cfg;
  }
  void PostCrop(int i, const std::string& message_id = "") {
    http::HeaderList h = CropHeaders("porch", i + 1, "person");
    h.emplace_back("X-Strata-Frame-Id", "f" + std::to_string(i));
    if (!message_id.empty()) h.emplace_back("X-Strata-Message-Id", message_id);
    auto r = PostFace(SmallJpeg(), h);
    ASSERT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
  }
  // Each of the n tracks is one alert at notify, each sighting processed once.
  void ExpectOneAlertPerCrop(int n) {
    auto c = http::HttpClient::Create(
        {.base_url = "http://127.0.0.1:" + std::to_string(notify_server_->port())});
    auto events = (*c)->Get("/api/v1/events?limit=200");
    ASSERT_TRUE(events.ok() && events->status == 200);
    EXPECT_EQ((*events->Json())["events"].size(), static_cast<size_t>(n));
    EXPECT_EQ(NotifySightings("new") - new_before_, n);
    EXPECT_EQ(NotifySightings("deduplicated") - dedup_before_, 0);  // no crop processed twice
  }

  std::unique_ptr<notify_service::NotifyService> notify_;
  std::unique_ptr<http::HttpServer> notify_server_;
  std::unique_ptr<link::LinkProxy> proxy_;
  double new_before_ = 0, dedup_before_ = 0;
};

TEST_F(IdentifySpoolTest, PartitionedNotifyLinkLosesNothingAndAlertsExactlyOnceAfterHeal) {
  Start(SpoolConfig());
  const int kN = 16;
  for (int i = 0; i < 4; ++i) PostCrop(i);
  ASSERT_TRUE(service_->forwarder()->WaitIdle(10s));
  proxy_->Partition();                       // blackhole
  for (int i = 4; i < kN; ++i) PostCrop(i);  // 200 = spooled durably
  std::this_thread::sleep_for(2s);
  EXPECT_GT(service_->forwarder()->spooled(), 0);
  proxy_->Heal();
  ASSERT_TRUE(service_->forwarder()->WaitIdle(30s));
  EXPECT_EQ(service_->forwarder()->spooled(), 0);
  EXPECT_EQ(service_->forwarder()->stats().sent, static_cast<uint64_t>(kN));
  ExpectOneAlertPerCrop(kN);
}

TEST_F(IdentifySpoolTest, CropsSpooledWhenIdentifyStopsAreDeliveredAfterARestart) {
  proxy_->Partition(link::PartitionMode::kReset);
  Start(SpoolConfig());
  for (int i = 0; i < 6; ++i) PostCrop(i);
  EXPECT_EQ(service_->forwarder()->spooled(), 6);
  Stop();  // identify goes away with the crops on disk
  proxy_->Heal();
  Start(SpoolConfig());  // same data dir
  ASSERT_TRUE(service_->forwarder()->WaitIdle(30s));
  EXPECT_EQ(service_->forwarder()->spooled(), 0);
  ExpectOneAlertPerCrop(6);
}

TEST_F(IdentifySpoolTest, RepeatedMessageIdIsAnsweredAgainAndForwardedOnce) {
  Start(SpoolConfig());
  http::HeaderList h = CropHeaders("porch", 3, "person");
  h.emplace_back("X-Strata-Message-Id", "01JA00000000000000000000AA");
  auto first = PostFace(SmallJpeg(), h);
  auto again = PostFace(SmallJpeg(), h);
  ASSERT_TRUE(first.ok() && again.ok());
  ASSERT_EQ(first->status, 200);
  ASSERT_EQ(again->status, 200);
  json a = *first->Json(), b = *again->Json();
  EXPECT_FALSE(a.contains("duplicate"));
  EXPECT_EQ(b["duplicate"], true);
  b.erase("duplicate");
  EXPECT_EQ(a, b);  // the original answer
  ASSERT_TRUE(service_->forwarder()->WaitIdle(10s));
  EXPECT_EQ(service_->forwarder()->stats().sent, 1u);
  ExpectOneAlertPerCrop(1);
  h.back().second = "not a valid id";
  auto bad = PostFace(SmallJpeg(), h);
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, 400);
}

TEST_F(IdentifySpoolTest, SpoolSettingsAreParsedAndChecked) {
  auto parse = [](const std::string& yaml, Options* opts) {
    auto root = ConfigNode::Parse(yaml, "identify.yaml");
    EXPECT_TRUE(root.ok());
    return ParseConfig(*root, ServiceArgs{.service = "identify", .data_dir = "/d"}, opts);
  };
  Options o;
  ASSERT_TRUE(parse("identify:\n  notify_spool_dir: spool\n  notify_spool_max_items: 50\n"
                    "  notify_spool_max_bytes: 1000000\n  notify_backoff_max: 2s\n"
                    "  dedupe_ids: 100\n",
                    &o)
                  .ok());
  EXPECT_EQ(o.identify.notify_spool_dir, "spool");
  EXPECT_EQ(o.identify.notify_spool_max_items, 50);
  EXPECT_EQ(o.identify.notify_spool_max_bytes, 1000000);
  EXPECT_EQ(o.identify.notify_backoff_max, 2s);
  EXPECT_EQ(o.identify.dedupe_ids, 100);
  Options bad;
  Status s = parse("identify:\n  notify_spool_max_items: 0\n", &bad);
  EXPECT_NE(s.message().find("notify_spool_max_items"), std::string::npos) << s;
  Options bad2;
  s = parse("identify:\n  notify_backoff: 1s\n  notify_backoff_max: 10ms\n", &bad2);
  EXPECT_NE(s.message().find("notify_backoff_max"), std::string::npos) << s;
}

}  // namespace
}  // namespace strata::identify_service::test
