// Store-and-forward on the fog → cloud uplink: CloudUplink with a spool → a real in-process
// LinkProxy (strata link) → a real strata-identify (in-process, port 0) → a recording stand-in for
// notify. The link is partitioned while numbered crops are queued; after heal every crop reaches
// identify and is forwarded exactly once (counted by frame id at the end of the chain), the
// spool empties, spooled crops survive destroying the uplink, and a bounded spool evicts the
// oldest. Waits are bounded; nothing asserts on timing.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include "../identify/identify_service.h"
#include "cloud_uplink.h"
#include "detect_config.h"
#include "link_proxy.h"
#include "strata/metrics/metrics.h"
#include "strata/testing/fixtures.h"
#include "strata/vision/image_io.h"

namespace strata::detect_service {
namespace {

using namespace std::chrono_literals;

// Receives identify's forwarded sightings; counts them by frame id.
struct Sink {
  std::unique_ptr<http::HttpServer> server;
  std::mutex mu;
  std::map<std::string, int> frames;
  void Start() {
    server = std::move(http::HttpServer::Create({.service = "sink"})).value();
    server->Route("POST", "/api/v1/sightings", [this](const http::Request& r) {
      std::lock_guard lock(mu);
      ++frames[r.Header("x-strata-frame-id")];
      return Result<http::Response>(http::Response::Json({{"ok", true}}));
    });
    ASSERT_TRUE(server->Start().ok());
  }
  std::map<std::string, int> Got() {
    std::lock_guard lock(mu);
    return frames;
  }
};

std::string SmallJpeg(int shade) {
  cv::Mat img(48, 64, CV_8UC3, cv::Scalar(20, 128, shade % 256));
  auto jpeg = vision::EncodeJpeg(img, 90);
  return std::string(jpeg->begin(), jpeg->end());
}

class UplinkSpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sink_.Start();
    identify_service::IdentifyConfig ic;
    ic.data_dir = dir_.File("identify");
    ic.faces = "off";
    ic.gallery.allow_plaintext = true;
    ic.instances = 1;
    ic.notify_url = "http://127.0.0.1:" + std::to_string(sink_.server->port());
    auto svc = identify_service::IdentifyService::Create(ic);
    ASSERT_TRUE(svc.ok()) << svc.status();
    identify_ = std::move(svc).value();
    identify_server_ = std::move(http::HttpServer::Create({.service = "identify"})).value();
    identify_->RegisterRoutes(*identify_server_);
    ASSERT_TRUE(identify_server_->Start().ok());
    auto proxy = link::LinkProxy::Start({.name = "fog_cloud",
                                         .upstream_host = "127.0.0.1",
                                         .upstream_port = identify_server_->port()});
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = std::move(proxy).value();
  }
  std::unique_ptr<CloudUplink> MakeUplink(int64_t max_items = 1000) {
    auto up = CloudUplink::Create({.url = "http://127.0.0.1:" + std::to_string(proxy_->port()),
                                   .timeout = 500ms,
                                   .spool_dir = dir_.File("spool"),
                                   .spool_max_items = max_items,
                                   .backoff_min = 20ms,
                                   .backoff_max = 200ms});
    EXPECT_TRUE(up.ok()) << up.status();
    return up.ok() ? std::move(up).value() : nullptr;
  }
  static void Send(CloudUplink& up, int i) {
    UplinkItem item{.camera = "porch", .frame_id = "f" + std::to_string(i), .track_id = i + 1};
    item.person_jpeg = SmallJpeg(i);
    item.person_score = 0.9f;
    item.box = {0.1, 0.1, 0.5, 0.9};
    up.Enqueue(std::move(item), CloudUplink::Want::kPerson);
  }
  // Every frame f<from>..f<to-1> arrived exactly once, and nothing else.
  void ExpectExactlyOnce(int from, int to) {
    auto got = sink_.Got();
    EXPECT_EQ(got.size(), static_cast<size_t>(to - from));
    for (int i = from; i < to; ++i) EXPECT_EQ(got["f" + std::to_string(i)], 1) << "frame " << i;
  }
  bool WaitForSink(size_t n) {
    for (int i = 0; i < 300 && sink_.Got().size() < n; ++i) std::this_thread::sleep_for(50ms);
    return identify_->forwarder()->WaitIdle(10s) && sink_.Got().size() >= n;
  }

  testing::TempDir dir_;
  Sink sink_;
  std::unique_ptr<identify_service::IdentifyService> identify_;
  std::unique_ptr<http::HttpServer> identify_server_;
  std::unique_ptr<link::LinkProxy> proxy_;
};

TEST_F(UplinkSpoolTest, PartitionedLinkLosesNothingAndDeliversExactlyOnceAfterHeal) {
  auto up = MakeUplink();
  ASSERT_TRUE(up);
  const int kN = 20;
  for (int i = 0; i < 5; ++i) Send(*up, i);  // before the partition
  ASSERT_TRUE(up->WaitIdle(10s));
  proxy_->Partition();                        // blackhole: requests stall and time out
  for (int i = 5; i < kN; ++i) Send(*up, i);  // each durable when Enqueue returns
  std::this_thread::sleep_for(2s);            // a few failed tries while partitioned
  EXPECT_GT(up->spooled(), 0);
  EXPECT_GT(up->stats().failed, 0u);
  proxy_->Heal();
  ASSERT_TRUE(up->WaitIdle(30s));
  ASSERT_TRUE(WaitForSink(kN));
  ExpectExactlyOnce(0, kN);
  EXPECT_EQ(up->spooled(), 0);
  EXPECT_EQ(up->stats().sent, static_cast<uint64_t>(kN));
  EXPECT_EQ(up->stats().dropped, 0u);
  std::printf("partition of 2 s: %llu failed tries, %.0f retries answered as duplicates\n",
              static_cast<unsigned long long>(up->stats().failed),
              metrics::GetCounter("strata_identify_duplicates_total", "").Value());
}

TEST_F(UplinkSpoolTest, SpooledCropsAreDeliveredByTheNextUplinkAfterARestart) {
  proxy_->Partition(link::PartitionMode::kReset);
  {
    auto up = MakeUplink();
    ASSERT_TRUE(up);
    for (int i = 0; i < 8; ++i) Send(*up, i);
    EXPECT_FALSE(up->WaitIdle(300ms));
    EXPECT_EQ(up->spooled(), 8);
  }  // the detect process goes away with the crops on disk
  proxy_->Heal();
  auto up = MakeUplink();
  ASSERT_TRUE(up);
  ASSERT_TRUE(up->WaitIdle(30s));
  ASSERT_TRUE(WaitForSink(8));
  ExpectExactlyOnce(0, 8);
  EXPECT_EQ(up->spooled(), 0);
}

TEST_F(UplinkSpoolTest, FullSpoolEvictsTheOldestAndCountsThem) {
  const int kK = 5, kM = 3;
  proxy_->Partition(link::PartitionMode::kReset);
  auto up = MakeUplink(kK);
  ASSERT_TRUE(up);
  for (int i = 0; i < kK + kM; ++i) Send(*up, i);
  EXPECT_EQ(up->spooled(), kK);
  EXPECT_EQ(up->stats().dropped, static_cast<uint64_t>(kM));
  proxy_->Heal();
  ASSERT_TRUE(up->WaitIdle(30s));
  ASSERT_TRUE(WaitForSink(kK));
  ExpectExactlyOnce(kM, kK + kM);  // the M oldest were evicted
}

TEST(UplinkSpoolConfigTest, SpoolKeysAreParsedAndARelativeDirIsUnderTheDataDir) {
  auto parse = [](const std::string& yaml, Options* o) {
    auto root = ConfigNode::Parse(yaml, "detect.yaml");
    EXPECT_TRUE(root.ok());
    return ParseConfig(*root, ServiceArgs{.service = "detect", .data_dir = "/data"}, o);
  };
  Options o;
  ASSERT_TRUE(parse("detect:\n  cloud:\n    spool_dir: spool\n    spool_max_items: 7\n"
                    "    spool_max_bytes: 100000\n    backoff_max: 1s\n",
                    &o)
                  .ok());
  EXPECT_EQ(o.detect.cloud.spool_dir, "/data/spool");
  EXPECT_EQ(o.detect.cloud.spool_max_items, 7);
  EXPECT_EQ(o.detect.cloud.spool_max_bytes, 100000);
  EXPECT_EQ(o.detect.cloud.backoff_max, 1s);
  Options abs;
  ASSERT_TRUE(parse("detect:\n  cloud:\n    spool_dir: /var/spool/strata\n", &abs).ok());
  EXPECT_EQ(abs.detect.cloud.spool_dir, "/var/spool/strata");
  Options none;
  ASSERT_TRUE(parse("detect:\n  cloud: {}\n", &none).ok());
  EXPECT_EQ(none.detect.cloud.spool_dir, "");  // memory queue, as before
  Options bad;
  Status s = parse("detect:\n  cloud:\n    spool_max_bytes: 10\n", &bad);
  EXPECT_NE(s.message().find("spool_max_bytes"), std::string::npos) << s;
}

}  // namespace
}  // namespace strata::detect_service
