// Test helpers for strata-identify: a real service + HttpServer on port 0 + HttpClient, ORL face
// images as JPEG (skipped with a reason when ../shared/assets is absent), small bad-input JPEGs.
// Thread-safety: one harness per test thread.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>

#include "identify_config.h"
#include "strata/testing/fixtures.h"
#include "strata/transport/http_client.h"
#include "strata/vision/image_io.h"

namespace strata::identify_service::test {

inline std::string AssetsDir() { return std::string(STRATA_SOURCE_DIR) + "/../shared/assets"; }
inline std::string OrlDir() { return AssetsDir() + "/faces/att_faces"; }
inline bool HaveOrl() { return std::filesystem::exists(OrlDir() + "/s40/10.pgm"); }

#define SKIP_WITHOUT_ORL() \
  if (!HaveOrl()) GTEST_SKIP() << OrlDir() << " is absent (see ../shared/assets/MANIFEST.md)"

// ORL subject `id` (1..40), image `k` (1..10) as a JPEG (grey, quality 90); "" when unreadable.
// `framed`: upscaled x2 with a 40 px black border, like a detect face crop with margin (YuNet does
// not find ORL's tightly cropped faces otherwise; MANIFEST.md §2.3).
inline std::string OrlJpeg(int id, int k, bool framed = false) {
  cv::Mat img = cv::imread(OrlDir() + "/s" + std::to_string(id) + "/" + std::to_string(k) + ".pgm",
                           cv::IMREAD_GRAYSCALE);
  if (img.empty()) return "";
  if (framed) {
    cv::Mat big;
    cv::resize(img, big, cv::Size(), 2.0, 2.0, cv::INTER_LINEAR);
    cv::copyMakeBorder(big, img, 40, 40, 40, 40, cv::BORDER_CONSTANT, cv::Scalar::all(0));
  }
  auto jpeg = vision::EncodeJpeg(img, 90);
  return jpeg.ok() ? std::string(jpeg->begin(), jpeg->end()) : "";
}

// A small valid JPEG (colour gradient, no face).
inline std::string SmallJpeg() {
  cv::Mat img(48, 64, CV_8UC3);
  for (int y = 0; y < img.rows; ++y) img.row(y).setTo(cv::Scalar(y * 4, 128, 255 - y * 4));
  auto jpeg = vision::EncodeJpeg(img, 90);
  return std::string(jpeg->begin(), jpeg->end());
}

inline http::HeaderList CropHeaders(const std::string& camera, int64_t track,
                                    const std::string& kind = "face") {
  return {{"X-Strata-Camera", camera},
          {"X-Strata-Track-Id", std::to_string(track)},
          {"X-Strata-Kind", kind}};
}

class IdentifyHarness : public ::testing::Test {
 protected:
  // Starts the service on `data_dir` (default: this test's temp dir) with a 1 MiB body limit.
  void Start(IdentifyConfig cfg, const std::string& data_dir = "") {
    client_.reset();
    server_.reset();
    service_.reset();
    cfg.data_dir = data_dir.empty() ? dir_.path() : data_dir;
    cfg.image_limits.max_bytes = 1 << 20;
    auto svc = IdentifyService::Create(cfg);
    ASSERT_TRUE(svc.ok()) << svc.status();
    service_ = std::move(svc).value();
    auto srv = http::HttpServer::Create({.service = "identify_test", .max_body_bytes = 1 << 20});
    ASSERT_TRUE(srv.ok());
    server_ = std::move(srv).value();
    service_->RegisterRoutes(*server_);
    ASSERT_TRUE(server_->Start().ok());
    client_ = std::move(http::HttpClient::Create(
                            {.base_url = "http://127.0.0.1:" + std::to_string(server_->port()),
                             .max_retries = 0}))
                  .value();
  }
  void Stop() {
    client_.reset();
    server_.reset();
    service_.reset();
  }
  Result<http::ClientResponse> Enrol(const std::string& person, const std::string& jpeg,
                                     const std::string& type = "image/jpeg") {
    return client_->Post("/api/v1/gallery/" + person, jpeg, type);
  }
  Result<http::ClientResponse> PostFace(const std::string& jpeg, const http::HeaderList& h,
                                        const std::string& type = "image/jpeg") {
    return client_->Post("/api/v1/faces", jpeg, type, h);
  }
  // The identity JSON of a face crop, or a null json on failure (with a test failure).
  nlohmann::json Identify(const std::string& jpeg, int64_t track = 1) {
    auto r = PostFace(jpeg, CropHeaders("cam-1", track));
    EXPECT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
    if (!r.ok() || r->status != 200) return nullptr;
    return (*r->Json())["identity"];
  }
  void ExpectProblemThenHealthy(const Result<http::ClientResponse>& r, int status,
                                const std::string& what) {
    ASSERT_TRUE(r.ok()) << what << ": " << r.status();
    EXPECT_EQ(r->status, status) << what << ": " << r->body;
    EXPECT_EQ(r->Header("content-type").rfind("application/problem+json", 0), 0u) << what;
    auto j = r->Json();
    ASSERT_TRUE(j.ok()) << what;
    EXPECT_EQ((*j)["status"], status) << what;
    EXPECT_FALSE((*j)["detail"].get<std::string>().empty()) << what;
    auto health = client_->Get("/healthz");
    ASSERT_TRUE(health.ok()) << "after " << what;
    EXPECT_EQ(health->status, 200) << "after " << what;
  }

  strata::testing::TempDir dir_;
  std::unique_ptr<IdentifyService> service_;
  std::unique_ptr<http::HttpServer> server_;
  std::unique_ptr<http::HttpClient> client_;
};

}  // namespace strata::identify_service::test
