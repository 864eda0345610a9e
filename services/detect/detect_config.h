// Config parsing for strata-detect (kept out of main.cc so tests can check error messages).
// Thread-safety: free functions without shared state.
#pragma once

#include "detect_service.h"
#include "strata/core/config.h"
#include "strata/transport/service.h"

namespace strata::detect_service {

struct Options {
  http::ServerConfig server;
  DetectConfig detect;
};

// Reads `server:` (shared section) and `detect:` {backend, manifest, model_dirs, classes,
// score_threshold, nms_threshold, input_size, hog_max_width, hog_scale, threads, instances,
// faces, face_manifest, jpeg_quality, annotate, max_cameras, max_tracks, max_image_width,
// max_image_height, tracker: {iou, min_hits, max_age}, cloud: {url, max_faces_per_track,
// min_face_gain, min_interval, resend_interval, queue, timeout, spool_dir, spool_max_items,
// spool_max_bytes, backoff_max, token_file, token_env, ca_file}}. A relative cloud.spool_dir is resolved under args.data_dir.
// Unknown keys and out-of-range values are InvalidArgument naming file, key and line.
Status ParseConfig(const ConfigNode& root, const ServiceArgs& args, Options* out);

}  // namespace strata::detect_service
