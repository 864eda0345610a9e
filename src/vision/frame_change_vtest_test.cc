// The motion gate on real video, checked against a person detector run on EVERY evaluated frame.
//
// vtest.avi has walking people in all 795 frames (yolo-fastest body sees a person in 795/795), so
// on vtest alone "forwarded well below 100%" and "forward >= 99% of person frames" cannot both
// hold. The test clip is therefore: 200 quiet frames (a person-free background plate of the same
// scene — the per-pixel median of every 10th vtest frame — plus sensor noise), all 795 vtest
// frames, then 200 quiet frames. The vtest-only forwarded fraction is printed too.
#include <gtest/gtest.h>

#include <algorithm>
#include <opencv2/videoio.hpp>

#include "strata/vision/detector.h"
#include "strata/vision/frame_change.h"
#include "test_paths.h"

namespace strata::vision {
namespace {

// Every `step`-th frame (kept small: 80 frames, not the whole 1 GB video); *count gets the total.
std::vector<cv::Mat> ReadEvery(const std::string& path, int step, size_t* count) {
  std::vector<cv::Mat> frames;
  cv::VideoCapture cap(path, cv::CAP_FFMPEG);
  cv::Mat f;
  *count = 0;
  while (cap.read(f)) {
    if ((*count)++ % step == 0) frames.push_back(f.clone());
  }
  return frames;
}

cv::Mat MedianPlate(const std::vector<cv::Mat>& frames) {
  std::vector<const cv::Mat*> picks;
  for (const cv::Mat& f : frames) picks.push_back(&f);
  cv::Mat plate(frames[0].size(), frames[0].type());
  std::vector<uchar> v(picks.size());
  const size_t n = frames[0].total() * frames[0].channels();
  for (size_t k = 0; k < n; ++k) {
    for (size_t j = 0; j < picks.size(); ++j) v[j] = picks[j]->data[k];
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    plate.data[k] = v[v.size() / 2];
  }
  return plate;
}

TEST(VisionFrameChangeVtestTest, ForwardsPersonFramesAndSkipsQuietOnes) {
  const std::string vtest = testing::VtestPath();
  if (vtest.empty()) GTEST_SKIP() << "vtest.avi absent (Debian package opencv-doc)";
  size_t video_frames = 0;
  cv::Mat plate = MedianPlate(ReadEvery(vtest, 10, &video_frames));
  ASSERT_EQ(video_frames, 795u);

  // Detector: yolo-fastest body at 320 (~17 ms/frame) when present; else hog on a shorter clip.
  DetectorConfig dc;
  dc.backend = "dnn";
  dc.manifest = testing::Manifest("yolo_fastest_body");
  dc.model_dirs = testing::TestModelDirs();
  auto det = CreateDetector(dc);
  size_t quiet = 200;
  if (det.status().code() == StatusCode::kNotFound) {
    std::cout << "yolo-fastest body absent (" << det.status() << "); using hog on 120 frames\n";
    det = CreateDetector({});
    video_frames = 120;
    quiet = 40;
  }
  ASSERT_TRUE(det.ok()) << det.status();

  // A pool of 16 noisy copies of the plate (sigma 3 grey levels), cycled.
  cv::RNG noise_rng(12345);
  std::vector<cv::Mat> quiet_pool;
  for (int k = 0; k < 16; ++k) {
    cv::Mat noise(plate.size(), CV_16SC3), out;
    noise_rng.fill(noise, cv::RNG::NORMAL, 0, 3);
    plate.convertTo(out, CV_16SC3);
    out += noise;
    out.convertTo(out, CV_8UC3);
    quiet_pool.push_back(out);
  }

  auto gate = FrameChange::Create({});  // defaults: background, 1% of the frame
  ASSERT_TRUE(gate.ok());
  FrameChangeConfig cc;
  cc.method = "consecutive";
  auto consecutive = FrameChange::Create(cc);  // same frames, same detector results
  ASSERT_TRUE(consecutive.ok());
  size_t c_forwarded = 0, c_person_forwarded = 0;
  cv::VideoCapture cap(vtest, cv::CAP_FFMPEG);
  const size_t total = quiet + video_frames + quiet;
  size_t forwarded = 0, person_frames = 0, person_forwarded = 0, lead_forwarded = 0;
  size_t tail_forwarded = 0, last_ten_forwarded = 0;
  size_t vtest_forwarded = 0;
  for (size_t i = 0; i < total; ++i) {
    bool in_video = i >= quiet && i < quiet + video_frames;
    cv::Mat frame;
    if (in_video) {
      ASSERT_TRUE(cap.read(frame)) << "vtest frame " << i - quiet;
    } else {
      frame = quiet_pool[i % quiet_pool.size()];
    }
    auto r = gate->Process(frame, FromUnixSeconds(1'700'000'000 + 0.1 * i));
    ASSERT_TRUE(r.ok()) << r.status();
    auto rc = consecutive->Process(frame, FromUnixSeconds(1'700'000'000 + 0.1 * i));
    ASSERT_TRUE(rc.ok());
    c_forwarded += rc->forward;
    auto people = (*det)->Detect(frame);  // every evaluated frame
    ASSERT_TRUE(people.ok()) << people.status();
    if (!people->empty()) c_person_forwarded += rc->forward;
    forwarded += r->forward;
    if (!people->empty()) {
      ++person_frames;
      person_forwarded += r->forward;
    }
    if (i < quiet) lead_forwarded += r->forward;
    if (i >= quiet + video_frames) tail_forwarded += r->forward;
    if (i + 10 >= total) last_ten_forwarded += r->forward;
    if (in_video) vtest_forwarded += r->forward;
  }
  double fwd = static_cast<double>(forwarded) / total;
  double recall = static_cast<double>(person_forwarded) / std::max<size_t>(1, person_frames);
  double lead_fwd = static_cast<double>(lead_forwarded) / quiet;
  double tail_fwd = static_cast<double>(tail_forwarded) / quiet;
  std::cout << "detector " << (*det)->name() << ": frames " << total << ", person frames "
            << person_frames << "\nforwarded fraction " << fwd << ", person-frame recall " << recall
            << " (" << person_forwarded << "/" << person_frames
            << "), quiet frames forwarded: before " << lead_fwd
            << " (incl. the first frame), after " << tail_fwd
            << " (background still holds walkers), vtest-only forwarded "
            << static_cast<double>(vtest_forwarded) / video_frames << "\n";
  double c_recall = static_cast<double>(c_person_forwarded) / std::max<size_t>(1, person_frames);
  std::cout << "consecutive: forwarded fraction " << static_cast<double>(c_forwarded) / total
            << ", person-frame recall " << c_recall << "\n";
  RecordProperty("forwarded_fraction", std::to_string(fwd));
  RecordProperty("person_frame_recall", std::to_string(recall));
  EXPECT_GE(person_frames, video_frames * 9 / 10);  // the detector really sees the walkers
  EXPECT_GE(recall, 0.99);
  EXPECT_LE(fwd, 0.75);
  EXPECT_GE(c_recall, 0.95);  // consecutive misses slow walkers more often than background
  // In frames, not fractions, so the full (200 quiet frames) and the fallback (40) runs mean the
  // same: before the walkers only the first frame goes; after them the running average forgets
  // them within 2.5 s (25 frames at 10 fps) and the scene is quiet again.
  EXPECT_LE(lead_forwarded, 1u);
  EXPECT_LE(tail_forwarded, 25u);
  EXPECT_EQ(last_ten_forwarded, 0u);
}

}  // namespace
}  // namespace strata::vision
