// Options of strata-federate (one binary, role by config: cloud | fog | edge) and their YAML
// parsing (configs/federate.yaml documents every key). Errors name file, key and line.
// Thread-safety: plain values; ParseConfig is a pure function.
//
//   Options o;  STRATA_RETURN_IF_ERROR(ParseConfig(root, args, &o));
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "strata/core/config.h"
#include "strata/transport/http_client.h"
#include "strata/transport/mqtt.h"
#include "strata/transport/service.h"

namespace strata::federate {

struct NodeEntry {
  std::string id;
  std::string token;  // 64 hex digits
};

struct AggregatorOptions {
  std::string role = "cloud";  // cloud | fog
  std::string id = "cloud";    // a fog's node id at its parent
  std::string group = "default";
  std::vector<NodeEntry> nodes;  // registered children (edges, or fogs for the cloud)
  int k = 8, d = 4;
  std::string init = "kfed";  // cloud: kfed (round 0 collects local centres) | random
  int kfed_local_k = 0;       // 0 = k
  double init_range = 10;     // random init: centroids uniform in [-init_range, init_range]^d
  uint64_t seed = 1;
  int rounds = 10;  // cloud: FedLloyd rounds to run, 0 = unlimited
  int min_participants = 2;
  int max_retries = 3;
  std::chrono::milliseconds round_timeout{30000};
  std::chrono::milliseconds phase_timeout{5000};  // secure key phases and unmask
  std::chrono::milliseconds poll_interval{20};
  double decay = 0.0;
  int min_support = 2;  // cloud: segments backed by fewer nodes are not updated (privacy)
  bool secure = false;  // SecAgg between this aggregator and its children
  double threshold_fraction = 2.0 / 3.0;  // t = floor(fraction·n) + 1, clamped to (n/2, n]
  // Central DP (cloud only): clip_norm is sent to nodes, which clip customers before LocalStats.
  bool dp = false;
  double dp_epsilon = 1.0, dp_delta = 1e-6, clip_norm = 0.0;
  double dp_budget = 0.0;           // 0 = dp_epsilon
  std::string budget_action = "stop";  // stop | warn
  // Fog: parent aggregator.
  std::string parent_url;
  std::string parent_token;
  // Bearer credentials (token_file / token_env / ca_file) for parent_url; not the node token.
  http::ClientConfig parent_auth;
  bool int8_model = false;  // fog: fetch the parent's model int8-compressed
  // Plain rounds: the update encoding announced to this aggregator's children (f64 | fp16 |
  // int8); a fog encodes its forwarded sum as its parent announces, with error feedback if set.
  std::string update_encoding = "f64";
  bool error_feedback = false;
  // Cloud: durable state (model, last round id, DP accountant) lives in
  // <data_dir>/federate-<id>.state.json; empty = in memory only (tests).
  std::string data_dir;
};

struct EdgeOptions {
  std::string id = "edge-1";
  std::string aggregator_url;
  std::string token;
  std::vector<double> points;  // this node's customers' feature vectors, row-major n×d
  int d = 0;
  std::string points_csv;   // config: `points` from a CSV (one customer per line), or
  std::string events_ndjson;  // from this node's events (NDJSON), as strata-segment profiles (d = 16)
  std::string segment_url;  // install each new global model via PUT /api/v1/model
  // Bearer credentials (token_file / token_env / ca_file) for aggregator_url and segment_url.
  http::ClientConfig upstream_auth;
  bool int8_model = false;
  bool error_feedback = false;  // compressed updates: carry the quantisation residual forward
  std::chrono::milliseconds poll_interval{50};
  uint64_t seed = 1;
  uint64_t secure_seed = 0;  // 0 = OS randomness
  std::function<bool(uint64_t round_id)> drop;  // tests/simulation: skip this round after sharing
};

struct Options {
  http::ServerConfig server;
  std::string role = "cloud";
  AggregatorOptions aggregator;
  EdgeOptions edge;
  std::string mqtt_url;  // empty = no MQTT
  std::string mqtt_prefix = "strata";
  mqtt::Config mqtt_auth;  // username / password / ca_file / cert_file / key_file
};

Status ParseConfig(const ConfigNode& root, const ServiceArgs& args, Options* out);
// Reads a CSV of numbers (one row per customer, same column count; '#' comments) into points.
Status LoadPointsCsv(const std::string& path, std::vector<double>* points, int* d);
// Reads events (NDJSON, strata-segment's schema), folds them into customer profiles and returns
// each customer's 16 profile features as of the newest event (segment_install.cc).
Status LoadEventsAsPoints(const std::string& path, std::vector<double>* points, int* d);
Status ValidateAggregator(const AggregatorOptions& o);

}  // namespace strata::federate
