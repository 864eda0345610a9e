// Topology model: the service-type registry, lookups, reference scanning, cross-reference and
// cycle checks, the start order, and config rendering (see topology.h).
#include "topology/topology.h"

#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include "topology/yaml_util.h"

namespace strata::topology {

void AddConsoleDependencies(Topology* t);  // console_upstreams.cc

const std::vector<ServiceType>& KnownServiceTypes() {
  static const std::vector<ServiceType> kTypes = {
      {"hello", "demo service and template", "cloud"},
      {"roof", "capture, frame change, forward changed frames to detect", "roof"},
      {"detect", "people detection, tracking, crops to identify", "fog"},
      {"identify", "face identification against the encrypted gallery", "cloud"},
      {"notify", "alerts over MQTT and webhooks", "cloud"},
      {"segment", "customer profiles and live micro-segments", "edge"},
      {"federate", "federated learning: cloud | fog aggregator or edge client", "fog"},
      {"console", "web console: tier map, alerts, cameras, segments, federation", "cloud"},
  };
  return kTypes;
}

bool IsEdgeTier(std::string_view tier) { return tier == "edge" || tier == "roof"; }

const Node* Topology::FindNode(std::string_view n) const {
  for (const Node& x : nodes)
    if (x.name == n) return &x;
  return nullptr;
}
const Service* Topology::FindService(std::string_view n) const {
  for (const Service& x : services)
    if (x.name == n) return &x;
  return nullptr;
}
const Broker* Topology::FindBroker(std::string_view n) const {
  for (const Broker& x : brokers)
    if (x.name == n) return &x;
  return nullptr;
}
const Link* Topology::EmulatedLink(std::string_view a, std::string_view b) const {
  for (const Link& l : links)
    if (l.emulate && ((l.from == a && l.to == b) || (l.from == b && l.to == a))) return &l;
  return nullptr;
}
std::string Topology::NodeOf(std::string_view unit) const {
  if (const Service* s = FindService(unit)) return s->node;
  if (const Broker* b = FindBroker(unit)) return b->node;
  return "";
}

namespace {

const std::regex kRef("\\$\\{([^}]*)\\}");
const std::regex kRefBody("([a-z0-9][a-z0-9-]*)\\.([a-z_]+)");

std::string NodeNames(const Topology& t) {
  std::string out;
  for (const Node& n : t.nodes) out += (out.empty() ? "" : ", ") + n.name;
  return out;
}

Status CheckReference(const Topology& t, const Reference& r) {
  if (const Service* s = t.FindService(r.target)) {
    if (r.field != "url" && r.field != "host" && r.field != "port")
      return InvalidArgumentError(r.where + ": service '" + r.target + "' has no field '" +
                                  r.field + "' (fields: url, host, port)");
    if (!s->http)
      return InvalidArgumentError(r.where + ": service '" + r.target +
                                  "' has no HTTP port (probe: none)");
    return Status::Ok();
  }
  if (t.FindBroker(r.target)) {
    if (r.field != "uri" && r.field != "host" && r.field != "port")
      return InvalidArgumentError(r.where + ": broker '" + r.target + "' has no field '" + r.field +
                                  "' (fields: uri, host, port)");
    return Status::Ok();
  }
  return InvalidArgumentError(r.where + ": reference to unknown service or broker '" + r.target +
                              "'");
}

// Depth-first search for cycles; appends services in dependency order to `order`.
Status Visit(const YamlCtx& c, const Topology& t, const Service& s,
             std::map<std::string, int>* color, std::vector<std::string>* stack,
             std::vector<std::string>* order) {
  int& mark = (*color)[s.name];
  if (mark == 2) return Status::Ok();
  stack->push_back(s.name);
  if (mark == 1) {
    auto first = std::find(stack->begin(), stack->end(), s.name);
    std::string cycle;
    for (auto it = first; it != stack->end(); ++it) cycle += (cycle.empty() ? "" : " -> ") + *it;
    const Service* head = t.FindService(*first);
    return c.Error(head->line, "services." + head->name, "dependency cycle: " + cycle);
  }
  mark = 1;
  for (const std::string& d : s.depends_on)
    if (const Service* dep = t.FindService(d))
      STRATA_RETURN_IF_ERROR(Visit(c, t, *dep, color, stack, order));
  mark = 2;
  stack->pop_back();
  order->push_back(s.name);
  return Status::Ok();
}

}  // namespace

Status ScanReferences(const YamlCtx& c, const YAML::Node& n, const std::string& path, Service* s) {
  if (n.IsMap()) {
    for (auto it = n.begin(); it != n.end(); ++it)
      STRATA_RETURN_IF_ERROR(
          ScanReferences(c, it->second, JoinKey(path, it->first.as<std::string>("")), s));
  } else if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i)
      STRATA_RETURN_IF_ERROR(ScanReferences(c, n[i], path + "[" + std::to_string(i) + "]", s));
  } else if (n.IsScalar()) {
    const std::string text = n.Scalar();
    for (std::sregex_iterator it(text.begin(), text.end(), kRef), end; it != end; ++it) {
      std::string body = (*it)[1].str();
      std::smatch m;
      if (!std::regex_match(body, m, kRefBody))
        return c.Error(LineOf(n), path,
                       "malformed reference '${" + body +
                           "}' (expected ${service.url|host|port} or "
                           "${broker.uri|host|port})");
      s->refs.push_back({m[1].str(), m[2].str(),
                         c.source + ":" + std::to_string(LineOf(n)) + ": key '" + path + "'"});
    }
  }
  return Status::Ok();
}

Status FinishTopology(const YamlCtx& c, Topology* t) {
  for (const Broker& b : t->brokers)
    if (!t->FindNode(b.node))
      return c.Error(b.node_line, "brokers." + b.name + ".node",
                     "unknown node '" + b.node + "' (nodes: " + NodeNames(*t) + ")");
  std::set<std::pair<std::string, std::string>> pairs;
  for (size_t i = 0; i < t->links.size(); ++i) {
    const Link& l = t->links[i];
    const std::string path = "links[" + std::to_string(i) + "]";
    for (const std::string& n : {l.from, l.to})
      if (!t->FindNode(n))
        return c.Error(l.line, path, "unknown node '" + n + "' (nodes: " + NodeNames(*t) + ")");
    if (l.from == l.to) return c.Error(l.line, path, "a link joins two different nodes");
    if (!pairs.insert(std::minmax(l.from, l.to)).second)
      return c.Error(l.line, path, "duplicate link between '" + l.from + "' and '" + l.to + "'");
  }
  for (Service& s : t->services) {
    if (!t->FindNode(s.node))
      return c.Error(s.node_line, "services." + s.name + ".node",
                     "unknown node '" + s.node + "' (nodes: " + NodeNames(*t) + ")");
    for (const Reference& r : s.refs) {
      STRATA_RETURN_IF_ERROR(CheckReference(*t, r));
      if (std::find(s.depends_on.begin(), s.depends_on.end(), r.target) == s.depends_on.end())
        s.depends_on.push_back(r.target);
    }
  }
  AddConsoleDependencies(t);
  std::map<std::string, int> color;
  std::vector<std::string> stack;
  for (const Broker& b : t->brokers) t->start_order.push_back(b.name);
  for (const Service& s : t->services)
    STRATA_RETURN_IF_ERROR(Visit(c, *t, s, &color, &stack, &t->start_order));
  return Status::Ok();
}

Result<std::string> RenderServiceConfig(const Service& service, const Resolver& resolve) {
  const std::string& text = service.config_yaml;
  std::string out;
  size_t last = 0;
  for (std::sregex_iterator it(text.begin(), text.end(), kRef), end; it != end; ++it) {
    std::smatch m;
    std::string body = (*it)[1].str();
    if (!std::regex_match(body, m, kRefBody))
      return InvalidArgumentError("malformed reference '${" + body + "}'");
    STRATA_ASSIGN_OR_RETURN(std::string value, resolve(m[1].str(), m[2].str()));
    out.append(text, last, it->position() - last);
    out += value;
    last = it->position() + it->length();
  }
  out.append(text, last, std::string::npos);
  return out;
}

}  // namespace strata::topology
