// Topology authentication (auth.h): the `security:` block, auto mode, callers, the credential
// files (modes, tokens that verify for the right principal and tier), the keys injected into
// service configs, and the Secrets + mounts of `strata deploy k8s`.
#include "topology/auth.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "strata/testing/fixtures.h"
#include "topology/k8s.h"
#include "topology/up_test_util.h"
#include "transport/service_token.h"

namespace strata::topology {
namespace {

using namespace testutil;

const std::string kDir = std::string(STRATA_SOURCE_DIR) + "/configs/topologies/";

Topology Load(const std::string& file) {
  auto t = LoadTopology(kDir + file);
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.ok() ? *t : Topology{};
}

std::vector<std::string> Strings(const YAML::Node& seq) {
  std::vector<std::string> out;
  for (const auto& x : seq) out.push_back(x.as<std::string>());
  return out;
}

const std::string kSecured = ShopCloudTopology("secured", "{auth: on, token_ttl: 2h}");

TEST(TopologyAuth, SecurityBlockParsesAndRejectsBadValues) {
  auto t = ParseTopology(kSecured, "s.yaml", ".");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->security.auth, "on");
  EXPECT_EQ(t->security.token_ttl, std::chrono::hours(2));
  EXPECT_EQ(Load("surveillance.yaml").security.auth, "auto");
  EXPECT_EQ(Load("surveillance.yaml").security.token_ttl, std::chrono::hours(720));
  EXPECT_EQ(SecurityValueError("auth", "maybe"),
            "b.yaml:3: key 'security.auth': expected auto, on or off, got 'maybe'");
  auto unknown = ParseTopology(
      "name: x\nsecurity: {tokens: 1}\nnodes: {a: {tier: fog}}\n"
      "services: {s: {type: hello, node: a}}\n",
      "u.yaml", ".");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("security.tokens"), std::string::npos)
      << unknown.status().message();
}

TEST(TopologyAuth, AutoIsOffOnLoopbackAndOnElsewhere) {
  for (const char* f : {"surveillance.yaml", "federation.yaml", "all.yaml"}) {
    Topology t = Load(f);
    EXPECT_EQ(t.security.auth, "auto") << f;
    EXPECT_FALSE(LocalBindsNonLoopback(t)) << f;
    EXPECT_FALSE(AuthOn(t, LocalBindsNonLoopback(t))) << f << ": strata up stays unauthenticated";
    EXPECT_TRUE(AuthOn(t, true)) << f << ": pods on 0.0.0.0 get auth";
  }
  Topology seg = Load("segmentation.yaml");  // the example that says `auth: on`
  EXPECT_TRUE(AuthOn(seg, false));
  Topology t = Load("surveillance.yaml");
  t.services[0].args = {"--host", "0.0.0.0"};
  EXPECT_TRUE(LocalBindsNonLoopback(t));
  t.services[0].args = {"--host=127.0.0.2"};
  EXPECT_FALSE(LocalBindsNonLoopback(t));
  t.security.auth = "off";
  EXPECT_FALSE(AuthOn(t, true));
}

TEST(TopologyAuth, CallersComeFromReferencesPlusConsoleAndOperator) {
  Topology t = Load("surveillance.yaml");
  using V = std::vector<std::string>;
  EXPECT_EQ(Callers(t, *t.FindService("detect")), (V{"roof", "console", "operator"}));
  EXPECT_EQ(Callers(t, *t.FindService("identify")), (V{"detect", "console", "operator"}));
  EXPECT_EQ(Callers(t, *t.FindService("notify")), (V{"identify", "console", "operator"}));
  EXPECT_EQ(Callers(t, *t.FindService("roof")), (V{"console", "operator"}));
  EXPECT_EQ(Callers(t, *t.FindService("console")), (V{"operator"}));
  Topology f = Load("federation.yaml");
  EXPECT_EQ(Callers(f, *f.FindService("fl-fog")),
            (V{"fl-shop-1", "fl-shop-2", "console", "operator"}));
  EXPECT_EQ(Callers(f, *f.FindService("segment-1")), (V{"fl-shop-1", "console", "operator"}));
}

TEST(TopologyAuth, MqttPrincipalsPerServiceWithTheirTypesAcl) {
  auto p = MqttPrincipals(Load("segmentation.yaml"));
  ASSERT_TRUE(p.ok()) << p.status().message();
  ASSERT_EQ(p->size(), 4u);
  EXPECT_EQ((*p)[0].name, "segment-1");
  EXPECT_EQ((*p)[0].subscribe,
            (std::vector<std::string>{"strata/seg/+/events", "strata/seg/+/events/+"}));
  EXPECT_EQ((*p)[1].name, "segment-2");
  EXPECT_EQ((*p)[2].name, "replay");  // `strata segment replay` feeds the segments
  EXPECT_EQ((*p)[2].publish, std::vector<std::string>{"strata/seg/+/events/replay"});
  EXPECT_EQ((*p)[3].name, "operator");
  EXPECT_TRUE((*p)[3].publish.empty());
  EXPECT_EQ((*p)[3].subscribe, std::vector<std::string>{"strata/#"});
}

TEST(TopologyAuth, CredentialFilesArePrivateAndTokensVerifyForTheirPrincipal) {
  testing::TempDir dir;
  auto t = ParseTopology(kSecured, "s.yaml", ".");
  ASSERT_TRUE(t.ok());
  const std::string auth_dir = dir.File("auth");
  auto broker_dir = [&](const std::string& b) { return dir.File(b + "-auth"); };
  auto m = WriteAuthMaterial(*t, auth_dir, broker_dir);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(Mode(auth_dir), 0700);
  EXPECT_EQ(Mode(m->key_file), 0600);
  auto keys = auth::KeySet::LoadFile(m->key_file);
  ASSERT_TRUE(keys.ok()) << keys.status().message();
  const auto now = std::chrono::system_clock::now();
  const std::map<std::string, std::string> tiers = {
      {"api", "cloud"}, {"seg", "edge"}, {"console", "cloud"}, {"operator", "cloud"}};
  ASSERT_EQ(m->token_files.size(), tiers.size());
  for (const auto& [sub, tier] : tiers) {
    const std::string path = auth_dir + "/" + sub + ".token";
    EXPECT_EQ(m->token_files[sub], path);
    EXPECT_EQ(Mode(path), 0600) << path;
    std::string token = Slurp(path);
    ASSERT_FALSE(token.empty());
    token.pop_back();  // "\n"
    auto c = auth::VerifyToken(token, *keys);
    ASSERT_TRUE(c.ok()) << sub << ": " << c.status().message();
    EXPECT_EQ(c->sub, sub);
    EXPECT_EQ(c->tier, tier);
    const int64_t exp_in =
        c->exp - std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    EXPECT_GT(exp_in, 7200 - 60);
    EXPECT_LE(exp_in, 7200 + 60);
  }
  // MQTT: one principal per MQTT user (seg) + operator, in the broker's dir.
  ASSERT_EQ(m->brokers.size(), 1u);
  const BrokerAuth& b = m->brokers["bus"];
  EXPECT_EQ(b.dir, broker_dir("bus"));
  EXPECT_EQ(Mode(b.dir + "/passwd"), 0600);
  EXPECT_EQ(Mode(b.dir + "/seg.password"), 0600);
  EXPECT_NE(b.passwd_text.find("seg:$7$101$"), std::string::npos);
  EXPECT_NE(b.acl_text.find("user seg\ntopic write strata/seg/+/changes"), std::string::npos)
      << b.acl_text;
  EXPECT_EQ(b.passwords.count("api"), 0u);  // hello references no broker

  // A re-run keeps the key and the MQTT passwords; the tokens are fresh but verify too.
  auto again = WriteAuthMaterial(*t, auth_dir, broker_dir);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->key_text, m->key_text);
  EXPECT_EQ(again->brokers["bus"].passwords["seg"], b.passwords.at("seg"));
}

TEST(TopologyAuth, InjectedConfigsCarryKeyAllowTokenAndMqttCredentials) {
  testing::TempDir dir;
  Topology t = Load("surveillance.yaml");
  auto m = WriteAuthMaterial(t, dir.File("auth"),
                             [&](const std::string& b) { return dir.File(b + "-auth"); });
  ASSERT_TRUE(m.ok()) << m.status().message();
  auto config = [&](const std::string& name) {
    const Service& s = *t.FindService(name);
    auto y = InjectAuth(t, s, LocalPaths(*m, t, s));
    EXPECT_TRUE(y.ok()) << y.status().message();
    return YAML::Load(*y);
  };
  YAML::Node detect = config("detect");
  EXPECT_TRUE(detect["server"]["auth"]["enabled"].as<bool>());
  EXPECT_EQ(detect["server"]["auth"]["key_file"].as<std::string>(), m->key_file);
  EXPECT_EQ(Strings(detect["server"]["auth"]["allow"]),
            (std::vector<std::string>{"roof", "console", "operator"}));
  EXPECT_EQ(detect["detect"]["cloud"]["token_file"].as<std::string>(), m->token_files["detect"]);
  EXPECT_EQ(detect["detect"]["cloud"]["url"].as<std::string>(), "${identify.url}");
  EXPECT_FALSE(detect["detect"]["token_file"]) << "only the section with the uplink";

  YAML::Node identify = config("identify");
  EXPECT_EQ(identify["identify"]["token_file"].as<std::string>(), m->token_files["identify"]);
  EXPECT_EQ(identify["identify"]["mqtt"]["username"].as<std::string>(), "identify");
  EXPECT_EQ(identify["identify"]["mqtt"]["password_file"].as<std::string>(),
            m->brokers["mqtt"].password_files["identify"]);
  EXPECT_FALSE(identify["identify"]["mqtt"]["token_file"]) << "an MQTT section gets no token";

  YAML::Node notify = config("notify");
  EXPECT_EQ(notify["notify"]["mqtt"]["username"].as<std::string>(), "notify");
  EXPECT_FALSE(notify["notify"]["token_file"]);
  EXPECT_EQ(config("roof")["roof"]["token_file"].as<std::string>(), m->token_files["roof"]);
  YAML::Node console = config("console");
  EXPECT_EQ(console["console"]["upstream_token_file"].as<std::string>(), m->token_files["console"]);
  EXPECT_EQ(Strings(console["server"]["auth"]["allow"]), std::vector<std::string>{"operator"});

  // An explicit server.auth in the service's config is kept as written.
  Service own = *t.FindService("notify");
  own.config_yaml = "server:\n  auth: {enabled: false}\nnotify: {alert_on_person: true}\n";
  auto kept = InjectAuth(t, own, LocalPaths(*m, t, own));
  ASSERT_TRUE(kept.ok());
  EXPECT_FALSE(YAML::Load(*kept)["server"]["auth"]["enabled"].as<bool>());
}

TEST(TopologyAuth, K8sEmitsSecretsMountsAndConfigsAtTheMountPaths) {
  testing::TempDir dir;
  Topology t = Load("surveillance.yaml");
  EXPECT_EQ(GenerateManifests(t, {}).status().code(), StatusCode::kFailedPrecondition);
  auto m = WriteAuthMaterial(t, dir.File("secrets"),
                             [&](const std::string& b) { return dir.File("secrets/mqtt-" + b); });
  ASSERT_TRUE(m.ok()) << m.status().message();
  auto files = GenerateManifests(t, {.auth = &*m});
  ASSERT_TRUE(files.ok()) << files.status().message();
  std::map<std::string, YAML::Node> objects;
  std::string public_text;
  for (const ManifestFile& f : *files) {
    if (!f.secret) public_text += f.yaml;
    for (const YAML::Node& d : YAML::LoadAll(f.yaml))
      if (d["metadata"])
        objects[d["kind"].as<std::string>() + "/" + d["metadata"]["name"].as<std::string>()] = d;
  }
  // Secret values only in secrets.yaml.
  for (const auto& [sub, token] : m->tokens)
    EXPECT_EQ(public_text.find(token), std::string::npos) << sub << "'s token in a manifest";
  EXPECT_EQ(public_text.find(m->key_text.substr(m->key_text.rfind(' ') + 1, 64)),
            std::string::npos);
  ASSERT_TRUE(objects.count("Secret/strata-signing-key"));
  ASSERT_TRUE(objects.count("Secret/detect-credentials"));
  ASSERT_TRUE(objects.count("Secret/mqtt-mqtt-auth"));
  auto decoded = [](const YAML::Node& secret, const char* key) {
    auto v = auth::Base64UrlDecode([&] {  // standard base64 → base64url for the decoder
      std::string s = secret["data"][key].as<std::string>();
      for (char& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
      while (!s.empty() && s.back() == '=') s.pop_back();
      return s;
    }());
    EXPECT_TRUE(v.ok());
    return v.ok() ? *v : std::string();
  };
  EXPECT_EQ(decoded(objects["Secret/strata-signing-key"], "signing.key"), m->key_text);
  EXPECT_EQ(decoded(objects["Secret/detect-credentials"], "token"), m->tokens["detect"] + "\n");
  EXPECT_EQ(decoded(objects["Secret/notify-credentials"], "mqtt-password"),
            m->brokers["mqtt"].passwords["notify"] + "\n");
  EXPECT_EQ(decoded(objects["Secret/mqtt-mqtt-auth"], "acl"), m->brokers["mqtt"].acl_text);

  // The detect pod mounts both Secrets read-only; its config points at the mount.
  const YAML::Node pod = objects["Deployment/detect"]["spec"]["template"]["spec"];
  bool mounted = false;
  for (const auto& vm : pod["containers"][0]["volumeMounts"])
    if (vm["name"].as<std::string>() == "auth") {
      mounted =
          vm["mountPath"].as<std::string>() == "/etc/strata-auth" && vm["readOnly"].as<bool>();
    }
  EXPECT_TRUE(mounted);
  std::vector<std::string> sources;
  for (const auto& v : pod["volumes"])
    if (v["name"].as<std::string>() == "auth")
      for (const auto& s : v["projected"]["sources"])
        sources.push_back(s["secret"]["name"].as<std::string>());
  EXPECT_EQ(sources, (std::vector<std::string>{"strata-signing-key", "detect-credentials"}));
  YAML::Node config =
      YAML::Load(objects["ConfigMap/detect-config"]["data"]["config.yaml"].as<std::string>());
  EXPECT_EQ(config["server"]["auth"]["key_file"].as<std::string>(), "/etc/strata-auth/signing.key");
  EXPECT_EQ(config["detect"]["cloud"]["token_file"].as<std::string>(), "/etc/strata-auth/token");
  EXPECT_EQ(config["detect"]["cloud"]["url"].as<std::string>(), "http://identify:8080");
  YAML::Node notify =
      YAML::Load(objects["ConfigMap/notify-config"]["data"]["config.yaml"].as<std::string>());
  EXPECT_EQ(notify["notify"]["mqtt"]["password_file"].as<std::string>(),
            "/etc/strata-auth/mqtt-password");
  const std::string conf =
      objects["ConfigMap/mqtt-config"]["data"]["mosquitto.conf"].as<std::string>();
  EXPECT_NE(conf.find("allow_anonymous false\npassword_file /mosquitto/auth/passwd\n"),
            std::string::npos)
      << conf;

  // Written: secrets.yaml 0600, the others as usual.
  ASSERT_TRUE(WriteManifests(*files, dir.File("out")).ok());
  EXPECT_EQ(Mode(dir.File("out/secrets.yaml")), 0600);
  EXPECT_EQ(Mode(dir.File("out/detect.yaml")) & 0600, 0600);
}

TEST(TopologyAuth, K8sWithAuthOffKeepsTheExplicitOffAndNoSecrets) {
  Topology t = Load("surveillance.yaml");
  t.security.auth = "off";
  auto files = GenerateManifests(t, {});
  ASSERT_TRUE(files.ok()) << files.status().message();
  for (const ManifestFile& f : *files) {
    EXPECT_NE(f.name, "secrets.yaml");
    EXPECT_EQ(f.yaml.find("kind: Secret"), std::string::npos) << f.name;
    EXPECT_EQ(f.yaml.find("strata-auth"), std::string::npos) << f.name;
    if (f.name == "detect.yaml") {
      YAML::Node config =
          YAML::Load(YAML::LoadAll(f.yaml)[0]["data"]["config.yaml"].as<std::string>());
      EXPECT_FALSE(config["server"]["auth"]["enabled"].as<bool>());
    }
  }
}

}  // namespace
}  // namespace strata::topology
