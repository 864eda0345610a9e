// `strata up` with `security: {auth: on}` end to end: real strata-hello services and a real
// mosquitto. The launcher issues a key, per-service tokens and MQTT passwords (0600 in a 0700
// dir), injects server.auth / token_file / username + password_file into the generated configs,
// and the services then enforce it: no token → 401, a caller not in the allow list → 403, the
// referencing service's and the operator's tokens → 200; the broker refuses anonymous clients.
// No token appears in any child's argv or in the logs.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "strata/testing/fixtures.h"
#include "strata/transport/http_client.h"
#include "strata/transport/mqtt.h"
#include "topology/run_control.h"

namespace strata::topology {
namespace {

using namespace std::chrono_literals;
const std::string kStrata = std::string(STRATA_BINARY_DIR) + "/bin/strata";

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

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int Mode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return static_cast<int>(st.st_mode & 0777);
}

const nlohmann::json& Unit(const nlohmann::json& st, const std::string& name) {
  for (const auto& u : st["units"])
    if (u["name"] == name) return u;
  static const nlohmann::json kNone = nlohmann::json::object();
  return kNone;
}

int GetStatus(int port, const std::string& token_file, std::string* content_type = nullptr) {
  auto client = http::HttpClient::Create({.base_url = "http://127.0.0.1:" + std::to_string(port),
                                          .max_retries = 0,
                                          .token_file = token_file});
  EXPECT_TRUE(client.ok()) << client.status().message();
  if (!client.ok()) return -1;
  auto r = (*client)->Get("/api/v1/hello?name=auth");
  EXPECT_TRUE(r.ok()) << r.status().message();
  if (content_type && r.ok()) *content_type = r->Header("content-type");
  return r.ok() ? r->status : -1;
}

TEST(UpAuth, IssuesCredentialsInjectsThemAndServicesEnforceThem) {
  testing::TempDir dir;
  // As root, mosquitto reads its password file after dropping to its own user: let it through.
  ::chmod(dir.path().c_str(), 0711);
  const std::string run = dir.File("run");
  std::ofstream(dir.File("t.yaml")) << kSecured;
  auto up = testing::Subprocess::Start({kStrata, "up", dir.File("t.yaml"), "--run-dir", run, "-q"});
  ASSERT_TRUE(up.ok()) << up.status().message();
  nlohmann::json st = nlohmann::json::object();
  for (int i = 0; i < 600; ++i) {  // bounded: 30 s
    auto s = ReadState(run);
    if (s.ok() && s->is_object()) st = *s;
    if (st.value("phase", "") == "running" || st.value("phase", "") == "failed") break;
    std::this_thread::sleep_for(50ms);
  }
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
  std::string b_pw = Slurp(bus_auth + "/b.password");
  while (!b_pw.empty() && b_pw.back() == '\n') b_pw.pop_back();
  EXPECT_TRUE(client("b", b_pw, "auth-b")->Connect(5000ms).ok());

  // No secret in any child's argv or in the logs.
  std::vector<std::string> secrets = {b_pw};
  for (const char* f : {"a.token", "b.token", "c.token", "operator.token"}) {
    std::string tok = Slurp(auth + "/" + f);
    tok.pop_back();
    secrets.push_back(tok);
  }
  std::string seen = (*up)->Stderr();
  for (const auto& u : st["units"]) {
    std::string cmdline = Slurp("/proc/" + std::to_string(u["pid"].get<int>()) + "/cmdline");
    EXPECT_FALSE(cmdline.empty()) << u["name"];
    seen += cmdline + Slurp(u["log"].get<std::string>());
  }
  for (const std::string& s : secrets) EXPECT_EQ(seen.find(s), std::string::npos);

  auto down = testing::Run({kStrata, "down", "--run-dir", run});
  ASSERT_TRUE(down.ok());
  EXPECT_EQ(down->exit_code, 0) << down->err;
  auto code = (*up)->Wait(15s);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0);
}

// configs/topologies/segmentation.yaml (security: {auth: on}) with the real services: each
// strata-segment logs in to mosquitto with its generated password (a wrong one would make it exit:
// it connects before serving) and publishes its availability, which the operator's read-only
// login receives; segment rejects an unauthenticated request (401) and answers the console,
// which proxies with its own token file for the operator.
TEST(UpAuth, SegmentationExampleRunsAuthenticatedEndToEnd) {
  const std::string bin = std::string(STRATA_BINARY_DIR) + "/bin/";
  for (const char* b : {"strata-segment", "strata-console"})
    if (::access((bin + b).c_str(), X_OK) != 0) GTEST_SKIP() << b << " not built";
  testing::TempDir dir;
  ::chmod(dir.path().c_str(), 0711);  // mosquitto (as root: its own user) reads its passwd below
  const std::string run = dir.File("run");
  auto up = testing::Subprocess::Start(
      {kStrata, "up", std::string(STRATA_SOURCE_DIR) + "/configs/topologies/segmentation.yaml",
       "--run-dir", run, "-q"});
  ASSERT_TRUE(up.ok()) << up.status().message();
  nlohmann::json st = nlohmann::json::object();
  for (int i = 0; i < 900; ++i) {  // bounded: 45 s
    auto s = ReadState(run);
    if (s.ok() && s->is_object()) st = *s;
    if (st.value("phase", "") == "running" || st.value("phase", "") == "failed") break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(st.value("phase", ""), "running") << (*up)->Stderr() << st.dump(2);
  ASSERT_EQ(st["auth"], true);
  const std::string auth = std::filesystem::absolute(run + "/auth").string();
  const int seg = Unit(st, "segment-1")["port"], console = Unit(st, "console")["port"];

  std::string type;
  EXPECT_EQ(GetStatus(seg, "", &type), 401);
  EXPECT_EQ(type, "application/problem+json");
  auto get = [](int port, const std::string& path, const std::string& token_file) {
    auto c = http::HttpClient::Create({.base_url = "http://127.0.0.1:" + std::to_string(port),
                                       .max_retries = 0,
                                       .token_file = token_file});
    EXPECT_TRUE(c.ok());
    auto r = (*c)->Get(path);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->status : -1;
  };
  EXPECT_EQ(get(seg, "/api/v1/segments", ""), 401);
  EXPECT_EQ(get(seg, "/api/v1/segments", auth + "/segment-2.token"), 403);  // a peer, not a caller
  EXPECT_EQ(get(seg, "/api/v1/segments", auth + "/console.token"), 200);
  EXPECT_EQ(get(console, "/api/v1/svc/segment-1/segments", ""), 401);
  EXPECT_EQ(get(console, "/api/v1/svc/segment-1/segments", auth + "/operator.token"), 200);

  // MQTT: segments logged in and published their retained availability; the operator reads it.
  const std::string mqtt_auth = std::filesystem::absolute(run + "/config/mqtt-auth").string();
  std::string pw = Slurp(mqtt_auth + "/operator.password");
  while (!pw.empty() && pw.back() == '\n') pw.pop_back();
  const std::string uri = "tcp://127.0.0.1:" + std::to_string(Unit(st, "mqtt")["port"].get<int>());
  std::mutex mu;
  std::map<std::string, std::string> seen;
  auto reader = mqtt::MqttClient::Create({.uri = uri,
                                          .client_id = "auth-operator",
                                          .username = "operator",
                                          .password = pw,
                                          .reconnect_max_s = 1,
                                          .op_timeout = 2000ms});
  ASSERT_TRUE(reader.ok()) << reader.status();
  ASSERT_TRUE((*reader)
                  ->Subscribe("strata/node/+/availability", 1,
                              [&](const mqtt::Message& m) {
                                std::lock_guard lock(mu);
                                seen[m.topic] = m.payload;
                              })
                  .ok());
  ASSERT_TRUE((*reader)->Connect(5000ms).ok());
  for (int i = 0; i < 500; ++i) {  // bounded: 5 s
    {
      std::lock_guard lock(mu);
      if (seen.size() >= 2) break;
    }
    std::this_thread::sleep_for(10ms);
  }
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(seen["strata/node/shop-1/availability"], "online");
    EXPECT_EQ(seen["strata/node/shop-2/availability"], "online");
  }
  auto anon =
      mqtt::MqttClient::Create({.uri = uri, .client_id = "auth-anon2", .op_timeout = 2000ms});
  ASSERT_TRUE(anon.ok());
  EXPECT_FALSE((*anon)->Connect(1500ms).ok());
  (*reader)->Disconnect();

  auto down = testing::Run({kStrata, "down", "--run-dir", run});
  ASSERT_TRUE(down.ok());
  EXPECT_EQ(down->exit_code, 0) << down->err;
  auto code = (*up)->Wait(20s);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0);
}

}  // namespace
}  // namespace strata::topology
