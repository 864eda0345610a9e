// IdentifyService: POST /api/v1/faces (crop from strata-detect → identity → notify + MQTT).
// See identify_service.h and docs/surveillance.md.
#include <spdlog/spdlog.h>

#include <regex>

#include "identify_internal.h"
#include "strata/core/clock.h"

namespace strata::identify_service {
namespace {

using nlohmann::json;

void CountResult(const std::string& status) {
  metrics::GetCounter("strata_identify_results_total",
                      "Crops identified, by status (known, unknown, no_face)", {{"status", status}})
      .Inc();
}

json IdentityJson(const IdentityHeaders& id) {
  bool face = id.status != "no_face";
  return {{"status", id.status},
          {"name", face && !id.name.empty() ? json(id.name) : json(nullptr)},
          {"score", face ? json(id.score) : json(nullptr)},
          {"threshold", id.threshold},
          {"metric", id.metric}};
}

}  // namespace

Result<IdentityHeaders> IdentifyService::Identify(const cv::Mat& bgr, json* latency) {
  IdentityHeaders id{.status = "no_face",
                     .threshold = threshold_,
                     .metric = std::string(vision::FaceMetricName(metric_))};
  STRATA_ASSIGN_OR_RETURN(Encoded enc, Encode(bgr));
  (*latency)["face_detect"] = enc.face_detect_ms;
  (*latency)["encode"] = enc.encode_ms;
  if (enc.tmpl.empty()) return id;
  auto t = std::chrono::steady_clock::now();
  Result<vision::Identity> who = InternalError("not run");
  {
    std::lock_guard lock(gallery_mu_);
    who = gallery_->Identify(enc.tmpl);
  }
  if (!who.ok()) return who.status();
  double identify_ms = MillisSince(t);
  metrics::StageLatency("identify").Observe(identify_ms / 1000);
  (*latency)["identify"] = identify_ms;
  id.status = who->status();
  id.name = who->name;
  id.score = who->score;
  id.threshold = who->threshold;
  return id;
}

Result<http::Response> IdentifyService::PostFace(const http::Request& r) {
  if (auto bad = http::CheckContentType(r, "image/jpeg")) return *bad;
  std::string mid = r.Header("X-Strata-Message-Id");
  if (mid.empty()) {
    STRATA_ASSIGN_OR_RETURN(json answer, ProcessFace(r));
    return http::Response::Json(answer);
  }
  static const std::regex kId("[A-Za-z0-9_.:-]{1,128}");
  if (!std::regex_match(mid, kId))
    return InvalidArgumentError("header X-Strata-Message-Id must match [A-Za-z0-9_.:-]{1,128}");
  if (std::optional<json> prior = recent_->Begin(mid)) {  // a retry: answer again, do nothing
    metrics::GetCounter(
        "strata_identify_duplicates_total",
        "Crops whose X-Strata-Message-Id was already answered (not processed again)")
        .Inc();
    (*prior)["duplicate"] = true;
    return http::Response::Json(*prior);
  }
  auto answer = ProcessFace(r);
  if (!answer.ok()) {
    recent_->Abandon(mid);
    return answer.status();
  }
  recent_->Finish(mid, *answer);
  return http::Response::Json(*answer);
}

// Callers checked the content type.
Result<nlohmann::json> IdentifyService::ProcessFace(const http::Request& r) {
  auto start = std::chrono::steady_clock::now();
  STRATA_ASSIGN_OR_RETURN(CropMeta meta, ParseCropMeta(r));
  json latency = json::object();
  double decode_ms = 0;
  STRATA_ASSIGN_OR_RETURN(cv::Mat bgr, DecodeBody(r, &decode_ms));
  latency["decode"] = decode_ms;
  IdentityHeaders id{.status = "no_face",
                     .threshold = threshold_,
                     .metric = std::string(vision::FaceMetricName(metric_))};
  if (meta.kind == "face") {
    STRATA_ASSIGN_OR_RETURN(id, Identify(bgr, &latency));
  }
  double total_ms = MillisSince(start);
  latency["total"] = total_ms;
  metrics::StageLatency("identify_crop").Observe(total_ms / 1000);
  CountResult(id.status);
  if (forwarder_)  // with a spool: on disk before we answer, else 503 (detect retries)
    STRATA_RETURN_IF_ERROR(
        forwarder_->Enqueue({r.body, ForwardHeaders(meta, id, r.body.size(), total_ms)}));
  if (mqtt_ && id.status != "no_face") Publish(meta, id);
  return json({{"camera", meta.camera},
               {"track_id", meta.track_id},
               {"kind", meta.kind},
               {"frame_id", meta.frame_id.empty() ? json(nullptr) : json(meta.frame_id)},
               {"identity", IdentityJson(id)},
               {"latency_ms", latency}});
}

void IdentifyService::Publish(const CropMeta& meta, const IdentityHeaders& id) {
  json msg = {{"name", id.status == "known" ? json(id.name) : json(nullptr)},
              {"status", id.status},
              {"score", id.score},
              {"track_id", meta.track_id},
              {"time", FormatRfc3339(Clock::Real()->Now())}};
  Status s = mqtt_->Publish(config_.mqtt.prefix + "/camera/" + meta.camera + "/face", msg.dump(), 0,
                            false);
  metrics::GetCounter("strata_identify_mqtt_publish_total", "Face results published on MQTT",
                      {{"result", s.ok() ? "ok" : "failed"}})
      .Inc();
  if (!s.ok()) spdlog::warn("identify: face result not published on MQTT: {}", s.message());
}

}  // namespace strata::identify_service
