// Detectors on known vtest.avi frames. hog always runs (when vtest is installed); each dnn model
// runs when its files are found (STRATA_MODELS, then ../shared/assets/models), else it skips.
#include "strata/vision/detector.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <opencv2/videoio.hpp>
#include <set>

#include "strata/vision/tracker.h"
#include "test_paths.h"

namespace strata::vision {
namespace {

using testing::Manifest;
using testing::TestModelDirs;
using testing::VtestPath;

cv::Mat VtestFrame(int index) {
  cv::VideoCapture cap(VtestPath(), cv::CAP_FFMPEG);
  cv::Mat f;
  for (int i = 0; i <= index; ++i) {
    if (!cap.read(f)) return cv::Mat();
  }
  return f.clone();
}

Result<std::unique_ptr<Detector>> MakeDnn(const std::string& manifest,
                                          std::vector<std::string> classes = {"person"}) {
  DetectorConfig c;
  c.backend = "dnn";
  c.manifest = Manifest(manifest);
  c.model_dirs = TestModelDirs();
  c.classes = std::move(classes);
  return CreateDetector(c);
}

int TallBoxes(const std::vector<Detection>& dets) {
  int n = 0;
  for (const Detection& d : dets) n += d.box.height > d.box.width;
  return n;
}

void ExpectSaneBoxes(const std::vector<Detection>& dets, cv::Size frame) {
  for (const Detection& d : dets) {
    EXPECT_EQ(d.label, "person");
    EXPECT_GE(d.box.x, 0);
    EXPECT_LE(d.box.x + d.box.width, frame.width + 1e-3);
    EXPECT_LE(d.box.y + d.box.height, frame.height + 1e-3);
    EXPECT_NEAR(d.box_norm.x * frame.width, d.box.x, 1e-2);
    EXPECT_NEAR(d.box_norm.height * frame.height, d.box.height, 1e-2);
  }
}

TEST(VisionHogDetectorTest, FindsPeopleInVtestFrame200) {
  if (VtestPath().empty()) GTEST_SKIP() << "vtest.avi absent (Debian package opencv-doc)";
  cv::Mat f = VtestFrame(200);
  ASSERT_FALSE(f.empty());
  auto det = CreateDetector({});  // hog is the default backend
  ASSERT_TRUE(det.ok()) << det.status();
  EXPECT_EQ((*det)->name(), "hog");
  auto people = (*det)->Detect(f);
  ASSERT_TRUE(people.ok()) << people.status();
  std::cout << "hog: " << people->size() << " persons in vtest frame 200\n";
  EXPECT_GE(people->size(), 3u);
  EXPECT_GE(TallBoxes(*people), static_cast<int>(people->size()) - 1);
  ExpectSaneBoxes(*people, f.size());
  EXPECT_EQ((*det)->Detect(cv::Mat()).status().code(), StatusCode::kInvalidArgument);
}

struct DnnCase {
  const char* manifest;
  size_t min_persons;  // MANIFEST.md saw 8 (yolox), 12 (v1.1), 8 (xl), 9 (body) at frame 200
};

void PrintTo(const DnnCase& c, std::ostream* os) { *os << c.manifest; }

class VisionDnnDetectorTest : public ::testing::TestWithParam<DnnCase> {};

TEST_P(VisionDnnDetectorTest, FindsPeopleInVtestFrame200) {
  if (VtestPath().empty()) GTEST_SKIP() << "vtest.avi absent (Debian package opencv-doc)";
  auto det = MakeDnn(GetParam().manifest);
  if (det.status().code() == StatusCode::kNotFound) GTEST_SKIP() << det.status();
  ASSERT_TRUE(det.ok()) << det.status();
  cv::Mat f = VtestFrame(200);
  ASSERT_FALSE(f.empty());
  auto people = (*det)->Detect(f);
  ASSERT_TRUE(people.ok()) << people.status();
  std::cout << (*det)->name() << ": " << people->size() << " persons in vtest frame 200\n";
  EXPECT_GE(people->size(), GetParam().min_persons);
  EXPECT_LE(people->size(), 16u);
  EXPECT_GE(TallBoxes(*people), static_cast<int>(people->size()) - 1);
  ExpectSaneBoxes(*people, f.size());
  for (const Detection& d : *people) EXPECT_GT(d.score, 0.3f);

  // An empty scene (flat grey) has no people.
  auto none = (*det)->Detect(cv::Mat(576, 768, CV_8UC3, cv::Scalar::all(128)));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

INSTANTIATE_TEST_SUITE_P(VisionModels, VisionDnnDetectorTest,
                         ::testing::Values(DnnCase{"yolox_nano", 6},
                                           DnnCase{"yolo_fastest_coco", 6},
                                           DnnCase{"yolo_fastest_xl", 6},
                                           DnnCase{"yolo_fastest_body", 6}),
                         [](const auto& info) { return std::string(info.param.manifest); });

TEST(VisionDnnDetectorTest, AnyCocoClassAndAgreementWithHog) {
  if (VtestPath().empty()) GTEST_SKIP() << "vtest.avi absent (Debian package opencv-doc)";
  auto all = MakeDnn("yolox_nano", /*classes=*/{});
  if (all.status().code() == StatusCode::kNotFound) GTEST_SKIP() << all.status();
  ASSERT_TRUE(all.ok()) << all.status();
  cv::Mat f = VtestFrame(200);
  auto dets = (*all)->Detect(f);
  ASSERT_TRUE(dets.ok());
  bool car = false;
  for (const Detection& d : *dets) car |= d.label == "car";
  EXPECT_TRUE(car) << "MANIFEST.md: yolox sees a car in vtest frame 200";
  auto cars_only = MakeDnn("yolox_nano", {"car"});
  ASSERT_TRUE(cars_only.ok());
  auto cars = (*cars_only)->Detect(f);
  ASSERT_TRUE(cars.ok());
  ASSERT_FALSE(cars->empty());
  for (const Detection& d : *cars) EXPECT_EQ(d.label, "car");

  // Most hog persons coincide with a yolox person (IoU >= 0.3).
  auto hog = CreateDetector({});
  ASSERT_TRUE(hog.ok());
  auto hp = (*hog)->Detect(f);
  ASSERT_TRUE(hp.ok());
  int agree = 0;
  for (const Detection& h : *hp) {
    for (const Detection& d : *dets) {
      if (d.label == "person" && Iou(h.box, d.box) >= 0.3f) {
        ++agree;
        break;
      }
    }
  }
  EXPECT_GE(agree * 2, static_cast<int>(hp->size())) << agree << " of " << hp->size();

  cv::Mat annotated = f.clone();
  DrawDetections(&annotated, *dets);
  EXPECT_GT(cv::norm(annotated, f, cv::NORM_L1), 0.0);
}

TEST(VisionDnnDetectorTest, InputSizeOverrideAndBadConfig) {
  DetectorConfig c;
  c.backend = "dnn";
  c.manifest = Manifest("yolox_nano");
  c.model_dirs = TestModelDirs();
  c.input_size = 330;
  EXPECT_NE(CreateDetector(c).status().message().find("input_size"), std::string::npos);
  c.input_size = 320;
  auto d = CreateDetector(c);
  if (d.status().code() == StatusCode::kNotFound) GTEST_SKIP() << d.status();
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ((*d)->name(), "dnn:yolox_nano@320");
  if (VtestPath().empty()) GTEST_SKIP() << "vtest.avi absent";
  auto people = (*d)->Detect(VtestFrame(200));
  ASSERT_TRUE(people.ok()) << people.status();
  EXPECT_GE(people->size(), 4u);
}

// Real video with known ground truth: three people stand at a podium for all 180 frames. The
// detector runs on every frame; the tracker must give exactly three tracks (no id churn).
TEST(VisionTrackerOnVideoTest, PodiumThreePeopleThreeTracks) {
  std::string video = testing::AssetsDir() + "/video/faces_podium_6s.mp4";
  if (!std::filesystem::exists(video)) GTEST_SKIP() << video << " absent";
  auto det = MakeDnn("yolo_fastest_body");
  if (det.status().code() == StatusCode::kNotFound) GTEST_SKIP() << det.status();
  ASSERT_TRUE(det.ok()) << det.status();
  auto tracker = IouTracker::Create({});
  ASSERT_TRUE(tracker.ok());
  cv::VideoCapture cap(video, cv::CAP_FFMPEG);
  cv::Mat frame;
  int frames = 0;
  std::set<int> ids;
  while (cap.read(frame)) {
    ++frames;
    auto people = (*det)->Detect(frame);
    ASSERT_TRUE(people.ok()) << people.status();
    for (const Detection& d : tracker->Update(*people)) ids.insert(d.track_id);
  }
  EXPECT_EQ(frames, 180);
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_EQ(tracker->tracks_started(), 3);
  EXPECT_EQ(tracker->tracks_confirmed(), 3);
}

}  // namespace
}  // namespace strata::vision

namespace strata::vision {
namespace {
// OpenCV 4.6's HOG segfaults on frames smaller than its 64x128 window; the stage must not.
TEST(VisionHogDetectorTest, FramesSmallerThanTheWindowGiveNoDetections) {
  auto det = CreateDetector(DetectorConfig{});
  ASSERT_TRUE(det.ok()) << det.status();
  for (cv::Size s : {cv::Size(64, 48), cv::Size(32, 200), cv::Size(1, 1)}) {
    cv::Mat small(s, CV_8UC3, cv::Scalar(90, 120, 150));
    auto r = (*det)->Detect(small);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->empty());
  }
}
}  // namespace
}  // namespace strata::vision
