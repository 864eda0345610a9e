// Parsing of configs/notify.yaml into Options (see notify_config.h).
#include "notify_config.h"

#include <charconv>
#include <cmath>
#include <regex>

#include "strata/transport/client_config.h"
#include "transport/url_policy.h"

namespace strata::notify_service {
namespace {

std::string At(const ConfigNode& n) {
  return n.source() + ":" + std::to_string(n.line()) + ": key '" + n.path() + "'";
}

Result<double> Coordinate(const ConfigNode& n) {
  std::string text = n.Scalar();
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v) ||
      v < 0 || v > 1)
    return InvalidArgumentError(At(n) + ": expected a number in [0, 1], got '" + text + "'");
  return v;
}

Result<Zone> ParseZone(const ConfigNode& zones, const std::string& name) {
  STRATA_ASSIGN_OR_RETURN(ConfigNode poly, zones.Child(name));
  static const std::regex kName("[a-z0-9_-]{1,64}");
  if (!std::regex_match(name, kName))
    return InvalidArgumentError(zones.Where(name) + ": zone names must match [a-z0-9_-]{1,64}");
  if (!poly.IsSequence() || poly.Items().size() < 3)
    return InvalidArgumentError(zones.Where(name) +
                                ": expected a polygon of >= 3 points [[x, y], ...]");
  Zone zone{name, {}};
  for (const ConfigNode& p : poly.Items()) {
    std::vector<ConfigNode> xy = p.Items();
    if (!p.IsSequence() || xy.size() != 2)
      return InvalidArgumentError(At(p) + ": expected a point [x, y]");
    STRATA_ASSIGN_OR_RETURN(double x, Coordinate(xy[0]));
    STRATA_ASSIGN_OR_RETURN(double y, Coordinate(xy[1]));
    zone.polygon.emplace_back(x, y);
  }
  return zone;
}

Status ParseCameras(const ConfigNode& n, NotifyConfig* c) {
  STRATA_ASSIGN_OR_RETURN(ConfigNode cams, n.Child("cameras"));
  static const std::regex kCamera("[a-z0-9_-]{1,64}");
  for (const std::string& cam : cams.Keys()) {
    if (!std::regex_match(cam, kCamera))
      return InvalidArgumentError(cams.Where(cam) + ": camera ids must match [a-z0-9_-]{1,64}");
    STRATA_ASSIGN_OR_RETURN(ConfigNode cn, cams.Child(cam));
    STRATA_RETURN_IF_ERROR(cn.CheckKeys({"zones"}));
    STRATA_ASSIGN_OR_RETURN(ConfigNode zones, cn.Child("zones"));
    std::vector<Zone>& out = c->cameras[cam];
    for (const std::string& name : zones.Keys()) {
      STRATA_ASSIGN_OR_RETURN(Zone z, ParseZone(zones, name));
      out.push_back(std::move(z));
    }
  }
  return Status::Ok();
}

Status ParseSinks(const ConfigNode& n, NotifyConfig* c) {
  STRATA_ASSIGN_OR_RETURN(ConfigNode mq, n.Child("mqtt"));
  STRATA_RETURN_IF_ERROR(mq.CheckKeys({"url", "client_id", "prefix", "username", "password_file",
                                       "password_env", "ca_file", "cert_file", "key_file"}));
  STRATA_RETURN_IF_ERROR(mq.Get("url", &c->mqtt.url));
  STRATA_RETURN_IF_ERROR(ParseMqttAuth(mq, &c->mqtt.auth));
  STRATA_RETURN_IF_ERROR(mq.Get("client_id", &c->mqtt.client_id));
  STRATA_RETURN_IF_ERROR(mq.Get("prefix", &c->mqtt.prefix));
  static const std::regex kPrefix("[a-z0-9_-]{1,64}(/[a-z0-9_-]{1,64}){0,3}");
  if (!std::regex_match(c->mqtt.prefix, kPrefix))
    return InvalidArgumentError(mq.Where("prefix") + ": must be [a-z0-9_-] topic levels");
  STRATA_ASSIGN_OR_RETURN(ConfigNode wh, n.Child("webhook"));
  STRATA_RETURN_IF_ERROR(wh.CheckKeys({"url", "timeout", "max_attempts", "backoff", "allow_private"}));
  STRATA_RETURN_IF_ERROR(wh.Get("url", &c->webhook.url));
  if (!c->webhook.url.empty() && c->webhook.url.rfind("http://", 0) != 0 &&
      c->webhook.url.rfind("https://", 0) != 0)
    return InvalidArgumentError(wh.Where("url") + ": must start with http:// or https://");
  bool allow_private = false;  // SSRF policy (docs/security.md): private targets only when asked
  STRATA_RETURN_IF_ERROR(wh.Get("allow_private", &allow_private));
  if (!c->webhook.url.empty()) {
    Status s = net::CheckOutboundUrl(c->webhook.url, net::WebhookPolicy(allow_private));
    if (!s.ok()) return Status(s.code(), wh.Where("url") + ": " + s.message());
  }
  STRATA_RETURN_IF_ERROR(wh.Get("timeout", &c->webhook.timeout));
  STRATA_RETURN_IF_ERROR(wh.GetInRange("max_attempts", &c->webhook.max_attempts, 1, 100));
  return wh.Get("backoff", &c->webhook.backoff);
}

Status Positive(const ConfigNode& n, std::string_view key, std::chrono::milliseconds* out) {
  STRATA_RETURN_IF_ERROR(n.Get(key, out));
  if (out->count() <= 0) return InvalidArgumentError(n.Where(key) + ": must be > 0");
  return Status::Ok();
}

}  // namespace

Status ParseConfig(const ConfigNode& root, const ServiceArgs& args, Options* out) {
  STRATA_RETURN_IF_ERROR(root.CheckKeys({"server", "notify"}));
  STRATA_RETURN_IF_ERROR(ParseServerConfig(root, args, &out->server));
  STRATA_ASSIGN_OR_RETURN(ConfigNode n, root.Child("notify"));
  STRATA_RETURN_IF_ERROR(
      n.CheckKeys({"db", "snapshots_dir", "alert_on_unknown", "alert_on_person", "cooldown",
                   "unknown_snapshot_retention", "snapshot_min_gain", "sweep_interval", "mqtt",
                   "webhook", "cameras", "max_image_width", "max_image_height", "public_url"}));
  NotifyConfig& c = out->notify;
  c.db = args.data_dir + "/notify.db";
  c.snapshots_dir = args.data_dir + "/snapshots";
  STRATA_RETURN_IF_ERROR(n.Get("db", &c.db));
  STRATA_RETURN_IF_ERROR(n.Get("snapshots_dir", &c.snapshots_dir));
  STRATA_RETURN_IF_ERROR(n.Get("alert_on_unknown", &c.alert_on_unknown));
  STRATA_RETURN_IF_ERROR(n.Get("alert_on_person", &c.alert_on_person));
  STRATA_RETURN_IF_ERROR(Positive(n, "cooldown", &c.cooldown));
  STRATA_RETURN_IF_ERROR(Positive(n, "unknown_snapshot_retention", &c.unknown_snapshot_retention));
  STRATA_RETURN_IF_ERROR(n.GetInRange("snapshot_min_gain", &c.snapshot_min_gain, 0.0, 1.0));
  STRATA_RETURN_IF_ERROR(Positive(n, "sweep_interval", &c.sweep_interval));
  STRATA_RETURN_IF_ERROR(ParseSinks(n, &c));
  STRATA_RETURN_IF_ERROR(ParseCameras(n, &c));
  STRATA_RETURN_IF_ERROR(n.GetInRange("max_image_width", &c.image_limits.max_width, 16, 16384));
  STRATA_RETURN_IF_ERROR(n.GetInRange("max_image_height", &c.image_limits.max_height, 16, 16384));
  c.image_limits.max_bytes = out->server.max_body_bytes;
  STRATA_RETURN_IF_ERROR(n.Get("public_url", &c.public_url));
  while (!c.public_url.empty() && c.public_url.back() == '/') c.public_url.pop_back();
  return Status::Ok();
}

}  // namespace strata::notify_service
