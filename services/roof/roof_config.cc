#include "roof_config.h"

#include <regex>

namespace strata::roof_service {
namespace {

Status ParseFrameChange(const ConfigNode& roof, vision::FrameChangeConfig* f) {
  STRATA_ASSIGN_OR_RETURN(ConfigNode fc, roof.Child("frame_change"));
  STRATA_RETURN_IF_ERROR(
      fc.CheckKeys({"method", "downscale_height", "interpolation", "blur_kernel", "pixel_threshold",
                    "dilate_iterations", "min_contour_area", "min_changed_fraction",
                    "background_alpha", "scene_change_fraction", "keepalive"}));
  STRATA_RETURN_IF_ERROR(fc.GetEnum("method", &f->method, {"consecutive", "background"}));
  STRATA_RETURN_IF_ERROR(fc.GetInRange("downscale_height", &f->downscale_height, 0, 4320));
  STRATA_RETURN_IF_ERROR(fc.GetEnum("interpolation", &f->interpolation, {"linear", "area"}));
  STRATA_RETURN_IF_ERROR(fc.GetInRange("blur_kernel", &f->blur_kernel, 1, 99));
  STRATA_RETURN_IF_ERROR(fc.GetInRange("pixel_threshold", &f->pixel_threshold, 1, 255));
  STRATA_RETURN_IF_ERROR(fc.GetInRange("dilate_iterations", &f->dilate_iterations, 0, 10));
  STRATA_RETURN_IF_ERROR(fc.GetInRange("min_contour_area", &f->min_contour_area, 0.0, 1e9));
  STRATA_RETURN_IF_ERROR(
      fc.GetInRange("min_changed_fraction", &f->min_changed_fraction, 1e-9, 1.0));
  STRATA_RETURN_IF_ERROR(fc.GetInRange("background_alpha", &f->background_alpha, 1e-9, 1.0));
  STRATA_RETURN_IF_ERROR(
      fc.GetInRange("scene_change_fraction", &f->scene_change_fraction, 1e-9, 1.0));
  return fc.Get("keepalive", &f->keepalive);
}

}  // namespace

Status ParseConfig(const ConfigNode& root, const ServiceArgs& args, Options* out) {
  STRATA_RETURN_IF_ERROR(root.CheckKeys({"server", "roof"}));
  STRATA_RETURN_IF_ERROR(ParseServerConfig(root, args, &out->server));
  STRATA_ASSIGN_OR_RETURN(ConfigNode roof, root.Child("roof"));
  STRATA_RETURN_IF_ERROR(roof.CheckKeys({"camera", "source", "capture_fps", "forward_fps",
                                         "jpeg_quality", "frame_change", "fog_url", "queue_frames",
                                         "loop", "realtime", "max_frames"}));
  RoofConfig& c = out->roof;
  STRATA_RETURN_IF_ERROR(roof.Get("camera", &c.camera));
  static const std::regex kCamera("[a-z0-9_-]{1,64}");
  if (!std::regex_match(c.camera, kCamera))
    return InvalidArgumentError(roof.Where("camera") + ": must match [a-z0-9_-]{1,64}");
  STRATA_RETURN_IF_ERROR(roof.Require("source", &c.source));
  if (c.source.empty()) return InvalidArgumentError(roof.Where("source") + ": must not be empty");
  STRATA_RETURN_IF_ERROR(roof.GetInRange("capture_fps", &c.capture_fps, 0.01, 1000.0));
  STRATA_RETURN_IF_ERROR(roof.GetInRange("forward_fps", &c.forward_fps, 0.01, 1000.0));
  STRATA_RETURN_IF_ERROR(roof.GetInRange("jpeg_quality", &c.jpeg_quality, 1, 100));
  STRATA_RETURN_IF_ERROR(roof.Get("fog_url", &c.fog_url));
  if (c.fog_url.rfind("http://", 0) != 0 && c.fog_url.rfind("https://", 0) != 0)
    return InvalidArgumentError(roof.Where("fog_url") + ": must start with http:// or https://");
  STRATA_RETURN_IF_ERROR(roof.GetInRange("queue_frames", &c.queue_frames, 1, 1024));
  STRATA_RETURN_IF_ERROR(roof.Get("loop", &c.loop));
  STRATA_RETURN_IF_ERROR(roof.Get("realtime", &c.realtime));
  STRATA_RETURN_IF_ERROR(roof.Get("max_frames", &c.max_frames));
  if (c.max_frames < 0) return InvalidArgumentError(roof.Where("max_frames") + ": must be >= 0");
  return ParseFrameChange(roof, &c.frame_change);
}

}  // namespace strata::roof_service
