// Config parsing for strata-identify (kept out of main.cc so tests can check error messages).
// Thread-safety: free functions without shared state.
#pragma once

#include "identify_service.h"
#include "strata/core/config.h"
#include "strata/transport/service.h"

namespace strata::identify_service {

struct Options {
  http::ServerConfig server;
  IdentifyConfig identify;
};

// Reads `server:` (shared section) and `identify:` {encoder, manifest, model_dirs, faces,
// face_manifest, threshold, gallery: {path, key_file, allow_plaintext, max_templates_per_person},
// enrol_whole_image, notify_url, notify_queue, notify_backoff, notify_backoff_max,
// notify_spool_dir, notify_spool_max_items, notify_spool_max_bytes, dedupe_ids,
// token_file, token_env, ca_file (for notify_url), mqtt: {url, client_id, prefix, username,
// password_file, password_env, ca_file, cert_file, key_file}, max_image_width, max_image_height, instances}. The data dir (--data-dir) holds the gallery and its key by
// default. Unknown keys and out-of-range values are InvalidArgument naming file, key and line.
Status ParseConfig(const ConfigNode& root, const ServiceArgs& args, Options* out);

}  // namespace strata::identify_service
