// NotifyConfig: typed settings of strata-notify with inline defaults, and the YAML parser that
// fills them (kept out of main.cc so tests can check error messages).
// Thread-safety: plain values; ParseConfig is a free function without shared state.
//
//   notify_service::Options opts;
//   STRATA_RETURN_IF_ERROR(notify_service::ParseConfig(root, args, &opts));
//   STRATA_ASSIGN_OR_RETURN(auto svc, NotifyService::Create(opts.notify));
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "strata/core/config.h"
#include "strata/transport/http.h"
#include "strata/transport/mqtt.h"
#include "strata/transport/service.h"
#include "strata/vision/image_io.h"

namespace strata::notify_service {

using Point = std::pair<double, double>;  // normalised (x, y) in [0, 1]

struct Zone {
  std::string name;
  std::vector<Point> polygon;  // >= 3 points
};

struct MqttSinkConfig {
  std::string url;        // "" = no MQTT sink, e.g. tcp://127.0.0.1:1883
  std::string client_id;  // "" = strata-notify-<random>
  std::string prefix = "strata";
  mqtt::Config auth;  // username / password / ca_file / cert_file / key_file (ParseMqttAuth)
};

struct WebhookConfig {
  std::string url;  // "" = no webhook, e.g. http://127.0.0.1:9000/hook
  std::chrono::milliseconds timeout{5000};
  int max_attempts = 5;                     // then the delivery is marked failed
  std::chrono::milliseconds backoff{1000};  // doubles after every failed attempt
};

struct NotifyConfig {
  std::string db = "var/notify.db";
  std::string snapshots_dir = "var/snapshots";
  bool alert_on_unknown = true;               // unknown face → unknown_face
  bool alert_on_person = false;               // any person → person
  std::chrono::milliseconds cooldown{30000};  // track unseen this long → phase end
  std::chrono::milliseconds unknown_snapshot_retention{72LL * 3600 * 1000};
  double snapshot_min_gain = 0.05;  // score gain that makes a new crop the alert's snapshot
  std::chrono::milliseconds sweep_interval{1000};
  MqttSinkConfig mqtt;
  WebhookConfig webhook;
  std::map<std::string, std::vector<Zone>> cameras;  // restricted zones per camera
  vision::ImageLimits image_limits{.max_width = 4096, .max_height = 4096};
  std::string public_url;  // base of snapshot_url; "" = http://<server host>:<port>
};

struct Options {
  http::ServerConfig server;
  NotifyConfig notify;
};

// Reads `server:` (shared section) and `notify:` {db, snapshots_dir, alert_on_unknown,
// alert_on_person, cooldown, unknown_snapshot_retention, snapshot_min_gain, sweep_interval,
// mqtt{url, client_id, prefix, username, password_file, password_env, ca_file, cert_file,
// key_file}, webhook{url, timeout, max_attempts, backoff},
// cameras{<cam>: {zones: {<name>: [[x, y], ...]}}}, max_image_width, max_image_height,
// public_url}. db and snapshots_dir default to <data_dir>/notify.db and <data_dir>/snapshots.
// Unknown keys and bad values are InvalidArgument naming file, key and line.
Status ParseConfig(const ConfigNode& root, const ServiceArgs& args, Options* out);

}  // namespace strata::notify_service
