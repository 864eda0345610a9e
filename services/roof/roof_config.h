// Config parsing for strata-roof (kept out of main.cc so tests can check error messages).
// Thread-safety: free functions without shared state.
#pragma once

#include "roof_service.h"
#include "strata/core/config.h"
#include "strata/transport/service.h"

namespace strata::roof_service {

struct Options {
  http::ServerConfig server;
  RoofConfig roof;
};

// Reads `server:` (shared section) and `roof:` {camera, source (required), capture_fps,
// forward_fps, jpeg_quality, fog_url, token_file, token_env, ca_file (for fog_url), queue_frames, loop, realtime, max_frames, motion_window,
// open_timeout, read_timeout, block_when_full, adaptive: {target_p99, min_fps, window}, frame_change:
// {method, downscale_height, interpolation, blur_kernel, pixel_threshold, dilate_iterations,
// min_contour_area, min_changed_fraction, background_alpha, scene_change_fraction, keepalive}}.
// Unknown keys and out-of-range values are InvalidArgument naming file, key and line.
Status ParseConfig(const ConfigNode& root, const ServiceArgs& args, Options* out);

}  // namespace strata::roof_service
