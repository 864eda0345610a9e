#include "roof_config.h"

#include <cstdlib>
#include <regex>

#include "strata/transport/client_config.h"
#include "transport/url_policy.h"

namespace strata::roof_service {
namespace {

// ignore_masks: a list of polygons, each a list of >= 3 [x, y] points normalised to 0..1.
Status ParseMasks(const ConfigNode& fc, std::vector<vision::NormPolygon>* out) {
  STRATA_ASSIGN_OR_RETURN(ConfigNode masks, fc.Child("ignore_masks"));
  if (masks.IsNull()) return Status::Ok();
  const std::string bad = fc.Where("ignore_masks") +
                          ": must be a list of polygons, each a list of >= 3 [x, y] points in 0..1";
  if (!masks.IsSequence()) return InvalidArgumentError(bad);
  out->clear();
  for (const ConfigNode& poly : masks.Items()) {
    vision::NormPolygon p;
    for (const ConfigNode& pt : poly.Items()) {
      std::vector<ConfigNode> xy = pt.Items();
      if (xy.size() != 2) return InvalidArgumentError(bad + " (line " + std::to_string(pt.line()) + ")");
      double v[2];
      for (int i = 0; i < 2; ++i) {
        char* end = nullptr;
        std::string text = xy[i].Scalar();
        v[i] = std::strtod(text.c_str(), &end);
        if (text.empty() || *end != '\0' || !(v[i] >= 0 && v[i] <= 1))
          return InvalidArgumentError(bad + " (line " + std::to_string(xy[i].line()) + ": '" +
                                      text.substr(0, 32) + "')");
      }
      p.emplace_back(static_cast<float>(v[0]), static_cast<float>(v[1]));
    }
    if (p.size() < 3) return InvalidArgumentError(bad + " (line " + std::to_string(poly.line()) + ")");
    out->push_back(std::move(p));
  }
  return Status::Ok();
}

Status ParseFrameChange(const ConfigNode& roof, vision::FrameChangeConfig* f) {
  STRATA_ASSIGN_OR_RETURN(ConfigNode fc, roof.Child("frame_change"));
  STRATA_RETURN_IF_ERROR(
      fc.CheckKeys({"method", "downscale_height", "interpolation", "blur_kernel", "pixel_threshold",
                    "dilate_iterations", "min_contour_area", "min_changed_fraction",
                    "background_alpha", "scene_change_fraction", "keepalive", "ignore_masks"}));
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
  STRATA_RETURN_IF_ERROR(fc.Get("keepalive", &f->keepalive));
  return ParseMasks(fc, &f->ignore_masks);
}

}  // namespace

Status ParseConfig(const ConfigNode& root, const ServiceArgs& args, Options* out) {
  STRATA_RETURN_IF_ERROR(root.CheckKeys({"server", "roof"}));
  STRATA_RETURN_IF_ERROR(ParseServerConfig(root, args, &out->server));
  STRATA_ASSIGN_OR_RETURN(ConfigNode roof, root.Child("roof"));
  STRATA_RETURN_IF_ERROR(roof.CheckKeys({"camera", "source", "capture_fps", "forward_fps",
                                         "jpeg_quality", "frame_change", "fog_url", "queue_frames",
                                         "loop", "realtime", "max_frames", "open_timeout", "block_when_full", "adaptive",
                                         "read_timeout", "motion_window", "token_file", "token_env",
                                         "ca_file"}));
  RoofConfig& c = out->roof;
  STRATA_RETURN_IF_ERROR(roof.Get("camera", &c.camera));
  static const std::regex kCamera("[a-z0-9_-]{1,64}");
  if (!std::regex_match(c.camera, kCamera))
    return InvalidArgumentError(roof.Where("camera") + ": must match [a-z0-9_-]{1,64}");
  STRATA_RETURN_IF_ERROR(roof.Require("source", &c.source));
  if (c.source.empty()) return InvalidArgumentError(roof.Where("source") + ": must not be empty");
  if (c.source.find("://") != std::string::npos) {  // a network source: SSRF policy
    Status s = net::CheckOutboundUrl(c.source, net::CameraSourcePolicy());
    if (!s.ok()) return Status(s.code(), roof.Where("source") + ": " + s.message());
  }
  STRATA_RETURN_IF_ERROR(roof.GetInRange("capture_fps", &c.capture_fps, 0.01, 1000.0));
  STRATA_RETURN_IF_ERROR(roof.GetInRange("forward_fps", &c.forward_fps, 0.01, 1000.0));
  STRATA_RETURN_IF_ERROR(roof.GetInRange("jpeg_quality", &c.jpeg_quality, 1, 100));
  STRATA_RETURN_IF_ERROR(roof.Get("fog_url", &c.fog_url));
  if (c.fog_url.rfind("http://", 0) != 0 && c.fog_url.rfind("https://", 0) != 0)
    return InvalidArgumentError(roof.Where("fog_url") + ": must start with http:// or https://");
  STRATA_RETURN_IF_ERROR(ParseHttpClientAuth(roof, &c.fog_auth));  // credentials for fog_url
  STRATA_RETURN_IF_ERROR(roof.GetInRange("queue_frames", &c.queue_frames, 1, 1024));
  STRATA_RETURN_IF_ERROR(roof.GetInRange("motion_window", &c.motion_window, 1, 100000));
  STRATA_RETURN_IF_ERROR(roof.Get("loop", &c.loop));
  STRATA_RETURN_IF_ERROR(roof.Get("block_when_full", &c.block_when_full));
  STRATA_RETURN_IF_ERROR(roof.Get("realtime", &c.realtime));
  STRATA_RETURN_IF_ERROR(roof.Get("max_frames", &c.max_frames));
  if (c.max_frames < 0) return InvalidArgumentError(roof.Where("max_frames") + ": must be >= 0");
  STRATA_RETURN_IF_ERROR(roof.Get("open_timeout", &c.open_timeout));
  STRATA_RETURN_IF_ERROR(roof.Get("read_timeout", &c.read_timeout));
  if (c.open_timeout.count() <= 0 || c.read_timeout.count() <= 0)
    return InvalidArgumentError(roof.Where("read_timeout") +
                                ": open_timeout and read_timeout must be > 0");
  STRATA_ASSIGN_OR_RETURN(ConfigNode ad, roof.Child("adaptive"));
  STRATA_RETURN_IF_ERROR(ad.CheckKeys({"target_p99", "min_fps", "window"}));
  STRATA_RETURN_IF_ERROR(ad.Get("target_p99", &c.adaptive.target_p99));
  STRATA_RETURN_IF_ERROR(ad.GetInRange("min_fps", &c.adaptive.min_fps, 0.01, 1000.0));
  STRATA_RETURN_IF_ERROR(ad.GetInRange("window", &c.adaptive.window, 2, 10000));
  return ParseFrameChange(roof, &c.frame_change);
}

}  // namespace strata::roof_service
