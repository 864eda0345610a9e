#include "segment_config.h"

#include <spdlog/spdlog.h>

#include "segment_receipts.h"

#include "strata/transport/client_config.h"

namespace strata::embedded {
extern const std::string_view segment_openapi;
}

namespace strata::segment_service {

std::string_view OpenApi() { return embedded::segment_openapi; }

Status ParseConfig(const ConfigNode& root, const ServiceArgs& args, Options* out) {
  STRATA_RETURN_IF_ERROR(root.CheckKeys({"server", "segment", "mqtt"}));
  STRATA_RETURN_IF_ERROR(ParseServerConfig(root, args, &out->server));
  out->service.data_dir = args.data_dir;
  STRATA_ASSIGN_OR_RETURN(ConfigNode seg, root.Child("segment"));
  STRATA_RETURN_IF_ERROR(seg.CheckKeys({"node", "max_batch_lines", "snapshot_every_events",
                                        "half_life_days", "k_init", "k_min", "k_max", "seed",
                                        "history_every_events", "history_every",
                                        "history_capacity"}));
  Config& c = out->service;
  STRATA_RETURN_IF_ERROR(seg.Get("node", &c.node));
  int max_lines = static_cast<int>(c.max_batch_lines);
  STRATA_RETURN_IF_ERROR(seg.GetInRange("max_batch_lines", &max_lines, 1, 10'000'000));
  c.max_batch_lines = static_cast<size_t>(max_lines);
  STRATA_RETURN_IF_ERROR(seg.Get("snapshot_every_events", &c.snapshot_every_events));
  STRATA_RETURN_IF_ERROR(seg.GetInRange("half_life_days", &c.segmenter.profiles.half_life_days, 0.01, 3650.0));
  STRATA_RETURN_IF_ERROR(seg.GetInRange("k_init", &c.segmenter.clustering.k_init, 1, 1024));
  STRATA_RETURN_IF_ERROR(seg.GetInRange("k_min", &c.segmenter.clustering.k_min, 1, 1024));
  STRATA_RETURN_IF_ERROR(seg.GetInRange("k_max", &c.segmenter.clustering.k_max, 1, 1024));
  int64_t seed = static_cast<int64_t>(c.segmenter.seed);
  STRATA_RETURN_IF_ERROR(seg.Get("seed", &seed));
  c.segmenter.seed = static_cast<uint64_t>(seed);
  c.segmenter.clustering.seed = static_cast<uint64_t>(seed);
  STRATA_RETURN_IF_ERROR(seg.Get("history_every_events", &c.history.every_events));
  STRATA_RETURN_IF_ERROR(seg.Get("history_every", &c.history.every));
  int capacity = static_cast<int>(c.history.capacity);
  STRATA_RETURN_IF_ERROR(seg.GetInRange("history_capacity", &capacity, 1, 100000));
  c.history.capacity = static_cast<size_t>(capacity);
  if (c.history.every_events < 1)
    return InvalidArgumentError("segment.history_every_events must be >= 1");
  if (c.history.every.count() <= 0) return InvalidArgumentError("segment.history_every must be > 0");
  STRATA_ASSIGN_OR_RETURN(ConfigNode mq, root.Child("mqtt"));
  STRATA_RETURN_IF_ERROR(mq.CheckKeys({"uri", "username", "password_file", "password_env",
                                       "ca_file", "cert_file", "key_file"}));
  STRATA_RETURN_IF_ERROR(mq.Get("uri", &out->mqtt_uri));
  STRATA_RETURN_IF_ERROR(ParseMqttAuth(mq, &out->mqtt_auth));
  return Status::Ok();
}

Result<std::unique_ptr<mqtt::MqttClient>> ConnectBus(const Options& opts, SegmentService& service) {
  const std::string node = opts.service.node;
  mqtt::Config mc{.uri = opts.mqtt_uri,
                  .client_id = "strata-segment-" + node,
                  .clean_session = false,
                  .will_topic = "strata/node/" + node + "/availability",
                  .link_src = node};
  CopyMqttAuth(opts.mqtt_auth, &mc);
  STRATA_ASSIGN_OR_RETURN(auto bus, mqtt::MqttClient::Create(mc));
  mqtt::MqttClient* raw = bus.get();
  service.SetChangeSink([raw, node](const nlohmann::json& change) {
    Status s = raw->Publish("strata/seg/" + node + "/changes", change.dump(), 1, false);
    if (!s.ok()) spdlog::warn("segment change not published: {}", s.message());
  });
  // Inline: the batch is committed on paho's receive thread before it reads (and PUBACKs) the
  // next message, so a crash loses at most the message in hand (docs/services/segment.md).
  // On .../events/<publisher> a receipt follows each commit (segment_receipts.h), which closes
  // that gap for publishers with an outbox.
  for (const std::string suffix : {"", "/+"})
    STRATA_RETURN_IF_ERROR(bus->SubscribeInline(
        "strata/seg/" + node + "/events" + suffix, 1, [&service, raw, node](const mqtt::Message& m) {
          HandleEventsMessage(service, *raw, node, m);
        }));
  STRATA_RETURN_IF_ERROR(bus->Connect(std::chrono::seconds(10)));
  (void)bus->Publish("strata/node/" + node + "/availability", "online", 1, true);
  return bus;
}

}  // namespace strata::segment_service
