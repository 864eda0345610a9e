// The `console` service type's topology support (docs/topology.md, "The console"): validation of
// an explicit `console.upstreams` list, and — when a console has none — the list filled from
// every other HTTP service of the topology (name, type, the tier of its node, node, url), which
// the launcher (`strata up`, direct loopback URLs) and `strata deploy k8s` (cluster DNS URLs)
// write into the console's generated config. Such a console depends on every service it lists,
// so `strata up` starts it last, once every URL is known.
#include <algorithm>
#include <set>

#include "topology/topology.h"
#include "topology/yaml_util.h"

namespace strata::topology {

namespace {

bool Listed(const Service& console, const Service& other) {
  return other.name != console.name && other.type != "console" && other.http;
}

bool IsTier(std::string_view s) {
  return std::find(std::begin(kTiers), std::end(kTiers), s) != std::end(kTiers);
}

}  // namespace

// Called by ParseService for type console with the merged config and the inline `config:`
// (whose nodes carry line numbers; a list that comes from config_file is reported at the
// service's line); `where` names the service.
Status CheckConsoleConfig(const YamlCtx& c, const YamlEntry& where, const YAML::Node& merged,
                          const YAML::Node& inline_config, Service* svc) {
  svc->console_auto_upstreams = true;
  if (!merged.IsDefined() || merged.IsNull()) return Status::Ok();
  const YAML::Node inline_console = inline_config.IsMap() ? inline_config["console"] : YAML::Node();
  const bool marked = inline_console.IsDefined() && !inline_console.IsNull() &&
                      (!inline_console.IsMap() || inline_console["upstreams"].IsDefined());
  const YAML::Node console = marked ? inline_console : merged["console"];
  auto line = [&](const YAML::Node& n) { return marked ? LineOf(n) : where.line; };
  const std::string path = where.path + ".config.console";
  if (!console.IsDefined() || console.IsNull()) return Status::Ok();
  if (!console.IsMap()) return c.Error(line(console), path, "expected a mapping");
  const YAML::Node ups = console["upstreams"];
  if (!ups.IsDefined() || ups.IsNull()) return Status::Ok();
  svc->console_auto_upstreams = false;
  if (!ups.IsSequence())
    return c.Error(line(ups), path + ".upstreams",
                   "expected a list of {name, type, tier, node, url} (or leave it out: the "
                   "launcher fills it from the topology)");
  std::set<std::string> names;
  for (size_t i = 0; i < ups.size(); ++i) {
    const std::string at = path + ".upstreams[" + std::to_string(i) + "]";
    YamlEntry e{.key = "", .path = at, .line = line(ups[i]), .value = ups[i]};
    STRATA_ASSIGN_OR_RETURN(auto keys,
                            c.Entries(ups[i], at, e.line, {"name", "type", "tier", "node", "url"}));
    std::string name, url;
    for (YamlEntry& k : keys) {
      if (!marked) k.line = where.line;
      STRATA_ASSIGN_OR_RETURN(std::string v, c.String(k));
      if (k.key == "name") name = v;
      if (k.key == "url") url = v;
      if (k.key == "tier" && !IsTier(v))
        return c.Error(k, "unknown tier '" + v + "' (tiers: edge, roof, fog, cloud)");
    }
    if (name.empty()) return c.Error(e, "missing required key 'name'");
    if (!names.insert(name).second) return c.Error(e, "duplicate upstream '" + name + "'");
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0 && url.rfind("${", 0) != 0)
      return c.Error(e, "url must be http(s)://... or a ${service.url} reference");
  }
  return Status::Ok();
}

// Called by FinishTopology: a console without upstreams depends on every service it will list.
void AddConsoleDependencies(Topology* t) {
  for (Service& s : t->services) {
    if (s.type != "console" || !s.console_auto_upstreams) continue;
    for (const Service& o : t->services)
      if (Listed(s, o) &&
          std::find(s.depends_on.begin(), s.depends_on.end(), o.name) == s.depends_on.end())
        s.depends_on.push_back(o.name);
  }
}

std::vector<ConsoleUpstream> ConsoleUpstreams(const Topology& t, const Service& console) {
  std::vector<ConsoleUpstream> out;
  for (const Service& o : t.services) {
    if (!Listed(console, o)) continue;
    const Node* n = t.FindNode(o.node);
    out.push_back({o.name, o.type, n ? n->tier : "", o.node});
  }
  return out;
}

Result<std::string> FillConsoleUpstreams(const Topology& t, const Service& s,
                                         const std::string& yaml, const UrlOf& url_of) {
  if (s.type != "console" || !s.console_auto_upstreams) return yaml;
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError("console '" + s.name + "': config is not YAML: " + e.what());
  }
  if (!root.IsDefined() || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root["console"].IsMap()) root["console"] = YAML::Node(YAML::NodeType::Map);
  YAML::Node list(YAML::NodeType::Sequence);
  for (const ConsoleUpstream& u : ConsoleUpstreams(t, s)) {
    STRATA_ASSIGN_OR_RETURN(std::string url, url_of(*t.FindService(u.name)));
    YAML::Node e(YAML::NodeType::Map);
    e["name"] = u.name;
    e["type"] = u.type;
    e["tier"] = u.tier;
    e["node"] = u.node;
    e["url"] = url;
    list.push_back(e);
  }
  root["console"]["upstreams"] = list;
  YAML::Emitter out;
  out << root;
  return std::string(out.c_str()) + "\n";
}

}  // namespace strata::topology
