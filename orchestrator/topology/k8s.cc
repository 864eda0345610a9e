// Kubernetes manifests from a Topology (see k8s.h).
#include "topology/k8s.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <yaml-cpp/yaml.h>

namespace strata::topology {

using Json = nlohmann::ordered_json;

namespace {

constexpr int kMqttPort = 1883;
constexpr const char* kEdgeRole = "node-role.kubernetes.io/edge";

std::string Fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// Pods listen on 0.0.0.0, and a Strata server without auth refuses a non-loopback address unless
// its config turns auth off explicitly (docs/security.md). With `security.auth: off`, configs that
// do not set server.auth get `enabled: false` with a comment saying why.
Result<std::string> ExplicitAuthOff(const std::string& config) {
  YAML::Node root;
  try {
    root = YAML::Load(config);
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(std::string("service config is not YAML: ") + e.what());
  }
  const YAML::Node& view = root;
  if (view.IsDefined() && !view.IsNull() && !view.IsMap()) return config;
  if (view.IsMap() && view["server"] && view["server"].IsMap() && view["server"]["auth"])
    return config;
  if (!view.IsMap()) root = YAML::Node(YAML::NodeType::Map);
  root["server"]["auth"]["enabled"] = false;
  YAML::Emitter out;
  out << root;
  return "# strata deploy k8s: pods listen on 0.0.0.0 and the topology says security.auth: off,\n"
         "# so auth is off explicitly (in-cluster traffic only); remove that (auth is on by\n"
         "# default) to get signed service tokens from Secrets (docs/topology.md \"Security\").\n" +
         std::string(out.c_str()) + "\n";
}

Json Labels(const Topology& t, const std::string& name, const std::string& component,
            const Node& node) {
  return {{"app.kubernetes.io/name", name},
          {"app.kubernetes.io/instance", t.name},
          {"app.kubernetes.io/component", component},
          {"app.kubernetes.io/part-of", "strata"},
          {"app.kubernetes.io/managed-by", "strata"},
          {"strata.io/tier", node.tier},
          {"strata.io/node", node.name}};
}

Json Selector(const Topology& t, const std::string& name) {
  return {{"app.kubernetes.io/name", name}, {"app.kubernetes.io/instance", t.name}};
}

Json Meta(const std::string& name, const std::string& ns, const Json& labels) {
  return {{"name", name}, {"namespace", ns}, {"labels", labels}};
}

// Tier → required node labels (KubeEdge edge role for edge/roof), topology node → preferred.
Json Affinity(const Node& node) {
  Json match = Json::array();
  match.push_back({{"key", "strata.io/tier"}, {"operator", "In"}, {"values", {node.tier}}});
  if (IsEdgeTier(node.tier)) match.push_back({{"key", kEdgeRole}, {"operator", "Exists"}});
  if (node.tier == "cloud") match.push_back({{"key", kEdgeRole}, {"operator", "DoesNotExist"}});
  for (const auto& [k, v] : node.labels)
    match.push_back({{"key", k}, {"operator", "In"}, {"values", {v}}});
  Json preferred = {
      {"weight", 100},
      {"preference",
       {{"matchExpressions",
         {{{"key", "strata.io/node"}, {"operator", "In"}, {"values", {node.name}}}}}}}};
  return {{"nodeAffinity",
           {{"requiredDuringSchedulingIgnoredDuringExecution",
             {{"nodeSelectorTerms", {{{"matchExpressions", match}}}}}},
            {"preferredDuringSchedulingIgnoredDuringExecution", {preferred}}}}};
}

Json PodSpec(const Node& node, Json container, Json volumes) {
  Json spec = {
      {"affinity", Affinity(node)},
      {"securityContext", {{"runAsNonRoot", true}, {"runAsUser", 10001}, {"fsGroup", 10001}}},
      {"containers", {std::move(container)}},
      {"volumes", std::move(volumes)}};
  if (IsEdgeTier(node.tier))
    spec["tolerations"] = {{{"key", kEdgeRole}, {"operator", "Exists"}, {"effect", "NoSchedule"}}};
  return spec;
}

Json Deployment(const Topology& t, const std::string& name, const Json& labels,
                const std::string& config_hash, Json pod) {
  const std::string& ns = t.kubernetes.namespace_name;
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", Meta(name, ns, labels)},
          {"spec",
           {{"replicas", 1},
            {"strategy", {{"type", "Recreate"}}},  // one writer per data dir (SQLite)
            {"selector", {{"matchLabels", Selector(t, name)}}},
            {"template",
             {{"metadata",
               {{"labels", labels}, {"annotations", {{"strata.io/config-hash", config_hash}}}}},
              {"spec", std::move(pod)}}}}}};
}

Json KService(const Topology& t, const std::string& name, const Json& labels,
              const std::string& port_name, int port) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", Meta(name, t.kubernetes.namespace_name, labels)},
          {"spec",
           {{"selector", Selector(t, name)},
            {"ports",
             {{{"name", port_name},
               {"port", port},
               {"targetPort", port_name},
               {"protocol", "TCP"}}}}}}};
}

Json ConfigMap(const Topology& t, const std::string& name, const Json& labels,
               const std::string& key, const std::string& text) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", Meta(name + "-config", t.kubernetes.namespace_name, labels)},
          {"data", {{key, text}}}};
}

Result<ManifestFile> ServiceManifests(const Topology& t, const Service& svc,
                                      const AuthMaterial* auth) {
  Service s = svc;
  if (auth) {  // server.auth + client credentials at the Secret mount paths (auth.h)
    STRATA_ASSIGN_OR_RETURN(s.config_yaml, InjectAuth(t, s, K8sCredentialPaths(t, s, *auth)));
  }
  const Node& node = *t.FindNode(s.node);
  const int port = t.kubernetes.service_port;
  STRATA_ASSIGN_OR_RETURN(
      std::string config,
      RenderServiceConfig(
          s, [&](const std::string& target, const std::string& field) -> Result<std::string> {
            const bool broker = t.FindBroker(target) != nullptr;
            const int p = broker ? kMqttPort : port;
            if (field == "host") return target;
            if (field == "port") return std::to_string(p);
            return (broker ? "tcp://" : "http://") + target + ":" + std::to_string(p);
          }));
  STRATA_ASSIGN_OR_RETURN(  // before ExplicitAuthOff, whose header comment a re-emit would drop
      config, FillConsoleUpstreams(t, s, config, [&](const Service& o) -> Result<std::string> {
        return "http://" + o.name + ":" + std::to_string(port);
      }));
  STRATA_ASSIGN_OR_RETURN(config, ExplicitAuthOff(config));
  Json labels = Labels(t, s.name, s.type, node);
  Json args = {"--config",     "/etc/strata/config.yaml",
               "--host",       "0.0.0.0",
               "--port",       std::to_string(port),
               "--data-dir",   "/var/lib/strata",
               "--log-format", "json"};
  for (const std::string& a : s.args) args.push_back(a);
  Json container = {
      {"name", s.type},
      {"image", t.kubernetes.image},
      {"imagePullPolicy", t.kubernetes.image_pull_policy},
      {"command", {"/usr/local/bin/strata-" + s.type}},
      {"args", args},
      {"resources",
       {{"requests", {{"cpu", s.resources.cpu_request}, {"memory", s.resources.memory_request}}},
        {"limits", {{"cpu", s.resources.cpu_limit}, {"memory", s.resources.memory_limit}}}}},
      {"securityContext", {{"allowPrivilegeEscalation", false}, {"readOnlyRootFilesystem", true}}},
      {"volumeMounts",
       {{{"name", "config"}, {"mountPath", "/etc/strata"}, {"readOnly", true}},
        {{"name", "data"}, {"mountPath", "/var/lib/strata"}},
        {{"name", "tmp"}, {"mountPath", "/tmp"}}}}};  // the root file system is read-only
  if (s.http) {
    container["ports"] = {{{"name", "http"}, {"containerPort", port}, {"protocol", "TCP"}}};
    auto probe = [](const char* path, int period, int failures) {
      return Json{{"httpGet", {{"path", path}, {"port", "http"}}},
                  {"periodSeconds", period},
                  {"timeoutSeconds", 2},
                  {"failureThreshold", failures}};
    };
    container["startupProbe"] = probe("/healthz", 2, 60);  // models load before the first probe
    container["livenessProbe"] = probe("/healthz", 10, 3);
    container["readinessProbe"] = probe("/readyz", 5, 2);
  }
  Json volumes = {{{"name", "config"}, {"configMap", {{"name", s.name + "-config"}}}},
                  {{"name", "data"}, {"emptyDir", Json::object()}},
                  {{"name", "tmp"}, {"emptyDir", Json::object()}}};
  if (auth) AddServiceAuthVolume(s, &container, &volumes);
  ManifestFile f{.name = s.name + ".yaml"};
  f.objects.push_back(ConfigMap(t, s.name, labels, "config.yaml", config));
  f.objects.push_back(Deployment(t, s.name, labels, Fnv1a(config),
                                 PodSpec(node, std::move(container), std::move(volumes))));
  if (s.http) f.objects.push_back(KService(t, s.name, labels, "http", port));
  return f;
}

ManifestFile BrokerManifests(const Topology& t, const Broker& b, const AuthMaterial* auth) {
  const Node& node = *t.FindNode(b.node);
  Json labels = Labels(t, b.name, "mqtt-broker", node);
  const bool secured = auth && auth->brokers.count(b.name);
  const std::string dir = kBrokerAuthDir;
  const std::string conf =
      "# generated by strata deploy k8s (broker '" + b.name + "')\nlistener 1883 0.0.0.0\n" +
      (secured ? "allow_anonymous false\npassword_file " + dir + "/passwd\nacl_file " + dir +
                     "/acl   # Secret " + b.name + "-mqtt-auth\n"
               : "allow_anonymous true   # in-cluster only; add password_file + TLS before "
                 "exposing it\n") +
      "persistence true\npersistence_location /mosquitto/data/\nlog_dest stdout\n";
  Json tcp = {{"tcpSocket", {{"port", "mqtt"}}}, {"periodSeconds", 10}, {"failureThreshold", 3}};
  Json container = {
      {"name", "mosquitto"},
      {"image", t.kubernetes.mosquitto_image},
      {"imagePullPolicy", t.kubernetes.image_pull_policy},
      {"ports", {{{"name", "mqtt"}, {"containerPort", kMqttPort}, {"protocol", "TCP"}}}},
      {"livenessProbe", tcp},
      {"readinessProbe", tcp},
      {"resources",
       {{"requests", {{"cpu", "50m"}, {"memory", "32Mi"}}},
        {"limits", {{"cpu", "500m"}, {"memory", "128Mi"}}}}},
      {"volumeMounts",
       {{{"name", "config"},
         {"mountPath", "/mosquitto/config/mosquitto.conf"},
         {"subPath", "mosquitto.conf"},
         {"readOnly", true}},
        {{"name", "data"}, {"mountPath", "/mosquitto/data"}}}}};
  Json volumes = {{{"name", "config"}, {"configMap", {{"name", b.name + "-config"}}}},
                  {{"name", "data"}, {"emptyDir", Json::object()}}};
  if (secured) AddBrokerAuthVolume(b, &container, &volumes);
  Json pod = PodSpec(node, std::move(container), std::move(volumes));
  pod["securityContext"] = {{"runAsUser", 1883}, {"runAsGroup", 1883}, {"fsGroup", 1883}};
  ManifestFile f{.name = b.name + ".yaml"};
  f.objects.push_back(ConfigMap(t, b.name, labels, "mosquitto.conf", conf));
  f.objects.push_back(Deployment(t, b.name, labels, Fnv1a(conf), std::move(pod)));
  f.objects.push_back(KService(t, b.name, labels, "mqtt", kMqttPort));
  return f;
}

}  // namespace

Result<std::vector<ManifestFile>> GenerateManifests(const Topology& topology,
                                                    const K8sOverrides& o) {
  Topology t = topology;
  if (!o.namespace_name.empty()) t.kubernetes.namespace_name = o.namespace_name;
  if (!o.image.empty()) t.kubernetes.image = o.image;
  std::vector<ManifestFile> files;
  ManifestFile ns{.name = "namespace.yaml"};
  ns.objects.push_back({{"apiVersion", "v1"},
                        {"kind", "Namespace"},
                        {"metadata",
                         {{"name", t.kubernetes.namespace_name},
                          {"labels", {{"app.kubernetes.io/part-of", "strata"}}}}}});
  files.push_back(std::move(ns));
  const AuthMaterial* auth = AuthOn(t, /*non_loopback=*/true) ? o.auth : nullptr;
  if (AuthOn(t, true) && !auth)
    return FailedPreconditionError(
        "security.auth is on (pods listen on 0.0.0.0): credentials are needed "
        "(WriteAuthMaterial), or set security: {auth: off}");
  if (auth) files.push_back(AuthSecrets(t, *auth));
  if (t.security.tls == "on")  // auto stays plain here until certificates go into Secrets
    return FailedPreconditionError(
        "security.tls: on is not supported by `strata deploy k8s` yet (only `strata up`); set "
        "tls: auto or off to deploy without TLS");
  for (const Broker& b : t.brokers) files.push_back(BrokerManifests(t, b, auth));
  for (const std::string& name : t.start_order)
    if (const Service* s = t.FindService(name)) {
      STRATA_ASSIGN_OR_RETURN(ManifestFile f, ServiceManifests(t, *s, auth));
      files.push_back(std::move(f));
    }
  Json resources = Json::array();
  for (const ManifestFile& f : files) resources.push_back(f.name);
  ManifestFile kust{.name = "kustomization.yaml"};
  kust.objects.push_back({{"apiVersion", "kustomize.config.k8s.io/v1beta1"},
                          {"kind", "Kustomization"},
                          {"resources", resources}});
  files.push_back(std::move(kust));
  const std::string header = "# generated by `strata deploy k8s " + t.source +
                             "`; edit the topology and regenerate rather than this file\n";
  for (ManifestFile& f : files) {
    f.yaml = header;
    if (f.secret)
      f.yaml +=
          "# SECRET VALUES (signing key, service tokens, MQTT passwords), written 0600 at\n"
          "# deploy time: keep this file out of version control.\n";
    for (size_t i = 0; i < f.objects.size(); ++i)
      f.yaml += (i ? "---\n" : "") + ToYaml(f.objects[i]);
  }
  return files;
}

Status WriteManifests(const std::vector<ManifestFile>& files, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return UnavailableError("cannot create " + dir + ": " + ec.message());
  for (const ManifestFile& f : files) {
    const std::string path = dir + "/" + f.name;
    if (f.secret) {  // created 0600 before a byte of it is written
      std::filesystem::remove(path, ec);
      int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd < 0) return UnavailableError("cannot write " + path);
      ::close(fd);
    }
    std::ofstream out(path);
    out << f.yaml;
    if (!out) return UnavailableError("cannot write " + path);
  }
  return Status::Ok();
}

}  // namespace strata::topology
