// Internals shared by identify_service.cc and faces_route.cc (not a public header).
// Thread-safety: Pipeline is used by one request at a time (borrowed from the pool).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "identify_service.h"
#include "strata/core/clock.h"
#include "strata/metrics/metrics.h"

namespace strata::identify_service {

struct IdentifyService::Pipeline {
  std::unique_ptr<vision::FaceEncoder> encoder;
  std::optional<vision::FaceDetector> faces;  // absent with faces: off
};

struct IdentifyService::Encoded {
  std::vector<float> tmpl;  // empty: no usable face
  bool face_found = false;  // false: none found (the whole image may still have been encoded)
  double face_detect_ms = 0;
  double encode_ms = 0;
};

}  // namespace strata::identify_service
