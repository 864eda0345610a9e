// strata-detect's frame decode path under seeded damage (issue 8): 200 mutated or truncated JPEGs
// of a real frame (vtest.avi when installed, else synthetic) and JPEGs whose SOF header claims
// huge sizes, POSTed to a real server on 127.0.0.1. Each must get 200 (the decoder coped) or a
// precise 400 problem+json; never a 5xx, a dropped connection or a crash; the service keeps
// serving. A failing case prints its seed; STRATA_ROBUSTNESS_SEED=<n> changes the base seed.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <random>

#include "detect_service.h"
#include "strata/transport/http_client.h"

namespace strata::detect_service {
namespace {

constexpr char kVtest[] = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";

uint32_t BaseSeed() {
  const char* s = std::getenv("STRATA_ROBUSTNESS_SEED");
  return s ? static_cast<uint32_t>(std::strtoul(s, nullptr, 10)) : 8;
}

// A 160x120 JPEG of a real frame (small: the detector's cost stays out of this test).
std::string FrameJpeg() {
  cv::Mat frame;
  cv::VideoCapture cap(kVtest, cv::CAP_FFMPEG);
  if (!cap.isOpened() || !cap.read(frame)) {
    frame = cv::Mat(120, 160, CV_8UC3, cv::Scalar(60, 90, 120));
    cv::circle(frame, {80, 60}, 30, cv::Scalar(250, 250, 250), -1);
  }
  cv::resize(frame, frame, cv::Size(160, 120));
  auto jpeg = vision::EncodeJpeg(frame, 85);
  return std::string(jpeg->begin(), jpeg->end());
}

size_t SofAt(const std::string& j) { return j.find("\xFF\xC0"); }

std::string WithSize(std::string j, int w, int h) {
  size_t sof = SofAt(j);
  j[sof + 5] = static_cast<char>(h >> 8), j[sof + 6] = static_cast<char>(h & 0xFF);
  j[sof + 7] = static_cast<char>(w >> 8), j[sof + 8] = static_cast<char>(w & 0xFF);
  return j;
}

class DetectRobustnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto svc = DetectService::Create(DetectConfig{});
    ASSERT_TRUE(svc.ok()) << svc.status();
    service_ = std::move(svc).value();
    server_ = std::move(http::HttpServer::Create({.service = "detect_robustness"})).value();
    service_->RegisterRoutes(*server_);
    ASSERT_TRUE(server_->Start().ok());
    client_ = std::move(http::HttpClient::Create(
                            {.base_url = "http://127.0.0.1:" + std::to_string(server_->port()),
                             .max_retries = 0}))
                  .value();
  }
  Result<http::ClientResponse> Post(const std::string& body) {
    return client_->Post("/api/v1/frames", body, "image/jpeg", {{"X-Strata-Camera", "cam-r"}});
  }
  // 200 with the frame's size, or 400 problem+json with a detail; counts the outcome.
  void ExpectHandled(const std::string& body, const std::string& what) {
    auto r = Post(body);
    ASSERT_TRUE(r.ok()) << what << ": " << r.status();
    if (r->status == 200) {
      ++accepted_;
      auto j = r->Json();
      ASSERT_TRUE(j.ok()) << what;
      EXPECT_LE((*j)["width"].get<int>(), 8192) << what;
      return;
    }
    ASSERT_EQ(r->status, 400) << what << ": " << r->body;
    EXPECT_EQ(r->Header("content-type").rfind("application/problem+json", 0), 0u) << what;
    auto j = r->Json();
    ASSERT_TRUE(j.ok()) << what;
    const std::string detail = (*j)["detail"].get<std::string>();
    EXPECT_FALSE(detail.empty()) << what;
    ++rejected_[detail.substr(0, detail.find_first_of(":(0123456789"))];
  }
  void ExpectStillServing(const std::string& good) {
    auto ok = Post(good);
    ASSERT_TRUE(ok.ok()) << ok.status();
    EXPECT_EQ(ok->status, 200) << ok->body;
    EXPECT_EQ((*ok->Json())["width"], 160);
    EXPECT_EQ(client_->Get("/readyz")->status, 200);
  }
  std::unique_ptr<DetectService> service_;
  std::unique_ptr<http::HttpServer> server_;
  std::unique_ptr<http::HttpClient> client_;
  int accepted_ = 0;
  std::map<std::string, int> rejected_;  // by the detail's leading words
};

TEST_F(DetectRobustnessTest, TwoHundredSeededMutationsAreEachAnsweredAndTheServiceKeepsServing) {
  const std::string good = FrameJpeg();
  const size_t data_from = SofAt(good) + 10;  // leave the size alone: bombs are the next test
  ASSERT_LT(data_from, good.size());
  const int kCases = 200;
  for (int i = 0; i < kCases; ++i) {
    const uint32_t seed = BaseSeed() * 1000 + static_cast<uint32_t>(i);
    SCOPED_TRACE("seed=" + std::to_string(seed));
    std::mt19937 rng(seed);
    std::string b = good;
    const size_t span = b.size() - data_from;
    switch (i % 5) {
      case 0:  // truncated anywhere (even inside the header)
        b.resize(rng() % b.size());
        break;
      case 1:  // bytes flipped after the frame header
        for (int k = 0; k < 1 + static_cast<int>(rng() % 32); ++k)
          b[data_from + rng() % span] ^= static_cast<char>(1 + rng() % 255);
        break;
      case 2:  // a run of random bytes
        for (size_t at = data_from + rng() % span, n = 1 + rng() % 256; n > 0 && at < b.size();
             --n, ++at)
          b[at] = static_cast<char>(rng());
        break;
      case 3:  // bytes deleted or inserted (markers shift)
        if (rng() % 2) {
          b.erase(data_from + rng() % span, 1 + rng() % 64);
        } else {
          b.insert(data_from + rng() % span, std::string(1 + rng() % 64, static_cast<char>(rng())));
        }
        break;
      default:  // truncated and then flipped, with the end-of-image marker put back
        b.resize(data_from + 1 + rng() % (span - 1));
        b[data_from + rng() % (b.size() - data_from)] ^= 0x5A;
        b += "\xFF\xD9";
        break;
    }
    ExpectHandled(b, "mutation " + std::to_string(i));
  }
  ExpectStillServing(good);
  int rejected = 0;
  std::string why;
  for (const auto& [detail, n] : rejected_) {
    rejected += n;
    why += " [" + std::to_string(n) + "x " + detail + "]";
  }
  std::printf("[detect robustness] %d mutated JPEGs: %d decoded (200), %d rejected (400):%s\n",
              kCases, accepted_, rejected, why.c_str());
  EXPECT_EQ(accepted_ + rejected, kCases);
  EXPECT_GT(rejected, 0);
}

TEST_F(DetectRobustnessTest, HugeDimensionHeadersAreRejectedBeforeDecoding) {
  const std::string good = FrameJpeg();
  const int sizes[][2] = {{65535, 65535}, {20000, 20000}, {8193, 8}, {8, 8193},
                          {8192, 8192},   {65535, 1},     {0, 120},  {160, 0}};
  for (const auto& s : sizes) {
    const std::string what = std::to_string(s[0]) + "x" + std::to_string(s[1]);
    auto r = Post(WithSize(good, s[0], s[1]));
    ASSERT_TRUE(r.ok()) << what << ": " << r.status();
    EXPECT_EQ(r->status, 400) << what << ": " << r->body;
    const std::string detail = (*r->Json())["detail"].get<std::string>();
    const bool zero = s[0] == 0 || s[1] == 0;
    EXPECT_NE(detail.find(zero ? "zero dimension" : "exceeds the limit"), std::string::npos)
        << what << ": " << detail;
  }
  ExpectStillServing(good);
}

}  // namespace
}  // namespace strata::detect_service
