// CloudUplink: which crops go to the cloud (pure decision rules) and that they arrive, with the
// contract headers, at a real HTTP server on port 0 — metered as the ("fog", "cloud") link.
#include "cloud_uplink.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <opencv2/videoio.hpp>
#include <vector>

#include "detect_service.h"
#include "strata/transport/link_meter.h"
#include "strata/vision/image_io.h"

namespace strata::detect_service {
namespace {

using Want = CloudUplink::Want;

// A fake strata-identify: records every crop POSTed to /api/v1/faces.
struct FakeCloud {
  struct Crop {
    std::string body, camera, track, kind, box, hops, frame_id;
  };
  std::unique_ptr<http::HttpServer> server;
  std::mutex mu;
  std::vector<Crop> crops;
  void Start() {
    server = std::move(http::HttpServer::Create({.service = "fake_cloud"})).value();
    server->Route("POST", "/api/v1/faces", [this](const http::Request& r) -> Result<http::Response> {
      std::lock_guard lock(mu);
      crops.push_back({r.body, r.Header("x-strata-camera"), r.Header("x-strata-track-id"),
                       r.Header("x-strata-kind"), r.Header("x-strata-box"),
                       r.Header("x-strata-hops"), r.Header("x-strata-frame-id")});
      return http::Response::Json({{"ok", true}});
    });
    ASSERT_TRUE(server->Start().ok());
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server->port()); }
};

TEST(CloudUplinkDecideTest, OneCropPerTrackThenOnlyBetterFacesUpToTheCap) {
  FakeCloud cloud;
  cloud.Start();
  auto up = CloudUplink::Create({.url = cloud.url(),
                                 .max_faces_per_track = 2,
                                 .min_face_gain = 0.1,
                                 .min_interval = std::chrono::milliseconds(0)});
  ASSERT_TRUE(up.ok()) << up.status();
  CloudUplink& u = **up;
  EXPECT_EQ(u.Decide("cam", 0, true, 0.9f), Want::kNothing);   // unconfirmed track
  EXPECT_EQ(u.Decide("cam", 1, false, 0), Want::kPerson);      // first sighting, no face
  EXPECT_EQ(u.Decide("cam", 1, false, 0), Want::kNothing);     // person crop only once
  EXPECT_EQ(u.Decide("cam", 1, true, 0.5f), Want::kFace);      // first face
  EXPECT_EQ(u.Decide("cam", 1, true, 0.55f), Want::kNothing);  // not better by 0.1
  EXPECT_EQ(u.Decide("cam", 1, true, 0.7f), Want::kFace);      // better by >= 0.1
  EXPECT_EQ(u.Decide("cam", 1, true, 0.99f), Want::kNothing);  // cap of 2 faces reached
  EXPECT_EQ(u.Decide("cam", 2, true, 0.3f), Want::kFace);      // another track: its own budget
  EXPECT_EQ(u.Decide("other", 1, true, 0.3f), Want::kFace);    // same id, other camera
}

TEST(CloudUplinkDecideTest, MinIntervalSpacesFaceCrops) {
  FakeCloud cloud;
  cloud.Start();
  auto up = CloudUplink::Create({.url = cloud.url(), .min_interval = std::chrono::hours(1)});
  ASSERT_TRUE(up.ok());
  EXPECT_EQ((*up)->Decide("cam", 7, true, 0.2f), Want::kFace);
  EXPECT_EQ((*up)->Decide("cam", 7, true, 0.9f), Want::kNothing);  // better, but too soon
}

TEST(CloudUplinkDecideTest, ResendIntervalGivesTheSameFaceAnotherLook) {
  FakeCloud cloud;
  cloud.Start();
  auto up = CloudUplink::Create({.url = cloud.url(),
                                 .max_faces_per_track = 2,
                                 .min_interval = std::chrono::milliseconds(0),
                                 .resend_interval = std::chrono::milliseconds(0)});
  ASSERT_TRUE(up.ok());
  EXPECT_EQ((*up)->Decide("cam", 4, true, 1.0f), Want::kFace);
  EXPECT_EQ((*up)->Decide("cam", 4, true, 1.0f), Want::kFace);     // same score, resent
  EXPECT_EQ((*up)->Decide("cam", 4, true, 1.0f), Want::kNothing);  // cap
}

TEST(CloudUplinkTest, RejectsBadSettings) {
  EXPECT_FALSE(CloudUplink::Create({.url = "ftp://x"}).ok());
  EXPECT_FALSE(CloudUplink::Create({.url = "http://127.0.0.1:1", .queue = 0}).ok());
}

// Detect on real vtest frames with the uplink on: only crops reach the cloud, far fewer than
// (frames x persons), every one with the contract headers, and the link meter counts exactly the
// bytes the cloud received.
TEST(CloudUplinkTest, DetectSendsOnlyCropsOfConfirmedTracksToTheCloud) {
  cv::VideoCapture cap("/usr/share/doc/opencv-doc/examples/data/vtest.avi", cv::CAP_FFMPEG);
  if (!cap.isOpened()) GTEST_SKIP() << "vtest.avi is absent (install Debian opencv-doc)";
  FakeCloud cloud;
  cloud.Start();
  DetectConfig cfg;
  cfg.instances = 1;
  cfg.tracker.min_hits = 2;
  cfg.cloud.url = cloud.url();
  cfg.cloud.min_interval = std::chrono::milliseconds(0);
  auto svc = DetectService::Create(cfg);
  ASSERT_TRUE(svc.ok()) << svc.status();
  auto server = std::move(http::HttpServer::Create({.service = "detect_uplink", .max_body_bytes = 1 << 21})).value();
  (*svc)->RegisterRoutes(*server);
  ASSERT_TRUE(server->Start().ok());
  auto client = std::move(http::HttpClient::Create(
                              {.base_url = "http://127.0.0.1:" + std::to_string(server->port())}))
                    .value();
  uint64_t link_before = LinkMeter::Global().Get("fog", "cloud").bytes;
  cv::Mat frame;
  size_t persons = 0, frame_bytes = 0;
  const int kFrames = 12;
  for (int i = 0; i < kFrames && cap.read(frame); ++i) {
    auto jpeg = vision::EncodeJpeg(frame, 85);
    ASSERT_TRUE(jpeg.ok());
    std::string body(jpeg->begin(), jpeg->end());
    frame_bytes += body.size();
    auto r = client->Post("/api/v1/frames", body, "image/jpeg",
                          {{"X-Strata-Camera", "porch"}, {"X-Strata-Frame-Id", std::to_string(i)},
                           {"X-Strata-Hops", "roof;bytes=" + std::to_string(body.size()) + ";ms=1.5"}});
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 200) << r->body;
    persons += r->Json()->at("detections").size();
  }
  ASSERT_TRUE((*svc)->uplink()->WaitIdle(std::chrono::seconds(20)));
  std::lock_guard lock(cloud.mu);
  ASSERT_GT(persons, 0u);
  ASSERT_FALSE(cloud.crops.empty());
  EXPECT_LT(cloud.crops.size(), persons);  // not one crop per person per frame
  size_t crop_bytes = 0;
  std::set<std::string> tracks;
  for (const auto& c : cloud.crops) {
    EXPECT_EQ(c.camera, "porch");
    EXPECT_GE(std::stoi(c.track), 1);
    EXPECT_TRUE(c.kind == "face" || c.kind == "person") << c.kind;
    EXPECT_EQ(std::count(c.box.begin(), c.box.end(), ','), 3) << c.box;
    EXPECT_NE(c.hops.find("roof;bytes="), std::string::npos) << c.hops;
    EXPECT_NE(c.hops.find(", detect;bytes=" + std::to_string(c.body.size()) + ";ms="),
              std::string::npos)
        << c.hops;
    EXPECT_FALSE(c.frame_id.empty());
    auto probe = vision::ProbeImageHeader(
        {reinterpret_cast<const uint8_t*>(c.body.data()), c.body.size()});
    EXPECT_TRUE(probe.ok()) << "crop is not a JPEG";
    crop_bytes += c.body.size();
    tracks.insert(c.track);
  }
  EXPECT_LE(cloud.crops.size(), tracks.size() * (1 + cfg.cloud.max_faces_per_track));
  EXPECT_LT(crop_bytes, frame_bytes);
  EXPECT_EQ(LinkMeter::Global().Get("fog", "cloud").bytes - link_before, crop_bytes);
  EXPECT_EQ((*svc)->uplink()->stats().sent, cloud.crops.size());
}

}  // namespace
}  // namespace strata::detect_service
