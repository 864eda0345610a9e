// `strata surveil` end to end: the four surveillance services (roof, detect, identify, notify) as
// real processes on loopback with a real mosquitto, a real video decoded by OpenCV. An intruder
// (every person entering a restricted zone) produces exactly one alert per track, both on MQTT
// and in notify's event log. No timing assertions.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "strata/testing/fixtures.h"

namespace strata {
namespace {

using nlohmann::json;

const std::string kStrata = std::string(STRATA_BINARY_DIR) + "/bin/strata";
constexpr char kVtest[] = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";

testing::RunResult Strata(std::vector<std::string> args, int timeout_s = 300) {
  args.insert(args.begin(), kStrata);
  auto r = testing::Run(args, std::chrono::seconds(timeout_s));
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : testing::RunResult{};
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

json ReadJson(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str(), nullptr, false);
}

TEST(SurveilTest, ZoneIntrudersGiveOneAlertPerTrackOnMqttAndInTheEventLog) {
  if (!std::filesystem::exists(kVtest)) GTEST_SKIP() << kVtest << " is absent (opencv-doc)";
  if (!std::filesystem::exists("/usr/sbin/mosquitto")) GTEST_SKIP() << "mosquitto is absent";
  testing::TempDir dir;
  const std::string report_path = dir.File("report.json"), work = dir.File("work");
  auto r = Strata({"surveil", "--video", kVtest, "--max-frames", "120", "--zone",
                   "0,0.2 1,0.2 1,1 0,1", "--json", report_path, "--work-dir", work,
                   "--svg", dir.File("links.svg"), "--console"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("bytes per link"), std::string::npos) << r.out;
  // --console started strata-console (it passed its /readyz) on the four services.
  EXPECT_NE(r.err.find("surveil: web console at http://127.0.0.1:"), std::string::npos) << r.err;
  std::ifstream svg_file(dir.File("links.svg"));
  std::stringstream svg;
  svg << svg_file.rdbuf();
  EXPECT_EQ(Count(svg.str(), "class=\"bar\""), 4u) << "one bar per link";
  json rep = ReadJson(report_path);
  ASSERT_TRUE(rep.is_object()) << "report is not JSON";

  // Roof: every frame captured, only changed ones (capped at y fps) forwarded.
  EXPECT_EQ(rep["frames"]["captured"].get<int>(), 120);
  EXPECT_GT(rep["frames"]["forwarded"].get<int>(), 0);
  EXPECT_LT(rep["frames"]["forwarded"].get<int>(), 120);
  EXPECT_EQ(rep["fog"]["frames_processed"].get<int>(), rep["frames"]["forwarded"].get<int>());
  EXPECT_GT(rep["fog"]["persons"].get<int>(), 0);

  // Each tier sends less than the one below it, and far less than every raw frame.
  std::map<std::string, double> bytes;
  for (const json& l : rep["links"]) bytes[l["link"]] = l["measured_bytes"];
  const double naive = bytes["camera -> fog, every frame (naive)"];
  EXPECT_GT(bytes["roof -> fog"], 0);
  EXPECT_LT(bytes["roof -> fog"], naive);
  EXPECT_GT(bytes["fog -> cloud"], 0);
  EXPECT_LT(bytes["fog -> cloud"], bytes["roof -> fog"] / 5);

  // Alerts: at least one, one per (camera, track), every one published once as phase "new" on
  // MQTT, each with its snapshot on disk and the hops it crossed.
  const json& events = rep["alerts"];
  ASSERT_GT(events.size(), 0u) << rep.dump(2);
  std::set<std::pair<std::string, int>> tracks;
  for (const json& e : events) {
    tracks.insert({e["camera"].get<std::string>(), e["track_id"].get<int>()});
    EXPECT_EQ(e["camera"], "cam1");
    EXPECT_TRUE(e["event_type"] == "zone_entry" || e["event_type"] == "unknown_face") << e;
    EXPECT_TRUE(std::filesystem::exists(work + "/notify/snapshots/" +
                                        e["alert_id"].get<std::string>() + ".jpg"))
        << e["alert_id"];
    std::string path = e["path"].dump();
    for (const char* node : {"roof", "detect", "identify", "notify"})
      EXPECT_NE(path.find(node), std::string::npos) << path;
  }
  EXPECT_EQ(tracks.size(), events.size()) << "more than one alert for a track";
  EXPECT_EQ(rep["cloud"]["alerts"]["mqtt_messages"]["new"].get<size_t>(), events.size());
}

// The assets' "intruder" clip: three people at a podium, A (centre) and B (right) enrolled from
// photos, the left one not. YOLO (fog) + YuNet (fog and cloud) + MobileFaceNet (cloud): the left
// person is the only unknown face, alerted once per track; A and B are identified, never alerted.
TEST(SurveilTest, TheOneNonEnrolledFaceOnThePodiumIsTheOnlyAlert) {
  const std::string assets = std::string(STRATA_SOURCE_DIR) + "/../shared/assets";
  const std::string video = assets + "/video/faces_podium_6s.mp4", models = assets + "/models";
  for (const std::string& f : {video, models + "/mobilefacenet_128d.onnx",
                               models + "/face_detection_yunet_2022mar.onnx",
                               assets + "/faces/gallery/id_A_1.jpg"})
    if (!std::filesystem::exists(f)) GTEST_SKIP() << f << " is absent (../shared/assets)";
  if (!std::filesystem::exists("/usr/sbin/mosquitto")) GTEST_SKIP() << "mosquitto is absent";
  testing::TempDir dir;
  const std::string gallery = assets + "/faces/gallery/";
  auto r = Strata({"surveil", "--video", video, "--detector", "yolo_fastest_body", "--faces",
                   "yunet", "--encoder", "mobilefacenet", "--threshold", "0.35", "--models", models,
                   "--manifests", std::string(STRATA_SOURCE_DIR) + "/configs/models",
                   "--enrol", "id_A=" + gallery + "id_A_1.jpg", "--enrol",
                   "id_A=" + gallery + "id_A_2.jpg", "--enrol", "id_B=" + gallery + "id_B_1.jpg",
                   "--enrol", "id_B=" + gallery + "id_B_2.jpg", "--json", dir.File("r.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json rep = ReadJson(dir.File("r.json"));
  ASSERT_TRUE(rep.is_object());
  EXPECT_GT(rep["cloud"]["identities"]["known"].get<int>(), 0) << rep.dump(2);
  const json& events = rep["alerts"];
  ASSERT_GT(events.size(), 0u) << rep.dump(2);
  std::set<int> tracks;
  for (const json& e : events) {
    EXPECT_EQ(e["event_type"], "unknown_face") << e;
    EXPECT_EQ(e["identity"]["status"], "unknown") << e;
    double cx = (e["box"][0].get<double>() + e["box"][2].get<double>()) / 2;
    EXPECT_LT(cx, 0.4) << "an alert for someone other than the left (non-enrolled) person: " << e;
    tracks.insert(e["track_id"].get<int>());
  }
  EXPECT_EQ(tracks.size(), events.size());
  EXPECT_EQ(rep["cloud"]["alerts"]["mqtt_messages"]["new"].get<size_t>(), events.size());
}

// The placement experiment: with the WAN in front of the detector every frame crosses it (many
// more bytes) and every detection waits at least one WAN round trip; a cloud lookup waits at least
// one round trip, an edge lookup does not cross the WAN at all. Only physical lower bounds are
// asserted (the emulator never delivers early), no timings.
TEST(ExperimentTest, PlacementPutsTheWanWhereItSays) {
  if (!std::filesystem::exists(kVtest)) GTEST_SKIP() << kVtest << " is absent (opencv-doc)";
  testing::TempDir dir;
  auto r = Strata({"experiment", "placement", "--max-frames", "20", "--batch", "--latency",
                   "15ms", "--lookups", "50", "--json", dir.File("p.json"), "--svg",
                   dir.File("p.svg")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json p = ReadJson(dir.File("p.json"));
  ASSERT_TRUE(p.is_object());
  EXPECT_GT(p["cloud"]["wan_bytes"].get<double>(), 5 * p["fog"]["wan_bytes"].get<double>()) << p;
  EXPECT_GE(p["cloud"]["detect_round_trip_ms"]["p50"].get<double>(), 30.0) << p;
  EXPECT_GE(p["segment_lookup_ms"]["cloud"]["p50"].get<double>(), 30.0) << p;
  EXPECT_LT(p["segment_lookup_ms"]["edge"]["p50"].get<double>(),
            p["segment_lookup_ms"]["cloud"]["p50"].get<double>());
  EXPECT_TRUE(std::filesystem::exists(dir.File("p.svg")));
}

TEST(SurveilTest, MissingOrCorruptVideoIsOneReadableLineAndExitOne) {
  testing::TempDir dir;
  auto missing = Strata({"surveil", "--video", dir.File("nope.avi")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("nope.avi"), std::string::npos) << missing.err;
  EXPECT_EQ(std::count(missing.err.begin(), missing.err.end(), '\n'), 1) << missing.err;
  {
    std::ofstream out(dir.File("corrupt.avi"));
    out << "RIFF this is not a video";
  }
  auto corrupt = Strata({"surveil", "--video", dir.File("corrupt.avi")});
  EXPECT_EQ(corrupt.exit_code, 1);
  EXPECT_NE(corrupt.err.find("corrupt.avi"), std::string::npos) << corrupt.err;
  auto usage = Strata({"surveil", "--max-frames", "-3"});
  EXPECT_EQ(usage.exit_code, 2) << usage.err;
}

}  // namespace
}  // namespace strata
