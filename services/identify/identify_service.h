// IdentifyService: the cloud tier's face identification as an HTTP adapter
// (docs/services/identify.md, contract in docs/surveillance.md).
//
// POST /api/v1/gallery/{person} enrols one JPEG photo (largest face → template → encrypted SQLite
// gallery; with X-Strata-Message-Id the id is committed with the template and a repeat answers
// the first answer with "duplicate": true); GET /api/v1/gallery lists people;
// DELETE /api/v1/gallery/{person} crypto-shreds one.
// POST /api/v1/faces takes a crop from strata-detect (metadata in X-Strata-* headers), finds the
// face, encodes it and identifies it against the gallery (known | unknown; a person crop is
// no_face), answers JSON, then queues the crop with its identity for strata-notify (Forwarder)
// and publishes {"name","status","score","track_id","time"} on <prefix>/camera/<cam>/face (MQTT
// QoS 0) when configured. JPEGs are decoded with header checks (no decompression bombs).
// Thread-safety: handlers run concurrently. Face encoders and detectors are not thread-safe, so
// the service owns `instances` pipelines (encoder + face detector) and each request borrows one;
// the Gallery (one SQLite connection) is guarded by a mutex.
//
//   STRATA_ASSIGN_OR_RETURN(auto svc, IdentifyService::Create({.data_dir = "var"}));
//   svc->RegisterRoutes(*server);  // also adds the readiness check and the OpenAPI document
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crop_headers.h"
#include "forwarder.h"
#include "recent_ids.h"
#include "strata/core/object_pool.h"
#include "strata/transport/http.h"
#include "strata/transport/mqtt.h"
#include "strata/vision/face_recognition.h"
#include "strata/vision/faces.h"
#include "strata/vision/gallery.h"
#include "strata/vision/image_io.h"

namespace strata::identify_service {

struct GallerySettings {
  std::string path;              // "" = <data_dir>/gallery.db
  std::string key_file;          // "" = <data_dir>/gallery.key (created 0600 when absent)
  bool allow_plaintext = false;  // development only: no key, templates unencrypted
  int max_templates_per_person = 50;
};

struct MqttSettings {
  std::string url;        // "" = no MQTT; e.g. tcp://127.0.0.1:1883
  std::string client_id;  // "" = strata-identify-<random>
  std::string prefix = "strata";
  mqtt::Config auth;  // username / password / ca_file / cert_file / key_file (ParseMqttAuth)
};

struct IdentifyConfig {
  std::string data_dir = "var";
  vision::FaceEncoderConfig encoder;  // lbph (embedded) | mobilefacenet (manifest + model_dirs)
  std::string faces = "haar";         // "haar" | "yunet" | "auto" | "off"
  vision::FaceDetectorConfig face_detector;  // manifest/model_dirs for yunet
  double threshold = -1;                     // < 0 = the encoder's default_threshold()
  GallerySettings gallery;
  bool enrol_whole_image = true;  // lbph: no face found → the whole image is the face
  std::string notify_url;         // "" = do not forward
  http::ClientConfig notify_auth;  // token_file / token_env / ca_file (ParseHttpClientAuth)
  int notify_queue = 64;
  std::chrono::milliseconds notify_backoff{200};
  // "" = memory queue (best effort); else store-and-forward spool (relative: under data_dir)
  std::string notify_spool_dir;
  int64_t notify_spool_max_items = 10000;
  int64_t notify_spool_max_bytes = 256ll << 20;
  std::chrono::milliseconds notify_backoff_max{5000};
  int dedupe_ids = 8192;  // recent X-Strata-Message-Ids remembered by POST /api/v1/faces
  MqttSettings mqtt;
  vision::ImageLimits image_limits{.max_width = 4096, .max_height = 4096};
  int instances = 2;  // encoder + face detector pairs serving requests in parallel
};

class IdentifyService {
 public:
  using Config = IdentifyConfig;
  // Loads encoders/detectors, opens (creates) the gallery and its key file, starts the forwarder
  // and connects MQTT. InvalidArgument for a bad setting (e.g. mobilefacenet without a landmark
  // detector), NotFound for a missing model, PermissionDenied for a wrong gallery key, Unavailable
  // when the MQTT broker does not answer within 5 s.
  static Result<std::unique_ptr<IdentifyService>> Create(const Config& config);
  ~IdentifyService();

  // Adds the routes, a readiness check "gallery" and the OpenAPI document.
  void RegisterRoutes(http::HttpServer& server);
  const std::string& encoder_name() const { return encoder_name_; }
  double threshold() const { return threshold_; }
  // nullptr when notify_url is empty.
  Forwarder* forwarder() { return forwarder_.get(); }

 private:
  struct Pipeline;
  struct Encoded;

  IdentifyService() = default;
  Result<http::Response> PostGallery(const http::Request& r);
  Result<http::Response> ListGallery(const http::Request& r);
  Result<http::Response> DeleteGallery(const http::Request& r);
  // Answers a repeated X-Strata-Message-Id from recent_ (with "duplicate": true) without
  // processing it again; otherwise ProcessFace.
  Result<http::Response> PostFace(const http::Request& r);
  // Identify + forward + publish one crop; the JSON answer.
  Result<nlohmann::json> ProcessFace(const http::Request& r);
  // Decodes the JPEG body (InvalidArgument → 400 for empty/corrupt/oversized input); callers
  // check the content type first (415).
  Result<cv::Mat> DecodeBody(const http::Request& r, double* decode_ms);
  // The largest face's template (or the whole image's, for lbph with enrol_whole_image);
  // Encoded::tmpl is empty when no usable face was found.
  Result<Encoded> Encode(const cv::Mat& bgr);
  // Identity of the face in `bgr` (no_face when none is usable); adds stage times to `latency`.
  Result<IdentityHeaders> Identify(const cv::Mat& bgr, nlohmann::json* latency);
  void Publish(const CropMeta& meta, const IdentityHeaders& id);

  Config config_;
  std::string encoder_name_;
  vision::FaceMetric metric_ = vision::FaceMetric::kChiSquare;
  double threshold_ = 0;
  ObjectPool<Pipeline> pool_;  // `instances` pipelines; a request borrows one
  std::mutex gallery_mu_;
  std::unique_ptr<vision::Gallery> gallery_;  // guarded by gallery_mu_
  std::unique_ptr<Forwarder> forwarder_;
  std::unique_ptr<mqtt::MqttClient> mqtt_;
  std::unique_ptr<RecentIds> recent_;  // POST /api/v1/faces answers by message id
};

// The hand-written OpenAPI 3.1 document (services/identify/openapi.json, embedded at build time).
std::string_view OpenApi();

}  // namespace strata::identify_service
