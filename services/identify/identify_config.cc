// Config parsing for strata-identify (see identify_config.h).
#include "identify_config.h"

#include <regex>

#include "strata/transport/client_config.h"

namespace strata::identify_service {
namespace {

Status ParseGallery(const ConfigNode& id, GallerySettings* g) {
  STRATA_ASSIGN_OR_RETURN(ConfigNode gal, id.Child("gallery"));
  STRATA_RETURN_IF_ERROR(
      gal.CheckKeys({"path", "key_file", "allow_plaintext", "max_templates_per_person"}));
  STRATA_RETURN_IF_ERROR(gal.Get("path", &g->path));
  STRATA_RETURN_IF_ERROR(gal.Get("key_file", &g->key_file));
  STRATA_RETURN_IF_ERROR(gal.Get("allow_plaintext", &g->allow_plaintext));
  return gal.GetInRange("max_templates_per_person", &g->max_templates_per_person, 1, 10000);
}

Status ParseMqtt(const ConfigNode& id, MqttSettings* m) {
  STRATA_ASSIGN_OR_RETURN(ConfigNode mq, id.Child("mqtt"));
  STRATA_RETURN_IF_ERROR(mq.CheckKeys({"url", "client_id", "prefix", "username", "password_file",
                                       "password_env", "ca_file", "cert_file", "key_file"}));
  STRATA_RETURN_IF_ERROR(mq.Get("url", &m->url));
  if (!m->url.empty() && m->url.rfind("tcp://", 0) != 0 && m->url.rfind("ssl://", 0) != 0 &&
      m->url.rfind("mqtts://", 0) != 0)
    return InvalidArgumentError(mq.Where("url") + ": must start with tcp://, ssl:// or mqtts://");
  STRATA_RETURN_IF_ERROR(ParseMqttAuth(mq, &m->auth));
  STRATA_RETURN_IF_ERROR(mq.Get("client_id", &m->client_id));
  STRATA_RETURN_IF_ERROR(mq.Get("prefix", &m->prefix));
  static const std::regex kPrefix("[a-z0-9_-]{1,64}(/[a-z0-9_-]{1,64}){0,3}");
  if (!std::regex_match(m->prefix, kPrefix))
    return InvalidArgumentError(mq.Where("prefix") + ": must be topic levels of [a-z0-9_-]");
  return Status::Ok();
}

Status GetInt64(const ConfigNode& n, std::string_view key, int64_t* out, int64_t lo, int64_t hi) {
  STRATA_RETURN_IF_ERROR(n.Get(key, out));
  if (*out < lo || *out > hi)
    return InvalidArgumentError(n.Where(key) + ": must be in [" + std::to_string(lo) + ", " +
                                std::to_string(hi) + "]");
  return Status::Ok();
}

// Store-and-forward to notify (relative notify_spool_dir: under --data-dir) and the dedupe window.
Status ParseSpool(const ConfigNode& id, IdentifyConfig* c) {
  STRATA_RETURN_IF_ERROR(id.Get("notify_spool_dir", &c->notify_spool_dir));
  STRATA_RETURN_IF_ERROR(
      GetInt64(id, "notify_spool_max_items", &c->notify_spool_max_items, 1, 10'000'000));
  STRATA_RETURN_IF_ERROR(GetInt64(id, "notify_spool_max_bytes", &c->notify_spool_max_bytes,
                                  int64_t{1} << 16, int64_t{1} << 40));
  STRATA_RETURN_IF_ERROR(id.Get("notify_backoff", &c->notify_backoff));
  STRATA_RETURN_IF_ERROR(id.Get("notify_backoff_max", &c->notify_backoff_max));
  if (c->notify_backoff.count() < 1 || c->notify_backoff_max < c->notify_backoff)
    return InvalidArgumentError(id.Where("notify_backoff_max") +
                                ": need 1ms <= notify_backoff <= notify_backoff_max");
  return id.GetInRange("dedupe_ids", &c->dedupe_ids, 1, 1'000'000);
}

}  // namespace

Status ParseConfig(const ConfigNode& root, const ServiceArgs& args, Options* out) {
  STRATA_RETURN_IF_ERROR(root.CheckKeys({"server", "identify"}));
  STRATA_RETURN_IF_ERROR(ParseServerConfig(root, args, &out->server));
  STRATA_ASSIGN_OR_RETURN(ConfigNode id, root.Child("identify"));
  STRATA_RETURN_IF_ERROR(id.CheckKeys({"encoder",
                                       "manifest",
                                       "model_dirs",
                                       "faces",
                                       "face_manifest",
                                       "threshold",
                                       "gallery",
                                       "enrol_whole_image",
                                       "notify_url",
                                       "notify_queue",
                                       "mqtt",
                                       "max_image_width",
                                       "max_image_height",
                                       "instances",
                                       "notify_spool_dir",
                                       "notify_spool_max_items",
                                       "notify_spool_max_bytes",
                                       "notify_backoff",
                                       "notify_backoff_max",
                                       "dedupe_ids",
                                       "token_file",
                                       "token_env",
                                       "ca_file"}));
  IdentifyConfig& c = out->identify;
  c.data_dir = args.data_dir;
  STRATA_RETURN_IF_ERROR(id.GetEnum("encoder", &c.encoder.backend, {"lbph", "mobilefacenet"}));
  STRATA_RETURN_IF_ERROR(id.Get("manifest", &c.encoder.manifest));
  STRATA_RETURN_IF_ERROR(id.Get("model_dirs", &c.encoder.model_dirs));
  c.face_detector.model_dirs = c.encoder.model_dirs;
  if (c.encoder.backend == "mobilefacenet") c.faces = "yunet";  // needs landmarks
  STRATA_RETURN_IF_ERROR(id.GetEnum("faces", &c.faces, {"haar", "yunet", "auto", "off"}));
  STRATA_RETURN_IF_ERROR(id.Get("face_manifest", &c.face_detector.manifest));
  if (c.encoder.backend == "mobilefacenet" && (c.faces == "haar" || c.faces == "off"))
    return InvalidArgumentError(id.Where("faces") +
                                ": the mobilefacenet encoder needs landmarks: use yunet or auto");
  STRATA_RETURN_IF_ERROR(id.GetInRange("threshold", &c.threshold, -1.0, 1e6));
  STRATA_RETURN_IF_ERROR(ParseGallery(id, &c.gallery));
  STRATA_RETURN_IF_ERROR(id.Get("enrol_whole_image", &c.enrol_whole_image));
  STRATA_RETURN_IF_ERROR(id.Get("notify_url", &c.notify_url));
  if (!c.notify_url.empty() && c.notify_url.rfind("http://", 0) != 0 &&
      c.notify_url.rfind("https://", 0) != 0)
    return InvalidArgumentError(id.Where("notify_url") + ": must start with http:// or https://");
  STRATA_RETURN_IF_ERROR(ParseHttpClientAuth(id, &c.notify_auth));  // credentials for notify_url
  STRATA_RETURN_IF_ERROR(id.GetInRange("notify_queue", &c.notify_queue, 1, 100000));
  STRATA_RETURN_IF_ERROR(ParseSpool(id, &c));
  STRATA_RETURN_IF_ERROR(ParseMqtt(id, &c.mqtt));
  STRATA_RETURN_IF_ERROR(id.GetInRange("max_image_width", &c.image_limits.max_width, 16, 16384));
  STRATA_RETURN_IF_ERROR(id.GetInRange("max_image_height", &c.image_limits.max_height, 16, 16384));
  c.image_limits.max_bytes = out->server.max_body_bytes;
  return id.GetInRange("instances", &c.instances, 1, 64);
}

}  // namespace strata::identify_service
