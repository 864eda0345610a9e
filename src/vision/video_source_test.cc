#include "strata/vision/video_source.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "strata/core/rng.h"

namespace strata::vision {
namespace {

TEST(VisionVideoSourceTest, MissingFileIsNotFoundWithOneLine) {
  auto r = VideoSource::Open({.uri = "/nonexistent/cam1.mp4"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), "video file '/nonexistent/cam1.mp4' does not exist");
}

TEST(VisionVideoSourceTest, GarbageFileIsInvalidArgumentWithOneLine) {
  std::string path = ::testing::TempDir() + "/garbage_video.mp4";
  {
    std::ofstream out(path, std::ios::binary);
    Rng rng(3);
    for (int i = 0; i < 64 * 1024; ++i) out.put(static_cast<char>(rng.Next() & 0xFF));
  }
  auto r = VideoSource::Open({.uri = path});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("not a video"), std::string::npos) << r.status();
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
  std::filesystem::remove(path);
}

TEST(VisionVideoSourceTest, RejectsEmptyUriAndBadTimeouts) {
  EXPECT_EQ(VideoSource::Open({}).status().code(), StatusCode::kInvalidArgument);
  VideoSourceConfig c;
  c.uri = "x.mp4";
  c.read_timeout = std::chrono::milliseconds(0);
  EXPECT_EQ(VideoSource::Open(c).status().code(), StatusCode::kInvalidArgument);
}

TEST(VisionVideoSourceTest, UnreachableStreamIsUnavailable) {
  VideoSourceConfig c;
  c.uri = "rtsp://127.0.0.1:1/cam";  // nothing listens on port 1: refused at once
  c.open_timeout = std::chrono::milliseconds(2000);
  auto r = VideoSource::Open(c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("rtsp://127.0.0.1:1/cam"), std::string::npos) << r.status();
}

TEST(VisionVideoSourceTest, ErrorsNeverShowTheCameraLogin) {
  VideoSourceConfig c;
  c.uri = "rtsp://admin:s3cret@127.0.0.1:1/cam";
  c.open_timeout = std::chrono::milliseconds(2000);
  auto r = VideoSource::Open(c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("s3cret"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("rtsp://***@127.0.0.1:1/cam"), std::string::npos)
      << r.status();
}

TEST(VisionVideoSourceTest, ReadsVtestWhenInstalled) {
  std::string p = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";
  if (!std::filesystem::exists(p)) GTEST_SKIP() << p << " absent (Debian package opencv-doc)";
  auto src = VideoSource::Open({.uri = p});
  ASSERT_TRUE(src.ok()) << src.status();
  EXPECT_EQ(src->size(), cv::Size(768, 576));
  EXPECT_NEAR(src->fps(), 10.0, 0.01);
  cv::Mat f;
  for (int i = 0; i < 5; ++i) {
    auto got = src->Read(&f);
    ASSERT_TRUE(got.ok());
    ASSERT_TRUE(*got);
  }
  EXPECT_EQ(src->frames_read(), 5);
  EXPECT_EQ(f.size(), cv::Size(768, 576));
}

}  // namespace
}  // namespace strata::vision
