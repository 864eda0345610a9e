// `strata up` with `security: {auth: on}` end to end: real strata-hello services and a real
// mosquitto. The launcher issues a key, per-service tokens and MQTT passwords (0600 in a 0700
// dir), injects server.auth / token_file / username + password_file into the generated configs,
// and the services then enforce it: no token → 401, a caller not in the allow list → 403, the
// referencing service's and the operator's tokens → 200; the broker refuses anonymous clients.
// No token appears in any child's argv or in the logs.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "strata/testing/fixtures.h"
#include "strata/transport/http_client.h"
#include "strata/transport/mqtt.h"
#include "topology/run_control.h"
#include "topology/up_test_util.h"

namespace strata::topology {
namespace {

using namespace std::chrono_literals;
using namespace testutil;
using testutil::Unit;  // not the launcher's struct Unit

const std::string kSecured = R"(name: secured
security: {auth: on, token_ttl: 1h}
nodes:
  edge-1: {tier: edge}
  cloud-1: {tier: cloud}
brokers:
  bus: {node: cloud-1}
supervision: {backoff: 100ms, max_restarts: 2}
services:
  a: {type: hello, node: cloud-1}
  b:
    type: hello
    node: edge-1
    config:
      uplink: {url: "${a.url}"}
      events: {uri: "${bus.uri}"}
  c: {type: hello, node: cloud-1}
)";

// The status of GET `path` on 127.0.0.1:port with that token file ("" = none); the request must
// be answered.
int GetStatus(int port, const std::string& token_file, std::string* content_type = nullptr,
              const std::string& path = "/api/v1/hello?name=auth") {
  return testutil::GetStatus(
      {.base_url = "http://127.0.0.1:" + std::to_string(port), .token_file = token_file}, path,
      true, content_type);
}

TEST(UpAuth, IssuesCredentialsInjectsThemAndServicesEnforceThem) {
  testing::TempDir dir;
  // As root, mosquitto reads its password file after dropping to its own user: let it through.
  ::chmod(dir.path().c_str(), 0711);
  const std::string run = dir.File("run");
  std::ofstream(dir.File("t.yaml")) << kSecured;
  auto up = testing::Subprocess::Start({kStrata, "up", dir.File("t.yaml"), "--run-dir", run, "-q"});
  ASSERT_TRUE(up.ok()) << up.status().message();
  nlohmann::json st = WaitForPhase(run, 600);  // bounded: 30 s
  ASSERT_EQ(st.value("phase", ""), "running") << (*up)->Stderr() << st.dump(2);
  EXPECT_EQ(st["auth"], true);
  const std::string auth = std::filesystem::absolute(run + "/auth").string();
  EXPECT_EQ(st["operator_token_file"], auth + "/operator.token");

  // Files: 0700 dir, 0600 key and tokens, MQTT passwords beside the broker's passwd/acl.
  EXPECT_EQ(Mode(auth), 0700);
  for (const char* f : {"signing.key", "a.token", "b.token", "c.token", "operator.token"})
    EXPECT_EQ(Mode(auth + "/" + f), 0600) << f;
  const std::string bus_auth = std::filesystem::absolute(run + "/config/bus-auth").string();
  EXPECT_EQ(Mode(bus_auth + "/b.password"), 0600);

  // Generated configs.
  YAML::Node a_conf = YAML::LoadFile(Unit(st, "a")["config"].get<std::string>());
  YAML::Node b_conf = YAML::LoadFile(Unit(st, "b")["config"].get<std::string>());
  EXPECT_TRUE(a_conf["server"]["auth"]["enabled"].as<bool>());
  EXPECT_EQ(a_conf["server"]["auth"]["key_file"].as<std::string>(), auth + "/signing.key");
  ASSERT_EQ(a_conf["server"]["auth"]["allow"].size(), 2u);
  EXPECT_EQ(a_conf["server"]["auth"]["allow"][0].as<std::string>(), "b");
  EXPECT_EQ(a_conf["server"]["auth"]["allow"][1].as<std::string>(), "operator");
  EXPECT_EQ(b_conf["uplink"]["token_file"].as<std::string>(), auth + "/b.token");
  EXPECT_EQ(b_conf["events"]["username"].as<std::string>(), "b");
  EXPECT_EQ(b_conf["events"]["password_file"].as<std::string>(), bus_auth + "/b.password");
  const std::string mosquitto_conf = Slurp(run + "/config/bus.conf");
  EXPECT_NE(mosquitto_conf.find("allow_anonymous false\npassword_file " + bus_auth + "/passwd"),
            std::string::npos)
      << mosquitto_conf;

  // The services enforce it.
  const int a = Unit(st, "a")["port"], c = Unit(st, "c")["port"];
  std::string type;
  EXPECT_EQ(GetStatus(a, "", &type), 401);
  EXPECT_EQ(type, "application/problem+json");
  EXPECT_EQ(GetStatus(a, auth + "/b.token"), 200);         // b references a
  EXPECT_EQ(GetStatus(c, auth + "/b.token"), 403);         // nobody references c
  EXPECT_EQ(GetStatus(c, auth + "/operator.token"), 200);  // the operator may call anything
  EXPECT_EQ(GetStatus(a, auth + "/c.token"), 403);

  // The broker: anonymous refused, b's generated credentials accepted.
  const std::string uri = "tcp://127.0.0.1:" + std::to_string(Unit(st, "bus")["port"].get<int>());
  auto client = [&](const std::string& user, const std::string& pw, const std::string& id) {
    auto m = mqtt::MqttClient::Create({.uri = uri,
                                       .client_id = id,
                                       .username = user,
                                       .password = pw,
                                       .reconnect_max_s = 1,
                                       .op_timeout = 2000ms});
    EXPECT_TRUE(m.ok()) << m.status();
    return std::move(m).value();
  };
  EXPECT_FALSE(client("", "", "auth-anon")->Connect(1500ms).ok());
  const std::string b_pw = SlurpLine(bus_auth + "/b.password");
  EXPECT_TRUE(client("b", b_pw, "auth-b")->Connect(5000ms).ok());

  // No secret in any child's argv or in the logs.
  std::vector<std::string> secrets = {b_pw};
  for (const char* f : {"a.token", "b.token", "c.token", "operator.token"}) {
    std::string tok = Slurp(auth + "/" + f);
    tok.pop_back();
    secrets.push_back(tok);
  }
  const std::string seen = (*up)->Stderr() + ChildArgvAndLogs(st);
  for (const std::string& s : secrets) EXPECT_EQ(seen.find(s), std::string::npos);

  ASSERT_NO_FATAL_FAILURE(DownAndWait(kStrata, run, **up, 15s));
}

// configs/topologies/segmentation.yaml (security: {auth: on}) with the real services: each
// strata-segment logs in to mosquitto with its generated password (a wrong one would make it exit:
// it connects before serving) and publishes its availability, which the operator's read-only
// login receives; segment rejects an unauthenticated request (401) and answers the console,
// which proxies with its own token file for the operator.
TEST(UpAuth, SegmentationExampleRunsAuthenticatedEndToEnd) {
  if (auto b = NotBuilt({"strata-segment", "strata-console"}); !b.empty())
    GTEST_SKIP() << b << " not built";
  testing::TempDir dir;
  ::chmod(dir.path().c_str(), 0711);  // mosquitto (as root: its own user) reads its passwd below
  const std::string run = dir.File("run");
  auto up = testing::Subprocess::Start(
      {kStrata, "up", std::string(STRATA_SOURCE_DIR) + "/configs/topologies/segmentation.yaml",
       "--run-dir", run, "-q"});
  ASSERT_TRUE(up.ok()) << up.status().message();
  nlohmann::json st = WaitForPhase(run, 900);  // bounded: 45 s
  ASSERT_EQ(st.value("phase", ""), "running") << (*up)->Stderr() << st.dump(2);
  ASSERT_EQ(st["auth"], true);
  const std::string auth = std::filesystem::absolute(run + "/auth").string();
  const int seg = Unit(st, "segment-1")["port"], console = Unit(st, "console")["port"];

  std::string type;
  EXPECT_EQ(GetStatus(seg, "", &type), 401);
  EXPECT_EQ(type, "application/problem+json");
  auto get = [](int port, const std::string& path, const std::string& token_file) {
    return GetStatus(port, token_file, nullptr, path);
  };
  EXPECT_EQ(get(seg, "/api/v1/segments", ""), 401);
  EXPECT_EQ(get(seg, "/api/v1/segments", auth + "/segment-2.token"), 403);  // a peer, not a caller
  EXPECT_EQ(get(seg, "/api/v1/segments", auth + "/console.token"), 200);
  EXPECT_EQ(get(console, "/api/v1/svc/segment-1/segments", ""), 401);
  EXPECT_EQ(get(console, "/api/v1/svc/segment-1/segments", auth + "/operator.token"), 200);

  // MQTT: segments logged in and published their retained availability; the operator reads it.
  const std::string mqtt_auth = std::filesystem::absolute(run + "/config/mqtt-auth").string();
  const std::string pw = SlurpLine(mqtt_auth + "/operator.password");
  const std::string uri = "tcp://127.0.0.1:" + std::to_string(Unit(st, "mqtt")["port"].get<int>());
  Inbox inbox;
  auto reader = mqtt::MqttClient::Create({.uri = uri,
                                          .client_id = "auth-operator",
                                          .username = "operator",
                                          .password = pw,
                                          .reconnect_max_s = 1,
                                          .op_timeout = 2000ms});
  ASSERT_TRUE(reader.ok()) << reader.status();
  ASSERT_TRUE((*reader)->Subscribe("strata/node/+/availability", 1, inbox.Handler()).ok());
  ASSERT_TRUE((*reader)->Connect(5000ms).ok());
  inbox.WaitFor(2, 500);  // bounded: 5 s
  EXPECT_EQ(inbox.Get("strata/node/shop-1/availability"), "online");
  EXPECT_EQ(inbox.Get("strata/node/shop-2/availability"), "online");
  auto anon =
      mqtt::MqttClient::Create({.uri = uri, .client_id = "auth-anon2", .op_timeout = 2000ms});
  ASSERT_TRUE(anon.ok());
  EXPECT_FALSE((*anon)->Connect(1500ms).ok());
  (*reader)->Disconnect();

  ASSERT_NO_FATAL_FAILURE(DownAndWait(kStrata, run, **up, 20s));
}

}  // namespace
}  // namespace strata::topology
