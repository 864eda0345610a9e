// strata-roof against a fake fog (a real http::HttpServer on port 0) and Debian's vtest.avi.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "roof_config.h"
#include "strata/transport/http_client.h"
#include "strata/transport/link_meter.h"
#include "strata/vision/image_io.h"

namespace strata::roof_service {
namespace {

constexpr char kVtest[] = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";
constexpr auto kDrainTimeout = std::chrono::seconds(60);  // a hang guard, not a timing assertion

#define SKIP_WITHOUT_VTEST()            \
  if (!std::filesystem::exists(kVtest)) \
  GTEST_SKIP() << kVtest << " is absent (install Debian opencv-doc)"

// Counts frames and bytes; each body must decode as JPEG and carry the camera header.
class FakeFog {
 public:
  explicit FakeFog(std::chrono::milliseconds delay = {}) {
    server_ = std::move(http::HttpServer::Create({.service = "fake_fog"})).value();
    server_->Route("POST", "/api/v1/frames", [this, delay](const http::Request& r) {
      if (delay.count() > 0) std::this_thread::sleep_for(delay);
      const auto* b = reinterpret_cast<const uint8_t*>(r.body.data());
      bool ok = vision::DecodeJpeg({b, r.body.size()}, {}).ok() &&
                r.Header("x-strata-camera") == "cam-1" && !r.Header("x-strata-frame-id").empty() &&
                r.Header("x-strata-hops").rfind(
                    "roof;bytes=" + std::to_string(r.body.size()) + ";ms=", 0) == 0;
      if (!ok) ++bad;
      ++frames;
      bytes += r.body.size();
      return Result<http::Response>(
          http::Response::Json({{"detections", nlohmann::json::array()}}));
    });
    EXPECT_TRUE(server_->Start().ok());
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  std::atomic<int> frames{0}, bad{0};
  std::atomic<uint64_t> bytes{0};

 private:
  std::unique_ptr<http::HttpServer> server_;
};

RoofConfig VtestConfig(const std::string& fog_url, int max_frames) {
  RoofConfig c;
  c.camera = "cam-1";
  c.source = kVtest;
  c.fog_url = fog_url;
  c.realtime = false;
  c.max_frames = max_frames;
  c.fog_timeout = std::chrono::milliseconds(2000);
  return c;
}

TEST(RoofServiceTest, ForwardsOnlyChangedFramesAndMetersTheLink) {
  SKIP_WITHOUT_VTEST();
  FakeFog fog;
  uint64_t link_before = LinkMeter::Global().Get("roof", "fog").bytes;
  auto roof = RoofService::Create(VtestConfig(fog.url(), 150));
  ASSERT_TRUE(roof.ok()) << roof.status();
  auto server = std::move(http::HttpServer::Create({.service = "roof_test"})).value();
  (*roof)->RegisterRoutes(*server);
  ASSERT_TRUE(server->Start().ok());
  auto client = std::move(http::HttpClient::Create(
                              {.base_url = "http://127.0.0.1:" + std::to_string(server->port())}))
                    .value();
  EXPECT_EQ(client->Get("/api/v1/snapshot.jpg")->status, 404);
  EXPECT_EQ(client->Get("/readyz")->status, 200);
  (*roof)->Start();
  ASSERT_TRUE((*roof)->WaitDrained(kDrainTimeout));
  RoofStats s = (*roof)->Stats();
  EXPECT_TRUE(s.eof);
  EXPECT_EQ(s.frames_captured, 150u);
  EXPECT_GT(s.frames_forwarded, 0u);
  EXPECT_LT(s.frames_forwarded, s.frames_captured);
  EXPECT_EQ(s.frames_forwarded, static_cast<uint64_t>(fog.frames.load()));
  EXPECT_EQ(fog.bad.load(), 0);
  EXPECT_EQ(s.fog_errors, 0u);
  EXPECT_EQ(s.bytes_forwarded, fog.bytes.load());
  EXPECT_EQ(LinkMeter::Global().Get("roof", "fog").bytes - link_before, fog.bytes.load());
  EXPECT_EQ(s.raw_bytes_equivalent, 150u * 768 * 576 * 3);
  auto stats = client->Get("/api/v1/stats");
  ASSERT_TRUE(stats.ok());
  auto j = *stats->Json();
  EXPECT_EQ(j["camera"], "cam-1");
  EXPECT_EQ(j["frames_forwarded"], s.frames_forwarded);
  EXPECT_EQ(j["eof"], true);
  auto snap = client->Get("/api/v1/snapshot.jpg");
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->status, 200);
  const auto* b = reinterpret_cast<const uint8_t*>(snap->body.data());
  EXPECT_TRUE(vision::DecodeJpeg({b, snap->body.size()}, {}).ok());
  auto metrics = client->Get("/metrics");
  EXPECT_NE(metrics->body.find("strata_roof_frames_forwarded_total"), std::string::npos);
  auto m = http::OpenApiMismatches(*server, OpenApi());
  EXPECT_TRUE(m.empty()) << m.front();
  (*roof)->Stop();
  server->Stop();
}

TEST(RoofServiceTest, SlowFogDropsOldestFramesWithBoundedQueue) {
  SKIP_WITHOUT_VTEST();
  FakeFog fog(std::chrono::milliseconds(200));
  RoofConfig c = VtestConfig(fog.url(), 120);
  c.queue_frames = 2;
  c.forward_fps = 1000;  // no cap: every changed frame competes for the queue
  auto roof = RoofService::Create(c);
  ASSERT_TRUE(roof.ok()) << roof.status();
  (*roof)->Start();
  ASSERT_TRUE((*roof)->WaitDrained(kDrainTimeout));
  RoofStats s = (*roof)->Stats();
  EXPECT_GT(s.frames_dropped_queue_full, 0u);
  EXPECT_LE(s.queue_high_water, 2u);
  EXPECT_EQ(s.frames_forwarded, static_cast<uint64_t>(fog.frames.load()));
}

// Batch runs (strata surveil) wait for the fog instead of dropping: every changed frame arrives.
TEST(RoofServiceTest, BlockWhenFullLosesNoFrameOfAFile) {
  SKIP_WITHOUT_VTEST();
  FakeFog fog(std::chrono::milliseconds(20));
  RoofConfig c = VtestConfig(fog.url(), 40);
  c.queue_frames = 2;
  c.forward_fps = 1000;
  c.block_when_full = true;
  auto roof = RoofService::Create(c);
  ASSERT_TRUE(roof.ok()) << roof.status();
  (*roof)->Start();
  ASSERT_TRUE((*roof)->WaitDrained(kDrainTimeout));
  RoofStats s = (*roof)->Stats();
  EXPECT_EQ(s.frames_dropped_queue_full, 0u);
  EXPECT_EQ(s.frames_forwarded, s.frames_captured - s.frames_skipped_unchanged);
  EXPECT_EQ(static_cast<uint64_t>(fog.frames.load()), s.frames_forwarded);
  EXPECT_EQ(fog.bad.load(), 0);
}

TEST(RoofServiceTest, FogDownIsCountedAndCaptureContinues) {
  SKIP_WITHOUT_VTEST();
  uint16_t dead_port;
  {
    FakeFog gone;  // take a free port, then close it
    dead_port = static_cast<uint16_t>(std::stoi(gone.url().substr(17)));
  }
  auto roof = RoofService::Create(VtestConfig("http://127.0.0.1:" + std::to_string(dead_port), 60));
  ASSERT_TRUE(roof.ok()) << roof.status();
  (*roof)->Start();
  ASSERT_TRUE((*roof)->WaitDrained(kDrainTimeout));
  RoofStats s = (*roof)->Stats();
  EXPECT_EQ(s.frames_captured, 60u);
  EXPECT_GT(s.fog_errors, 0u);
  EXPECT_EQ(s.frames_forwarded, 0u);
  EXPECT_LE(s.queue_high_water, 8u);
}

TEST(RoofServiceTest, MissingSourceIsNotFoundNamingThePath) {
  RoofConfig c;
  c.source = "/nonexistent/roof-video.avi";
  auto roof = RoofService::Create(c);
  ASSERT_FALSE(roof.ok());
  EXPECT_EQ(roof.status().code(), StatusCode::kNotFound);
  EXPECT_NE(roof.status().message().find("/nonexistent/roof-video.avi"), std::string::npos);
}

TEST(RoofServiceTest, CorruptSourceIsRejected) {
  auto path = std::filesystem::temp_directory_path() / "strata-roof-corrupt.avi";
  { std::ofstream(path) << "this is not a video"; }
  RoofConfig c;
  c.source = path.string();
  auto roof = RoofService::Create(c);
  EXPECT_FALSE(roof.ok());
  std::filesystem::remove(path);
}

Status Parse(const std::string& yaml, Options* opts) {
  *opts = Options{};
  auto root = ConfigNode::Parse(yaml, "roof.yaml");
  if (!root.ok()) return root.status();
  return ParseConfig(*root, ServiceArgs{.service = "roof"}, opts);
}

TEST(RoofConfigTest, ErrorsNameKeyAndLine) {
  Options opts;
  Status typo = Parse("roof:\n  source: a.avi\n  capture_fsp: 3\n", &opts);
  EXPECT_FALSE(typo.ok());
  EXPECT_NE(typo.message().find("capture_fsp"), std::string::npos) << typo;
  EXPECT_NE(typo.message().find(":3"), std::string::npos) << typo;
  Status range = Parse("roof:\n  source: a.avi\n  queue_frames: 0\n", &opts);
  EXPECT_NE(range.message().find("queue_frames"), std::string::npos) << range;
  Status cam = Parse("roof:\n  source: a.avi\n  camera: Front Door\n", &opts);
  EXPECT_NE(cam.message().find("camera"), std::string::npos) << cam;
  Status nested = Parse("roof:\n  source: a.avi\n  frame_change:\n    method: magic\n", &opts);
  EXPECT_NE(nested.message().find("method"), std::string::npos) << nested;
  Status missing = Parse("roof:\n  camera: x\n", &opts);
  EXPECT_NE(missing.message().find("source"), std::string::npos) << missing;
  Options good;
  ASSERT_TRUE(Parse("roof:\n  camera: front_door\n  source: a.avi\n  forward_fps: 2\n"
                    "  frame_change: {method: consecutive, keepalive: 30s}\n",
                    &good)
                  .ok());
  EXPECT_EQ(good.roof.forward_fps, 2);
  EXPECT_EQ(good.roof.frame_change.method, "consecutive");
  EXPECT_EQ(good.roof.queue_frames, 8);
}

TEST(RoofConfigTest, AdaptiveSettingsAreParsedAndChecked) {
  Options opts;
  ASSERT_TRUE(Parse("roof:\n  source: a.avi\n  adaptive: {target_p99: 600ms, min_fps: 1, window: 8}\n",
                    &opts)
                  .ok());
  EXPECT_EQ(opts.roof.adaptive.target_p99.count(), 600);
  EXPECT_EQ(opts.roof.adaptive.window, 8);
  Status bad = Parse("roof:\n  source: a.avi\n  adaptive: {window: 1}\n", &opts);
  EXPECT_NE(bad.message().find("window"), std::string::npos) << bad;
  Status typo = Parse("roof:\n  source: a.avi\n  adaptive: {target: 1s}\n", &opts);
  EXPECT_NE(typo.message().find("adaptive.target"), std::string::npos) << typo;
}

TEST(RoofConfigTest, IgnoreMasksAreNormalisedPolygons) {
  Options opts;
  ASSERT_TRUE(Parse("roof:\n  source: a.avi\n  frame_change:\n    ignore_masks:\n"
                    "      - [[0, 0], [0.5, 0], [0.5, 0.25]]\n"
                    "      - [[0.6, 0.6], [1, 0.6], [1, 1], [0.6, 1]]\n",
                    &opts)
                  .ok());
  ASSERT_EQ(opts.roof.frame_change.ignore_masks.size(), 2u);
  EXPECT_EQ(opts.roof.frame_change.ignore_masks[1].size(), 4u);
  EXPECT_FLOAT_EQ(opts.roof.frame_change.ignore_masks[0][2].y, 0.25f);
  for (const char* bad : {"      - [[0, 0], [1, 0]]\n",              // two points
                          "      - [[0, 0], [1.5, 0], [1, 1]]\n",    // outside 0..1
                          "      - [[0, 0], [x, 0], [1, 1]]\n",      // not a number
                          "      - [[0, 0, 0], [1, 0], [1, 1]]\n"}) {  // three coordinates
    Status s = Parse(std::string("roof:\n  source: a.avi\n  frame_change:\n    ignore_masks:\n") +
                         bad,
                     &opts);
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.message().find("ignore_masks"), std::string::npos) << s;
  }
}

}  // namespace
}  // namespace strata::roof_service
