// YAML → Options for strata-federate; see configs/federate.yaml.
#include "federate_config.h"

#include <fstream>
#include <sstream>

#include "protocol.h"
#include "strata/transport/client_config.h"

namespace strata::federate {

Status ValidateAggregator(const AggregatorOptions& o) {
  if (o.role != "cloud" && o.role != "fog") return InvalidArgumentError("role must be cloud|fog|edge");
  if (o.nodes.empty()) return InvalidArgumentError("federate.nodes: at least one node is required");
  for (const auto& n : o.nodes) {
    if (n.id.empty()) return InvalidArgumentError("federate.nodes: empty id");
    STRATA_RETURN_IF_ERROR(ParseToken(n.token).status().WithContext("federate.nodes." + n.id + ".token"));
  }
  if (o.k < 1 || o.d < 1) return InvalidArgumentError("federate.k and federate.d must be >= 1");
  if (o.init != "kfed" && o.init != "random") return InvalidArgumentError("federate.init must be kfed|random");
  if (o.min_participants < 1) return InvalidArgumentError("federate.min_participants must be >= 1");
  if (o.min_support < 1) return InvalidArgumentError("federate.min_support must be >= 1");
  if (o.round_timeout.count() <= 0 || o.phase_timeout.count() <= 0)
    return InvalidArgumentError("federate.round_timeout and phase_timeout must be > 0");
  if (o.dp && o.role == "cloud" && (o.clip_norm <= 0 || o.rounds <= 0))
    return InvalidArgumentError("federate.dp needs clip_norm > 0 and rounds > 0 (the budget is split over rounds)");
  if (o.budget_action != "stop" && o.budget_action != "warn")
    return InvalidArgumentError("federate.dp_budget_action must be stop|warn");
  if (o.update_encoding != "f64" && o.update_encoding != "fp16" && o.update_encoding != "int8")
    return InvalidArgumentError("federate.update_encoding must be f64|fp16|int8");
  if (o.role == "fog" && o.parent_url.empty()) return InvalidArgumentError("federate.parent_url is required for a fog");
  if (o.role == "fog") STRATA_RETURN_IF_ERROR(ParseToken(o.parent_token).status().WithContext("federate.parent_token"));
  return Status::Ok();
}

Status LoadPointsCsv(const std::string& path, std::vector<double>* points, int* d) {
  std::ifstream in(path);
  if (!in) return NotFoundError("cannot read points file '" + path + "'");
  std::string line;
  int lineno = 0;
  *d = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty() || line[0] == '#') continue;
    std::stringstream ss(line);
    std::string cell;
    int cols = 0;
    while (std::getline(ss, cell, ',')) {
      char* end = nullptr;
      double v = std::strtod(cell.c_str(), &end);
      if (end == cell.c_str() || !std::isfinite(v))
        return InvalidArgumentError(path + ":" + std::to_string(lineno) + ": not a number: '" + cell + "'");
      points->push_back(v);
      ++cols;
    }
    if (*d == 0) *d = cols;
    if (cols != *d)
      return InvalidArgumentError(path + ":" + std::to_string(lineno) + ": expected " +
                                  std::to_string(*d) + " columns");
  }
  if (points->empty()) return InvalidArgumentError(path + ": no points");
  return Status::Ok();
}

namespace {

Status ParseNodes(const ConfigNode& f, std::vector<NodeEntry>* nodes) {
  STRATA_ASSIGN_OR_RETURN(ConfigNode list, f.Child("nodes"));
  for (const ConfigNode& n : list.Items()) {
    STRATA_RETURN_IF_ERROR(n.CheckKeys({"id", "token"}));
    NodeEntry e;
    STRATA_RETURN_IF_ERROR(n.Require("id", &e.id));
    STRATA_RETURN_IF_ERROR(n.Require("token", &e.token));
    nodes->push_back(e);
  }
  return Status::Ok();
}

}  // namespace

Status ParseConfig(const ConfigNode& root, const ServiceArgs& args, Options* out) {
  STRATA_RETURN_IF_ERROR(root.CheckKeys({"server", "federate", "mqtt"}));
  STRATA_RETURN_IF_ERROR(ParseServerConfig(root, args, &out->server));
  out->aggregator.data_dir = args.data_dir;
  STRATA_ASSIGN_OR_RETURN(ConfigNode f, root.Child("federate"));
  STRATA_RETURN_IF_ERROR(f.CheckKeys(
      {"role", "id", "group", "nodes", "k", "d", "init", "kfed_local_k", "init_range", "seed",
       "rounds", "min_participants", "max_retries", "round_timeout", "phase_timeout",
       "poll_interval", "decay", "min_support", "secure", "threshold_fraction", "dp", "dp_epsilon",
       "dp_delta", "clip_norm", "dp_budget", "dp_budget_action", "parent_url", "parent_token",
       "aggregator_url", "token", "points_csv", "events_ndjson", "segment_url", "int8_model",
       "update_encoding", "error_feedback", "token_file", "token_env", "ca_file"}));
  STRATA_RETURN_IF_ERROR(f.GetEnum("role", &out->role, {"cloud", "fog", "edge"}));
  AggregatorOptions& a = out->aggregator;
  EdgeOptions& e = out->edge;
  a.role = out->role;
  STRATA_RETURN_IF_ERROR(f.Get("id", &a.id));
  e.id = a.id;
  STRATA_RETURN_IF_ERROR(f.Get("group", &a.group));
  STRATA_RETURN_IF_ERROR(ParseNodes(f, &a.nodes));
  STRATA_RETURN_IF_ERROR(f.GetInRange("k", &a.k, 1, 4096));
  STRATA_RETURN_IF_ERROR(f.GetInRange("d", &a.d, 1, 4096));
  STRATA_RETURN_IF_ERROR(f.GetEnum("init", &a.init, {"kfed", "random"}));
  STRATA_RETURN_IF_ERROR(f.GetInRange("kfed_local_k", &a.kfed_local_k, 0, 4096));
  STRATA_RETURN_IF_ERROR(f.GetInRange("init_range", &a.init_range, 1e-9, 1e12));
  int64_t seed = static_cast<int64_t>(a.seed);
  STRATA_RETURN_IF_ERROR(f.Get("seed", &seed));
  a.seed = e.seed = static_cast<uint64_t>(seed);
  STRATA_RETURN_IF_ERROR(f.GetInRange("rounds", &a.rounds, 0, 1'000'000));
  STRATA_RETURN_IF_ERROR(f.GetInRange("min_participants", &a.min_participants, 1, 1'000'000));
  STRATA_RETURN_IF_ERROR(f.GetInRange("max_retries", &a.max_retries, 0, 1000));
  STRATA_RETURN_IF_ERROR(f.Get("round_timeout", &a.round_timeout));
  STRATA_RETURN_IF_ERROR(f.Get("phase_timeout", &a.phase_timeout));
  STRATA_RETURN_IF_ERROR(f.Get("poll_interval", &a.poll_interval));
  e.poll_interval = a.poll_interval;
  STRATA_RETURN_IF_ERROR(f.GetInRange("decay", &a.decay, 0.0, 1.0));
  STRATA_RETURN_IF_ERROR(f.GetInRange("min_support", &a.min_support, 1, 1'000'000));
  STRATA_RETURN_IF_ERROR(f.Get("secure", &a.secure));
  STRATA_RETURN_IF_ERROR(f.GetInRange("threshold_fraction", &a.threshold_fraction, 0.5, 1.0));
  STRATA_RETURN_IF_ERROR(f.Get("dp", &a.dp));
  STRATA_RETURN_IF_ERROR(f.GetInRange("dp_epsilon", &a.dp_epsilon, 1e-6, 1e6));
  STRATA_RETURN_IF_ERROR(f.GetInRange("dp_delta", &a.dp_delta, 1e-30, 0.5));
  STRATA_RETURN_IF_ERROR(f.GetInRange("clip_norm", &a.clip_norm, 0.0, 1e12));
  STRATA_RETURN_IF_ERROR(f.GetInRange("dp_budget", &a.dp_budget, 0.0, 1e6));
  STRATA_RETURN_IF_ERROR(f.GetEnum("dp_budget_action", &a.budget_action, {"stop", "warn"}));
  STRATA_RETURN_IF_ERROR(f.Get("parent_url", &a.parent_url));
  STRATA_RETURN_IF_ERROR(f.Get("parent_token", &a.parent_token));
  STRATA_RETURN_IF_ERROR(f.Get("aggregator_url", &e.aggregator_url));
  STRATA_RETURN_IF_ERROR(f.Get("token", &e.token));
  STRATA_RETURN_IF_ERROR(f.Get("points_csv", &e.points_csv));
  STRATA_RETURN_IF_ERROR(f.Get("events_ndjson", &e.events_ndjson));
  STRATA_RETURN_IF_ERROR(f.Get("segment_url", &e.segment_url));
  // Bearer credentials for every outbound HTTP link of this node (parent/aggregator, segment).
  STRATA_RETURN_IF_ERROR(ParseHttpClientAuth(f, &e.upstream_auth));
  a.parent_auth = e.upstream_auth;
  STRATA_RETURN_IF_ERROR(f.Get("int8_model", &a.int8_model));
  e.int8_model = a.int8_model;
  STRATA_RETURN_IF_ERROR(f.GetEnum("update_encoding", &a.update_encoding, {"f64", "fp16", "int8"}));
  STRATA_RETURN_IF_ERROR(f.Get("error_feedback", &a.error_feedback));
  e.error_feedback = a.error_feedback;
  STRATA_ASSIGN_OR_RETURN(ConfigNode mq, root.Child("mqtt"));
  STRATA_RETURN_IF_ERROR(mq.CheckKeys({"url", "prefix", "username", "password_file",
                                       "password_env", "ca_file", "cert_file", "key_file"}));
  STRATA_RETURN_IF_ERROR(mq.Get("url", &out->mqtt_url));
  STRATA_RETURN_IF_ERROR(ParseMqttAuth(mq, &out->mqtt_auth));
  STRATA_RETURN_IF_ERROR(mq.Get("prefix", &out->mqtt_prefix));
  if (out->role == "edge") {
    if (e.aggregator_url.empty()) return InvalidArgumentError("federate.aggregator_url is required for an edge");
    STRATA_RETURN_IF_ERROR(ParseToken(e.token).status().WithContext("federate.token"));
    if (e.points_csv.empty() == e.events_ndjson.empty())
      return InvalidArgumentError("an edge needs exactly one of federate.points_csv and federate.events_ndjson");
    if (!e.events_ndjson.empty()) return LoadEventsAsPoints(e.events_ndjson, &e.points, &e.d);
    return LoadPointsCsv(e.points_csv, &e.points, &e.d);
  }
  return ValidateAggregator(a);
}

}  // namespace strata::federate
