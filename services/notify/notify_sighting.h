// Sighting: one identified crop POSTed by strata-identify, decoded from its X-Strata-* headers
// (docs/surveillance.md), plus the pure helpers the alert decision needs (hops, zones).
// Thread-safety: free functions without shared state; safe from any thread.
//
//   STRATA_ASSIGN_OR_RETURN(Sighting s, ParseSighting(request));
//   std::vector<std::string> zones = ZonesHit(s, config.cameras[s.camera]);
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "notify_config.h"
#include "strata/core/clock.h"
#include "strata/transport/http.h"

namespace strata::notify_service {

struct Hop {
  std::string node;
  int64_t bytes = 0;
  double ms = 0;
};

struct Identity {
  std::string status;  // known | unknown | no_face
  std::optional<std::string> name;
  std::optional<double> score, threshold;
  std::string metric;  // chi_square | cosine | ""
  bool operator==(const Identity&) const = default;
};

struct Sighting {
  std::string camera;
  int64_t track_id = 0;
  std::string kind;  // face | person
  Identity identity;
  std::optional<std::array<double, 4>> box;  // x1, y1, x2, y2 normalised
  std::optional<double> score;               // detector score of the person
  std::string frame_id;
  std::optional<WallTime> captured_at;
  std::vector<Hop> hops;
  std::string traceparent;  // "" when absent or malformed (W3C: restart the trace)
  std::string message_id;   // X-Strata-Message-Id; "" when absent (no dedupe)
};

// Reads and validates the headers. InvalidArgument naming the header for a missing required one
// (X-Strata-Camera, -Track-Id, -Kind, -Identity-Status) or any malformed value (including an
// X-Strata-Message-Id outside [A-Za-z0-9_.:-]{1,128}).
Result<Sighting> ParseSighting(const http::Request& r);

// "node;bytes=N;ms=F, node;bytes=N;ms=F" (at most 64 entries; parameters in any order, unknown
// ones ignored, a missing bytes/ms reads as 0); "" → none. InvalidArgument naming the bad entry.
Result<std::vector<Hop>> ParseHops(std::string_view text);

// Even-odd rule; points on an edge may fall either way.
bool InsidePolygon(Point p, const std::vector<Point>& polygon);

// Names of the zones containing the bottom centre of the sighting's box (none without a box).
std::vector<std::string> ZonesHit(const Sighting& s, const std::vector<Zone>& zones);

nlohmann::json IdentityJson(const Identity& id);
nlohmann::json HopsJson(const std::vector<Hop>& hops);

}  // namespace strata::notify_service
