// Config parsing and MQTT wiring for strata-segment (kept out of main.cc so tests reuse them).
#pragma once

#include <memory>
#include <string_view>

#include "segment_service.h"
#include "strata/core/config.h"
#include "strata/transport/mqtt.h"
#include "strata/transport/service.h"

namespace strata::segment_service {

struct Options {
  http::ServerConfig server;
  Config service;
  std::string mqtt_uri;  // empty = no MQTT
  mqtt::Config mqtt_auth;  // username / password / ca_file / cert_file / key_file (ParseMqttAuth)
};

// Reads `server:`, `segment:` (node, max_batch_lines, snapshot_every_events, half_life_days,
// k_init, k_min, k_max, seed, history_every_events, history_every, history_capacity) and
// `mqtt:` (uri, username, password_file, password_env, ca_file, cert_file, key_file). Errors name
// file, key and line.
Status ParseConfig(const ConfigNode& root, const ServiceArgs& args, Options* out);

// Subscribes to strata/seg/<node>/events (QoS 1; NDJSON or one JSON per message) and publishes
// segment changes on strata/seg/<node>/changes. Persistent session; each batch is committed inside
// paho's arrival callback before the next message is read (paho PUBACKs on receipt, so a crash can
// lose at most the message in hand; see docs/services/segment.md "MQTT ingest and crashes").
// strata/seg/<node>/events/<publisher> is ingested the same way and answered with a receipt on
// strata/seg/<node>/receipts/<publisher> after the commit (segment_receipts.h), which closes that gap.
Result<std::unique_ptr<mqtt::MqttClient>> ConnectBus(const Options& opts, SegmentService& service);

std::string_view OpenApi();

}  // namespace strata::segment_service
