// X-Strata-* crop headers: parsing and the forward headers (see crop_headers.h).
#include "crop_headers.h"

#include <cstdio>
#include <random>
#include <regex>
#include <sstream>

#include "strata/core/clock.h"

namespace strata::identify_service {
namespace {

Status BadHeader(const std::string& name, const std::string& rule, const std::string& got) {
  return InvalidArgumentError("header " + name + " must be " + rule + ", got '" +
                              got.substr(0, 64) + "'");
}

// A decimal number in [0, 1] (what detect sends, e.g. "0.8765" or "1").
bool UnitNumber(const std::string& s) {
  static const std::regex kNumber("[0-9]{1,3}(\\.[0-9]{1,12})?");
  if (!std::regex_match(s, kNumber)) return false;
  double v = std::stod(s);
  return v >= 0.0 && v <= 1.0;
}

bool ValidBox(const std::string& s) {
  std::vector<std::string> parts;
  std::stringstream in(s);
  for (std::string p; std::getline(in, p, ',');) parts.push_back(p);
  if (parts.size() != 4 || s.back() == ',') return false;
  for (std::string& p : parts) {
    p.erase(0, p.find_first_not_of(' '));
    if (!UnitNumber(p)) return false;
  }
  return std::stod(parts[0]) <= std::stod(parts[2]) && std::stod(parts[1]) <= std::stod(parts[3]);
}

// At most 32 entries of at most 256 characters each (entries are matched one by one: std::regex
// recursion grows with the input, so it never sees the whole header).
bool ValidHops(const std::string& hops) {
  static const std::regex kEntry("[A-Za-z0-9_.-]{1,64}(;[a-z_]{1,16}=[0-9A-Za-z_.+-]{1,32}){0,8}");
  if (hops.size() > 4096) return false;
  size_t start = 0;
  for (int n = 0; n < 32; ++n) {
    size_t end = hops.find(", ", start);
    std::string entry = hops.substr(start, end == std::string::npos ? end : end - start);
    if (entry.size() > 256 || !std::regex_match(entry, kEntry)) return false;
    if (end == std::string::npos) return true;
    start = end + 2;
  }
  return false;
}

Status CheckOptional(const CropMeta& m) {
  static const std::regex kFrameId("[A-Za-z0-9_.:-]{0,128}");
  if (!std::regex_match(m.frame_id, kFrameId))
    return BadHeader("X-Strata-Frame-Id", "[A-Za-z0-9_.:-]{0,128}", m.frame_id);
  if (!m.captured_at.empty() && !ParseRfc3339(m.captured_at).ok())
    return BadHeader("X-Strata-Captured-At", "an RFC 3339 time", m.captured_at);
  if (!m.box.empty() && !ValidBox(m.box))
    return BadHeader("X-Strata-Box", "4 comma-separated numbers x1,y1,x2,y2 in [0,1]", m.box);
  if (!m.score.empty() && !UnitNumber(m.score))
    return BadHeader("X-Strata-Score", "a number in [0,1]", m.score);
  if (!m.hops.empty() && !ValidHops(m.hops))
    return BadHeader("X-Strata-Hops", "'node;bytes=N;ms=F' entries joined by ', '", m.hops);
  return Status::Ok();
}

}  // namespace

Result<CropMeta> ParseCropMeta(const http::Request& r) {
  CropMeta m;
  m.camera = r.Header("x-strata-camera");
  static const std::regex kCamera("[a-z0-9_-]{1,64}");
  if (m.camera.empty()) return InvalidArgumentError("header X-Strata-Camera is required");
  if (!std::regex_match(m.camera, kCamera))
    return BadHeader("X-Strata-Camera", "[a-z0-9_-]{1,64}", m.camera);
  const std::string track = r.Header("x-strata-track-id");
  static const std::regex kTrack("[1-9][0-9]{0,17}");
  if (track.empty()) return InvalidArgumentError("header X-Strata-Track-Id is required");
  if (!std::regex_match(track, kTrack))
    return BadHeader("X-Strata-Track-Id", "a decimal integer >= 1", track);
  m.track_id = std::stoll(track);
  m.kind = r.Header("x-strata-kind");
  if (m.kind.empty()) return InvalidArgumentError("header X-Strata-Kind is required");
  if (m.kind != "face" && m.kind != "person")
    return BadHeader("X-Strata-Kind", "face or person", m.kind);
  m.frame_id = r.Header("x-strata-frame-id");
  m.captured_at = r.Header("x-strata-captured-at");
  m.box = r.Header("x-strata-box");
  m.score = r.Header("x-strata-score");
  m.hops = r.Header("x-strata-hops");
  STRATA_RETURN_IF_ERROR(CheckOptional(m));
  static const std::regex kTrace("00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}");
  std::string trace = r.Header("traceparent");
  if (std::regex_match(trace, kTrace) && trace.find(std::string(32, '0')) != 3 &&
      trace.substr(36, 16) != std::string(16, '0'))
    m.traceparent = trace;
  return m;
}

std::string AppendHop(const std::string& hops, size_t bytes, double ms) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "identify;bytes=%zu;ms=%.2f", bytes, ms);
  return hops.empty() ? std::string(buf) : hops + ", " + buf;
}

std::string ChildTraceparent(const std::string& traceparent) {
  if (traceparent.size() != 55) return "";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t span = 0;
  while (span == 0) span = rng();
  char id[17];
  std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(span));
  return traceparent.substr(0, 36) + id + traceparent.substr(52);
}

http::HeaderList ForwardHeaders(const CropMeta& meta, const IdentityHeaders& id, size_t bytes,
                                double processing_ms) {
  auto number = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4f", v);
    return std::string(buf);
  };
  http::HeaderList h = {{"X-Strata-Camera", meta.camera},
                        {"X-Strata-Track-Id", std::to_string(meta.track_id)},
                        {"X-Strata-Kind", meta.kind}};
  if (!meta.frame_id.empty()) h.emplace_back("X-Strata-Frame-Id", meta.frame_id);
  if (!meta.captured_at.empty()) h.emplace_back("X-Strata-Captured-At", meta.captured_at);
  if (!meta.box.empty()) h.emplace_back("X-Strata-Box", meta.box);
  if (!meta.score.empty()) h.emplace_back("X-Strata-Score", meta.score);
  h.emplace_back("X-Strata-Identity-Status", id.status);
  if (id.status != "no_face") {
    if (!id.name.empty()) h.emplace_back("X-Strata-Identity-Name", id.name);
    h.emplace_back("X-Strata-Identity-Score", number(id.score));
  }
  h.emplace_back("X-Strata-Identity-Threshold", number(id.threshold));
  h.emplace_back("X-Strata-Identity-Metric", id.metric);
  h.emplace_back("X-Strata-Hops", AppendHop(meta.hops, bytes, processing_ms));
  if (std::string child = ChildTraceparent(meta.traceparent); !child.empty())
    h.emplace_back("traceparent", child);
  return h;
}

}  // namespace strata::identify_service
