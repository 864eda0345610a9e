// Topology TLS (auth.h, "TLS"): the `security.tls` key and its auto rule, and the keys InjectTls
// adds to service configs (server.tls, ca_file in every uplink and broker section,
// console.upstream_ca_file), keeping keys a config already sets.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "topology/auth.h"
#include "topology/k8s.h"
#include "topology/up_test_util.h"

namespace strata::topology {
namespace {

using namespace testutil;

const std::string kTls =
    ShopCloudTopology("tls", "{auth: off, tls: on}",
                      "      other: {ca_file: /etc/own-ca.pem, url: \"${api.url}\"}\n");

TEST(TopologyTls, SecurityTlsParsesWithTheAuthAutoRule) {
  auto t = ParseTopology(kTls, "t.yaml", ".");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->security.tls, "on");
  EXPECT_EQ(t->security.auth, "off");
  EXPECT_TRUE(TlsOn(*t, false));
  t->security.tls = "off";
  EXPECT_FALSE(TlsOn(*t, true));
  t->security.tls = "auto";
  EXPECT_FALSE(TlsOn(*t, false));
  EXPECT_TRUE(TlsOn(*t, true));
  auto plain = ParseTopology(
      "name: x\nnodes: {a: {tier: fog}}\nservices: {s: {type: hello, node: a}}\n", "p.yaml", ".");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->security.tls, "auto");
  EXPECT_FALSE(TlsOn(*plain, LocalBindsNonLoopback(*plain)));
  EXPECT_EQ(SecurityValueError("tls", "sometimes"),
            "b.yaml:3: key 'security.tls': expected auto, on or off, got 'sometimes'");
}

TEST(TopologyTls, NonLoopbackHostComesFromArgs) {
  Service s;
  EXPECT_EQ(NonLoopbackHost(s), "");
  s.args = {"--host", "127.0.0.1"};
  EXPECT_EQ(NonLoopbackHost(s), "");
  s.args = {"--host", "10.0.0.5"};
  EXPECT_EQ(NonLoopbackHost(s), "10.0.0.5");
  s.args = {"--log-level", "debug", "--host=fog-1.local"};
  EXPECT_EQ(NonLoopbackHost(s), "fog-1.local");
}

TEST(TopologyTls, InjectTlsAddsServerTlsAndCaFilesKeepingExplicitKeys) {
  auto t = ParseTopology(kTls, "t.yaml", ".");
  ASSERT_TRUE(t.ok()) << t.status().message();
  const TlsPaths p{.ca_file = "/run/tls/ca.pem",
                   .cert_file = "/run/tls/seg.pem",
                   .key_file = "/run/tls/seg.key"};
  auto seg = InjectTls(*t, *t->FindService("seg"), p);
  ASSERT_TRUE(seg.ok()) << seg.status().message();
  YAML::Node n = YAML::Load(*seg);
  EXPECT_EQ(n["server"]["tls"]["cert_file"].as<std::string>(), "/run/tls/seg.pem");
  EXPECT_EQ(n["server"]["tls"]["key_file"].as<std::string>(), "/run/tls/seg.key");
  EXPECT_EQ(n["mqtt"]["ca_file"].as<std::string>(), "/run/tls/ca.pem");
  EXPECT_EQ(n["uplink"]["ca_file"].as<std::string>(), "/run/tls/ca.pem");
  EXPECT_EQ(n["other"]["ca_file"].as<std::string>(), "/etc/own-ca.pem");  // kept
  EXPECT_EQ(n["mqtt"]["uri"].as<std::string>(), "${bus.uri}");  // resolved later (launcher)
  EXPECT_FALSE(n["server"]["auth"].IsDefined());                // TLS without auth

  auto api = InjectTls(*t, *t->FindService("api"), {.ca_file = "/run/tls/ca.pem"});
  ASSERT_TRUE(api.ok());
  YAML::Node a = YAML::Load(*api);
  EXPECT_FALSE(a["server"]["tls"].IsDefined());  // no certificate given: no server.tls
  EXPECT_EQ(a.size(), 1u) << *api;               // and nothing else (no uplinks)

  auto console = InjectTls(*t, *t->FindService("console"), p);
  ASSERT_TRUE(console.ok());
  YAML::Node c = YAML::Load(*console);
  EXPECT_EQ(c["console"]["upstream_ca_file"].as<std::string>(), "/run/tls/ca.pem");
  EXPECT_EQ(c["server"]["tls"]["cert_file"].as<std::string>(), "/run/tls/seg.pem");
}

TEST(TopologyTls, DeployK8sRefusesAnExplicitTlsOnRatherThanDeployingPlainHttp) {
  auto t = ParseTopology(kTls, "t.yaml", ".");
  ASSERT_TRUE(t.ok()) << t.status().message();
  auto refused = GenerateManifests(*t, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("security.tls: on is not supported"), std::string::npos)
      << refused.status().message();
  t->security.tls = "auto";
  auto plain = GenerateManifests(*t, {});
  EXPECT_TRUE(plain.ok()) << plain.status().message();
}

}  // namespace
}  // namespace strata::topology
