#include "strata/vision/frame_change.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "strata/core/rng.h"

namespace strata::vision {
namespace {

WallTime T(double s) { return FromUnixSeconds(1'700'000'000 + s); }

cv::Mat Scene() {
  cv::Mat m(576, 768, CV_8UC3, cv::Scalar(90, 110, 100));
  cv::rectangle(m, cv::Rect(50, 60, 200, 120), cv::Scalar(40, 60, 200), cv::FILLED);
  cv::circle(m, cv::Point(600, 400), 80, cv::Scalar(200, 200, 200), cv::FILLED);
  return m;
}

cv::Mat WithBox(int x, int y) {
  cv::Mat m = Scene();
  cv::rectangle(m, cv::Rect(x, y, 60, 150), cv::Scalar(10, 10, 10), cv::FILLED);
  return m;
}

FrameChangeConfig NoKeepalive(const std::string& method) {
  FrameChangeConfig c;
  c.method = method;
  c.keepalive = std::chrono::milliseconds(0);
  return c;
}

class VisionFrameChangeMethods : public ::testing::TestWithParam<std::string> {};

TEST_P(VisionFrameChangeMethods, StaticFramesAreNotChanged) {
  auto gate = FrameChange::Create(NoKeepalive(GetParam()));
  ASSERT_TRUE(gate.ok()) << gate.status();
  cv::Mat f = Scene();
  auto first = gate->Process(f, T(0));
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->forward);
  EXPECT_EQ(first->reason, ForwardReason::kFirstFrame);
  for (int i = 1; i < 20; ++i) {
    auto r = gate->Process(f.clone(), T(i * 0.1));
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->changed) << i;
    EXPECT_FALSE(r->forward) << i;
    EXPECT_EQ(r->changed_fraction, 0.0);
  }
}

TEST_P(VisionFrameChangeMethods, MovingRectangleIsChanged) {
  auto gate = FrameChange::Create(NoKeepalive(GetParam()));
  ASSERT_TRUE(gate.ok());
  ASSERT_TRUE(gate->Process(Scene(), T(0)).ok());
  int changed = 0;
  for (int i = 1; i <= 10; ++i) {
    auto r = gate->Process(WithBox(300 + 12 * i, 200), T(i * 0.1));
    ASSERT_TRUE(r.ok());
    changed += r->changed;
    if (r->changed) {
      ASSERT_FALSE(r->motion_boxes.empty());
      // The motion box lies around the rectangle (x in 300..480 of 768).
      EXPECT_GT(r->motion_boxes[0].x + r->motion_boxes[0].width, 300.0f / 768);
      EXPECT_LT(r->motion_boxes[0].x, 500.0f / 768);
    }
  }
  EXPECT_EQ(changed, 10);
}

TEST_P(VisionFrameChangeMethods, SensorNoiseBelowThresholdIsNotChanged) {
  auto gate = FrameChange::Create(NoKeepalive(GetParam()));
  ASSERT_TRUE(gate.ok());
  Rng rng(7);
  cv::Mat base = Scene();
  for (int i = 0; i < 30; ++i) {
    cv::Mat noisy = base.clone();
    for (auto it = noisy.begin<cv::Vec3b>(); it != noisy.end<cv::Vec3b>(); ++it) {
      for (int c = 0; c < 3; ++c) {
        (*it)[c] = cv::saturate_cast<uchar>((*it)[c] + rng.Normal(0, 6));  // sigma 6 grey levels
      }
    }
    auto r = gate->Process(noisy, T(i * 0.1));
    ASSERT_TRUE(r.ok());
    if (i > 0) {
      EXPECT_FALSE(r->changed) << "frame " << i << " fraction " << r->changed_fraction;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(VisionBoth, VisionFrameChangeMethods,
                         ::testing::Values("consecutive", "background"));

TEST(VisionFrameChangeTest, IgnoreMaskHidesMotionInside) {
  FrameChangeConfig c = NoKeepalive("consecutive");
  // Mask the right half of the frame.
  c.ignore_masks.push_back({{0.5f, 0.0f}, {1.0f, 0.0f}, {1.0f, 1.0f}, {0.5f, 1.0f}});
  auto gate = FrameChange::Create(c);
  ASSERT_TRUE(gate.ok()) << gate.status();
  ASSERT_TRUE(gate->Process(Scene(), T(0)).ok());
  for (int i = 1; i <= 5; ++i) {  // moving inside the mask (x 450..)
    auto r = gate->Process(WithBox(450 + 15 * i, 250), T(i));
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->changed) << i << " fraction " << r->changed_fraction;
  }
  auto outside = gate->Process(WithBox(100, 300), T(6));  // box appears outside the mask
  ASSERT_TRUE(outside.ok());
  EXPECT_TRUE(outside->changed);
}

TEST(VisionFrameChangeTest, KeepAliveUsesFrameTimestamps) {
  FrameChangeConfig c = NoKeepalive("consecutive");
  c.keepalive = std::chrono::seconds(5);
  auto gate = FrameChange::Create(c);
  ASSERT_TRUE(gate.ok());
  cv::Mat f = Scene();
  ASSERT_TRUE(gate->Process(f, T(0)).ok());
  std::vector<double> forwarded_at;
  for (int i = 1; i <= 120; ++i) {  // 12 s of a static scene at 10 fps
    auto r = gate->Process(f, T(i * 0.1));
    ASSERT_TRUE(r.ok());
    if (r->forward) {
      EXPECT_EQ(r->reason, ForwardReason::kKeepAlive);
      forwarded_at.push_back(i * 0.1);
    }
  }
  ASSERT_EQ(forwarded_at.size(), 2u);
  EXPECT_NEAR(forwarded_at[0], 5.0, 1e-6);
  EXPECT_NEAR(forwarded_at[1], 10.0, 1e-6);
}

TEST(VisionFrameChangeTest, GlobalChangeResetsTheReference) {
  auto gate = FrameChange::Create(NoKeepalive("background"));
  ASSERT_TRUE(gate.ok());
  ASSERT_TRUE(gate->Process(Scene(), T(0)).ok());
  cv::Mat dark = Scene() * 0.3;  // lights off
  auto r1 = gate->Process(dark, T(0.1));
  ASSERT_TRUE(r1.ok());
  EXPECT_TRUE(r1->scene_change);
  EXPECT_TRUE(r1->forward);
  auto r2 = gate->Process(dark, T(0.2));  // recalibrated: the new scene is the reference
  ASSERT_TRUE(r2.ok());
  EXPECT_FALSE(r2->changed);
}

TEST(VisionFrameChangeTest, RejectsBadConfigAndInput) {
  FrameChangeConfig c;
  c.method = "median";
  EXPECT_EQ(FrameChange::Create(c).status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(FrameChange::Create(c).status().message().find("frame_change.method"),
            std::string::npos);
  c = FrameChangeConfig();
  c.blur_kernel = 4;
  EXPECT_NE(FrameChange::Create(c).status().message().find("blur_kernel"), std::string::npos);
  c = FrameChangeConfig();
  c.min_changed_fraction = 0;
  EXPECT_FALSE(FrameChange::Create(c).ok());
  c = FrameChangeConfig();
  c.ignore_masks.push_back({{0.1f, 0.1f}, {1.5f, 0.1f}, {0.5f, 0.5f}});
  EXPECT_NE(FrameChange::Create(c).status().message().find("ignore_masks[0]"), std::string::npos);

  auto gate = FrameChange::Create({});
  ASSERT_TRUE(gate.ok());
  EXPECT_EQ(gate->Process(cv::Mat(), T(0)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(gate->Process(cv::Mat(10, 10, CV_32FC1), T(0)).ok());
  ASSERT_TRUE(gate->Process(Scene(), T(0)).ok());
  auto wrong = gate->Process(cv::Mat(100, 100, CV_8UC3, cv::Scalar::all(0)), T(1));
  EXPECT_NE(wrong.status().message().find("size changed"), std::string::npos);
}

}  // namespace
}  // namespace strata::vision
