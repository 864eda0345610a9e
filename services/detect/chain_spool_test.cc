// The whole cloud side of the surveillance chain with store-and-forward on both tier-crossing
// hops: CloudUplink (spool) → LinkProxy "fog_cloud" → strata-identify (spool) → LinkProxy
// "identify_notify" → strata-notify (SQLite, alert on every person), all real and in-process on
// port 0. Both links are partitioned while numbered crops (one track each) are queued; after
// heal every crop is exactly one alert at notify and both spools are empty. Waits are bounded.
#include <gtest/gtest.h>

#include <thread>

#include "../identify/identify_service.h"
#include "../notify/notify_service.h"
#include "cloud_uplink.h"
#include "link_proxy.h"
#include "strata/metrics/metrics.h"
#include "strata/testing/fixtures.h"
#include "strata/vision/image_io.h"

namespace strata::detect_service {
namespace {

using namespace std::chrono_literals;

double NotifySightings(const std::string& result) {
  return metrics::GetCounter("strata_notify_sightings_total", "", {{"result", result}}).Value();
}

std::unique_ptr<http::HttpServer> Serve(const std::string& name,
                                        const std::function<void(http::HttpServer&)>& routes) {
  auto s = std::move(http::HttpServer::Create({.service = name})).value();
  routes(*s);
  EXPECT_TRUE(s->Start().ok());
  return s;
}

std::unique_ptr<link::LinkProxy> Proxy(const std::string& name, int port) {
  auto p =
      link::LinkProxy::Start({.name = name, .upstream_host = "127.0.0.1", .upstream_port = port});
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? std::move(p).value() : nullptr;
}

TEST(ChainSpoolTest, PartitionedFogCloudAndNotifyLinksGiveEveryCropExactlyOneAlertAfterHeal) {
  testing::TempDir dir;
  notify_service::NotifyConfig nc;
  nc.db = dir.File("notify/notify.db");
  nc.snapshots_dir = dir.File("notify/snapshots");
  nc.alert_on_person = true;
  auto notify = notify_service::NotifyService::Create(nc);
  ASSERT_TRUE(notify.ok()) << notify.status();
  auto notify_server = Serve("notify", [&](http::HttpServer& s) { (*notify)->RegisterRoutes(s); });
  (*notify)->Start();
  auto to_notify = Proxy("identify_notify", notify_server->port());
  ASSERT_TRUE(to_notify);

  identify_service::IdentifyConfig ic;
  ic.data_dir = dir.File("identify");
  ic.faces = "off";
  ic.gallery.allow_plaintext = true;
  ic.instances = 1;
  ic.notify_url = "http://127.0.0.1:" + std::to_string(to_notify->port());
  ic.notify_spool_dir = "spool";
  ic.notify_backoff = 20ms;
  ic.notify_backoff_max = 200ms;
  auto identify = identify_service::IdentifyService::Create(ic);
  ASSERT_TRUE(identify.ok()) << identify.status();
  auto identify_server =
      Serve("identify", [&](http::HttpServer& s) { (*identify)->RegisterRoutes(s); });
  auto to_cloud = Proxy("fog_cloud", identify_server->port());
  ASSERT_TRUE(to_cloud);

  auto up = CloudUplink::Create({.url = "http://127.0.0.1:" + std::to_string(to_cloud->port()),
                                 .timeout = 500ms,
                                 .spool_dir = dir.File("detect/spool"),
                                 .backoff_min = 20ms,
                                 .backoff_max = 200ms});
  ASSERT_TRUE(up.ok()) << up.status();
  const double new_before = NotifySightings("new"), dedup_before = NotifySightings("deduplicated");
  auto send = [&](int i) {
    cv::Mat img(48, 64, CV_8UC3, cv::Scalar(20, 128, i % 256));
    auto jpeg = vision::EncodeJpeg(img, 90);
    UplinkItem item{.camera = "porch", .frame_id = "f" + std::to_string(i), .track_id = i + 1};
    item.person_jpeg.assign(jpeg->begin(), jpeg->end());
    item.box = {0.1, 0.1, 0.5, 0.9};
    (*up)->Enqueue(std::move(item), CloudUplink::Want::kPerson);
  };
  const int kN = 20;
  for (int i = 0; i < 4; ++i) send(i);
  ASSERT_TRUE((*up)->WaitIdle(10s));
  to_cloud->Partition();
  to_notify->Partition();
  for (int i = 4; i < kN; ++i) send(i);
  std::this_thread::sleep_for(2s);
  to_cloud->Heal();  // identify now spools what it cannot pass on
  ASSERT_TRUE((*up)->WaitIdle(30s));
  EXPECT_GT((*identify)->forwarder()->spooled(), 0);
  to_notify->Heal();
  ASSERT_TRUE((*identify)->forwarder()->WaitIdle(30s));
  EXPECT_EQ((*up)->spooled(), 0);
  EXPECT_EQ((*identify)->forwarder()->spooled(), 0);
  auto c = http::HttpClient::Create(
      {.base_url = "http://127.0.0.1:" + std::to_string(notify_server->port())});
  auto events = (*c)->Get("/api/v1/events?limit=200");
  ASSERT_TRUE(events.ok() && events->status == 200);
  EXPECT_EQ((*events->Json())["events"].size(), static_cast<size_t>(kN));
  EXPECT_EQ(NotifySightings("new") - new_before, kN);
  EXPECT_EQ(NotifySightings("deduplicated") - dedup_before, 0);  // no crop processed twice
  up->reset();
  identify->reset();
  identify_server->Stop();
  notify_server->Stop();
}

}  // namespace
}  // namespace strata::detect_service
