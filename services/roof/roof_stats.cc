// RoofService's GET /api/v1/stats document and the state only it reports: the motion window
// (was a change seen in the last `motion_window` frames?) and the persons count of the fog's
// last answer. See roof_service.h and docs/services/roof.md.
#include <algorithm>

#include "roof_service.h"
#include "strata/core/clock.h"
#include "strata/transport/link_meter.h"

namespace strata::roof_service {

using nlohmann::json;

namespace {

// Round trip of a frame to the fog and its detections back (the roof → fog link meter: the last
// 4096 frames), i.e. what a camera waits for the fog's answer.
json FogLatency() {
  LinkStats l = LinkMeter::Global().Get("roof", "fog");
  return {{"p50", l.latency_ms_p50}, {"p95", l.latency_ms_p95}, {"p99", l.latency_ms_p99}};
}

}  // namespace

std::optional<int64_t> PersonsInFogAnswer(std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  auto dets = j.find("detections");
  if (dets == j.end() || !dets->is_array()) return std::nullopt;
  int64_t n = 0;
  for (const json& d : *dets)
    if (d.is_object() && d.value("label", json()) == "person") ++n;
  return n;
}

void RoofService::NoteMotionLocked(bool changed) {
  motion_.push_back(changed);
  stats_.motion_changed_in_window += changed;
  while (motion_.size() > static_cast<size_t>(config_.motion_window)) {
    stats_.motion_changed_in_window -= motion_.front();
    motion_.pop_front();
  }
  if (changed) stats_.last_changed_frame = stats_.frames_captured;
}

void RoofService::NoteFogAnswerLocked(std::optional<int64_t> persons) {
  if (!persons) return;
  stats_.last_persons = persons;
  stats_.last_persons_at_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::Real()->Now().time_since_epoch())
          .count();
}

json RoofService::StatsJson() const {
  RoofStats s = Stats();
  // What sending every captured frame as JPEG would cost, at the mean size of the sent ones.
  uint64_t jpeg_baseline =
      s.frames_forwarded ? s.bytes_forwarded / s.frames_forwarded * s.frames_captured : 0;
  double ratio =
      s.frames_captured ? static_cast<double>(s.frames_forwarded) / s.frames_captured : 0.0;
  json motion = {
      {"active", s.motion_changed_in_window > 0},
      {"window_frames", s.motion_window_frames},
      {"changed_in_window", s.motion_changed_in_window},
      {"frames_since_change",
       s.last_changed_frame ? json(s.frames_captured - *s.last_changed_frame) : json(nullptr)}};
  return {{"camera", config_.camera},
          {"frames_captured", s.frames_captured},
          {"frames_changed", s.frames_changed},
          {"frames_forwarded", s.frames_forwarded},
          {"forwarded_ratio", ratio},
          {"frames_dropped_queue_full", s.frames_dropped_queue_full},
          {"frames_skipped_unchanged", s.frames_skipped_unchanged},
          {"frames_skipped_rate_cap", s.frames_skipped_rate_cap},
          {"bytes_forwarded", s.bytes_forwarded},
          {"raw_bytes_equivalent", s.raw_bytes_equivalent},
          {"jpeg_bytes_equivalent_estimate", jpeg_baseline},
          {"jpeg_quality", config_.jpeg_quality},
          {"motion", motion},
          {"last_persons", s.last_persons ? json(*s.last_persons) : json(nullptr)},
          {"last_persons_at_ms", s.last_persons ? json(s.last_persons_at_ms) : json(nullptr)},
          {"fog_errors", s.fog_errors},
          {"queue_depth", s.queue_depth},
          {"queue_high_water", s.queue_high_water},
          {"eof", s.eof},
          {"drained", s.drained},
          {"fog_round_trip_ms", FogLatency()},
          {"forward_fps_now", s.forward_fps_now},
          {"recent_p99_ms", s.recent_p99_ms}};
}

}  // namespace strata::roof_service
