// The X-Strata-* headers of a crop sent by strata-detect (docs/surveillance.md): parsing with one
// precise error per malformed header, and the headers identify adds when it forwards the crop to
// strata-notify (identity, its own X-Strata-Hops entry, a child traceparent).
// Thread-safety: free functions without shared state.
//
//   STRATA_ASSIGN_OR_RETURN(CropMeta meta, ParseCropMeta(request));  // 400 naming the header
//   http::HeaderList h = ForwardHeaders(meta, identity, body.size(), processing_ms);
#pragma once

#include <cstdint>
#include <string>

#include "strata/transport/http.h"
#include "strata/transport/http_client.h"

namespace strata::identify_service {

struct CropMeta {
  std::string camera;       // X-Strata-Camera, [a-z0-9_-]{1,64} (required)
  int64_t track_id = 0;     // X-Strata-Track-Id, >= 1 (required)
  std::string kind;         // X-Strata-Kind, "face" | "person" (required)
  std::string frame_id;     // optional, [A-Za-z0-9_.:-]{0,128}
  std::string captured_at;  // optional, RFC 3339
  std::string box;          // optional, "x1,y1,x2,y2" in [0,1], passed on as received
  std::string score;        // optional, [0,1], passed on as received
  std::string hops;         // optional, "node;bytes=N;ms=F" entries joined by ", "
  std::string traceparent;  // valid W3C traceparent or "" (an invalid one is ignored, per W3C)
};

// InvalidArgument naming the header ("header X-Strata-Track-Id must be ...") for a missing
// required or a malformed header.
Result<CropMeta> ParseCropMeta(const http::Request& r);

// The identity as it travels: status known | unknown | no_face; name "" when none.
struct IdentityHeaders {
  std::string status;
  std::string name;
  double score = 0;
  double threshold = 0;
  std::string metric;  // chi_square | cosine
};

// `hops` with ", identify;bytes=<bytes>;ms=<ms>" appended (no leading ", " when hops is empty).
std::string AppendHop(const std::string& hops, size_t bytes, double ms);

// A child of `traceparent`: same trace id and flags, a fresh random parent id. "" when empty.
std::string ChildTraceparent(const std::string& traceparent);

// Headers for POST <notify_url>/api/v1/sightings: the incoming X-Strata-* passed on, the
// X-Strata-Identity-* added (Name absent for no_face), Hops extended, traceparent propagated.
http::HeaderList ForwardHeaders(const CropMeta& meta, const IdentityHeaders& id, size_t bytes,
                                double processing_ms);

}  // namespace strata::identify_service
