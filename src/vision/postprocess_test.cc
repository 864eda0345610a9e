#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <opencv2/dnn.hpp>

#include "strata/core/rng.h"
#include "strata/vision/detection.h"
#include "strata/vision/preprocess.h"

namespace strata::vision {
namespace {

// Naive reference: repeatedly take the best remaining box, drop everything overlapping it.
std::vector<int> NaiveNms(const std::vector<cv::Rect2f>& boxes, const std::vector<float>& scores,
                          float score_thr, float iou_thr) {
  std::vector<int> alive;
  for (int i = 0; i < static_cast<int>(boxes.size()); ++i) {
    if (scores[i] > score_thr) alive.push_back(i);
  }
  std::vector<int> keep;
  while (!alive.empty()) {
    int best = alive[0];
    for (int i : alive) {
      if (scores[i] > scores[best] || (scores[i] == scores[best] && i < best)) best = i;
    }
    keep.push_back(best);
    std::vector<int> next;
    for (int i : alive) {
      if (i == best) continue;
      cv::Rect2f a = boxes[i], b = boxes[best];
      float ix = std::max(0.f, std::min(a.x + a.width, b.x + b.width) - std::max(a.x, b.x));
      float iy = std::max(0.f, std::min(a.y + a.height, b.y + b.height) - std::max(a.y, b.y));
      float inter = ix * iy;
      float iou = inter / (a.width * a.height + b.width * b.height - inter);
      if (!(iou > iou_thr)) next.push_back(i);
    }
    alive = next;
  }
  return keep;
}

struct RandomBoxes {
  std::vector<cv::Rect2f> boxes;
  std::vector<float> scores;
};

RandomBoxes MakeBoxes(uint64_t seed, int n) {
  Rng rng(seed);
  RandomBoxes r;
  for (int i = 0; i < n; ++i) {
    // Clustered boxes so that many overlap; integer coordinates keep float and double IoU equal.
    float cx = static_cast<float>(rng.UniformInt(0, 4) * 60 + rng.UniformInt(0, 20));
    float cy = static_cast<float>(rng.UniformInt(0, 3) * 60 + rng.UniformInt(0, 20));
    float w = static_cast<float>(rng.UniformInt(20, 70)),
          h = static_cast<float>(rng.UniformInt(20, 90));
    r.boxes.emplace_back(cx, cy, w, h);
    r.scores.push_back(static_cast<float>(rng.UniformInt(1, 1000)) / 1000.0f);
  }
  return r;
}

TEST(VisionNmsTest, MatchesNaiveReferenceOnRandomBoxes) {
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    RandomBoxes b = MakeBoxes(seed, 5 + static_cast<int>(seed % 60));
    for (float iou : {0.3f, 0.45f, 0.7f}) {
      EXPECT_EQ(Nms(b.boxes, b.scores, 0.25f, iou), NaiveNms(b.boxes, b.scores, 0.25f, iou))
          << "seed " << seed << " iou " << iou;
    }
  }
}

TEST(VisionNmsTest, MatchesOpenCvNmsBoxes) {
  int nonempty = 0;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    RandomBoxes b = MakeBoxes(seed * 7919, 5 + static_cast<int>(seed % 60));
    std::vector<cv::Rect2d> d(b.boxes.begin(), b.boxes.end());
    std::vector<int> cv_keep;
    cv::dnn::NMSBoxes(d, b.scores, 0.25f, 0.45f, cv_keep);
    std::vector<int> ours = Nms(b.boxes, b.scores, 0.25f, 0.45f);
    EXPECT_EQ(ours, cv_keep) << "seed " << seed;
    nonempty += !ours.empty() && ours.size() < b.boxes.size();
  }
  EXPECT_GT(nonempty, 150);  // the cases really exercised suppression
}

TEST(VisionNmsTest, HandCase) {
  std::vector<cv::Rect2f> boxes = {{0, 0, 10, 10}, {1, 1, 10, 10}, {20, 20, 5, 5}, {0, 0, 10, 10}};
  std::vector<float> scores = {0.9f, 0.8f, 0.7f, 0.1f};
  EXPECT_EQ(Nms(boxes, scores, 0.2f, 0.5f), (std::vector<int>{0, 2}));
  EXPECT_EQ(Nms(boxes, scores, 0.2f, 0.9f), (std::vector<int>{0, 1, 2}));
  EXPECT_NEAR(Iou(boxes[0], boxes[1]), 81.0 / 119.0, 1e-6);
  EXPECT_EQ(Iou(boxes[0], boxes[2]), 0.0f);
}

TEST(VisionDecodeTest, YoloxHandBuiltTensor) {
  // Input 64x64, strides 8/16/32 → 64 + 16 + 4 = 84 rows of [tx ty tw th obj c0 c1 c2].
  const int rows = 84, cols = 8;
  int sizes[] = {1, rows, cols};
  cv::Mat out(3, sizes, CV_32F, cv::Scalar(0));
  float* d = reinterpret_cast<float*>(out.data);
  auto set = [&](int row, std::vector<float> v) { std::copy(v.begin(), v.end(), d + row * cols); };
  // Stride 8, cell (gx=3, gy=2) → row 2*8+3 = 19: centre ((0.5+3)*8, (0.5+2)*8) = (28, 20),
  // w = e^0 * 8 * 2 (tw = ln 2) = 16, h = e^(ln 4) * 8 = 32. Class 2 wins: 0.9 * 0.8.
  set(19, {0.5f, 0.5f, std::log(2.0f), std::log(4.0f), 0.9f, 0.1f, 0.05f, 0.8f});
  // Stride 16, cell (1, 1) → row 64 + 1*4 + 1 = 69: centre (24, 24), w = h = 16. Class 0: 0.6*0.7.
  set(69, {0.5f, 0.5f, 0.0f, 0.0f, 0.6f, 0.7f, 0.2f, 0.1f});
  // Below threshold: obj 0.9, best cls 0.2 → 0.18.
  set(80, {0.f, 0.f, 0.f, 0.f, 0.9f, 0.2f, 0.1f, 0.1f});
  auto c = DecodeYolox(out, cv::Size(64, 64), {8, 16, 32}, /*ratio=*/0.5, 0.3f);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->size(), 2u);
  // Frame coordinates = input / ratio (ratio 0.5 → ×2).
  EXPECT_EQ((*c)[0].class_id, 2);
  EXPECT_NEAR((*c)[0].score, 0.72f, 1e-5);
  EXPECT_NEAR((*c)[0].box.x, (28 - 8) * 2, 1e-3);
  EXPECT_NEAR((*c)[0].box.y, (20 - 16) * 2, 1e-3);
  EXPECT_NEAR((*c)[0].box.width, 32, 1e-3);
  EXPECT_NEAR((*c)[0].box.height, 64, 1e-3);
  EXPECT_EQ((*c)[1].class_id, 0);
  EXPECT_NEAR((*c)[1].box.x, (24 - 8) * 2, 1e-3);
  EXPECT_NEAR((*c)[1].box.width, 32, 1e-3);

  auto bad = DecodeYolox(out, cv::Size(96, 96), {8, 16, 32}, 1.0, 0.3f);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST(VisionDecodeTest, DarknetRegionHandBuiltTensor) {
  cv::Mat a(2, 7, CV_32F, cv::Scalar(0));  // [cx cy w h obj p0 p1]
  float r0[] = {0.5f, 0.25f, 0.2f, 0.5f, 0.9f, 0.85f, 0.0f};
  float r1[] = {0.1f, 0.1f, 0.1f, 0.1f, 0.3f, 0.0f, 0.25f};  // below 0.3
  std::copy(r0, r0 + 7, a.ptr<float>(0));
  std::copy(r1, r1 + 7, a.ptr<float>(1));
  cv::Mat b(1, 7, CV_32F, cv::Scalar(0));
  float r2[] = {0.75f, 0.75f, 0.1f, 0.2f, 0.8f, 0.1f, 0.6f};
  std::copy(r2, r2 + 7, b.ptr<float>(0));
  auto c = DecodeDarknetRegion({a, b}, cv::Size(800, 600), 0.3f);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->size(), 2u);
  EXPECT_EQ((*c)[0].class_id, 0);
  EXPECT_NEAR((*c)[0].box.x, 400 - 80, 1e-3);
  EXPECT_NEAR((*c)[0].box.y, 150 - 150, 1e-3);
  EXPECT_NEAR((*c)[0].box.width, 160, 1e-3);
  EXPECT_EQ((*c)[1].class_id, 1);
  EXPECT_NEAR((*c)[1].score, 0.6f, 1e-6);
}

TEST(VisionPostprocessTest, FiltersClassesClipsAndNormalises) {
  std::vector<Candidate> c = {
      {{-10, 10, 50, 100}, 0, 0.9f},   // person, clipped at x = 0
      {{-8, 12, 50, 100}, 0, 0.8f},    // duplicate person → suppressed
      {{-8, 12, 50, 100}, 2, 0.85f},   // car on top of it: other class, kept when asked for
      {{100, 100, 20, 20}, 1, 0.95f},  // bicycle: filtered out
  };
  std::vector<std::string> labels = {"person", "bicycle", "car"};
  PostprocessOptions opt;
  opt.classes = {0, 2};
  auto d = Postprocess(c, labels, cv::Size(200, 100), opt);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].label, "person");
  EXPECT_FLOAT_EQ(d[0].box.x, 0);
  EXPECT_FLOAT_EQ(d[0].box.width, 40);
  EXPECT_FLOAT_EQ(d[0].box.height, 90);  // clipped at y = 100
  EXPECT_FLOAT_EQ(d[0].box_norm.width, 0.2f);
  EXPECT_FLOAT_EQ(d[0].box_norm.y, 0.1f);
  EXPECT_EQ(d[1].label, "car");
  opt.class_agnostic_nms = true;
  EXPECT_EQ(Postprocess(c, labels, cv::Size(200, 100), opt).size(), 1u);

  cv::Mat frame(100, 200, CV_8UC3, cv::Scalar::all(0));
  DrawDetections(&frame, d);
  EXPECT_GT(cv::countNonZero(frame.reshape(1)), 100);
}

TEST(VisionPreprocessTest, LetterboxPastesTopLeftAndPads114) {
  cv::Mat img(576, 768, CV_8UC3, cv::Scalar(10, 20, 30));
  Letterbox lb;
  cv::Mat canvas = LetterboxImage(img, cv::Size(416, 416), 114, &lb);
  EXPECT_NEAR(lb.ratio, 416.0 / 768, 1e-9);
  EXPECT_EQ(lb.resized, cv::Size(416, 312));
  EXPECT_EQ(canvas.at<cv::Vec3b>(0, 0), cv::Vec3b(10, 20, 30));
  EXPECT_EQ(canvas.at<cv::Vec3b>(311, 415), cv::Vec3b(10, 20, 30));
  EXPECT_EQ(canvas.at<cv::Vec3b>(312, 0), cv::Vec3b(114, 114, 114));
  EXPECT_EQ(canvas.at<cv::Vec3b>(415, 415), cv::Vec3b(114, 114, 114));

  ModelInput rgb;
  rgb.width = rgb.height = 32;
  rgb.channel_order = "rgb";
  rgb.scale = 1.0 / 255;
  cv::Mat blob = MakeBlob(img, rgb, nullptr);
  ASSERT_EQ(blob.size[1], 3);
  EXPECT_NEAR(blob.ptr<float>(0, 0)[0], 30.0 / 255, 1e-6);  // channel 0 = R
}

}  // namespace
}  // namespace strata::vision
