// Kubernetes Secrets for `security.auth` on (see k8s.h): secrets.yaml with the signing key, a
// Secret per service (its token, its MQTT password) and per broker (mosquitto passwd + acl), and
// the projected/secret volumes that mount them read-only into the pods.
#include <openssl/evp.h>

#include "topology/k8s.h"

namespace strata::topology {

using Json = nlohmann::ordered_json;

namespace {

constexpr int kSecretMode = 0440;  // readable by the pod's fsGroup, not by others

std::string Base64(const std::string& s) {
  std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
  int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Json Secret(const Topology& t, const std::string& name, const std::string& component,
            const std::vector<std::pair<std::string, std::string>>& data) {
  Json d = Json::object();
  for (const auto& [k, v] : data) d[k] = Base64(v);
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata",
           {{"name", name},
            {"namespace", t.kubernetes.namespace_name},
            {"labels",
             {{"app.kubernetes.io/instance", t.name},
              {"app.kubernetes.io/component", component},
              {"app.kubernetes.io/part-of", "strata"},
              {"app.kubernetes.io/managed-by", "strata"}}}}},
          {"type", "Opaque"},
          {"data", d}};
}

std::string MqttPassword(const Topology& t, const Service& s, const AuthMaterial& m) {
  auto b = m.brokers.find(BrokerOf(t, s));
  if (b == m.brokers.end()) return "";
  auto p = b->second.passwords.find(s.name);
  return p == b->second.passwords.end() ? "" : p->second;
}

}  // namespace

CredentialPaths K8sCredentialPaths(const Topology& t, const Service& s, const AuthMaterial& m) {
  const std::string dir = kServiceAuthDir;
  return {.key_file = dir + "/signing.key",
          .token_file = dir + "/token",
          .mqtt_password_file = MqttPassword(t, s, m).empty() ? "" : dir + "/mqtt-password"};
}

void AddServiceAuthVolume(const Service& s, Json* container, Json* volumes) {
  (*container)["volumeMounts"].push_back(
      {{"name", "auth"}, {"mountPath", kServiceAuthDir}, {"readOnly", true}});
  volumes->push_back({{"name", "auth"},
                      {"projected",
                       {{"defaultMode", kSecretMode},
                        {"sources",
                         {{{"secret", {{"name", "strata-signing-key"}}}},
                          {{"secret", {{"name", s.name + "-credentials"}}}}}}}}});
}

void AddBrokerAuthVolume(const Broker& b, Json* container, Json* volumes) {
  (*container)["volumeMounts"].push_back(
      {{"name", "auth"}, {"mountPath", kBrokerAuthDir}, {"readOnly", true}});
  volumes->push_back(
      {{"name", "auth"},
       {"secret", {{"secretName", b.name + "-mqtt-auth"}, {"defaultMode", kSecretMode}}}});
}

ManifestFile AuthSecrets(const Topology& t, const AuthMaterial& m) {
  ManifestFile f{.name = "secrets.yaml", .secret = true};
  f.objects.push_back(Secret(t, "strata-signing-key", "auth", {{"signing.key", m.key_text}}));
  for (const std::string& name : t.start_order) {
    const Service* s = t.FindService(name);
    if (!s) continue;
    std::vector<std::pair<std::string, std::string>> data;
    if (auto it = m.tokens.find(s->name); it != m.tokens.end())
      data.push_back({"token", it->second + "\n"});
    if (std::string pw = MqttPassword(t, *s, m); !pw.empty())
      data.push_back({"mqtt-password", pw + "\n"});
    f.objects.push_back(Secret(t, s->name + "-credentials", "auth", data));
  }
  for (const Broker& b : t.brokers) {
    auto it = m.brokers.find(b.name);
    if (it == m.brokers.end()) continue;
    f.objects.push_back(Secret(t, b.name + "-mqtt-auth", "mqtt-broker",
                               {{"passwd", it->second.passwd_text}, {"acl", it->second.acl_text}}));
  }
  return f;
}

}  // namespace strata::topology
