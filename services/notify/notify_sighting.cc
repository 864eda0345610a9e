// Header decoding and zone geometry for strata-notify (see notify_sighting.h).
#include "notify_sighting.h"

#include <charconv>
#include <cmath>
#include <regex>

namespace strata::notify_service {
namespace {

using nlohmann::json;

std::string Clip(std::string_view s) { return std::string(s.substr(0, 64)); }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<double> ToDouble(std::string_view s) {
  s = Trim(s);
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v))
    return std::nullopt;
  return v;
}

std::optional<int64_t> ToInt(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

Status Bad(std::string_view header, std::string_view why, std::string_view value) {
  return InvalidArgumentError("header " + std::string(header) + " " + std::string(why) + ", got '" +
                              Clip(value) + "'");
}

Status Required(const http::Request& r, std::string_view header, std::string* out) {
  *out = r.Header(header);
  if (out->empty()) return InvalidArgumentError("header " + std::string(header) + " is required");
  return Status::Ok();
}

Result<std::optional<double>> OptionalNumber(const http::Request& r, std::string_view header,
                                             double lo, double hi) {
  std::string v = r.Header(header);
  if (v.empty()) return std::optional<double>();
  std::optional<double> d = ToDouble(v);
  if (!d || *d < lo || *d > hi) return Bad(header, "must be a number", v);
  return d;
}

Result<std::array<double, 4>> ParseBox(std::string_view text) {
  std::array<double, 4> b{};
  size_t i = 0;
  while (i < 4) {
    size_t comma = text.find(',');
    std::optional<double> v = ToDouble(text.substr(0, comma));
    if (!v || *v < 0 || *v > 1) break;
    b[i++] = *v;
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (i != 4 || text.find(',') != std::string_view::npos || b[0] > b[2] || b[1] > b[3])
    return InvalidArgumentError("x");
  return b;
}

Status ParseIdentity(const http::Request& r, Identity* id) {
  STRATA_RETURN_IF_ERROR(Required(r, "X-Strata-Identity-Status", &id->status));
  if (id->status != "known" && id->status != "unknown" && id->status != "no_face")
    return Bad("X-Strata-Identity-Status", "must be known, unknown or no_face", id->status);
  std::string name = r.Header("X-Strata-Identity-Name");
  static const std::regex kName("[^\\x00-\\x1f\\x7f]{1,128}");
  if (!name.empty() && !std::regex_match(name, kName))
    return Bad("X-Strata-Identity-Name", "must be 1-128 printable characters", name);
  if (!name.empty()) id->name = name;
  if (id->status == "known" && !id->name)
    return InvalidArgumentError("header X-Strata-Identity-Name is required when status is known");
  STRATA_ASSIGN_OR_RETURN(id->score, OptionalNumber(r, "X-Strata-Identity-Score", -1e9, 1e9));
  STRATA_ASSIGN_OR_RETURN(id->threshold,
                          OptionalNumber(r, "X-Strata-Identity-Threshold", -1e9, 1e9));
  id->metric = r.Header("X-Strata-Identity-Metric");
  if (!id->metric.empty() && id->metric != "chi_square" && id->metric != "cosine")
    return Bad("X-Strata-Identity-Metric", "must be chi_square or cosine", id->metric);
  return Status::Ok();
}

Status ParseFrame(const http::Request& r, Sighting* s) {
  if (std::string box = r.Header("X-Strata-Box"); !box.empty()) {
    auto b = ParseBox(box);
    if (!b.ok())
      return Bad("X-Strata-Box", "must be x1,y1,x2,y2 in [0,1] with x1<=x2, y1<=y2", box);
    s->box = *b;
  }
  STRATA_ASSIGN_OR_RETURN(s->score, OptionalNumber(r, "X-Strata-Score", 0, 1));
  s->frame_id = r.Header("X-Strata-Frame-Id");
  static const std::regex kFrameId("[A-Za-z0-9_.:-]{0,128}");
  if (!std::regex_match(s->frame_id, kFrameId))
    return Bad("X-Strata-Frame-Id", "must match [A-Za-z0-9_.:-]{0,128}", s->frame_id);
  if (std::string at = r.Header("X-Strata-Captured-At"); !at.empty()) {
    auto t = ParseRfc3339(at);
    if (!t.ok()) return Bad("X-Strata-Captured-At", "must be RFC 3339", at);
    s->captured_at = *t;
  }
  auto hops = ParseHops(r.Header("X-Strata-Hops"));
  if (!hops.ok()) return InvalidArgumentError("header X-Strata-Hops: " + hops.status().message());
  s->hops = std::move(hops).value();
  static const std::regex kTrace("[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}");
  std::string tp = r.Header("traceparent");
  if (std::regex_match(tp, kTrace)) s->traceparent = tp;
  s->message_id = r.Header("X-Strata-Message-Id");
  static const std::regex kMessageId("[A-Za-z0-9_.:-]{1,128}");
  if (!s->message_id.empty() && !std::regex_match(s->message_id, kMessageId))
    return Bad("X-Strata-Message-Id", "must match [A-Za-z0-9_.:-]{1,128}", s->message_id);
  return Status::Ok();
}

}  // namespace

Result<Sighting> ParseSighting(const http::Request& r) {
  Sighting s;
  STRATA_RETURN_IF_ERROR(Required(r, "X-Strata-Camera", &s.camera));
  static const std::regex kCamera("[a-z0-9_-]{1,64}");
  if (!std::regex_match(s.camera, kCamera))
    return Bad("X-Strata-Camera", "must match [a-z0-9_-]{1,64}", s.camera);
  std::string track;
  STRATA_RETURN_IF_ERROR(Required(r, "X-Strata-Track-Id", &track));
  std::optional<int64_t> id = ToInt(track);
  if (!id || *id < 1 || *id > 1'000'000'000'000LL)
    return Bad("X-Strata-Track-Id", "must be a decimal integer >= 1", track);
  s.track_id = *id;
  STRATA_RETURN_IF_ERROR(Required(r, "X-Strata-Kind", &s.kind));
  if (s.kind != "face" && s.kind != "person")
    return Bad("X-Strata-Kind", "must be face or person", s.kind);
  STRATA_RETURN_IF_ERROR(ParseIdentity(r, &s.identity));
  STRATA_RETURN_IF_ERROR(ParseFrame(r, &s));
  return s;
}

Result<std::vector<Hop>> ParseHops(std::string_view text) {
  std::vector<Hop> hops;
  if (text.size() > 4096) return InvalidArgumentError("longer than 4096 characters");
  static const std::regex kEntry(" *([A-Za-z0-9_.:-]{1,64})((;[a-z_]{1,16}=[^;, ]{1,32}){0,8}) *");
  static const std::regex kParam(";([a-z_]{1,16})=([^;, ]{1,32})");
  while (!Trim(text).empty()) {
    size_t comma = text.find(',');
    std::string entry(text.substr(0, comma));
    std::smatch m;
    if (entry.size() > 256) return InvalidArgumentError("an entry is longer than 256 characters");
    if (hops.size() >= 64) return InvalidArgumentError("more than 64 entries");
    if (!std::regex_match(entry, m, kEntry))
      return InvalidArgumentError("entry '" + Clip(entry) + "' is not node;bytes=N;ms=F");
    Hop hop{m[1].str(), 0, 0};
    std::string params = m[2].str();
    for (std::sregex_iterator p(params.begin(), params.end(), kParam), e; p != e; ++p) {
      const std::string key = (*p)[1].str(), value = (*p)[2].str();
      if (key == "bytes") {
        std::optional<int64_t> bytes = ToInt(value);
        if (!bytes || *bytes < 0)
          return InvalidArgumentError("entry '" + Clip(entry) + "': bytes must be an integer >= 0");
        hop.bytes = *bytes;
      } else if (key == "ms") {
        std::optional<double> ms = ToDouble(value);
        if (!ms || *ms < 0)
          return InvalidArgumentError("entry '" + Clip(entry) + "': ms must be a number >= 0");
        hop.ms = *ms;
      }  // other parameters are ignored (forward compatible)
    }
    hops.push_back(std::move(hop));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
    if (Trim(text).empty()) return InvalidArgumentError("trailing ','");
  }
  return hops;
}

bool InsidePolygon(Point p, const std::vector<Point>& poly) {
  bool inside = false;
  for (size_t i = 0, j = poly.size() - 1; i < poly.size(); j = i++) {
    auto [xi, yi] = poly[i];
    auto [xj, yj] = poly[j];
    if ((yi > p.second) != (yj > p.second) &&
        p.first < (xj - xi) * (p.second - yi) / (yj - yi) + xi)
      inside = !inside;
  }
  return inside;
}

std::vector<std::string> ZonesHit(const Sighting& s, const std::vector<Zone>& zones) {
  std::vector<std::string> hit;
  if (!s.box) return hit;
  Point foot{((*s.box)[0] + (*s.box)[2]) / 2, (*s.box)[3]};
  for (const Zone& z : zones)
    if (z.polygon.size() >= 3 && InsidePolygon(foot, z.polygon)) hit.push_back(z.name);
  return hit;
}

json IdentityJson(const Identity& id) {
  auto opt = [](const auto& v) { return v ? json(*v) : json(nullptr); };
  return {{"status", id.status},
          {"name", opt(id.name)},
          {"score", opt(id.score)},
          {"threshold", opt(id.threshold)},
          {"metric", id.metric.empty() ? json(nullptr) : json(id.metric)}};
}

json HopsJson(const std::vector<Hop>& hops) {
  json out = json::array();
  for (const Hop& h : hops)
    out.push_back({{"node", h.node}, {"bytes", h.bytes}, {"latency_ms", h.ms}});
  return out;
}

}  // namespace strata::notify_service
