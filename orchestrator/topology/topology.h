// Topology: tiers, nodes, services placed on nodes, MQTT brokers and (emulated) links between
// nodes, read from a YAML file (configs/topologies/*.yaml; docs/topology.md is the reference).
// Parsing validates everything a launcher or a manifest generator relies on; every error names
// the file, the line and the dotted key, e.g.
//   configs/topologies/x.yaml:12: key 'services.detect.node': unknown node 'fog-2' (nodes: fog-1)
// Service configs stay opaque YAML here (each service validates its own section); `${svc.url}`,
// `${svc.host}`, `${svc.port}`, `${broker.uri}` references inside them are checked and become
// dependencies, resolved later by RenderServiceConfig.
// Thread-safety: a Topology is an immutable value once loaded.
//
//   STRATA_ASSIGN_OR_RETURN(Topology t, LoadTopology("configs/topologies/surveillance.yaml"));
//   for (const std::string& unit : t.start_order) ...
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "strata/core/status.h"

namespace strata::topology {

// The explicit registry of service types `strata up` can start: type → binary strata-<type>.
struct ServiceType {
  std::string_view name;
  std::string_view description;
  std::string_view default_tier;  // where it usually runs (documentation, k8s defaults)
};
const std::vector<ServiceType>& KnownServiceTypes();

inline constexpr std::string_view kTiers[] = {"edge", "roof", "fog", "cloud"};
// edge and roof are "edge" tiers in Kubernetes terms (KubeEdge edge nodes).
bool IsEdgeTier(std::string_view tier);

struct Node {
  std::string name;
  std::string tier;                           // edge | roof | fog | cloud
  std::map<std::string, std::string> labels;  // extra Kubernetes node labels required for placement
  int line = 0;
};

struct Link {
  std::string from, to;  // node names; traffic in both directions passes the emulation
  std::chrono::milliseconds latency{0}, jitter{0};
  std::string bandwidth;  // "" = unlimited, else e.g. "20mbit", "512kbit"
  double loss = 0;        // 0..0.99, as `strata link --loss` applies it
  bool emulate = true;    // false: documented only, traffic goes direct
  int line = 0;
  std::string name() const { return from + "-" + to; }
};

struct Broker {
  std::string name, node;
  int port = 0;  // `strata up`: 0 = a free loopback port
  int line = 0, node_line = 0;
};

struct RestartPolicy {
  int max_restarts = 5;                    // consecutive failed restarts before giving up
  std::chrono::milliseconds backoff{500};  // first delay; doubles per consecutive failure
  std::chrono::milliseconds max_backoff{30000};
  std::chrono::milliseconds stable{10000};  // running this long resets the consecutive count
  std::chrono::milliseconds ready_timeout{60000};
};

struct Resources {
  std::string cpu_request = "100m", memory_request = "64Mi";
  std::string cpu_limit = "1", memory_limit = "512Mi";
};

// A `${name.field}` reference inside a service config.
struct Reference {
  std::string target, field;
  std::string where;  // "file:line: key 'a.b'" of the scalar that holds it
};

struct Service {
  std::string name, type, node;
  std::string config_yaml;  // config_file merged with inline config, references unresolved
  std::vector<std::string> depends_on;  // explicit + implied by references, no duplicates
  std::vector<Reference> refs;
  std::vector<std::string> args;  // extra command-line arguments
  bool http = true;               // false (`probe: none`): no HTTP port, ready once running
  int port = 0;                   // `strata up`: 0 = a free loopback port
  RestartPolicy restart;
  Resources resources;
  int line = 0, node_line = 0;
  // type console without `console.upstreams`: the launcher and `strata deploy k8s` fill the list
  // (FillConsoleUpstreams) and the console depends on every service it lists.
  bool console_auto_upstreams = false;
};

struct KubernetesOptions {
  std::string namespace_name = "strata";
  std::string image = "strata:latest";
  std::string image_pull_policy = "IfNotPresent";
  std::string mosquitto_image = "eclipse-mosquitto:2";
  int service_port = 8080;
};

// `security:` — authentication of every link (orchestrator/topology/auth.h, docs/topology.md).
struct Security {
  std::string auth = "auto";  // auto (on when anything binds a non-loopback host) | on | off
  std::string tls = "auto";   // same rule; on: certificates + https/mqtts (topology/tls.h)
  std::chrono::seconds token_ttl{720 * 3600};  // lifetime of the service tokens issued
};

struct Topology {
  std::string name;
  std::string source;    // file path (for messages)
  std::string base_dir;  // config_file paths are relative to it
  std::vector<Node> nodes;
  std::vector<Link> links;
  std::vector<Broker> brokers;
  std::vector<Service> services;
  RestartPolicy supervision;  // `supervision:` defaults (brokers and link proxies use them too)
  KubernetesOptions kubernetes;
  Security security;
  std::vector<std::string> start_order;  // brokers and services, dependencies first

  const Node* FindNode(std::string_view name) const;
  const Service* FindService(std::string_view name) const;
  const Broker* FindBroker(std::string_view name) const;
  // The emulated link between two nodes (either direction), or nullptr.
  const Link* EmulatedLink(std::string_view a, std::string_view b) const;
  // Node of a service or broker ("" when unknown).
  std::string NodeOf(std::string_view unit) const;
};

// Parses topology YAML; `source` names it in errors, `base_dir` resolves config_file paths.
// InvalidArgument naming file, line and key on any problem.
Result<Topology> ParseTopology(std::string_view text, const std::string& source,
                               const std::string& base_dir);
// NotFound when the file cannot be read; otherwise as ParseTopology.
Result<Topology> LoadTopology(const std::string& path);

// Replaces every `${name.field}` in a service's config with resolve(name, field) and returns the
// YAML text. `resolve` returns the value or an error (e.g. unit not started).
using Resolver =
    std::function<Result<std::string>(const std::string& target, const std::string& field)>;
Result<std::string> RenderServiceConfig(const Service& service, const Resolver& resolve);

// One entry of a console's filled `console.upstreams` (the url is added by the caller).
struct ConsoleUpstream {
  std::string name, type, tier, node;
};
// Every other HTTP service of `t` (consoles excluded), in topology order.
std::vector<ConsoleUpstream> ConsoleUpstreams(const Topology& t, const Service& console);
// The URL the console should use for a service, or an error (e.g. not started yet).
using UrlOf = std::function<Result<std::string>(const Service& service)>;
// For a console with console_auto_upstreams: `yaml` (its rendered config) with
// console.upstreams set to ConsoleUpstreams() + url_of(); any other service: `yaml` unchanged.
Result<std::string> FillConsoleUpstreams(const Topology& t, const Service& s,
                                         const std::string& yaml, const UrlOf& url_of);

}  // namespace strata::topology
