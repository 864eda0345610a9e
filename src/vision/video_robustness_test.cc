// VideoSource on damaged input (issue 8): H.264 / MPEG-4 files written by cv::VideoWriter, then
// truncated and with bytes flipped in the middle (seeded), and a live MJPEG stream on 127.0.0.1
// carrying corrupt JPEGs and SOF headers that claim huge sizes. Every case must end in a clear
// Status or skipped-and-counted frames, never a crash or a frame larger than the header allowed.
// A failing case prints its seed (SCOPED_TRACE); STRATA_ROBUSTNESS_SEED=<n> changes the base seed.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <random>

#include "strata/testing/mjpeg_test_server.h"
#include "strata/vision/image_io.h"
#include "strata/vision/video_source.h"

namespace strata::vision {
namespace {

uint32_t BaseSeed() {
  const char* s = std::getenv("STRATA_ROBUSTNESS_SEED");
  return s ? static_cast<uint32_t>(std::strtoul(s, nullptr, 10)) : 8;
}

// 30 frames of a moving scene at 320x240.
std::vector<cv::Mat> Scene() {
  std::vector<cv::Mat> out;
  for (int i = 0; i < 30; ++i) {
    cv::Mat f(240, 320, CV_8UC3, cv::Scalar(30, 60 + i * 3, 90));
    cv::rectangle(f, {10 + i * 8, 40}, {60 + i * 8, 200}, cv::Scalar(200, 180, 160), -1);
    cv::circle(f, {300 - i * 9, 120}, 25, cv::Scalar(20, 220, 240), -1);
    out.push_back(f);
  }
  return out;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct Codec {
  const char* fourcc;
  const char* ext;
};

TEST(VideoRobustnessTest, CorruptAndTruncatedH264AndMpeg4FilesNeverCrash) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / "strata_video_robustness";
  std::filesystem::create_directories(dir);
  const Codec codecs[] = {{"avc1", ".mp4"}, {"H264", ".avi"}, {"mp4v", ".mp4"}, {"mp4v", ".avi"}};
  const auto scene = Scene();
  int written = 0, opened = 0, rejected = 0, frames = 0, skipped = 0, cases = 0;
  for (const Codec& c : codecs) {
    const std::string clean = (dir / (std::string("clean_") + c.fourcc + c.ext)).string();
    {
      cv::VideoWriter w(clean, cv::CAP_FFMPEG,
                        cv::VideoWriter::fourcc(c.fourcc[0], c.fourcc[1], c.fourcc[2], c.fourcc[3]),
                        10, cv::Size(320, 240));
      if (!w.isOpened()) {
        std::printf("[video robustness] this OpenCV cannot write %s%s; skipped\n", c.fourcc, c.ext);
        continue;
      }
      for (const auto& f : scene) w.write(f);
    }
    ++written;
    {  // the undamaged file reads back completely
      auto src = VideoSource::Open({.uri = clean});
      ASSERT_TRUE(src.ok()) << c.fourcc << c.ext << ": " << src.status();
      cv::Mat f;
      int n = 0;
      while (n < 100 && *src->Read(&f)) ++n;
      EXPECT_EQ(n, 30) << c.fourcc << c.ext;
    }
    const std::string bytes = ReadAll(clean);
    ASSERT_GT(bytes.size(), 1000u);
    for (int k = 0; k < 20; ++k) {
      const uint32_t seed = BaseSeed() * 1000 + static_cast<uint32_t>(cases++);
      SCOPED_TRACE(std::string(c.fourcc) + c.ext + " seed=" + std::to_string(seed));
      std::mt19937 rng(seed);
      std::string b = bytes;
      if (k % 2 == 0) b.resize(b.size() / 5 + rng() % (b.size() * 4 / 5));  // truncated
      const int flips = 1 + static_cast<int>(rng() % 24);
      for (int i = 0; i < flips; ++i)  // flipped bytes in the middle (not the first 10%)
        b[b.size() / 10 + rng() % (b.size() * 8 / 10)] ^= static_cast<char>(1 + rng() % 255);
      const std::string path = (dir / ("damaged_" + std::to_string(seed) + c.ext)).string();
      std::ofstream(path, std::ios::binary).write(b.data(), static_cast<std::streamsize>(b.size()));
      auto src = VideoSource::Open({.uri = path});
      if (!src.ok()) {
        ++rejected;
        EXPECT_EQ(src.status().code(), StatusCode::kInvalidArgument) << src.status();
        EXPECT_EQ(src.status().message().find('\n'), std::string::npos);
      } else {
        ++opened;
        cv::Mat f;
        for (int i = 0; i < 200; ++i) {  // bounded: a 30-frame file
          auto got = src->Read(&f);
          ASSERT_TRUE(got.ok()) << got.status();  // a file ends with false, never an error
          if (!*got) break;
          ++frames;
          ASSERT_FALSE(f.empty());
          EXPECT_LE(f.cols, 4096);
          EXPECT_LE(f.rows, 4096);
        }
        skipped += static_cast<int>(src->frames_skipped());
      }
      std::filesystem::remove(path);
    }
  }
  std::filesystem::remove_all(dir);
  std::printf(
      "[video robustness] %d codecs written; %d damaged files: %d rejected at Open, %d "
      "opened (%d frames decoded, %d undecodable frames skipped)\n",
      written, cases, rejected, opened, frames, skipped);
  EXPECT_GE(written, 2) << "neither H.264 nor MPEG-4 can be written by this OpenCV";
  EXPECT_EQ(rejected + opened, cases);
}

// A live MJPEG stream where every other frame is damaged: truncated, bytes flipped, or a SOF
// header claiming up to 65535x65535. Read() skips what the decoder rejects and never fails
// before the camera closes the stream.
TEST(VideoRobustnessTest, LiveMjpegStreamWithCorruptFramesIsReadToTheEnd) {
  const uint32_t seed = BaseSeed();
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::vector<std::string> good;
  for (const auto& f : Scene()) {
    auto jpeg = EncodeJpeg(f, 80);
    good.emplace_back(jpeg->begin(), jpeg->end());
  }
  std::mt19937 rng(seed);
  std::vector<std::string> frames;
  const int kCorrupt = 200;
  for (int i = 0; i < kCorrupt; ++i) {
    std::string j = good[i % good.size()];
    if (i % 4 == 0) {
      j.resize(j.size() / 4 + rng() % (j.size() * 3 / 4));
    } else if (i % 4 == 1) {
      for (int k = 0; k < 1 + static_cast<int>(rng() % 16); ++k)
        j[j.size() / 8 + rng() % (j.size() * 7 / 8)] = static_cast<char>(rng());
    } else {
      size_t sof = j.find("\xFF\xC0");
      ASSERT_NE(sof, std::string::npos);
      const int w = i % 4 == 2 ? 65535 : 8000 + static_cast<int>(rng() % 30000);
      const int h = i % 4 == 2 ? 65535 : 8000 + static_cast<int>(rng() % 30000);
      j[sof + 5] = static_cast<char>(h >> 8), j[sof + 6] = static_cast<char>(h & 0xFF);
      j[sof + 7] = static_cast<char>(w >> 8), j[sof + 8] = static_cast<char>(w & 0xFF);
    }
    frames.push_back(good[i % good.size()]);
    frames.push_back(std::move(j));
  }
  testing::MjpegTestServer cam(frames, 200);
  cam.SendOnce();
  auto src = VideoSource::Open({.uri = cam.url(), .read_timeout = std::chrono::milliseconds(3000)});
  ASSERT_TRUE(src.ok()) << src.status();
  EXPECT_FALSE(src->is_file());
  cv::Mat f;
  Status end = Status::Ok();
  for (int i = 0; i < 2000; ++i) {  // bounded: 400 frames are sent, then the stream closes
    auto got = src->Read(&f);
    if (!got.ok()) {
      end = got.status();
      break;
    }
    ASSERT_TRUE(*got);
    ASSERT_FALSE(f.empty());
    ASSERT_LE(static_cast<int64_t>(f.cols) * f.rows, 320 * 240) << "a frame larger than sent";
  }
  std::printf(
      "[video robustness] live MJPEG: %zu frames sent (%d damaged): %lld read, %lld "
      "skipped by the decoder; end: %s\n",
      frames.size(), kCorrupt, static_cast<long long>(src->frames_read()),
      static_cast<long long>(src->frames_skipped()), end.ToString().c_str());
  EXPECT_EQ(end.code(), StatusCode::kUnavailable) << "the stream ends when the camera closes it";
  EXPECT_EQ(cam.frames_sent(), static_cast<int64_t>(frames.size()))
      << "Read failed before the camera had sent every frame";
  EXPECT_EQ(cam.connections(), 1);
  EXPECT_GE(src->frames_read(), static_cast<int64_t>(frames.size()) / 2)
      << "every undamaged frame should be read";
  EXPECT_GE(src->frames_skipped(), kCorrupt / 4) << "SOF bombs must be skipped, not decoded";
}

// A JPEG whose SOF claims a size INSIDE the limits but carries far too little data: libjpeg
// would pad it with grey (a few KB -> a 100 MB frame), so the decoder refuses it from its size
// before any pixel is allocated; a legitimate but nearly uniform large frame still decodes.
TEST(VideoRobustnessTest, InLimitSofBombIsRejectedFromItsSize) {
  cv::Mat f = Scene()[0];
  auto jpeg = EncodeJpeg(f, 80);
  std::vector<uint8_t> b = *jpeg;
  size_t sof = 0;
  while (sof + 1 < b.size() && !(b[sof] == 0xFF && b[sof + 1] == 0xC0)) ++sof;
  ASSERT_LT(sof + 9, b.size());
  b[sof + 5] = 4320 >> 8, b[sof + 6] = 4320 & 0xFF, b[sof + 7] = 7680 >> 8,
          b[sof + 8] = 7680 & 0xFF;
  auto img = DecodeJpeg(b, ImageLimits{});
  ASSERT_FALSE(img.ok()) << b.size() << "-byte JPEG claiming 7680x4320 was decoded";
  EXPECT_NE(img.status().message().find("too small for its 7680x4320"), std::string::npos)
      << img.status();
  cv::Mat flat(2160, 3840, CV_8UC3, cv::Scalar(40, 40, 40));  // 4K, one colour: smallest honest
  auto flat_jpeg = EncodeJpeg(flat, 30);
  ASSERT_TRUE(flat_jpeg.ok());
  auto back = DecodeJpeg(*flat_jpeg, ImageLimits{});
  ASSERT_TRUE(back.ok()) << flat_jpeg->size() << " bytes: " << back.status();
  EXPECT_EQ(back->cols, 3840);
  auto over = b;
  over[sof + 7] = 9000 >> 8, over[sof + 8] = 9000 & 0xFF;  // over max_width: rejected up front
  auto r = DecodeJpeg(over, ImageLimits{});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("exceeds the limit"), std::string::npos) << r.status();
}

}  // namespace
}  // namespace strata::vision
