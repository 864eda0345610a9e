// `strata deploy k8s` manifests, checked structurally with yaml-cpp: kinds, selectors that match
// pod labels, probes, ports, resources, affinity per tier, resolved in-cluster URLs.
#include "topology/k8s.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <map>
#include <set>

#include "strata/testing/fixtures.h"

namespace strata::topology {
namespace {

const std::string kDir = std::string(STRATA_SOURCE_DIR) + "/configs/topologies/";

struct Parsed {
  std::map<std::string, std::vector<YAML::Node>> by_file;
  std::map<std::string, YAML::Node> objects;  // "Kind/name"
};

// Pods listen on 0.0.0.0, so `security.auth: auto` is on: credentials first (auth_test.cc checks
// the Secrets and mounts).
Result<std::vector<ManifestFile>> Manifests(const Topology& t, K8sOverrides o = {}) {
  static testing::TempDir dir;
  static int n = 0;
  const std::string d = dir.File("auth-" + std::to_string(n++));
  auto m = WriteAuthMaterial(t, d, [&](const std::string& b) { return d + "-" + b; });
  EXPECT_TRUE(m.ok()) << m.status().message();
  if (!m.ok()) return m.status();
  o.auth = &*m;
  return GenerateManifests(t, o);
}

Parsed Generate(const std::string& file) {
  auto t = LoadTopology(kDir + file);
  EXPECT_TRUE(t.ok()) << t.status().message();
  auto files = Manifests(*t);
  EXPECT_TRUE(files.ok()) << files.status().message();
  Parsed p;
  for (const ManifestFile& f : *files) {
    std::vector<YAML::Node> docs = YAML::LoadAll(f.yaml);  // throws on malformed YAML
    for (const YAML::Node& d : docs) {
      p.by_file[f.name].push_back(d);
      if (d["metadata"])
        p.objects[d["kind"].as<std::string>() + "/" + d["metadata"]["name"].as<std::string>()] = d;
    }
  }
  return p;
}

// Every selector key/value appears in `labels`.
bool Selects(const YAML::Node& selector, const YAML::Node& labels) {
  if (!selector.IsMap() || selector.size() == 0) return false;
  for (auto it = selector.begin(); it != selector.end(); ++it) {
    const YAML::Node v = labels[it->first.as<std::string>()];
    if (!v || v.as<std::string>() != it->second.as<std::string>()) return false;
  }
  return true;
}

std::vector<std::string> Required(const YAML::Node& deployment) {
  std::vector<std::string> out;
  const YAML::Node terms =
      deployment["spec"]["template"]["spec"]["affinity"]["nodeAffinity"]
                ["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"];
  for (const auto& e : terms[0]["matchExpressions"]) {
    std::string s = e["key"].as<std::string>() + " " + e["operator"].as<std::string>();
    if (e["values"]) s += " " + e["values"][0].as<std::string>();
    out.push_back(s);
  }
  return out;
}

bool Has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

TEST(K8sTest, EveryServiceGetsConfigMapDeploymentAndMatchingService) {
  Parsed p = Generate("surveillance.yaml");
  ASSERT_TRUE(p.objects.count("Namespace/strata"));
  for (const std::string name : {"notify", "identify", "detect", "roof"}) {
    ASSERT_TRUE(p.objects.count("ConfigMap/" + name + "-config")) << name;
    ASSERT_TRUE(p.objects.count("Deployment/" + name)) << name;
    ASSERT_TRUE(p.objects.count("Service/" + name)) << name;
    const YAML::Node d = p.objects["Deployment/" + name];
    const YAML::Node svc = p.objects["Service/" + name];
    EXPECT_EQ(d["apiVersion"].as<std::string>(), "apps/v1");
    const YAML::Node pod_labels = d["spec"]["template"]["metadata"]["labels"];
    EXPECT_TRUE(Selects(d["spec"]["selector"]["matchLabels"], pod_labels)) << name;
    EXPECT_TRUE(Selects(svc["spec"]["selector"], pod_labels)) << name;
    const YAML::Node c = d["spec"]["template"]["spec"]["containers"][0];
    EXPECT_EQ(c["command"][0].as<std::string>(), "/usr/local/bin/strata-" + name);
    EXPECT_EQ(c["livenessProbe"]["httpGet"]["path"].as<std::string>(), "/healthz");
    EXPECT_EQ(c["readinessProbe"]["httpGet"]["path"].as<std::string>(), "/readyz");
    EXPECT_EQ(c["ports"][0]["containerPort"].as<int>(), 8080);
    EXPECT_EQ(c["ports"][0]["name"].as<std::string>(), "http");
    EXPECT_EQ(svc["spec"]["ports"][0]["port"].as<int>(), 8080);
    EXPECT_EQ(svc["spec"]["ports"][0]["targetPort"].as<std::string>(), "http");
    EXPECT_TRUE(c["resources"]["requests"]["cpu"]) << name;
    EXPECT_TRUE(c["resources"]["limits"]["memory"]) << name;
    // args are strings (a plain 8080 would be a number and Kubernetes rejects it)
    for (const auto& a : c["args"]) EXPECT_TRUE(a.IsScalar());
    EXPECT_EQ(c["args"][5].Tag(), "!") << "port argument must be quoted";
    // every mount has a volume
    std::set<std::string> volumes;
    for (const auto& v : d["spec"]["template"]["spec"]["volumes"])
      volumes.insert(v["name"].as<std::string>());
    for (const auto& m : c["volumeMounts"])
      EXPECT_TRUE(volumes.count(m["name"].as<std::string>())) << name << ": " << m["name"];
    // the config volume is this service's ConfigMap
    EXPECT_EQ(d["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"].as<std::string>(),
              name + "-config");
  }
  EXPECT_EQ(p.objects["Deployment/detect"]["spec"]["template"]["spec"]["containers"][0]["resources"]
                     ["limits"]["memory"]
                         .as<std::string>(),
            "1Gi");
}

TEST(K8sTest, TiersMapToNodeAffinityAndKubeEdgeRole) {
  Parsed p = Generate("surveillance.yaml");
  auto roof = Required(p.objects["Deployment/roof"]);
  EXPECT_TRUE(Has(roof, "strata.io/tier In roof"));
  EXPECT_TRUE(Has(roof, "node-role.kubernetes.io/edge Exists"));
  EXPECT_TRUE(p.objects["Deployment/roof"]["spec"]["template"]["spec"]["tolerations"]);
  auto fog = Required(p.objects["Deployment/detect"]);
  EXPECT_TRUE(Has(fog, "strata.io/tier In fog"));
  EXPECT_FALSE(Has(fog, "node-role.kubernetes.io/edge Exists"));
  auto cloud = Required(p.objects["Deployment/identify"]);
  EXPECT_TRUE(Has(cloud, "strata.io/tier In cloud"));
  EXPECT_TRUE(Has(cloud, "node-role.kubernetes.io/edge DoesNotExist"));
  // node labels from the topology are required too
  Parsed seg = Generate("segmentation.yaml");
  auto shop = Required(seg.objects["Deployment/segment-1"]);
  EXPECT_TRUE(Has(shop, "strata.io/site In shop-1"));
  EXPECT_TRUE(Has(shop, "strata.io/tier In edge"));
}

TEST(K8sTest, ConfigsUseInClusterNames) {
  Parsed p = Generate("surveillance.yaml");
  const std::string detect =
      p.objects["ConfigMap/detect-config"]["data"]["config.yaml"].as<std::string>();
  EXPECT_NE(detect.find("url: http://identify:8080"), std::string::npos) << detect;
  EXPECT_EQ(detect.find("${"), std::string::npos) << detect;
  YAML::Node parsed = YAML::Load(detect);  // the embedded config is YAML itself
  EXPECT_EQ(parsed["detect"]["cloud"]["url"].as<std::string>(), "http://identify:8080");
  const std::string notify =
      p.objects["ConfigMap/notify-config"]["data"]["config.yaml"].as<std::string>();
  EXPECT_NE(notify.find("tcp://mqtt:1883"), std::string::npos) << notify;
}

TEST(K8sTest, BrokerIsMosquittoDeploymentAndService) {
  Parsed p = Generate("surveillance.yaml");
  const YAML::Node d = p.objects["Deployment/mqtt"];
  ASSERT_TRUE(d);
  const YAML::Node c = d["spec"]["template"]["spec"]["containers"][0];
  EXPECT_NE(c["image"].as<std::string>().find("mosquitto"), std::string::npos);
  EXPECT_EQ(c["ports"][0]["containerPort"].as<int>(), 1883);
  EXPECT_TRUE(c["readinessProbe"]["tcpSocket"]);
  const YAML::Node svc = p.objects["Service/mqtt"];
  EXPECT_TRUE(Selects(svc["spec"]["selector"], d["spec"]["template"]["metadata"]["labels"]));
  EXPECT_EQ(svc["spec"]["ports"][0]["port"].as<int>(), 1883);
  EXPECT_NE(p.objects["ConfigMap/mqtt-config"]["data"]["mosquitto.conf"].as<std::string>().find(
                "listener 1883"),
            std::string::npos);
}

TEST(K8sTest, ProbelessServiceHasNoPortsProbesOrService) {
  Parsed p = Generate("federation.yaml");
  const YAML::Node d = p.objects["Deployment/fl-shop-1"];
  ASSERT_TRUE(d);
  const YAML::Node c = d["spec"]["template"]["spec"]["containers"][0];
  EXPECT_FALSE(c["ports"]);
  EXPECT_FALSE(c["readinessProbe"]);
  EXPECT_FALSE(p.objects.count("Service/fl-shop-1"));
  EXPECT_TRUE(p.objects.count("Service/fl-fog"));
}

TEST(K8sTest, KustomizationListsEveryFileAndAllExampleGenerates) {
  Parsed p = Generate("all.yaml");
  const YAML::Node k = p.by_file["kustomization.yaml"][0];
  EXPECT_EQ(k["kind"].as<std::string>(), "Kustomization");
  EXPECT_EQ(k["resources"].size() + 1, p.by_file.size());
  for (const auto& r : k["resources"]) EXPECT_TRUE(p.by_file.count(r.as<std::string>()));
}

TEST(K8sTest, OverridesNamespaceAndImage) {
  auto t = LoadTopology(kDir + "segmentation.yaml");
  ASSERT_TRUE(t.ok());
  auto files = Manifests(*t, {.namespace_name = "shops", .image = "reg/strata:1"});
  ASSERT_TRUE(files.ok());
  for (const ManifestFile& f : *files)
    for (const auto& o : f.objects) {
      if (o["kind"] == "Deployment" && o["metadata"]["name"] != "mqtt") {
        EXPECT_EQ(o["spec"]["template"]["spec"]["containers"][0]["image"], "reg/strata:1");
      }
      if (o.contains("metadata") && o["kind"] != "Namespace") {
        EXPECT_EQ(o["metadata"]["namespace"], "shops");
      }
    }
}

TEST(K8sTest, TheConsoleConfigListsEveryServiceByItsClusterUrl) {
  Parsed p = Generate("surveillance.yaml");
  ASSERT_TRUE(p.objects.count("ConfigMap/console-config"));
  ASSERT_TRUE(p.objects.count("Deployment/console"));
  const YAML::Node c = p.objects["Deployment/console"]["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["command"][0].as<std::string>(), "/usr/local/bin/strata-console");
  YAML::Node config =
      YAML::Load(p.objects["ConfigMap/console-config"]["data"]["config.yaml"].as<std::string>());
  EXPECT_EQ(config["console"]["poll_interval"].as<std::string>(), "1s");
  std::map<std::string, std::string> urls, tiers;
  for (const YAML::Node& u : config["console"]["upstreams"]) {
    urls[u["name"].as<std::string>()] = u["url"].as<std::string>();
    tiers[u["name"].as<std::string>()] = u["tier"].as<std::string>();
  }
  EXPECT_EQ(urls, (std::map<std::string, std::string>{{"notify", "http://notify:8080"},
                                                       {"identify", "http://identify:8080"},
                                                       {"detect", "http://detect:8080"},
                                                       {"roof", "http://roof:8080"}}));
  EXPECT_EQ(tiers["roof"], "roof");
  EXPECT_EQ(tiers["detect"], "fog");
  EXPECT_EQ(tiers["notify"], "cloud");
}

}  // namespace
}  // namespace strata::topology
