// YAML → Topology: one function per section; cross-references, cycles and the start order are
// checked in topology.cc (FinishTopology).
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "topology/topology.h"
#include "topology/yaml_util.h"

namespace strata::topology {

Status FinishTopology(const YamlCtx& c, Topology* t);  // topology.cc
Status ScanReferences(const YamlCtx& c, const YAML::Node& n, const std::string& path,
                      Service* s);  // topology.cc
Status CheckConsoleConfig(const YamlCtx& c, const YamlEntry& where, const YAML::Node& merged,
                          const YAML::Node& inline_config, Service* svc);  // console_upstreams.cc

namespace {

const std::regex kName("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

Status CheckName(const YamlCtx& c, const YamlEntry& e) {
  if (!std::regex_match(e.key, kName))
    return c.Error(e,
                   "names must be 1-63 of [a-z0-9-], starting and ending alphanumeric "
                   "(they become hostnames and Kubernetes object names)");
  return Status::Ok();
}

Status ParseNodes(const YamlCtx& c, const YamlEntry& sec, Topology* t) {
  STRATA_ASSIGN_OR_RETURN(auto nodes, c.Entries(sec.value, sec.path, sec.line, {}));
  for (const YamlEntry& n : nodes) {
    STRATA_RETURN_IF_ERROR(CheckName(c, n));
    Node node{.name = n.key, .line = n.line};
    STRATA_ASSIGN_OR_RETURN(auto keys, c.Entries(n.value, n.path, n.line, {"tier", "labels"}));
    for (const YamlEntry& e : keys) {
      if (e.key == "tier") {
        STRATA_ASSIGN_OR_RETURN(node.tier, c.String(e));
        bool ok = false;
        for (std::string_view tier : kTiers) ok |= tier == node.tier;
        if (!ok)
          return c.Error(e, "unknown tier '" + node.tier + "' (tiers: edge, roof, fog, cloud)");
      } else {
        STRATA_ASSIGN_OR_RETURN(auto labels, c.Entries(e.value, e.path, e.line, {}));
        for (const YamlEntry& l : labels) {
          STRATA_ASSIGN_OR_RETURN(node.labels[l.key], c.String(l));
        }
      }
    }
    if (node.tier.empty()) return c.Error(n, "missing required key 'tier'");
    t->nodes.push_back(std::move(node));
  }
  if (t->nodes.empty()) return c.Error(sec, "at least one node is required");
  return Status::Ok();
}

Status ParseLinks(const YamlCtx& c, const YamlEntry& sec, Topology* t) {
  if (sec.value.IsNull()) return Status::Ok();
  if (!sec.value.IsSequence()) return c.Error(sec, "expected a list of links");
  static const std::regex kBandwidth("[0-9]+(\\.[0-9]+)?(bit|kbit|mbit|gbit)");
  int i = 0;
  for (const YAML::Node& item : sec.value) {
    std::string path = sec.path + "[" + std::to_string(i++) + "]";
    Link link{.line = LineOf(item)};
    STRATA_ASSIGN_OR_RETURN(
        auto keys, c.Entries(item, path, link.line,
                             {"from", "to", "latency", "jitter", "bandwidth", "loss", "emulate"}));
    for (const YamlEntry& e : keys) {
      if (e.key == "from") {
        STRATA_ASSIGN_OR_RETURN(link.from, c.String(e));
      }
      if (e.key == "to") {
        STRATA_ASSIGN_OR_RETURN(link.to, c.String(e));
      }
      if (e.key == "latency") {
        STRATA_ASSIGN_OR_RETURN(link.latency, c.Duration(e));
      }
      if (e.key == "jitter") {
        STRATA_ASSIGN_OR_RETURN(link.jitter, c.Duration(e));
      }
      if (e.key == "loss") {
        STRATA_ASSIGN_OR_RETURN(link.loss, c.Double(e, 0.0, 0.99));
      }
      if (e.key == "emulate") {
        STRATA_ASSIGN_OR_RETURN(link.emulate, c.Bool(e));
      }
      if (e.key == "bandwidth") {
        STRATA_ASSIGN_OR_RETURN(link.bandwidth, c.String(e));
        if (!std::regex_match(link.bandwidth, kBandwidth))
          return c.Error(
              e, "expected a rate such as 512kbit, 20mbit or 1gbit, got '" + link.bandwidth + "'");
      }
    }
    if (link.from.empty() || link.to.empty())
      return c.Error(link.line, path, "a link needs 'from' and 'to' nodes");
    t->links.push_back(std::move(link));
  }
  return Status::Ok();
}

Status ParseBrokers(const YamlCtx& c, const YamlEntry& sec, Topology* t) {
  STRATA_ASSIGN_OR_RETURN(auto brokers, c.Entries(sec.value, sec.path, sec.line, {}));
  for (const YamlEntry& b : brokers) {
    STRATA_RETURN_IF_ERROR(CheckName(c, b));
    Broker broker{.name = b.key, .line = b.line};
    STRATA_ASSIGN_OR_RETURN(auto keys, c.Entries(b.value, b.path, b.line, {"node", "port"}));
    for (const YamlEntry& e : keys) {
      if (e.key == "node") {
        STRATA_ASSIGN_OR_RETURN(broker.node, c.String(e));
        broker.node_line = e.line;
      }
      if (e.key == "port") {
        STRATA_ASSIGN_OR_RETURN(broker.port, c.Int(e, 0, 65535));
      }
    }
    if (broker.node.empty()) return c.Error(b, "missing required key 'node'");
    t->brokers.push_back(std::move(broker));
  }
  return Status::Ok();
}

Status ParseRestart(const YamlCtx& c, const YamlEntry& sec, RestartPolicy* r) {
  STRATA_ASSIGN_OR_RETURN(
      auto keys, c.Entries(sec.value, sec.path, sec.line,
                           {"max_restarts", "backoff", "max_backoff", "stable", "ready_timeout"}));
  for (const YamlEntry& e : keys) {
    if (e.key == "max_restarts") {
      STRATA_ASSIGN_OR_RETURN(r->max_restarts, c.Int(e, 0, 1000));
    }
    if (e.key == "backoff") {
      STRATA_ASSIGN_OR_RETURN(r->backoff, c.Duration(e));
    }
    if (e.key == "max_backoff") {
      STRATA_ASSIGN_OR_RETURN(r->max_backoff, c.Duration(e));
    }
    if (e.key == "stable") {
      STRATA_ASSIGN_OR_RETURN(r->stable, c.Duration(e));
    }
    if (e.key == "ready_timeout") {
      STRATA_ASSIGN_OR_RETURN(r->ready_timeout, c.Duration(e));
    }
  }
  return Status::Ok();
}

Status ParseResources(const YamlCtx& c, const YamlEntry& sec, Resources* r) {
  STRATA_ASSIGN_OR_RETURN(auto keys, c.Entries(sec.value, sec.path, sec.line,
                                               {"cpu", "memory", "cpu_limit", "memory_limit"}));
  static const std::regex kQuantity("[0-9]+(\\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?");
  for (const YamlEntry& e : keys) {
    STRATA_ASSIGN_OR_RETURN(std::string v, c.String(e));
    if (!std::regex_match(v, kQuantity))
      return c.Error(e, "expected a Kubernetes quantity such as 250m, 1, 128Mi, got '" + v + "'");
    (e.key == "cpu"         ? r->cpu_request
     : e.key == "memory"    ? r->memory_request
     : e.key == "cpu_limit" ? r->cpu_limit
                            : r->memory_limit) = v;
  }
  return Status::Ok();
}

Result<YAML::Node> LoadConfigFile(const YamlCtx& c, const YamlEntry& e, const Topology& t,
                                  std::string* file) {
  STRATA_ASSIGN_OR_RETURN(*file, c.String(e));
  std::filesystem::path p(*file);
  if (p.is_relative()) p = std::filesystem::path(t.base_dir) / p;
  *file = p.lexically_normal().string();
  std::ifstream in(*file);
  if (!in) return c.Error(e, "cannot read config file '" + *file + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return YAML::Load(ss.str());
  } catch (const YAML::Exception& ex) {
    return InvalidArgumentError(*file + ":" + std::to_string(ex.mark.line + 1) +
                                ": malformed YAML: " + ex.msg);
  }
}

Status ParseService(const YamlCtx& c, const YamlEntry& s, const std::set<std::string>& units,
                    const RestartPolicy& defaults, Topology* t) {
  STRATA_RETURN_IF_ERROR(CheckName(c, s));
  Service svc{.name = s.key, .restart = defaults, .line = s.line};
  STRATA_ASSIGN_OR_RETURN(
      auto keys, c.Entries(s.value, s.path, s.line,
                           {"type", "node", "config", "config_file", "depends_on", "args", "probe",
                            "port", "restart", "resources"}));
  YAML::Node file_config, inline_config;
  for (const YamlEntry& e : keys) {
    if (e.key == "type") {
      STRATA_ASSIGN_OR_RETURN(svc.type, c.String(e));
      std::string known;
      bool ok = false;
      for (const ServiceType& st : KnownServiceTypes()) {
        ok |= st.name == svc.type;
        known += (known.empty() ? "" : ", ") + std::string(st.name);
      }
      if (!ok) return c.Error(e, "unknown service type '" + svc.type + "' (types: " + known + ")");
    }
    if (e.key == "node") {
      STRATA_ASSIGN_OR_RETURN(svc.node, c.String(e));
      svc.node_line = e.line;
    }
    if (e.key == "port") {
      STRATA_ASSIGN_OR_RETURN(svc.port, c.Int(e, 0, 65535));
    }
    if (e.key == "args") {
      STRATA_ASSIGN_OR_RETURN(svc.args, c.Strings(e));
    }
    if (e.key == "restart") STRATA_RETURN_IF_ERROR(ParseRestart(c, e, &svc.restart));
    if (e.key == "resources") STRATA_RETURN_IF_ERROR(ParseResources(c, e, &svc.resources));
    if (e.key == "probe") {
      STRATA_ASSIGN_OR_RETURN(std::string probe, c.String(e));
      if (probe != "http" && probe != "none") return c.Error(e, "expected http or none");
      svc.http = probe == "http";
    }
    if (e.key == "depends_on") {
      STRATA_ASSIGN_OR_RETURN(auto deps, c.Strings(e));
      for (const std::string& d : deps) {
        if (!units.count(d)) return c.Error(e, "unknown service or broker '" + d + "'");
        svc.depends_on.push_back(d);
      }
    }
    if (e.key == "config_file") {
      std::string file;
      STRATA_ASSIGN_OR_RETURN(file_config, LoadConfigFile(c, e, *t, &file));
      STRATA_RETURN_IF_ERROR(ScanReferences(YamlCtx{file}, file_config, "", &svc));
    }
    if (e.key == "config") {
      if (!e.value.IsMap() && !e.value.IsNull()) return c.Error(e, "expected a mapping");
      inline_config = e.value;
      STRATA_RETURN_IF_ERROR(ScanReferences(c, inline_config, e.path, &svc));
    }
  }
  if (svc.type.empty()) return c.Error(s, "missing required key 'type'");
  if (svc.node.empty()) return c.Error(s, "missing required key 'node'");
  YAML::Node merged = MergeYaml(file_config, inline_config);
  if (svc.type == "console")
    STRATA_RETURN_IF_ERROR(CheckConsoleConfig(c, s, merged, inline_config, &svc));
  if (merged.IsDefined() && !merged.IsNull()) {
    if (!merged.IsMap()) return c.Error(s, "the service config must be a mapping");
    YAML::Emitter out;
    out << merged;
    svc.config_yaml = std::string(out.c_str()) + "\n";
  }
  t->services.push_back(std::move(svc));
  return Status::Ok();
}

Status ParseKubernetes(const YamlCtx& c, const YamlEntry& sec, KubernetesOptions* k) {
  STRATA_ASSIGN_OR_RETURN(auto keys, c.Entries(sec.value, sec.path, sec.line,
                                               {"namespace", "image", "image_pull_policy",
                                                "mosquitto_image", "service_port"}));
  for (const YamlEntry& e : keys) {
    if (e.key == "namespace") {
      STRATA_ASSIGN_OR_RETURN(k->namespace_name, c.String(e));
    }
    if (e.key == "image") {
      STRATA_ASSIGN_OR_RETURN(k->image, c.String(e));
    }
    if (e.key == "mosquitto_image") {
      STRATA_ASSIGN_OR_RETURN(k->mosquitto_image, c.String(e));
    }
    if (e.key == "service_port") {
      STRATA_ASSIGN_OR_RETURN(k->service_port, c.Int(e, 1, 65535));
    }
    if (e.key == "image_pull_policy") {
      STRATA_ASSIGN_OR_RETURN(k->image_pull_policy, c.String(e));
      const std::string& p = k->image_pull_policy;
      if (p != "Always" && p != "IfNotPresent" && p != "Never")
        return c.Error(e, "expected Always, IfNotPresent or Never");
    }
  }
  return Status::Ok();
}

Status ParseSecurity(const YamlCtx& c, const YamlEntry& sec, Security* s) {
  STRATA_ASSIGN_OR_RETURN(auto keys,
                          c.Entries(sec.value, sec.path, sec.line, {"auth", "tls", "token_ttl"}));
  for (const YamlEntry& e : keys) {
    if (e.key == "auth" || e.key == "tls") {
      std::string& v = e.key == "auth" ? s->auth : s->tls;
      STRATA_ASSIGN_OR_RETURN(v, c.String(e));
      if (v != "auto" && v != "on" && v != "off")
        return c.Error(e, "expected auto, on or off, got '" + v + "'");
    }
    if (e.key == "token_ttl") {
      STRATA_ASSIGN_OR_RETURN(auto ttl, c.Duration(e));
      s->token_ttl = std::chrono::duration_cast<std::chrono::seconds>(ttl);
      if (s->token_ttl.count() < 60) return c.Error(e, "expected at least 1m");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Topology> ParseTopology(std::string_view text, const std::string& source,
                               const std::string& base_dir) {
  YamlCtx c{source};
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(source + ":" + std::to_string(e.mark.line + 1) +
                                ": malformed YAML: " + e.msg);
  }
  if (!root.IsMap()) return c.Error(1, "", "a topology must be a mapping of keys");
  Topology t{.source = source, .base_dir = base_dir};
  STRATA_ASSIGN_OR_RETURN(auto sections,
                          c.Entries(root, "", 1,
                                    {"version", "name", "nodes", "links", "brokers", "supervision",
                                     "kubernetes", "security", "services"}));
  RestartPolicy defaults;
  std::set<std::string> units;  // services and brokers share one namespace of references
  const YamlEntry* services = nullptr;
  for (const YamlEntry& e : sections) {
    if (e.key == "version") {
      STRATA_ASSIGN_OR_RETURN(int v, c.Int(e, 1, 1));
      (void)v;
    }
    if (e.key == "name") {
      STRATA_ASSIGN_OR_RETURN(t.name, c.String(e));
      if (!std::regex_match(t.name, kName)) return c.Error(e, "names must be 1-63 of [a-z0-9-]");
    }
    if (e.key == "nodes") STRATA_RETURN_IF_ERROR(ParseNodes(c, e, &t));
    if (e.key == "links") STRATA_RETURN_IF_ERROR(ParseLinks(c, e, &t));
    if (e.key == "brokers") STRATA_RETURN_IF_ERROR(ParseBrokers(c, e, &t));
    if (e.key == "supervision") STRATA_RETURN_IF_ERROR(ParseRestart(c, e, &defaults));
    if (e.key == "kubernetes") STRATA_RETURN_IF_ERROR(ParseKubernetes(c, e, &t.kubernetes));
    if (e.key == "security") STRATA_RETURN_IF_ERROR(ParseSecurity(c, e, &t.security));
    if (e.key == "services") services = &e;
  }
  if (t.name.empty()) return c.Error(1, "name", "missing required key");
  if (t.nodes.empty()) return c.Error(1, "nodes", "missing required key");
  if (!services) return c.Error(1, "services", "missing required key");
  t.supervision = defaults;
  for (const Broker& b : t.brokers) units.insert(b.name);
  STRATA_ASSIGN_OR_RETURN(auto svcs,
                          c.Entries(services->value, services->path, services->line, {}));
  for (const YamlEntry& s : svcs) {
    if (!units.insert(s.key).second)
      return c.Error(s, "name '" + s.key + "' is already used by a broker");
  }
  for (const YamlEntry& s : svcs) STRATA_RETURN_IF_ERROR(ParseService(c, s, units, defaults, &t));
  if (t.services.empty())
    return c.Error(services->line, "services", "at least one service is required");
  STRATA_RETURN_IF_ERROR(FinishTopology(c, &t));
  return t;
}

Result<Topology> LoadTopology(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFoundError("cannot read topology file '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string dir = std::filesystem::path(path).parent_path().string();
  return ParseTopology(ss.str(), path, dir.empty() ? "." : dir);
}

}  // namespace strata::topology
