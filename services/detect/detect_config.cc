#include "detect_config.h"

#include "strata/transport/client_config.h"

namespace strata::detect_service {
namespace {

Status ParseTracker(const ConfigNode& det, vision::IouTrackerConfig* t) {
  STRATA_ASSIGN_OR_RETURN(ConfigNode tr, det.Child("tracker"));
  STRATA_RETURN_IF_ERROR(tr.CheckKeys({"iou", "min_hits", "max_age"}));
  STRATA_RETURN_IF_ERROR(tr.GetInRange("iou", &t->iou_threshold, 0.01, 1.0));
  STRATA_RETURN_IF_ERROR(tr.GetInRange("min_hits", &t->min_hits, 1, 1000));
  return tr.GetInRange("max_age", &t->max_age, 0, 100000);
}

Status ParseDetector(const ConfigNode& det, vision::DetectorConfig* d) {
  STRATA_RETURN_IF_ERROR(det.GetEnum("backend", &d->backend, {"hog", "dnn"}));
  STRATA_RETURN_IF_ERROR(det.Get("manifest", &d->manifest));
  if (d->backend == "dnn" && d->manifest.empty())
    return InvalidArgumentError(det.Where("manifest") + ": required when backend is 'dnn'");
  STRATA_RETURN_IF_ERROR(det.Get("model_dirs", &d->model_dirs));
  STRATA_RETURN_IF_ERROR(det.Get("classes", &d->classes));
  STRATA_RETURN_IF_ERROR(det.GetInRange("score_threshold", &d->score_threshold, -1.0, 100.0));
  STRATA_RETURN_IF_ERROR(det.GetInRange("nms_threshold", &d->nms_threshold, -1.0, 1.0));
  STRATA_RETURN_IF_ERROR(det.GetInRange("input_size", &d->input_size, 0, 4096));
  STRATA_RETURN_IF_ERROR(det.GetInRange("hog_max_width", &d->hog_max_width, 0, 8192));
  if (d->hog_max_width > 0 && d->hog_max_width < 64)
    return InvalidArgumentError(det.Where("hog_max_width") + ": must be 0 (never) or >= 64");
  STRATA_RETURN_IF_ERROR(det.GetInRange("hog_scale", &d->hog_scale, 1.01, 2.0));
  return det.GetInRange("threads", &d->threads, 0, 256);
}

Status GetInt64(const ConfigNode& n, std::string_view key, int64_t* out, int64_t lo, int64_t hi) {
  STRATA_RETURN_IF_ERROR(n.Get(key, out));
  if (*out < lo || *out > hi)
    return InvalidArgumentError(n.Where(key) + ": must be in [" + std::to_string(lo) + ", " +
                                std::to_string(hi) + "]");
  return Status::Ok();
}

// A relative spool_dir lives under --data-dir; "" keeps the memory queue.
std::string InDataDir(const std::string& dir, const std::string& data_dir) {
  if (dir.empty() || dir[0] == '/' || data_dir.empty()) return dir;
  return data_dir + "/" + dir;
}

Status ParseCloud(const ConfigNode& det, const std::string& data_dir, CloudUplinkConfig* c) {
  STRATA_ASSIGN_OR_RETURN(ConfigNode cl, det.Child("cloud"));
  STRATA_RETURN_IF_ERROR(cl.CheckKeys(
      {"url", "max_faces_per_track", "min_face_gain", "min_interval", "resend_interval", "queue",
       "timeout", "spool_dir", "spool_max_items", "spool_max_bytes", "backoff_max", "token_file",
       "token_env", "ca_file"}));
  STRATA_RETURN_IF_ERROR(cl.Get("url", &c->url));
  STRATA_RETURN_IF_ERROR(ParseHttpClientAuth(cl, &c->auth));
  STRATA_RETURN_IF_ERROR(cl.GetInRange("max_faces_per_track", &c->max_faces_per_track, 0, 100));
  STRATA_RETURN_IF_ERROR(cl.GetInRange("min_face_gain", &c->min_face_gain, 0.0, 1.0));
  STRATA_RETURN_IF_ERROR(cl.Get("min_interval", &c->min_interval));
  STRATA_RETURN_IF_ERROR(cl.Get("resend_interval", &c->resend_interval));
  STRATA_RETURN_IF_ERROR(cl.GetInRange("queue", &c->queue, 1, 10000));
  STRATA_RETURN_IF_ERROR(cl.Get("spool_dir", &c->spool_dir));
  c->spool_dir = InDataDir(c->spool_dir, data_dir);
  STRATA_RETURN_IF_ERROR(GetInt64(cl, "spool_max_items", &c->spool_max_items, 1, 10'000'000));
  STRATA_RETURN_IF_ERROR(
      GetInt64(cl, "spool_max_bytes", &c->spool_max_bytes, int64_t{1} << 16, int64_t{1} << 40));
  STRATA_RETURN_IF_ERROR(cl.Get("backoff_max", &c->backoff_max));
  if (c->backoff_max < c->backoff_min)
    return InvalidArgumentError(cl.Where("backoff_max") + ": must be >= 100ms");
  return cl.Get("timeout", &c->timeout);
}

}  // namespace

Status ParseConfig(const ConfigNode& root, const ServiceArgs& args, Options* out) {
  STRATA_RETURN_IF_ERROR(root.CheckKeys({"server", "detect"}));
  STRATA_RETURN_IF_ERROR(ParseServerConfig(root, args, &out->server));
  STRATA_ASSIGN_OR_RETURN(ConfigNode det, root.Child("detect"));
  STRATA_RETURN_IF_ERROR(det.CheckKeys(
      {"backend",       "manifest",   "model_dirs",      "classes",          "score_threshold",
       "nms_threshold", "input_size", "hog_max_width",   "hog_scale",        "threads",
       "instances",     "faces",      "face_manifest",   "jpeg_quality",     "annotate",
       "max_cameras",   "max_tracks", "max_image_width", "max_image_height", "tracker", "cloud"}));
  DetectConfig& c = out->detect;
  STRATA_RETURN_IF_ERROR(ParseDetector(det, &c.detector));
  STRATA_RETURN_IF_ERROR(det.GetInRange("instances", &c.instances, 1, 64));
  STRATA_RETURN_IF_ERROR(det.GetEnum("faces", &c.faces, {"auto", "yunet", "haar", "off"}));
  STRATA_RETURN_IF_ERROR(det.Get("face_manifest", &c.face_detector.manifest));
  c.face_detector.model_dirs = c.detector.model_dirs;
  STRATA_RETURN_IF_ERROR(det.GetInRange("jpeg_quality", &c.jpeg_quality, 1, 100));
  STRATA_RETURN_IF_ERROR(det.Get("annotate", &c.annotate));
  STRATA_RETURN_IF_ERROR(det.GetInRange("max_cameras", &c.max_cameras, 1, 100000));
  STRATA_RETURN_IF_ERROR(det.GetInRange("max_tracks", &c.max_tracks, 0, 10000));
  STRATA_RETURN_IF_ERROR(det.GetInRange("max_image_width", &c.image_limits.max_width, 16, 16384));
  STRATA_RETURN_IF_ERROR(det.GetInRange("max_image_height", &c.image_limits.max_height, 16, 16384));
  c.image_limits.max_bytes = out->server.max_body_bytes;
  STRATA_RETURN_IF_ERROR(ParseCloud(det, args.data_dir, &c.cloud));
  return ParseTracker(det, &c.tracker);
}

}  // namespace strata::detect_service
