#include "detect_service.h"

#include <chrono>
#include <regex>

#include "strata/core/clock.h"
#include "strata/metrics/metrics.h"

namespace strata::embedded {
extern const std::string_view detect_openapi;
}

namespace strata::detect_service {

using nlohmann::json;

std::string_view OpenApi() { return embedded::detect_openapi; }

struct DetectService::Pipeline {
  std::unique_ptr<vision::Detector> detector;
  std::optional<vision::FaceDetector> faces;
};

struct DetectService::CameraState {
  struct Crop {
    std::string jpeg;
    uint64_t seq = 0;
  };
  explicit CameraState(vision::IouTracker t) : tracker(std::move(t)) {}
  std::mutex mu;
  vision::IouTracker tracker;
  std::string annotated_jpeg;
  std::map<int, Crop> crops;  // track id → latest crop
  uint64_t seq = 0;           // frames seen
  uint64_t last_used = 0;     // DetectService::tick_ when last touched (guarded by cameras_mu_)
};

struct DetectService::FrameResult {
  int width = 0;
  int height = 0;
  std::vector<vision::Detection> detections;
  std::vector<std::optional<vision::Face>> faces;  // one per detection
  double detect_ms = 0;
  double faces_ms = 0;
};

namespace {

json Box(const cv::Rect2f& r, int width, int height) {
  auto clamp = [](double v) { return std::min(1.0, std::max(0.0, v)); };
  return {clamp(r.x / width), clamp(r.y / height), clamp((r.x + r.width) / width),
          clamp((r.y + r.height) / height)};
}

// OpenCV 4.6's HOGDescriptor::detectMultiScale crashes (SIGSEGV) on images smaller than its 64x128
// window, so such frames (after the hog_max_width downscale) skip the hog detector.
bool TooSmallForHog(const cv::Mat& bgr, const vision::DetectorConfig& c) {
  if (c.backend != "hog") return false;
  double scale = c.hog_max_width > 0 && bgr.cols > c.hog_max_width
                     ? static_cast<double>(c.hog_max_width) / bgr.cols
                     : 1.0;
  return bgr.cols * scale < 64 || bgr.rows * scale < 128;
}

struct FrameMeta {
  std::string camera;
  std::string frame_id;
  std::string captured_at;
};

Status CheckCamera(const std::string& camera) {
  static const std::regex kCamera("[a-z0-9_-]{1,64}");
  if (camera.empty()) return InvalidArgumentError("header X-Strata-Camera is required");
  if (!std::regex_match(camera, kCamera))
    return InvalidArgumentError("camera '" + camera.substr(0, 80) +
                                "' must match [a-z0-9_-]{1,64}");
  return Status::Ok();
}

Result<FrameMeta> ParseMeta(const http::Request& r) {
  FrameMeta m{r.Header("x-strata-camera"), r.Header("x-strata-frame-id"),
              r.Header("x-strata-captured-at")};
  STRATA_RETURN_IF_ERROR(CheckCamera(m.camera));
  static const std::regex kFrameId("[A-Za-z0-9_.:-]{0,128}");
  if (!std::regex_match(m.frame_id, kFrameId))
    return InvalidArgumentError("header X-Strata-Frame-Id must match [A-Za-z0-9_.:-]{0,128}");
  if (!m.captured_at.empty() && !ParseRfc3339(m.captured_at).ok())
    return InvalidArgumentError("header X-Strata-Captured-At must be RFC 3339, got '" +
                                m.captured_at.substr(0, 64) + "'");
  return m;
}

json NullIfEmpty(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

void CountFrame(const std::vector<vision::Detection>& detections,
                const std::vector<std::optional<vision::Face>>& face_list) {
  static metrics::Counter frames =
      metrics::GetCounter("strata_detect_frames_total", "Frames processed by strata-detect");
  frames.Inc();
  static metrics::Counter faces = metrics::GetCounter(
      "strata_detect_faces_total", "Faces found inside person boxes (best face per person)");
  for (const auto& f : face_list)
    if (f) faces.Inc();
  for (const vision::Detection& d : detections)
    metrics::GetCounter("strata_detect_detections_total", "Detections reported, by label",
                        {{"label", d.label}})
        .Inc();
}

}  // namespace

DetectService::~DetectService() = default;

Result<std::unique_ptr<DetectService>> DetectService::Create(const Config& config) {
  if (config.instances < 1) return InvalidArgumentError("detect.instances: must be >= 1");
  if (config.max_cameras < 1) return InvalidArgumentError("detect.max_cameras: must be >= 1");
  STRATA_RETURN_IF_ERROR(vision::IouTracker::Create(config.tracker).status());
  std::unique_ptr<DetectService> s(new DetectService());
  s->config_ = config;
  s->face_backend_ = "off";
  for (int i = 0; i < config.instances; ++i) {
    auto p = std::make_unique<Pipeline>();
    STRATA_ASSIGN_OR_RETURN(p->detector, vision::CreateDetector(config.detector));
    if (config.faces != "off") {
      vision::FaceDetectorConfig fc = config.face_detector;
      fc.backend = config.faces;
      STRATA_ASSIGN_OR_RETURN(vision::FaceDetector f, vision::FaceDetector::Create(fc));
      s->face_backend_ = f.backend();
      p->faces.emplace(std::move(f));
    }
    s->detector_name_ = p->detector->name();
    s->pool_.Add(std::move(p));
  }
  if (!config.cloud.url.empty()) {
    STRATA_ASSIGN_OR_RETURN(s->uplink_, CloudUplink::Create(config.cloud));
  }
  return s;
}

void DetectService::RegisterRoutes(http::HttpServer& server) {
  server.Route("POST", "/api/v1/frames", [this](const http::Request& r) { return PostFrame(r); });
  server.Route("GET", "/api/v1/frames/{camera}/annotated.jpg",
               [this](const http::Request& r) { return GetAnnotated(r); });
  server.Route("GET", "/api/v1/crops/{camera}/{file}",
               [this](const http::Request& r) { return GetCrop(r); });
  server.AddReadinessCheck("detector", [this]() -> Status {
    return detector_name_.empty() ? UnavailableError("detector not loaded") : Status::Ok();
  });
  server.SetOpenApi(std::string(OpenApi()));
}

Result<DetectService::FrameResult> DetectService::Process(const cv::Mat& bgr) {
  FrameResult out;
  out.width = bgr.cols;
  out.height = bgr.rows;
  if (TooSmallForHog(bgr, config_.detector)) return out;  // no person fits in the window
  auto pipeline = pool_.Acquire();
  auto t = std::chrono::steady_clock::now();
  STRATA_ASSIGN_OR_RETURN(out.detections, pipeline->detector->Detect(bgr));
  out.detect_ms = MillisSince(t);
  metrics::StageLatency("detect").Observe(out.detect_ms / 1000);
  out.faces.resize(out.detections.size());
  if (!pipeline->faces) return out;
  t = std::chrono::steady_clock::now();
  std::vector<vision::Detection> persons;
  std::vector<size_t> index;  // persons[i] is detections[index[i]]
  for (size_t i = 0; i < out.detections.size(); ++i) {
    if (out.detections[i].label != "person") continue;
    persons.push_back(out.detections[i]);
    index.push_back(i);
  }
  STRATA_ASSIGN_OR_RETURN(auto faces, vision::DetectFacesInPersons(*pipeline->faces, bgr, persons));
  for (const vision::PersonFace& f : faces) out.faces[index[f.detection_index]] = f.face;
  out.faces_ms = MillisSince(t);
  metrics::StageLatency("face_detect").Observe(out.faces_ms / 1000);
  return out;
}

std::shared_ptr<DetectService::CameraState> DetectService::Camera(const std::string& name,
                                                                  bool create) {
  std::lock_guard lock(cameras_mu_);
  auto it = cameras_.find(name);
  if (it == cameras_.end()) {
    if (!create) return nullptr;
    if (static_cast<int>(cameras_.size()) >= config_.max_cameras) {
      auto oldest = std::min_element(cameras_.begin(), cameras_.end(), [](auto& a, auto& b) {
        return a.second->last_used < b.second->last_used;
      });
      cameras_.erase(oldest);
    }
    auto tracker = vision::IouTracker::Create(config_.tracker);  // validated in Create
    it = cameras_.emplace(name, std::make_shared<CameraState>(std::move(tracker).value())).first;
  }
  it->second->last_used = ++tick_;
  return it->second;
}

void DetectService::TrackAndRemember(const std::string& camera, const cv::Mat& bgr, bool crops,
                                     FrameResult* result) {
  std::shared_ptr<CameraState> cam = Camera(camera, true);
  std::vector<vision::Detection>& dets = result->detections;
  {
    std::lock_guard lock(cam->mu);
    for (const vision::Detection& t : cam->tracker.Update(dets))
      for (vision::Detection& d : dets)
        if (d.track_id < 0 && d.box == t.box && d.class_id == t.class_id) d.track_id = t.track_id;
  }
  std::string annotated;
  if (config_.annotate) {
    cv::Mat canvas = bgr.clone();
    vision::DrawDetections(&canvas, dets);
    auto jpeg = vision::EncodeJpeg(canvas, config_.jpeg_quality);
    if (jpeg.ok()) annotated.assign(jpeg->begin(), jpeg->end());
  }
  std::map<int, std::string> new_crops;
  if (crops && config_.max_tracks > 0) {
    for (const vision::PersonCrop& c : vision::CropPersons(bgr, dets)) {
      int id = dets[c.detection_index].track_id;
      auto jpeg = vision::EncodeJpeg(c.image, config_.jpeg_quality);
      if (id > 0 && jpeg.ok()) new_crops[id].assign(jpeg->begin(), jpeg->end());
    }
  }
  std::lock_guard lock(cam->mu);
  ++cam->seq;
  if (!annotated.empty()) cam->annotated_jpeg = std::move(annotated);
  for (auto& [id, jpeg] : new_crops) cam->crops[id] = {std::move(jpeg), cam->seq};
  while (static_cast<int>(cam->crops.size()) > config_.max_tracks) {
    auto oldest = std::min_element(cam->crops.begin(), cam->crops.end(),
                                   [](auto& a, auto& b) { return a.second.seq < b.second.seq; });
    cam->crops.erase(oldest);
  }
}

Result<http::Response> DetectService::PostFrame(const http::Request& r) {
  auto start = std::chrono::steady_clock::now();
  if (auto bad = http::CheckContentType(r, "image/jpeg")) return *bad;
  STRATA_ASSIGN_OR_RETURN(FrameMeta meta, ParseMeta(r));
  if (r.body.empty()) return InvalidArgumentError("empty body: send one image/jpeg frame");
  const auto* bytes = reinterpret_cast<const uint8_t*>(r.body.data());
  STRATA_ASSIGN_OR_RETURN(cv::Mat bgr,
                          vision::DecodeJpeg({bytes, r.body.size()}, config_.image_limits));
  double decode_ms = MillisSince(start);
  metrics::StageLatency("jpeg_decode").Observe(decode_ms / 1000);
  STRATA_ASSIGN_OR_RETURN(FrameResult res, Process(bgr));
  TrackAndRemember(meta.camera, bgr, r.Query("crops").value_or("0") == "1", &res);
  CountFrame(res.detections, res.faces);
  if (uplink_) SendCrops(r, meta.camera, bgr, res, MillisSince(start));
  json body = {{"camera", meta.camera},
               {"frame_id", NullIfEmpty(meta.frame_id)},
               {"captured_at", NullIfEmpty(meta.captured_at)},
               {"width", res.width},
               {"height", res.height},
               {"detections", DetectionsJson(res)}};
  double total_ms = MillisSince(start);
  metrics::StageLatency("detect_frame").Observe(total_ms / 1000);
  body["latency_ms"] = {{"decode", decode_ms},
                        {"detect", res.detect_ms},
                        {"faces", res.faces_ms},
                        {"total", total_ms}};
  return http::Response::Json(body);
}

void DetectService::SendCrops(const http::Request& r, const std::string& camera,
                              const cv::Mat& bgr, const FrameResult& res, double processing_ms) {
  const cv::Rect frame(0, 0, bgr.cols, bgr.rows);
  for (size_t i = 0; i < res.detections.size(); ++i) {
    const vision::Detection& d = res.detections[i];
    if (d.label != "person" || d.track_id <= 0) continue;
    const std::optional<vision::Face>& face = res.faces[i];
    CloudUplink::Want want =
        uplink_->Decide(camera, d.track_id, face.has_value(), face ? face->score : 0.f);
    if (want == CloudUplink::Want::kNothing) continue;
    // Face crops keep a 20% margin so the cloud can re-detect the face and its landmarks.
    cv::Rect2f box = d.box;
    if (want == CloudUplink::Want::kFace) {
      box = face->box;
      box.x -= 0.2f * box.width;
      box.y -= 0.2f * box.height;
      box.width *= 1.4f;
      box.height *= 1.4f;
    }
    cv::Rect roi = cv::Rect(box) & frame;
    if (roi.width < 8 || roi.height < 8) continue;
    auto jpeg = vision::EncodeJpeg(bgr(roi), config_.jpeg_quality);
    if (!jpeg.ok()) continue;
    UplinkItem item{.camera = camera,
                    .frame_id = r.Header("x-strata-frame-id"),
                    .captured_at = r.Header("x-strata-captured-at"),
                    .traceparent = r.Header("traceparent"),
                    .track_id = d.track_id,
                    .has_face = face.has_value(),
                    .face_score = face ? face->score : 0.f,
                    .person_score = d.score,
                    .hops = r.Header("x-strata-hops"),
                    .processing_ms = processing_ms};
    json b = Box(d.box, res.width, res.height);
    for (int k = 0; k < 4; ++k) item.box[k] = b[k].get<double>();
    (want == CloudUplink::Want::kFace ? item.face_jpeg : item.person_jpeg)
        .assign(jpeg->begin(), jpeg->end());
    uplink_->Enqueue(std::move(item), want);
  }
}

nlohmann::json DetectService::DetectionsJson(const FrameResult& res) {
  json dets = json::array();
  for (size_t i = 0; i < res.detections.size(); ++i) {
    const vision::Detection& d = res.detections[i];
    json faces = json::array();
    if (const auto& f = res.faces[i])
      faces.push_back({{"box", Box(f->box, res.width, res.height)}, {"score", f->score}});
    dets.push_back({{"label", d.label},
                    {"score", d.score},
                    {"box", Box(d.box, res.width, res.height)},
                    {"track_id", d.track_id > 0 ? json(d.track_id) : json(nullptr)},
                    {"faces", faces}});
  }
  return dets;
}

Result<http::Response> DetectService::GetAnnotated(const http::Request& r) {
  const std::string camera = r.PathParam("camera");
  STRATA_RETURN_IF_ERROR(CheckCamera(camera));
  if (!config_.annotate) return NotFoundError("annotated frames are disabled (detect.annotate)");
  std::shared_ptr<CameraState> cam = Camera(camera, false);
  if (!cam) return NotFoundError("camera '" + camera + "' has sent no frame");
  std::lock_guard lock(cam->mu);
  if (cam->annotated_jpeg.empty())
    return NotFoundError("camera '" + camera + "' has no annotated frame yet");
  return http::Response::Bytes(cam->annotated_jpeg, "image/jpeg");
}

Result<http::Response> DetectService::GetCrop(const http::Request& r) {
  const std::string camera = r.PathParam("camera");
  STRATA_RETURN_IF_ERROR(CheckCamera(camera));
  static const std::regex kFile("([1-9][0-9]{0,8})\\.jpg");
  std::smatch m;
  const std::string file = r.PathParam("file");
  if (!std::regex_match(file, m, kFile))
    return NotFoundError("crop '" + file.substr(0, 64) + "' must be named <track_id>.jpg");
  int track = std::stoi(m[1].str());
  std::shared_ptr<CameraState> cam = Camera(camera, false);
  if (!cam) return NotFoundError("camera '" + camera + "' has sent no frame");
  std::lock_guard lock(cam->mu);
  auto it = cam->crops.find(track);
  if (it == cam->crops.end())
    return NotFoundError("no crop of track " + std::to_string(track) + " on camera '" + camera +
                         "'");
  return http::Response::Bytes(it->second.jpeg, "image/jpeg");
}

}  // namespace strata::detect_service
