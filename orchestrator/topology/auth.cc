// Who calls whom and the auth keys injected into service configs (see auth.h). The credential
// files are written by auth_files.cc.
#include "topology/auth.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <regex>

namespace strata::topology {

namespace {

const std::regex kRef("\\$\\{([a-z0-9][a-z0-9-]*)\\.([a-z_]+)\\}");

// A mapping of a service config that holds references: an HTTP uplink (it references a
// service) and/or an MQTT connection (it references a broker).
struct Section {
  YAML::Node node;
  bool http = false;
  std::string broker;
};

void Walk(const YAML::Node& map, bool root, const Topology& t, std::vector<Section>* out) {
  Section sec{.node = map};
  for (auto it = map.begin(); it != map.end(); ++it) {
    const std::string key = it->first.as<std::string>("");
    if (root && key == "server") continue;
    const YAML::Node& v = it->second;
    if (v.IsMap()) {
      Walk(v, false, t, out);
    } else if (v.IsScalar()) {
      const std::string text = v.Scalar();
      for (std::sregex_iterator m(text.begin(), text.end(), kRef), end; m != end; ++m) {
        const std::string target = (*m)[1].str();
        if (t.FindService(target)) sec.http = true;
        if (t.FindBroker(target) && sec.broker.empty()) sec.broker = target;
      }
    }
  }
  if (!root && (sec.http || !sec.broker.empty())) out->push_back(sec);
}

Result<YAML::Node> LoadConfig(const Service& s) {
  YAML::Node root;
  try {
    root = YAML::Load(s.config_yaml);
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError("service '" + s.name + "': config is not YAML: " + e.what());
  }
  if (!root.IsDefined() || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap())
    return InvalidArgumentError("service '" + s.name + "': config is not a mapping");
  return root;
}

std::vector<Section> Sections(const Topology& t, const YAML::Node& root) {
  std::vector<Section> out;
  Walk(root, true, t, &out);
  return out;
}

bool Has(const YAML::Node& map, const char* key) {
  const YAML::Node& view = map;
  return view[key].IsDefined() && !view[key].IsNull();
}

}  // namespace

bool AuthOn(const Topology& t, bool non_loopback) {
  if (t.security.auth == "on") return true;
  if (t.security.auth == "off") return false;
  return non_loopback;
}

bool TlsOn(const Topology& t, bool non_loopback) {
  if (t.security.tls == "on") return true;
  if (t.security.tls == "off") return false;
  return non_loopback;
}

std::string NonLoopbackHost(const Service& s) {
  auto loopback = [](const std::string& h) {
    return h == "localhost" || h == "::1" || h.rfind("127.", 0) == 0;
  };
  for (size_t i = 0; i < s.args.size(); ++i) {
    const std::string& a = s.args[i];
    if (a == "--host" && i + 1 < s.args.size() && !loopback(s.args[i + 1])) return s.args[i + 1];
    if (a.rfind("--host=", 0) == 0 && !loopback(a.substr(7))) return a.substr(7);
  }
  return "";
}

bool LocalBindsNonLoopback(const Topology& t) {
  for (const Service& s : t.services)
    if (!NonLoopbackHost(s).empty()) return true;
  return false;
}

std::vector<std::string> Callers(const Topology& t, const Service& s) {
  std::vector<std::string> out;
  auto add = [&](const std::string& p) {
    if (p != s.name && std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  };
  for (const Service& o : t.services)
    for (const Reference& r : o.refs)
      if (r.target == s.name) add(o.name);
  for (const Service& o : t.services)
    if (o.type == "console") add(o.name);
  add(std::string(kOperatorPrincipal));
  return out;
}

std::string BrokerOf(const Topology& t, const Service& s) {
  for (const Reference& r : s.refs)
    if (t.FindBroker(r.target)) return r.target;
  return "";
}

Result<std::vector<MqttPrincipal>> MqttPrincipals(const Topology& t) {
  std::vector<MqttPrincipal> out;
  std::string operator_prefix = "strata";
  bool segments = false;
  for (const Service& s : t.services) {
    if (BrokerOf(t, s).empty()) continue;
    STRATA_ASSIGN_OR_RETURN(YAML::Node root, LoadConfig(s));
    std::string prefix = "strata";
    for (const Section& sec : Sections(t, root)) {
      const YAML::Node& n = sec.node;
      if (!sec.broker.empty() && Has(n, "prefix") && n["prefix"].IsScalar())
        prefix = n["prefix"].Scalar();
    }
    MqttPrincipal p{.name = s.name, .subscribe = {prefix + "/#"}};  // other types: read-only
    for (const MqttPrincipal& d : DefaultPrincipals(prefix))
      if (d.name == s.type) p = {.name = s.name, .publish = d.publish, .subscribe = d.subscribe};
    out.push_back(std::move(p));
    operator_prefix = prefix;
    segments |= s.type == "segment";
  }
  // Event publishers outside the topology (`strata segment replay --mqtt-user replay`).
  if (segments && !t.FindService("replay"))
    for (const MqttPrincipal& d : DefaultPrincipals(operator_prefix))
      if (d.name == "replay") out.push_back(d);
  if (!out.empty() && !t.FindService(kOperatorPrincipal))
    out.push_back({.name = std::string(kOperatorPrincipal), .subscribe = {operator_prefix + "/#"}});
  return out;
}

Result<std::string> InjectAuth(const Topology& t, const Service& s, const CredentialPaths& p) {
  STRATA_ASSIGN_OR_RETURN(YAML::Node root, LoadConfig(s));
  const std::vector<Section> sections = Sections(t, root);  // before server.auth is added
  if (!root["server"].IsMap()) root["server"] = YAML::Node(YAML::NodeType::Map);
  YAML::Node server = root["server"];
  if (!Has(server, "auth")) {
    YAML::Node auth(YAML::NodeType::Map);
    auth["enabled"] = true;
    auth["key_file"] = p.key_file;
    YAML::Node allow(YAML::NodeType::Sequence);
    for (const std::string& c : Callers(t, s)) allow.push_back(c);
    auth["allow"] = allow;
    server["auth"] = auth;
  }
  if (s.type == "console") {
    if (!root["console"].IsMap()) root["console"] = YAML::Node(YAML::NodeType::Map);
    YAML::Node console = root["console"];
    if (!Has(console, "upstream_token_file") && !Has(console, "upstream_token"))
      console["upstream_token_file"] = p.token_file;
  } else {
    for (const Section& sec : sections) {
      YAML::Node n = sec.node;
      if (sec.http && !Has(n, "token_file") && !Has(n, "token_env")) n["token_file"] = p.token_file;
      if (!sec.broker.empty() && !Has(n, "username") && !p.mqtt_password_file.empty()) {
        n["username"] = s.name;
        n["password_file"] = p.mqtt_password_file;
      }
    }
  }
  YAML::Emitter out;
  out << root;
  return std::string(out.c_str()) + "\n";
}

Result<std::string> InjectTls(const Topology& t, const Service& s, const TlsPaths& p) {
  STRATA_ASSIGN_OR_RETURN(YAML::Node root, LoadConfig(s));
  const std::vector<Section> sections = Sections(t, root);  // before server.tls is added
  if (!root["server"].IsMap()) root["server"] = YAML::Node(YAML::NodeType::Map);
  YAML::Node server = root["server"];
  if (!Has(server, "tls") && !p.cert_file.empty()) {
    YAML::Node tls(YAML::NodeType::Map);
    tls["cert_file"] = p.cert_file;
    tls["key_file"] = p.key_file;
    server["tls"] = tls;
  }
  if (s.type == "console") {
    if (!root["console"].IsMap()) root["console"] = YAML::Node(YAML::NodeType::Map);
    YAML::Node console = root["console"];
    if (!Has(console, "upstream_ca_file")) console["upstream_ca_file"] = p.ca_file;
  } else {
    for (const Section& sec : sections) {
      YAML::Node n = sec.node;
      if ((sec.http || !sec.broker.empty()) && !Has(n, "ca_file")) n["ca_file"] = p.ca_file;
    }
  }
  YAML::Emitter out;
  out << root;
  return std::string(out.c_str()) + "\n";
}

}  // namespace strata::topology
