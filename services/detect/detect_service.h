// DetectService: the fog tier's person detector as an HTTP adapter (docs/services/detect.md).
//
// POST /api/v1/frames takes one raw JPEG (metadata in X-Strata-* headers), decodes it with header
// checks (no decompression bombs), runs the configured detector (score/class filter + NMS), an
// IoU tracker per camera, and face detection inside person crops, and answers JSON with boxes
// normalised to [x1,y1,x2,y2]. It keeps the last annotated frame per camera and, when asked with
// ?crops=1, the latest JPEG crop per track (at most max_cameras x max_tracks, oldest evicted).
// Routes: POST /api/v1/frames, GET /api/v1/frames/{camera}/annotated.jpg,
// GET /api/v1/crops/{camera}/{track_id}.jpg (registered as .../{file}: the router matches whole
// segments).
// Thread-safety: handlers run concurrently. Detectors are not thread-safe, so the service owns a
// pool of `instances` pipelines (detector + face detector) and each request borrows one; each
// camera's tracker and images are guarded by that camera's mutex.
//
//   STRATA_ASSIGN_OR_RETURN(auto svc, DetectService::Create(DetectService::Config{}));
//   svc->RegisterRoutes(*server);  // also adds the readiness check and the OpenAPI document
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cloud_uplink.h"
#include "strata/core/object_pool.h"
#include "strata/transport/http.h"
#include "strata/vision/detector.h"
#include "strata/vision/faces.h"
#include "strata/vision/image_io.h"
#include "strata/vision/tracker.h"

namespace strata::detect_service {

struct DetectConfig {
  vision::DetectorConfig detector;  // default: embedded HOG people detector
  std::string faces = "haar";       // "auto" | "yunet" | "haar" | "off"
  vision::FaceDetectorConfig face_detector;
  vision::IouTrackerConfig tracker;
  vision::ImageLimits image_limits;
  int instances = 2;      // pipelines (detector + face detector) serving requests in parallel
  int jpeg_quality = 80;  // annotated frames and crops
  bool annotate = true;   // keep the last annotated frame per camera
  int max_cameras = 64;   // cameras with tracker state and images; least recently used evicted
  int max_tracks = 32;    // crops kept per camera; least recently updated evicted
  CloudUplinkConfig cloud;  // url "" = crops stay on the fog
};

class DetectService {
 public:
  using Config = DetectConfig;
  // Loads `instances` detectors and face detectors. InvalidArgument for a bad setting, NotFound
  // for a missing model file (the message names it).
  static Result<std::unique_ptr<DetectService>> Create(const Config& config);
  ~DetectService();

  // Adds the routes, a readiness check "detector" and the OpenAPI document.
  void RegisterRoutes(http::HttpServer& server);
  const std::string& detector_name() const { return detector_name_; }
  CloudUplink* uplink() { return uplink_.get(); }  // nullptr without detect.cloud.url

 private:
  struct Pipeline;
  struct CameraState;
  struct FrameResult;

  DetectService() = default;
  Result<http::Response> PostFrame(const http::Request& r);
  Result<http::Response> GetAnnotated(const http::Request& r);
  Result<http::Response> GetCrop(const http::Request& r);
  // Detection + faces on one decoded frame, using a borrowed pipeline.
  Result<FrameResult> Process(const cv::Mat& bgr);
  // Runs the camera's tracker, then stores the annotated frame and (when `crops`) person crops.
  void TrackAndRemember(const std::string& camera, const cv::Mat& bgr, bool crops,
                        FrameResult* result);
  // The camera's state, created on first use (evicting the least recently used camera beyond
  // max_cameras); nullptr for an unknown camera when `create` is false.
  // Offers each confirmed track's face/person crop to the cloud uplink (when configured).
  void SendCrops(const http::Request& r, const std::string& camera, const cv::Mat& bgr,
                 const FrameResult& res, double processing_ms);
  static nlohmann::json DetectionsJson(const FrameResult& res);
  std::shared_ptr<CameraState> Camera(const std::string& name, bool create);

  Config config_;
  std::string detector_name_;
  std::string face_backend_;
  ObjectPool<Pipeline> pool_;  // `instances` pipelines; a request borrows one
  std::mutex cameras_mu_;
  std::map<std::string, std::shared_ptr<CameraState>> cameras_;
  uint64_t tick_ = 0;  // guarded by cameras_mu_
  std::unique_ptr<CloudUplink> uplink_;
};

// The hand-written OpenAPI 3.1 document (services/detect/openapi.json, embedded at build time).
std::string_view OpenApi();

}  // namespace strata::detect_service
