// Topology parser/validator: the shipped examples validate; every kind of error names the file,
// the line and the key; references render; config_file merges under inline config.
#include "topology/topology.h"

#include <gtest/gtest.h>

#include <yaml-cpp/yaml.h>

#include <fstream>

#include "strata/testing/fixtures.h"

namespace strata::topology {
namespace {

const std::string kDir = std::string(STRATA_SOURCE_DIR) + "/configs/topologies/";

Status ParseError(const std::string& text) {
  auto t = ParseTopology(text, "t.yaml", ".");
  return t.ok() ? Status::Ok() : t.status();
}

// A valid base: two nodes, a broker, two services. Tests append or replace lines.
const std::string kBase =
    "name: demo\n"                // 1
    "nodes:\n"                    // 2
    "  edge-1: {tier: edge}\n"    // 3
    "  cloud-1: {tier: cloud}\n"  // 4
    "brokers:\n"                  // 5
    "  mqtt: {node: cloud-1}\n"   // 6
    "services:\n"                 // 7
    "  api:\n"                    // 8
    "    type: hello\n"           // 9
    "    node: cloud-1\n";        // 10

TEST(TopologyTest, ShippedExamplesValidate) {
  for (const char* file :
       {"surveillance.yaml", "segmentation.yaml", "federation.yaml", "all.yaml"}) {
    auto t = LoadTopology(kDir + file);
    ASSERT_TRUE(t.ok()) << file << ": " << t.status().message();
    EXPECT_FALSE(t->services.empty()) << file;
    EXPECT_EQ(t->start_order.size(), t->services.size() + t->brokers.size()) << file;
  }
}

TEST(TopologyTest, SurveillanceStartsDependenciesFirst) {
  auto t = LoadTopology(kDir + "surveillance.yaml");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->start_order, (std::vector<std::string>{"mqtt", "notify", "identify", "detect",
                                                      "roof", "console"}));
  const Service* detect = t->FindService("detect");
  ASSERT_NE(detect, nullptr);
  EXPECT_EQ(detect->depends_on, std::vector<std::string>{"identify"});
  EXPECT_NE(detect->config_yaml.find("backend: hog"), std::string::npos);     // from config_file
  EXPECT_NE(detect->config_yaml.find("${identify.url}"), std::string::npos);  // inline overlay
  ASSERT_NE(t->EmulatedLink("cloud-1", "fog-1"), nullptr);
  EXPECT_EQ(t->EmulatedLink("cloud-1", "fog-1")->latency.count(), 20);
  EXPECT_EQ(t->EmulatedLink("roof-1", "cloud-1"), nullptr);
}

struct ErrorCase {
  std::string name, text, expected;
};

TEST(TopologyTest, ErrorsNameFileLineAndKey) {
  const std::vector<ErrorCase> cases = {
      {"unknown top-level key", kBase + "nodez: {}\n", "t.yaml:11: key 'nodez': unknown key"},
      {"unknown service key", kBase + "    confg: {}\n",
       "t.yaml:11: key 'services.api.confg': unknown key"},
      {"unknown service type", kBase + "  b:\n    type: helo\n    node: edge-1\n",
       "t.yaml:12: key 'services.b.type': unknown service type 'helo'"},
      {"duplicate service", kBase + "  api:\n    type: hello\n    node: edge-1\n",
       "t.yaml:11: key 'services.api': duplicate key"},
      {"duplicate node", "nodes:\n  a: {tier: fog}\n  a: {tier: fog}\n",
       "t.yaml:3: key 'nodes.a': duplicate key"},
      {"broker and service share a name", kBase + "  mqtt:\n    type: hello\n    node: edge-1\n",
       "t.yaml:11: key 'services.mqtt': name 'mqtt' is already used by a broker"},
      {"unknown tier", "name: x\nnodes:\n  a: {tier: sky}\nservices: {}\n",
       "t.yaml:3: key 'nodes.a.tier': unknown tier 'sky'"},
      {"dangling node", kBase + "  b:\n    type: hello\n    node: fog-9\n",
       "t.yaml:13: key 'services.b.node': unknown node 'fog-9'"},
      {"dangling reference",
       kBase + "  b:\n    type: hello\n    node: edge-1\n    config:\n      up: ${nope.url}\n",
       "t.yaml:15: key 'services.b.config.up': reference to unknown service or broker 'nope'"},
      {"wrong reference field",
       kBase + "  b:\n    type: hello\n    node: edge-1\n"
               "    config:\n      up: ${api.uri}\n",
       "t.yaml:15: key 'services.b.config.up': service 'api' has no field 'uri'"},
      {"malformed reference", kBase + "    config:\n      x: ${API}\n",
       "t.yaml:12: key 'services.api.config.x': malformed reference '${API}'"},
      {"dangling depends_on", kBase + "    depends_on: [db]\n",
       "t.yaml:11: key 'services.api.depends_on': unknown service or broker 'db'"},
      {"cycle",
       kBase + "    config: {u: '${b.url}'}\n  b:\n    type: hello\n    node: edge-1\n"
               "    depends_on: [api]\n",
       "t.yaml:8: key 'services.api': dependency cycle: api -> b -> api"},
      {"self dependency", kBase + "    depends_on: [api]\n",
       "t.yaml:8: key 'services.api': dependency cycle: api -> api"},
      {"link to unknown node", kBase + "links:\n  - {from: edge-1, to: fog-9}\n",
       "t.yaml:12: key 'links[0]': unknown node 'fog-9'"},
      {"duplicate link",
       kBase + "links:\n  - {from: edge-1, to: cloud-1}\n"
               "  - {from: cloud-1, to: edge-1}\n",
       "t.yaml:13: key 'links[1]': duplicate link between 'cloud-1' and 'edge-1'"},
      {"bad bandwidth", kBase + "links:\n  - from: edge-1\n    to: cloud-1\n    bandwidth: fast\n",
       "t.yaml:14: key 'links[0].bandwidth': expected a rate such as 512kbit"},
      {"bad latency", kBase + "links:\n  - {from: edge-1, to: cloud-1, latency: soon}\n",
       "t.yaml:12: key 'links[0].latency': expected a duration"},
      {"bad name", kBase + "  Bad_Name:\n    type: hello\n    node: edge-1\n",
       "t.yaml:11: key 'services.Bad_Name': names must be 1-63 of [a-z0-9-]"},
      {"missing type", kBase + "  b:\n    node: edge-1\n",
       "t.yaml:11: key 'services.b': missing required key 'type'"},
      {"bad restart value", kBase + "    restart: {max_restarts: many}\n",
       "t.yaml:11: key 'services.api.restart.max_restarts': expected an integer"},
      {"url of a probe-less service",
       kBase + "    probe: none\n  b:\n    type: hello\n    node: edge-1\n    config: {u: "
               "'${api.url}'}\n",
       "t.yaml:15: key 'services.b.config.u': service 'api' has no HTTP port"},
      {"missing config file", kBase + "    config_file: nowhere.yaml\n",
       "t.yaml:11: key 'services.api.config_file': cannot read config file"},
      {"malformed yaml", "name: [x\n", ": malformed YAML"},
      {"console upstreams not a list",
       kBase + "  c:\n    type: console\n    node: cloud-1\n    config:\n      console:\n"
               "        upstreams: {api: x}\n",
       "t.yaml:16: key 'services.c.config.console.upstreams': expected a list"},
      {"console upstream without name",
       kBase + "  c:\n    type: console\n    node: cloud-1\n    config:\n      console:\n"
               "        upstreams:\n          - {url: 'http://h:1'}\n",
       "t.yaml:17: key 'services.c.config.console.upstreams[0]': missing required key 'name'"},
      {"console upstream bad url",
       kBase + "  c:\n    type: console\n    node: cloud-1\n    config:\n      console:\n"
               "        upstreams:\n          - {name: api, url: 'ftp://h'}\n",
       "t.yaml:17: key 'services.c.config.console.upstreams[0]': url must be http(s)://"},
      {"console upstream bad tier",
       kBase + "  c:\n    type: console\n    node: cloud-1\n    config:\n      console:\n"
               "        upstreams:\n          - {name: api, tier: sky, url: 'http://h:1'}\n",
       "key 'services.c.config.console.upstreams[0].tier': unknown tier 'sky'"},
      {"console upstream unknown key",
       kBase + "  c:\n    type: console\n    node: cloud-1\n    config:\n      console:\n"
               "        upstreams:\n          - {name: api, uri: 'http://h:1'}\n",
       "key 'services.c.config.console.upstreams[0].uri': unknown key"},
      {"console upstream duplicate",
       kBase + "  c:\n    type: console\n    node: cloud-1\n    config:\n      console:\n"
               "        upstreams:\n          - {name: api, url: 'http://h:1'}\n"
               "          - {name: api, url: 'http://h:2'}\n",
       "t.yaml:18: key 'services.c.config.console.upstreams[1]': duplicate upstream 'api'"},
      {"console section not a map",
       kBase + "  c:\n    type: console\n    node: cloud-1\n    config:\n      console: 3\n",
       "t.yaml:15: key 'services.c.config.console': expected a mapping"},
  };
  for (const ErrorCase& c : cases) {
    Status s = ParseError(c.text);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.name << ": " << s.message();
    EXPECT_NE(s.message().find(c.expected), std::string::npos)
        << c.name << "\n  got:      " << s.message() << "\n  expected: " << c.expected;
  }
}

TEST(TopologyTest, RendersReferencesAndMergesConfigFile) {
  testing::TempDir dir;
  {
    std::ofstream f(dir.File("base.yaml"));
    f << "server:\n  workers: 4\n  max_queue: 8\n";
  }
  const std::string text = kBase +
                           "  b:\n    type: hello\n    node: edge-1\n"
                           "    config_file: base.yaml\n"
                           "    config:\n      server: {workers: 2}\n"
                           "      x: {url: '${api.url}', mq: '${mqtt.uri}', p: '${api.port}'}\n";
  auto t = ParseTopology(text, "t.yaml", dir.path());
  ASSERT_TRUE(t.ok()) << t.status().message();
  const Service* b = t->FindService("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->depends_on, (std::vector<std::string>{"api", "mqtt"}));
  auto out = RenderServiceConfig(
      *b, [](const std::string& target, const std::string& field) -> Result<std::string> {
        if (field == "port") return std::string("9000");
        return std::string(target == "mqtt" ? "tcp://h:1883" : "http://h:9000");
      });
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_NE(out->find("http://h:9000"), std::string::npos) << *out;
  EXPECT_NE(out->find("tcp://h:1883"), std::string::npos) << *out;
  EXPECT_EQ(out->find("${"), std::string::npos) << *out;
  EXPECT_NE(out->find("workers: 2"), std::string::npos) << *out;    // inline wins
  EXPECT_NE(out->find("max_queue: 8"), std::string::npos) << *out;  // file kept
}

TEST(TopologyTest, ResolverErrorsPropagate) {
  auto t = ParseTopology(kBase + "    config: {u: '${mqtt.uri}'}\n", "t.yaml", ".");
  ASSERT_TRUE(t.ok()) << t.status().message();
  auto out = RenderServiceConfig(*t->FindService("api"),
                                 [](const std::string&, const std::string&) -> Result<std::string> {
                                   return FailedPreconditionError("not started");
                                 });
  EXPECT_EQ(out.status().code(), StatusCode::kFailedPrecondition);
}

// kBase plus a segment on the edge, a probe-less service and a console with only a poll interval.
const std::string kConsole = kBase +
                             "  seg:\n    type: segment\n    node: edge-1\n"
                             "  worker:\n    type: hello\n    node: edge-1\n    probe: none\n"
                             "  console:\n    type: console\n    node: cloud-1\n"
                             "    config:\n      console: {poll_interval: 2s}\n";

TEST(TopologyTest, AConsoleWithoutUpstreamsListsEveryOtherHttpService) {
  auto t = ParseTopology(kConsole, "t.yaml", ".");
  ASSERT_TRUE(t.ok()) << t.status().message();
  const Service* c = t->FindService("console");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->console_auto_upstreams);
  EXPECT_EQ(c->depends_on, (std::vector<std::string>{"api", "seg"}));
  EXPECT_EQ(t->start_order.back(), "console");  // every URL is known when it starts
  auto filled = FillConsoleUpstreams(*t, *c, c->config_yaml, [](const Service& s) {
    return Result<std::string>("http://10.0.0.1:" + std::to_string(s.name.size()));
  });
  ASSERT_TRUE(filled.ok()) << filled.status().message();
  YAML::Node y = YAML::Load(*filled);
  EXPECT_EQ(y["console"]["poll_interval"].as<std::string>(), "2s");  // the rest is kept
  YAML::Node ups = y["console"]["upstreams"];
  ASSERT_TRUE(ups.IsSequence()) << *filled;
  ASSERT_EQ(ups.size(), 2u) << *filled;  // not the console itself, not the probe-less worker
  auto entry = [](const YAML::Node& n) {
    return n["name"].as<std::string>() + "|" + n["type"].as<std::string>() + "|" +
           n["tier"].as<std::string>() + "|" + n["node"].as<std::string>() + "|" +
           n["url"].as<std::string>();
  };
  EXPECT_EQ(entry(ups[0]), "api|hello|cloud|cloud-1|http://10.0.0.1:3");
  EXPECT_EQ(entry(ups[1]), "seg|segment|edge|edge-1|http://10.0.0.1:3");
  // A URL that cannot be resolved yet is an error, not a silently shorter list.
  auto early = FillConsoleUpstreams(*t, *c, c->config_yaml, [](const Service& s) {
    return Result<std::string>(FailedPreconditionError("'" + s.name + "' has not started"));
  });
  EXPECT_EQ(early.status().code(), StatusCode::kFailedPrecondition);
  // Other services' configs pass through untouched.
  const Service* api = t->FindService("api");
  auto same = FillConsoleUpstreams(*t, *api, "x: 1\n", [](const Service&) {
    return Result<std::string>(InternalError("not called"));
  });
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, "x: 1\n");
}

TEST(TopologyTest, AConsoleWithoutAnyConfigGetsAConsoleSection) {
  auto t = ParseTopology(kBase + "  console:\n    type: console\n    node: cloud-1\n", "t.yaml",
                         ".");
  ASSERT_TRUE(t.ok()) << t.status().message();
  const Service* c = t->FindService("console");
  auto filled = FillConsoleUpstreams(*t, *c, c->config_yaml, [](const Service& s) {
    return Result<std::string>("http://" + s.name + ":8080");
  });
  ASSERT_TRUE(filled.ok()) << filled.status().message();
  YAML::Node ups = YAML::Load(*filled)["console"]["upstreams"];
  ASSERT_EQ(ups.size(), 1u) << *filled;
  EXPECT_EQ(ups[0]["url"].as<std::string>(), "http://api:8080");
}

TEST(TopologyTest, AnExplicitConsoleUpstreamListIsKept) {
  auto t = ParseTopology(kBase +
                             "  seg:\n    type: segment\n    node: edge-1\n"
                             "  console:\n    type: console\n    node: cloud-1\n"
                             "    config:\n      console:\n        upstreams:\n"
                             "          - {name: api, type: hello, tier: cloud, url: '${api.url}'}\n",
                         "t.yaml", ".");
  ASSERT_TRUE(t.ok()) << t.status().message();
  const Service* c = t->FindService("console");
  EXPECT_FALSE(c->console_auto_upstreams);
  EXPECT_EQ(c->depends_on, std::vector<std::string>{"api"});  // only what it references
  auto rendered = RenderServiceConfig(*c, [](const std::string& target, const std::string&) {
    return Result<std::string>("http://h/" + target);
  });
  ASSERT_TRUE(rendered.ok());
  auto filled = FillConsoleUpstreams(*t, *c, *rendered, [](const Service&) {
    return Result<std::string>(InternalError("not called"));
  });
  ASSERT_TRUE(filled.ok()) << filled.status().message();
  EXPECT_EQ(*filled, *rendered);
  YAML::Node ups = YAML::Load(*filled)["console"]["upstreams"];
  ASSERT_EQ(ups.size(), 1u);
  EXPECT_EQ(ups[0]["url"].as<std::string>(), "http://h/api");
}

TEST(TopologyTest, ShippedExamplesRunAConsoleOnTheCloudLast) {
  for (const char* file :
       {"surveillance.yaml", "segmentation.yaml", "federation.yaml", "all.yaml"}) {
    auto t = LoadTopology(kDir + file);
    ASSERT_TRUE(t.ok()) << file << ": " << t.status().message();
    const Service* c = t->FindService("console");
    ASSERT_NE(c, nullptr) << file;
    EXPECT_EQ(c->type, "console");
    EXPECT_EQ(t->FindNode(c->node)->tier, "cloud") << file;
    EXPECT_TRUE(c->console_auto_upstreams) << file;
    size_t http = 0;
    for (const Service& s : t->services) http += s.http && s.type != "console";
    EXPECT_EQ(ConsoleUpstreams(*t, *c).size(), http) << file;
    EXPECT_GE(http, 2u) << file;
    EXPECT_EQ(t->start_order.back(), "console") << file;
  }
}

}  // namespace
}  // namespace strata::topology
