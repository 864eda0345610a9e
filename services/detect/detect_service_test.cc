// strata-detect's HTTP API against a real server on port 0 (embedded HOG + Haar; vtest.avi frames).
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>
#include <set>
#include <thread>

#include "detect_config.h"
#include "strata/transport/http_client.h"
#include "strata/vision/image_io.h"

namespace strata::detect_service {
namespace {

using nlohmann::json;

constexpr char kVtest[] = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";

// JPEGs of vtest.avi frames [first, first + count), read once per process; empty when absent.
std::vector<std::string> VtestJpegs(int first, int count) {
  static std::map<int, std::string> cache;
  static bool opened = false, available = false;
  if (!opened) {
    opened = true;
    cv::VideoCapture cap(kVtest, cv::CAP_FFMPEG);
    available = cap.isOpened();
    cv::Mat frame;
    for (int i = 0; available && i < 206 && cap.read(frame); ++i) {
      if (i < 200) continue;
      std::vector<uint8_t> buf;
      cv::imencode(".jpg", frame, buf, {cv::IMWRITE_JPEG_QUALITY, 90});
      cache[i].assign(buf.begin(), buf.end());
    }
  }
  std::vector<std::string> out;
  for (int i = first; i < first + count; ++i)
    if (cache.count(i)) out.push_back(cache[i]);
  return out;
}

#define SKIP_WITHOUT_VTEST(frames) \
  if (frames.empty()) GTEST_SKIP() << kVtest << " is absent (install Debian opencv-doc)"

// A small valid JPEG (grey gradient), for bad-input variants.
std::string SmallJpeg() {
  cv::Mat img(48, 64, CV_8UC3);
  for (int y = 0; y < img.rows; ++y) img.row(y).setTo(cv::Scalar(y * 4, 128, 255 - y * 4));
  auto jpeg = vision::EncodeJpeg(img, 90);
  return std::string(jpeg->begin(), jpeg->end());
}

class DetectServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DetectConfig cfg;
    cfg.tracker.min_hits = 1;  // ids from the first frame, so 5 frames show continuity
    Start(cfg);
  }
  void Start(const DetectConfig& cfg) {
    auto svc = DetectService::Create(cfg);
    ASSERT_TRUE(svc.ok()) << svc.status();
    service_ = std::move(svc).value();
    auto srv = http::HttpServer::Create({.service = "detect_test", .max_body_bytes = 1 << 20});
    ASSERT_TRUE(srv.ok());
    server_ = std::move(srv).value();
    service_->RegisterRoutes(*server_);
    ASSERT_TRUE(server_->Start().ok());
    client_ = std::move(http::HttpClient::Create(
                            {.base_url = "http://127.0.0.1:" + std::to_string(server_->port()),
                             .max_retries = 0}))
                  .value();
  }
  Result<http::ClientResponse> PostFrame(const std::string& body, const std::string& camera,
                                         const std::string& query = "",
                                         const std::string& type = "image/jpeg") {
    http::HeaderList h;
    if (!camera.empty()) h.emplace_back("X-Strata-Camera", camera);
    h.emplace_back("X-Strata-Frame-Id", "f1");
    h.emplace_back("X-Strata-Captured-At", "2026-11-24T06:00:00Z");
    return client_->Post("/api/v1/frames" + query, body, type, h);
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
  std::unique_ptr<DetectService> service_;
  std::unique_ptr<http::HttpServer> server_;
  std::unique_ptr<http::HttpClient> client_;
};

TEST_F(DetectServiceTest, EveryRouteIsInTheOpenApiDocument) {
  auto m = http::OpenApiMismatches(*server_, OpenApi());
  EXPECT_TRUE(m.empty()) << m.front();
  auto r = client_->Get("/api/v1/openapi.json");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r->Json())["openapi"], "3.1.0");
}

TEST_F(DetectServiceTest, ReadyOnceTheDetectorIsLoaded) {
  auto r = client_->Get("/readyz");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(service_->detector_name(), "hog");
}

TEST_F(DetectServiceTest, FindsPeopleInVtestFrame200WithNormalisedBoxes) {
  auto frames = VtestJpegs(200, 1);
  SKIP_WITHOUT_VTEST(frames);
  auto r = PostFrame(frames[0], "cam-1");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->status, 200) << r->body;
  json j = *r->Json();
  EXPECT_EQ(j["camera"], "cam-1");
  EXPECT_EQ(j["frame_id"], "f1");
  EXPECT_EQ(j["width"], 768);
  EXPECT_EQ(j["height"], 576);
  int persons = 0;
  for (const json& d : j["detections"]) {
    if (d["label"] == "person") ++persons;
    ASSERT_EQ(d["box"].size(), 4u);
    for (double v : d["box"]) {
      EXPECT_GE(v, 0.0);
      EXPECT_LE(v, 1.0);
    }
    EXPECT_LT(d["box"][0].get<double>(), d["box"][2].get<double>());
    EXPECT_LT(d["box"][1].get<double>(), d["box"][3].get<double>());
    EXPECT_TRUE(d["faces"].is_array());
  }
  EXPECT_GE(persons, 2) << j.dump();
  for (const char* k : {"decode", "detect", "faces", "total"})
    EXPECT_TRUE(j["latency_ms"][k].is_number()) << k;
  auto metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find("strata_detect_frames_total"), std::string::npos);
  EXPECT_NE(metrics->body.find("stage=\"detect\""), std::string::npos);
}

TEST_F(DetectServiceTest, SamePersonKeepsItsTrackIdAcrossFiveFrames) {
  auto frames = VtestJpegs(200, 5);
  SKIP_WITHOUT_VTEST(frames);
  ASSERT_EQ(frames.size(), 5u);
  std::vector<std::set<int>> ids;  // track ids seen per frame
  for (const std::string& f : frames) {
    auto r = PostFrame(f, "cam-track");
    ASSERT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().message());
    std::set<int> seen;
    json body = *r->Json();
    for (const json& d : body["detections"])
      if (d["track_id"].is_number()) seen.insert(d["track_id"].get<int>());
    ids.push_back(seen);
  }
  std::vector<int> kept;  // ids present in all five frames
  for (int id : ids[0])
    if (std::all_of(ids.begin(), ids.end(), [id](const std::set<int>& s) { return s.count(id); }))
      kept.push_back(id);
  EXPECT_FALSE(kept.empty()) << "no track survived 5 consecutive frames";
  // Another camera has its own tracker: its first ids start again at 1.
  auto other = PostFrame(frames[0], "cam-other");
  ASSERT_TRUE(other.ok());
  std::set<int> other_ids;
  json other_body = *other->Json();
  for (const json& d : other_body["detections"]) other_ids.insert(d["track_id"].get<int>());
  EXPECT_TRUE(other_ids.count(1)) << other->body;
}

TEST_F(DetectServiceTest, ConcurrentFramesFromSeveralClientsAllSucceed) {
  auto frames = VtestJpegs(200, 2);
  SKIP_WITHOUT_VTEST(frames);
  std::atomic<int> ok{0}, with_people{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      auto client = http::HttpClient::Create(
          {.base_url = "http://127.0.0.1:" + std::to_string(server_->port()), .max_retries = 0});
      for (const std::string& f : frames) {
        auto r = (*client)->Post("/api/v1/frames", f, "image/jpeg",
                                 {{"X-Strata-Camera", t == 2 ? "cam-d" : "cam-c"}});
        if (!r.ok() || r->status != 200) continue;
        ++ok;
        if (!(*r->Json())["detections"].empty()) ++with_people;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 6);
  EXPECT_EQ(with_people.load(), 6);
  auto img = client_->Get("/api/v1/frames/cam-c/annotated.jpg");
  ASSERT_TRUE(img.ok());
  EXPECT_EQ(img->status, 200);
}

TEST_F(DetectServiceTest, BadInputIsAProblemAndTheServiceKeepsServing) {
  std::string jpeg = SmallJpeg();
  std::string corrupt = jpeg.substr(0, jpeg.size() / 3);  // truncated scan data
  std::string garbled = jpeg;
  for (size_t i = 30; i < garbled.size(); i += 3) garbled[i] = static_cast<char>(0xFF);
  std::string bomb = jpeg;  // SOF0 says 20000x20000
  size_t sof = bomb.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  for (size_t off : {sof + 5, sof + 7}) {
    bomb[off] = static_cast<char>(20000 >> 8);
    bomb[off + 1] = static_cast<char>(20000 & 0xFF);
  }
  ExpectProblemThenHealthy(PostFrame(corrupt, "cam-1"), 400, "truncated JPEG");
  ExpectProblemThenHealthy(PostFrame(garbled, "cam-1"), 400, "garbled JPEG");
  ExpectProblemThenHealthy(PostFrame("hello, not an image", "cam-1"), 400, "non-image bytes");
  ExpectProblemThenHealthy(PostFrame(bomb, "cam-1"), 400, "20000x20000 header");
  ExpectProblemThenHealthy(PostFrame("", "cam-1"), 400, "empty body");
  ExpectProblemThenHealthy(PostFrame(jpeg, ""), 400, "missing camera header");
  ExpectProblemThenHealthy(PostFrame(jpeg, "Cam 1"), 400, "bad camera name");
  ExpectProblemThenHealthy(PostFrame(jpeg, "cam-1", "", "text/plain"), 415, "text/plain body");
  ExpectProblemThenHealthy(PostFrame(std::string((1 << 20) + 10, 'x'), "cam-1"), 413, "over limit");
  http::HeaderList bad_time = {{"X-Strata-Camera", "cam-1"}, {"X-Strata-Captured-At", "yesterday"}};
  ExpectProblemThenHealthy(client_->Post("/api/v1/frames", jpeg, "image/jpeg", bad_time), 400,
                           "bad captured-at");
  auto ok = PostFrame(jpeg, "cam-1");  // a good frame still works afterwards
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200) << ok->body;
  json ok_body = *ok->Json();
  EXPECT_EQ(ok_body["width"], 64);
  EXPECT_TRUE(ok_body["detections"].empty());  // smaller than the HOG window: no crash, no people
}

TEST_F(DetectServiceTest, AnnotatedFrameAndCropsAreDecodableJpegs) {
  ExpectProblemThenHealthy(client_->Get("/api/v1/frames/nobody/annotated.jpg"), 404,
                           "unknown camera");
  auto frames = VtestJpegs(200, 1);
  SKIP_WITHOUT_VTEST(frames);
  auto r = PostFrame(frames[0], "cam-a", "?crops=1");
  ASSERT_TRUE(r.ok() && r->status == 200);
  auto img = client_->Get("/api/v1/frames/cam-a/annotated.jpg");
  ASSERT_TRUE(img.ok());
  ASSERT_EQ(img->status, 200) << img->body;
  EXPECT_EQ(img->Header("content-type"), "image/jpeg");
  auto bytes = reinterpret_cast<const uint8_t*>(img->body.data());
  auto decoded = vision::DecodeJpeg({bytes, img->body.size()}, {});
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->cols, 768);
  int track = (*r->Json())["detections"][0]["track_id"].get<int>();
  auto crop = client_->Get("/api/v1/crops/cam-a/" + std::to_string(track) + ".jpg");
  ASSERT_TRUE(crop.ok());
  ASSERT_EQ(crop->status, 200) << crop->body;
  auto crop_bytes = reinterpret_cast<const uint8_t*>(crop->body.data());
  auto crop_img = vision::DecodeJpeg({crop_bytes, crop->body.size()}, {});
  ASSERT_TRUE(crop_img.ok());
  EXPECT_LT(crop_img->cols, 768);
  ExpectProblemThenHealthy(client_->Get("/api/v1/crops/cam-a/999999.jpg"), 404, "unknown track");
  ExpectProblemThenHealthy(client_->Get("/api/v1/crops/cam-a/x.png"), 404, "bad crop name");
}

TEST_F(DetectServiceTest, CropsAreBoundedPerCameraAndCamerasAreBounded) {
  server_.reset();
  DetectConfig cfg;
  cfg.tracker.min_hits = 1;
  cfg.max_cameras = 2;
  cfg.max_tracks = 1;
  Start(cfg);
  auto frames = VtestJpegs(200, 1);
  SKIP_WITHOUT_VTEST(frames);
  for (const char* cam : {"c1", "c2", "c3"})
    ASSERT_EQ(PostFrame(frames[0], cam, "?crops=1")->status, 200);
  EXPECT_EQ(client_->Get("/api/v1/frames/c1/annotated.jpg")->status, 404);  // evicted
  EXPECT_EQ(client_->Get("/api/v1/frames/c3/annotated.jpg")->status, 200);
  int found = 0;
  for (int id = 1; id <= 10; ++id)
    found += client_->Get("/api/v1/crops/c3/" + std::to_string(id) + ".jpg")->status == 200;
  EXPECT_EQ(found, 1);
}

TEST_F(DetectServiceTest, DnnYoloFastestFindsPeopleWhenTheModelIsPresent) {
  const std::string models = std::string(STRATA_SOURCE_DIR) + "/../shared/assets/models";
  if (!std::filesystem::exists(models + "/yolo-fastest-1.1/yolo-fastest-1.1_body.weights"))
    GTEST_SKIP() << "yolo-fastest body model absent from " << models
                 << " (scripts/fetch-models.sh)";
  auto frames = VtestJpegs(200, 1);
  SKIP_WITHOUT_VTEST(frames);
  server_.reset();
  DetectConfig cfg;
  cfg.detector.backend = "dnn";
  cfg.detector.manifest = std::string(STRATA_SOURCE_DIR) + "/configs/models/yolo_fastest_body.yaml";
  cfg.detector.model_dirs = {models};
  cfg.instances = 1;
  Start(cfg);
  EXPECT_EQ(service_->detector_name().rfind("dnn:", 0), 0u) << service_->detector_name();
  auto r = PostFrame(frames[0], "cam-dnn");
  ASSERT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().message());
  json body = *r->Json();
  EXPECT_GE(body["detections"].size(), 2u) << body.dump();
  for (const json& d : body["detections"]) EXPECT_EQ(d["label"], "person");
}

TEST(DetectConfigTest, ErrorsNameTheKeyAndLine) {
  auto parse = [](const std::string& yaml) {
    auto root = ConfigNode::Parse(yaml, "detect.yaml");
    EXPECT_TRUE(root.ok());
    Options opts;
    return ParseConfig(*root, ServiceArgs{.service = "detect"}, &opts);
  };
  Status typo = parse("detect:\n  backend: hog\n  scor_threshold: 0.5\n");
  EXPECT_FALSE(typo.ok());
  EXPECT_NE(typo.message().find("scor_threshold"), std::string::npos) << typo;
  EXPECT_NE(typo.message().find("detect.yaml:3"), std::string::npos) << typo;
  Status backend = parse("server:\n  port: 0\ndetect:\n  backend: yolo\n");
  EXPECT_NE(backend.message().find("detect.backend"), std::string::npos) << backend;
  EXPECT_NE(backend.message().find(":4"), std::string::npos) << backend;
  Status iou = parse("detect:\n  tracker:\n    iou: 7\n");
  EXPECT_NE(iou.message().find("detect.tracker.iou"), std::string::npos) << iou;
  EXPECT_NE(iou.message().find(":3"), std::string::npos) << iou;
  Status dnn = parse("detect:\n  backend: dnn\n");
  EXPECT_NE(dnn.message().find("manifest"), std::string::npos) << dnn;
  Options opts;
  auto good = ConfigNode::Parse("detect:\n  faces: off\n  tracker: {min_hits: 2}\n", "g.yaml");
  ASSERT_TRUE(ParseConfig(*good, ServiceArgs{.service = "detect"}, &opts).ok());
  EXPECT_EQ(opts.detect.faces, "off");
  EXPECT_EQ(opts.detect.tracker.min_hits, 2);
  EXPECT_EQ(opts.detect.detector.backend, "hog");
}

TEST(DetectServiceCreateTest, RejectsBadSettings) {
  DetectConfig cfg;
  cfg.detector.backend = "nope";
  EXPECT_FALSE(DetectService::Create(cfg).ok());
  cfg = DetectConfig();
  cfg.tracker.iou_threshold = 0;
  EXPECT_FALSE(DetectService::Create(cfg).ok());
  cfg = DetectConfig();
  cfg.faces = "yunet";
  cfg.face_detector.manifest = "/nonexistent/yunet.yaml";
  EXPECT_FALSE(DetectService::Create(cfg).ok());
}

}  // namespace
}  // namespace strata::detect_service
