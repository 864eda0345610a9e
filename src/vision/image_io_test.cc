#include "strata/vision/image_io.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace strata::vision {
namespace {

std::vector<uint8_t> Jpeg(int w, int h) {
  cv::Mat m(h, w, CV_8UC3, cv::Scalar(20, 120, 220));
  cv::circle(m, cv::Point(w / 2, h / 2), std::min(w, h) / 3, cv::Scalar(255, 255, 255), -1);
  auto r = EncodeJpeg(m, 90);
  EXPECT_TRUE(r.ok());
  return *r;
}

// Rewrites the SOF0 dimensions of a real JPEG (only the header; the data stays 64x48).
std::vector<uint8_t> WithSofSize(std::vector<uint8_t> j, int w, int h) {
  for (size_t i = 2; i + 9 < j.size(); ++i) {
    if (j[i] == 0xFF && j[i + 1] == 0xC0) {
      j[i + 5] = h >> 8;
      j[i + 6] = h & 0xFF;
      j[i + 7] = w >> 8;
      j[i + 8] = w & 0xFF;
      return j;
    }
  }
  ADD_FAILURE() << "no SOF0";
  return j;
}

TEST(VisionImageIoTest, DecodesAValidJpegAndProbesItsHeader) {
  auto bytes = Jpeg(64, 48);
  auto h = ProbeImageHeader(bytes);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->format, ImageFormat::kJpeg);
  EXPECT_EQ(h->width, 64);
  EXPECT_EQ(h->height, 48);
  EXPECT_EQ(h->channels, 3);
  auto img = DecodeJpeg(bytes, {});
  ASSERT_TRUE(img.ok()) << img.status();
  EXPECT_EQ(img->size(), cv::Size(64, 48));
  EXPECT_EQ(img->type(), CV_8UC3);
}

TEST(VisionImageIoTest, RejectsHugeHeaderBeforeDecoding) {
  auto bomb = WithSofSize(Jpeg(64, 48), 20000, 20000);
  auto h = ProbeImageHeader(bomb);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->width, 20000);
  auto r = DecodeJpeg(bomb, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("20000x20000 exceeds the limit 8192x8192"), std::string::npos)
      << r.status();
}

TEST(VisionImageIoTest, RejectsHugePngHeader) {
  cv::Mat m(8, 8, CV_8UC1, cv::Scalar(3));
  std::vector<uint8_t> png;
  ASSERT_TRUE(cv::imencode(".png", m, png));
  auto h = ProbeImageHeader(png);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->format, ImageFormat::kPng);
  EXPECT_EQ(h->width, 8);
  png[16] = 0;
  png[17] = 0;
  png[18] = 0x4E;
  png[19] = 0x20;  // width 20000
  png[20] = 0;
  png[21] = 0;
  png[22] = 0x4E;
  png[23] = 0x20;
  auto r = DecodeImage(png, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("20000x20000"), std::string::npos);
  EXPECT_EQ(DecodeJpeg(png, {}).status().message(), "expected a JPEG image, got png");
}

TEST(VisionImageIoTest, RejectsEmptyBody) {
  auto r = DecodeJpeg({}, {});
  EXPECT_EQ(r.status(), InvalidArgumentError("empty image body"));
}

TEST(VisionImageIoTest, RejectsNonImageBytes) {
  std::string text = "{\"hello\": \"this is json, not a jpeg\"}";
  std::vector<uint8_t> b(text.begin(), text.end());
  auto r = DecodeJpeg(b, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("not a JPEG or PNG"), std::string::npos);
}

TEST(VisionImageIoTest, RejectsTruncatedJpeg) {
  auto bytes = Jpeg(256, 192);
  bytes.resize(bytes.size() / 2);
  auto r = DecodeJpeg(bytes, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no end-of-image marker"), std::string::npos) << r.status();
}

TEST(VisionImageIoTest, RejectsJpegWithoutFrameHeader) {
  std::vector<uint8_t> b = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 'J', 'F', 0xFF, 0xDA, 0x00, 0x02};
  auto r = DecodeJpeg(b, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no frame header"), std::string::npos) << r.status();
  std::vector<uint8_t> cut = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J'};
  EXPECT_NE(DecodeJpeg(cut, {}).status().message().find("truncated"), std::string::npos);
}

TEST(VisionImageIoTest, RejectsCorruptJpegData) {
  auto bytes = Jpeg(64, 48);
  // Point the first component at quantization table 3, which the file never defines.
  bool patched = false;
  for (size_t i = 2; i + 12 < bytes.size() && !patched; ++i) {
    if (bytes[i] == 0xFF && bytes[i + 1] == 0xC0) {
      bytes[i + 12] = 3;
      patched = true;
    }
  }
  ASSERT_TRUE(patched);
  auto r = DecodeJpeg(bytes, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("corrupt"), std::string::npos) << r.status();
}

TEST(VisionImageIoTest, RejectsOversizedBody) {
  ImageLimits limits;
  limits.max_bytes = 100;
  auto r = DecodeJpeg(Jpeg(64, 48), limits);
  EXPECT_NE(r.status().message().find("exceeds the limit of 100"), std::string::npos);
}

TEST(VisionImageIoTest, EncodeRejectsBadInput) {
  EXPECT_FALSE(EncodeJpeg(cv::Mat(), 80).ok());
  EXPECT_FALSE(EncodeJpeg(cv::Mat(4, 4, CV_8UC3), 0).ok());
}

}  // namespace
}  // namespace strata::vision
