// IdentifyService: set-up, the pipeline pool, decoding/encoding and the gallery routes
// (POST /api/v1/faces lives in faces_route.cc). See identify_service.h.
#include "identify_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <regex>

#include "gallery_key.h"
#include "identify_internal.h"
#include "strata/transport/client_config.h"

namespace strata::embedded {
extern const std::string_view identify_openapi;
}

namespace strata::identify_service {

using nlohmann::json;

std::string_view OpenApi() { return embedded::identify_openapi; }

namespace {

Status CheckPerson(const std::string& name) {
  static const std::regex kName("[A-Za-z0-9 _.-]{1,64}");
  if (!std::regex_match(name, kName))
    return InvalidArgumentError("person name '" + name.substr(0, 80) +
                                "' must match [A-Za-z0-9 _.-]{1,64}");
  return Status::Ok();
}

// X-Strata-Message-Id on enrolment: 1..128 printable ASCII characters.
Status CheckMessageId(const std::string& id) {
  bool ok = !id.empty() && id.size() <= 128 &&
            std::all_of(id.begin(), id.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
  if (!ok)
    return InvalidArgumentError("header X-Strata-Message-Id must be 1..128 printable characters");
  return Status::Ok();
}

void CountEnrolDuplicate() {
  metrics::GetCounter("strata_identify_enrol_duplicates_total",
                      "Enrolments whose X-Strata-Message-Id was already stored (no new template)")
      .Inc();
}

// The stored first answer of a repeated enrolment, marked as a duplicate (200).
Result<http::Response> DuplicateAnswer(const std::string& stored) {
  json answer = json::parse(stored, nullptr, false);
  if (answer.is_discarded() || !answer.is_object())
    return DataLossError("gallery: the stored answer of this message id is not JSON");
  answer["duplicate"] = true;
  return http::Response::Json(answer, 200);
}

std::string InDataDir(const std::string& value, const std::string& data_dir,
                      const std::string& file) {
  return !value.empty() ? value : data_dir + "/" + file;
}

Result<std::unique_ptr<mqtt::MqttClient>> ConnectMqtt(const MqttSettings& m) {
  static const std::regex kPrefix("[a-z0-9_-]{1,64}(/[a-z0-9_-]{1,64}){0,3}");
  if (!std::regex_match(m.prefix, kPrefix))
    return InvalidArgumentError("identify.mqtt.prefix '" + m.prefix +
                                "' must be topic levels of [a-z0-9_-]");
  std::string client_id = m.client_id;
  if (client_id.empty())
    client_id = "strata-identify-" + std::to_string(std::random_device{}() % 1000000000u);
  mqtt::Config mc{.uri = m.url, .client_id = client_id, .link_src = "identify"};
  CopyMqttAuth(m.auth, &mc);
  STRATA_ASSIGN_OR_RETURN(auto client, mqtt::MqttClient::Create(mc));
  STRATA_RETURN_IF_ERROR(client->Connect(std::chrono::seconds(5)));
  return client;
}

}  // namespace

IdentifyService::~IdentifyService() {
  if (forwarder_) forwarder_->Stop();
  if (mqtt_) mqtt_->Disconnect();
}

Result<std::unique_ptr<IdentifyService>> IdentifyService::Create(const Config& config) {
  if (config.instances < 1) return InvalidArgumentError("identify.instances: must be >= 1");
  std::unique_ptr<IdentifyService> s(new IdentifyService());
  s->config_ = config;
  for (int i = 0; i < config.instances; ++i) {
    auto p = std::make_unique<Pipeline>();
    STRATA_ASSIGN_OR_RETURN(p->encoder, vision::CreateFaceEncoder(config.encoder));
    if (config.faces != "off") {
      vision::FaceDetectorConfig fc = config.face_detector;
      fc.backend = config.faces;
      STRATA_ASSIGN_OR_RETURN(vision::FaceDetector f, vision::FaceDetector::Create(fc));
      p->faces.emplace(std::move(f));
    }
    bool landmarks = p->faces && p->faces->backend() == "yunet";
    if (p->encoder->name() == "mobilefacenet" && !landmarks)
      return InvalidArgumentError(
          "identify.faces: the mobilefacenet encoder needs face landmarks: use yunet (or auto "
          "with the yunet model present), got '" +
          config.faces + "'");
    s->encoder_name_ = p->encoder->name();
    s->metric_ = p->encoder->metric();
    s->threshold_ = config.threshold >= 0 ? config.threshold : p->encoder->default_threshold();
    s->pool_.Add(std::move(p));
  }
  vision::GalleryConfig g{.path = InDataDir(config.gallery.path, config.data_dir, "gallery.db"),
                          .allow_plaintext = config.gallery.allow_plaintext,
                          .backend = s->encoder_name_,
                          .metric = s->metric_,
                          .threshold = s->threshold_,
                          .max_templates_per_person = config.gallery.max_templates_per_person};
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(g.path).parent_path(), ec);
  if (!config.gallery.allow_plaintext) {
    STRATA_ASSIGN_OR_RETURN(
        g.master_key,
        LoadOrCreateGalleryKey(InDataDir(config.gallery.key_file, config.data_dir, "gallery.key")));
  }
  STRATA_ASSIGN_OR_RETURN(s->gallery_, vision::Gallery::Open(g));
  if (config.dedupe_ids < 1) return InvalidArgumentError("identify.dedupe_ids: must be >= 1");
  s->recent_ = std::make_unique<RecentIds>(static_cast<size_t>(config.dedupe_ids));
  if (!config.notify_url.empty()) {
    std::string spool = config.notify_spool_dir;
    if (!spool.empty() && spool[0] != '/') spool = config.data_dir + "/" + spool;
    STRATA_ASSIGN_OR_RETURN(s->forwarder_,
                            Forwarder::Create({.notify_url = config.notify_url,
                                               .queue = config.notify_queue,
                                               .backoff = config.notify_backoff,
                                               .spool_dir = spool,
                                               .spool_max_items = config.notify_spool_max_items,
                                               .spool_max_bytes = config.notify_spool_max_bytes,
                                               .backoff_max = config.notify_backoff_max,
                                               .auth = config.notify_auth}));
  }
  if (!config.mqtt.url.empty()) {
    STRATA_ASSIGN_OR_RETURN(s->mqtt_, ConnectMqtt(config.mqtt));
  }
  spdlog::info("identify: encoder {} ({}, threshold {}), {} people enrolled", s->encoder_name_,
               vision::FaceMetricName(s->metric_), s->threshold_, s->gallery_->size());
  return s;
}

void IdentifyService::RegisterRoutes(http::HttpServer& server) {
  server.Route("POST", "/api/v1/faces", [this](const http::Request& r) { return PostFace(r); });
  server.Route("GET", "/api/v1/gallery", [this](const http::Request& r) { return ListGallery(r); });
  server.Route("POST", "/api/v1/gallery/{person}",
               [this](const http::Request& r) { return PostGallery(r); });
  server.Route("DELETE", "/api/v1/gallery/{person}",
               [this](const http::Request& r) { return DeleteGallery(r); });
  server.AddReadinessCheck("gallery", [this]() -> Status {
    return gallery_ ? Status::Ok() : UnavailableError("gallery not open");
  });
  server.SetOpenApi(std::string(OpenApi()));
}

Result<cv::Mat> IdentifyService::DecodeBody(const http::Request& r, double* decode_ms) {
  auto start = std::chrono::steady_clock::now();
  if (r.body.empty()) return InvalidArgumentError("empty body: send one image/jpeg photo");
  const auto* bytes = reinterpret_cast<const uint8_t*>(r.body.data());
  STRATA_ASSIGN_OR_RETURN(cv::Mat bgr,
                          vision::DecodeJpeg({bytes, r.body.size()}, config_.image_limits));
  *decode_ms = MillisSince(start);
  metrics::StageLatency("jpeg_decode").Observe(*decode_ms / 1000);
  return bgr;
}

Result<IdentifyService::Encoded> IdentifyService::Encode(const cv::Mat& bgr) {
  Encoded out;
  auto pipeline = pool_.Acquire();
  auto t = std::chrono::steady_clock::now();
  std::optional<vision::Face> face;
  if (pipeline->faces) {
    STRATA_ASSIGN_OR_RETURN(std::vector<vision::Face> faces, pipeline->faces->Detect(bgr));
    for (const vision::Face& f : faces)
      if (!face || f.box.area() > face->box.area()) face = f;
    out.face_detect_ms = MillisSince(t);
    metrics::StageLatency("face_detect").Observe(out.face_detect_ms / 1000);
  }
  out.face_found = face.has_value();
  t = std::chrono::steady_clock::now();
  if (face) {
    STRATA_ASSIGN_OR_RETURN(out.tmpl, pipeline->encoder->Encode(bgr, &*face));
  } else if (config_.enrol_whole_image && pipeline->encoder->name() == "lbph") {
    STRATA_ASSIGN_OR_RETURN(out.tmpl, pipeline->encoder->Encode(bgr, nullptr));
  } else {
    return out;  // no usable face
  }
  out.encode_ms = MillisSince(t);
  metrics::StageLatency("face_encode").Observe(out.encode_ms / 1000);
  return out;
}

Result<http::Response> IdentifyService::PostGallery(const http::Request& r) {
  if (auto bad = http::CheckContentType(r, "image/jpeg")) return *bad;
  const std::string person = r.PathParam("person");
  STRATA_RETURN_IF_ERROR(CheckPerson(person));
  const bool has_mid = r.headers.count("x-strata-message-id") > 0;
  const std::string mid = r.Header("X-Strata-Message-Id");
  if (has_mid || !mid.empty()) {
    STRATA_RETURN_IF_ERROR(CheckMessageId(mid));
    std::optional<std::string> prior;
    {
      std::lock_guard lock(gallery_mu_);
      STRATA_ASSIGN_OR_RETURN(prior, gallery_->MessageAnswer(mid));
    }
    if (prior) {  // a resend whose first answer was lost: answer it again, store nothing
      CountEnrolDuplicate();
      return DuplicateAnswer(*prior);
    }
  }
  double decode_ms = 0;
  STRATA_ASSIGN_OR_RETURN(cv::Mat bgr, DecodeBody(r, &decode_ms));
  STRATA_ASSIGN_OR_RETURN(Encoded enc, Encode(bgr));
  if (enc.tmpl.empty())
    return FailedPreconditionError(
        "no face found in the photo" +
        std::string(encoder_name_ == "lbph" ? " (identify.enrol_whole_image is off)"
                                            : " (mobilefacenet needs a face with landmarks)"));
  auto answer = [&](int n) {
    return json({{"person", person}, {"templates", n}, {"face_found", enc.face_found}});
  };
  int templates = 0;
  {
    std::lock_guard lock(gallery_mu_);
    if (!mid.empty()) {  // template + message id in one transaction
      STRATA_ASSIGN_OR_RETURN(
          vision::EnrolOnceResult once,
          gallery_->EnrolOnce(mid, person, enc.tmpl, "http",
                              [&](int n) { return answer(n).dump(); }));
      if (once.duplicate) {  // a concurrent twin committed first
        CountEnrolDuplicate();
        return DuplicateAnswer(once.answer);
      }
      templates = once.templates;
    } else {
      STRATA_RETURN_IF_ERROR(gallery_->Enrol(person, enc.tmpl, "http"));
      for (const vision::PersonInfo& p : gallery_->List())
        if (p.name == person) templates = p.templates;
    }
  }
  spdlog::info("identify: enrolled one template ({} in total for this person)", templates);
  return http::Response::Json(answer(templates), 201);
}

Result<http::Response> IdentifyService::ListGallery(const http::Request& r) {
  int limit = 100;
  if (auto l = r.Query("limit")) {
    static const std::regex kLimit("[1-9][0-9]{0,3}");
    if (!std::regex_match(*l, kLimit) || std::stoi(*l) > 1000)
      return InvalidArgumentError("query limit must be an integer in [1, 1000]");
    limit = std::stoi(*l);
  }
  const std::string after = r.Query("after").value_or("");
  std::vector<vision::PersonInfo> people;
  {
    std::lock_guard lock(gallery_mu_);
    people = gallery_->List();
  }
  std::sort(people.begin(), people.end(), [](auto& a, auto& b) { return a.name < b.name; });
  json list = json::array();
  json next = nullptr;
  for (const vision::PersonInfo& p : people) {
    if (!after.empty() && p.name <= after) continue;
    if (static_cast<int>(list.size()) == limit) {
      next = list.back()["name"];
      break;
    }
    list.push_back({{"name", p.name}, {"templates", p.templates}, {"created_at", p.created_at}});
  }
  return http::Response::Json({{"people", list}, {"next", next}});
}

Result<http::Response> IdentifyService::DeleteGallery(const http::Request& r) {
  const std::string person = r.PathParam("person");
  STRATA_RETURN_IF_ERROR(CheckPerson(person));
  {
    std::lock_guard lock(gallery_mu_);
    STRATA_RETURN_IF_ERROR(gallery_->Delete(person));
  }
  spdlog::info("identify: deleted one person from the gallery");
  return http::Response::NoContent();
}

}  // namespace strata::identify_service
