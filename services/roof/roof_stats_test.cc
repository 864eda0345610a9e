// strata-roof's GET /api/v1/stats fields for a camera page — forwarded ratio, motion window, the
// fog's last persons count — against a fake fog (a real HttpServer on port 0) that answers with
// person detections, on a synthetic video (moving square, then a still scene) written to a
// TempDir, and Debian's vtest.avi.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "roof_config.h"
#include "strata/testing/fixtures.h"
#include "strata/transport/http_client.h"

namespace strata::roof_service {
namespace {

using nlohmann::json;

constexpr auto kDrainTimeout = std::chrono::seconds(60);  // a hang guard, not a timing assertion

// Answers frame id N with (N % 4) person detections and one car.
class PersonsFog {
 public:
  PersonsFog() {
    server_ = std::move(http::HttpServer::Create({.service = "persons_fog"})).value();
    server_->Route("POST", "/api/v1/frames", [this](const http::Request& r) {
      int64_t id = std::stoll(r.Header("x-strata-frame-id"));
      json dets = json::array({{{"label", "car"}, {"score", 0.9}}});
      for (int64_t i = 0; i < id % 4; ++i) dets.push_back({{"label", "person"}, {"score", 0.8}});
      last_frame = id;
      ++frames;
      return Result<http::Response>(http::Response::Json({{"detections", dets}}));
    });
    EXPECT_TRUE(server_->Start().ok());
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  std::atomic<int64_t> last_frame{-1};
  std::atomic<int> frames{0};

 private:
  std::unique_ptr<http::HttpServer> server_;
};

// `moving` frames of a square moving 12 px a frame, then `still` identical frames (MJPG, 10 fps).
std::string WriteVideo(const testing::TempDir& dir, int moving, int still) {
  std::string path = dir.File("synthetic.avi");
  cv::VideoWriter w(path, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 10, cv::Size(320, 240));
  EXPECT_TRUE(w.isOpened());
  for (int i = 0; i < moving + still; ++i) {
    cv::Mat f(240, 320, CV_8UC3, cv::Scalar(40, 40, 40));
    int x = 10 + 12 * std::min(i, moving - 1);
    cv::rectangle(f, cv::Rect(x, 70, 90, 90), cv::Scalar(230, 230, 230), cv::FILLED);
    w.write(f);
  }
  return path;
}

RoofConfig SyntheticConfig(const std::string& source, const std::string& fog, int max_frames) {
  RoofConfig c;
  c.camera = "cam-1";
  c.source = source;
  c.fog_url = fog;
  c.realtime = false;
  c.capture_fps = 100;  // every frame of the 10 fps file
  c.forward_fps = 100;
  c.block_when_full = true;
  c.max_frames = max_frames;
  c.motion_window = 10;
  c.frame_change.method = "consecutive";  // a still scene is unchanged at once (no ghost)
  c.fog_timeout = std::chrono::milliseconds(2000);
  return c;
}

json StatsOf(RoofService& roof) {
  auto server = std::move(http::HttpServer::Create({.service = "roof_stats_test"})).value();
  roof.RegisterRoutes(*server);
  EXPECT_TRUE(server->Start().ok());
  auto client = std::move(http::HttpClient::Create(
                              {.base_url = "http://127.0.0.1:" + std::to_string(server->port())}))
                    .value();
  auto r = client->Get("/api/v1/stats");
  EXPECT_TRUE(r.ok() && r->status == 200);
  json j = r.ok() ? r->Json().value_or(json()) : json();
  client.reset();
  server->Stop();
  return j;
}

TEST(RoofStatsTest, AStillSceneEndsMotionAndTheLastPersonsCountIsTheFogs) {
  testing::TempDir dir;
  std::string video = WriteVideo(dir, 15, 25);
  PersonsFog fog;
  auto roof = RoofService::Create(SyntheticConfig(video, fog.url(), 40));
  ASSERT_TRUE(roof.ok()) << roof.status();
  (*roof)->Start();
  ASSERT_TRUE((*roof)->WaitDrained(kDrainTimeout));
  json s = StatsOf(**roof);
  EXPECT_EQ(s["camera"], "cam-1");
  EXPECT_EQ(s["frames_captured"], 40);
  uint64_t fwd = s["frames_forwarded"];
  ASSERT_GT(fwd, 0u);
  EXPECT_LT(fwd, 40u);  // the still frames were not sent
  EXPECT_DOUBLE_EQ(s["forwarded_ratio"].get<double>(), fwd / 40.0);
  EXPECT_EQ(s["jpeg_quality"], 80);
  EXPECT_GT(s["jpeg_bytes_equivalent_estimate"].get<uint64_t>(),
            s["bytes_forwarded"].get<uint64_t>());
  EXPECT_GT(s["frames_changed"].get<int>(), 0);
  const json& m = s["motion"];
  EXPECT_EQ(m["window_frames"], 10);
  EXPECT_EQ(m["changed_in_window"], 0) << s.dump();
  EXPECT_EQ(m["active"], false);
  ASSERT_TRUE(m["frames_since_change"].is_number()) << s.dump();
  EXPECT_GE(m["frames_since_change"].get<int>(), 10);
  EXPECT_LE(m["frames_since_change"].get<int>(), 26);
  ASSERT_GE(fog.last_frame.load(), 0);
  EXPECT_EQ(s["last_persons"], fog.last_frame.load() % 4);
  EXPECT_GT(s["last_persons_at_ms"].get<int64_t>(), 1'700'000'000'000);
  (*roof)->Stop();
}

TEST(RoofStatsTest, MotionIsActiveWhileTheSceneMoves) {
  testing::TempDir dir;
  std::string video = WriteVideo(dir, 20, 5);
  PersonsFog fog;
  auto roof = RoofService::Create(SyntheticConfig(video, fog.url(), 18));  // stop while moving
  ASSERT_TRUE(roof.ok()) << roof.status();
  (*roof)->Start();
  ASSERT_TRUE((*roof)->WaitDrained(kDrainTimeout));
  json s = StatsOf(**roof);
  EXPECT_EQ(s["frames_captured"], 18);
  EXPECT_EQ(s["motion"]["active"], true) << s.dump();
  EXPECT_GT(s["motion"]["changed_in_window"].get<int>(), 0);
  EXPECT_LE(s["motion"]["changed_in_window"].get<int>(), 10);
  EXPECT_LE(s["motion"]["frames_since_change"].get<int>(), 2);
  (*roof)->Stop();
}

TEST(RoofStatsTest, PersonsAreCountedOnlyFromADetectionsAnswer) {
  EXPECT_EQ(PersonsInFogAnswer(R"({"detections":[{"label":"person"},{"label":"car"},)"
                               R"({"label":"person"}]})"),
            2);
  EXPECT_EQ(PersonsInFogAnswer(R"({"detections":[]})"), 0);
  EXPECT_FALSE(PersonsInFogAnswer(R"({"accepted":true})").has_value());
  EXPECT_FALSE(PersonsInFogAnswer("not json").has_value());
  EXPECT_FALSE(PersonsInFogAnswer(R"({"detections":3})").has_value());
}

TEST(RoofStatsTest, BeforeAnyFrameTheNewFieldsAreNeutral) {
  testing::TempDir dir;
  std::string video = WriteVideo(dir, 3, 0);
  auto roof = RoofService::Create(SyntheticConfig(video, "http://127.0.0.1:9", 3));
  ASSERT_TRUE(roof.ok()) << roof.status();
  json s = StatsOf(**roof);  // not started
  EXPECT_EQ(s["forwarded_ratio"], 0.0);
  EXPECT_EQ(s["motion"]["active"], false);
  EXPECT_TRUE(s["motion"]["frames_since_change"].is_null());
  EXPECT_TRUE(s["last_persons"].is_null());
  EXPECT_TRUE(s["last_persons_at_ms"].is_null());
  RoofConfig bad = SyntheticConfig(video, "http://127.0.0.1:9", 3);
  bad.motion_window = 0;
  auto r = RoofService::Create(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("motion_window"), std::string::npos);
}

}  // namespace
}  // namespace strata::roof_service
