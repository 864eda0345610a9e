// `strata up` with `security: {auth: on, tls: on}` end to end: a shop's strata-segment behind an
// emulated link, mosquitto and the console, all real processes. The launcher runs `strata certs`
// into <run>/auth/tls (0600 keys), serves every service over https and the broker over mqtts:
// the services answer https with the CA (and only with it), plain http to a TLS port fails, the
// segment logs in to the broker over mqtts (it connects before serving) and the operator reads
// its availability over mqtts, plain tcp:// to the broker fails, the console reaches the segment
// over https. No private-key bytes appear in any child's argv or in the logs.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "strata/testing/fixtures.h"
#include "strata/transport/http_client.h"
#include "strata/transport/mqtt.h"
#include "topology/auth.h"
#include "topology/launcher.h"
#include "topology/run_control.h"
#include "topology/up_test_util.h"

namespace strata::topology {
namespace {

using namespace std::chrono_literals;
using namespace testutil;
using testutil::Unit;  // not the launcher's struct Unit

const std::string kTopology = R"(name: tlsseg
security: {auth: on, tls: on, token_ttl: 1h}
nodes:
  shop-1: {tier: edge}
  gateway: {tier: fog}
  cloud-1: {tier: cloud}
links:
  - {from: shop-1, to: gateway, latency: 2ms}
brokers:
  mqtt: {node: gateway}
supervision: {backoff: 100ms, max_restarts: 2}
services:
  segment-1:
    type: segment
    node: shop-1
    config:
      segment: {node: shop-1}
      mqtt: {uri: "${mqtt.uri}"}
  console:
    type: console
    node: cloud-1
    config:
      console: {poll_interval: 1s}
)";

// The status of GET path, or -1 when the request failed (connect, handshake, verification).
int Get(const std::string& base, const std::string& path, const std::string& ca_file,
        const std::string& token_file) {
  return GetStatus({.base_url = base,
                    .connect_timeout = 2000ms,
                    .read_timeout = 3000ms,
                    .token_file = token_file,
                    .ca_file = ca_file},
                   path, false);
}

// The base64 body lines of a PEM private key (each 64 characters of key material).
std::vector<std::string> KeyLines(const std::string& path) {
  std::vector<std::string> out;
  std::istringstream in(Slurp(path));
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '-' && line.size() >= 40) out.push_back(line);
  return out;
}

TEST(UpTls, SegmentAndConsoleRunOverHttpsAndMqtts) {
  if (auto b = NotBuilt({"strata-segment", "strata-console"}); !b.empty())
    GTEST_SKIP() << b << " not built";
  testing::TempDir dir;
  ::chmod(dir.path().c_str(), 0711);  // mosquitto (as root: its own user) reads its files below
  const std::string run = dir.File("run");
  std::ofstream(dir.File("t.yaml")) << kTopology;
  auto up = testing::Subprocess::Start({kStrata, "up", dir.File("t.yaml"), "--run-dir", run, "-q"});
  ASSERT_TRUE(up.ok()) << up.status().message();
  nlohmann::json st = WaitForPhase(run, 600);  // bounded: 30 s
  ASSERT_EQ(st.value("phase", ""), "running") << (*up)->Stderr() << st.dump(2);
  EXPECT_EQ(st["tls"], true);
  const std::string auth = std::filesystem::absolute(run + "/auth").string();
  const std::string tls = auth + "/tls", ca = tls + "/ca.pem";
  EXPECT_EQ(st["ca_file"], ca);

  // Files: 0700 dir, 0600 keys; the broker's copies beside its config.
  EXPECT_EQ(Mode(tls), 0700);
  for (const char* f : {"ca.key", "segment-1.key", "console.key", "mqtt.key"})
    EXPECT_EQ(Mode(tls + "/" + f), 0600) << f;
  const std::string mqtt_tls = std::filesystem::absolute(run + "/config/mqtt-tls").string();
  EXPECT_EQ(Mode(mqtt_tls + "/server.key"), 0600);
  const std::string mosquitto_conf = Slurp(run + "/config/mqtt.conf");
  EXPECT_NE(mosquitto_conf.find("cafile " + mqtt_tls + "/ca.pem\ncertfile " + mqtt_tls +
                                "/server.pem\nkeyfile " + mqtt_tls + "/server.key\n"),
            std::string::npos)
      << mosquitto_conf;

  // Generated configs: server.tls, ca_file beside the credentials, https/mqtts urls.
  YAML::Node seg_conf = YAML::LoadFile(Unit(st, "segment-1")["config"].get<std::string>());
  YAML::Node con_conf = YAML::LoadFile(Unit(st, "console")["config"].get<std::string>());
  EXPECT_EQ(seg_conf["server"]["tls"]["cert_file"].as<std::string>(), tls + "/segment-1.pem");
  EXPECT_EQ(seg_conf["server"]["tls"]["key_file"].as<std::string>(), tls + "/segment-1.key");
  EXPECT_EQ(seg_conf["mqtt"]["ca_file"].as<std::string>(), ca);
  EXPECT_EQ(seg_conf["mqtt"]["uri"].as<std::string>().rfind("mqtts://127.0.0.1:", 0), 0u);
  EXPECT_EQ(con_conf["console"]["upstream_ca_file"].as<std::string>(), ca);
  ASSERT_EQ(con_conf["console"]["upstreams"].size(), 1u);
  EXPECT_EQ(con_conf["console"]["upstreams"][0]["url"].as<std::string>().rfind("https://", 0), 0u);
  EXPECT_EQ(Unit(st, "segment-1")["url"].get<std::string>().rfind("https://", 0), 0u);

  // HTTPS with the CA; not without it (system store), not in plain http.
  const std::string seg = "127.0.0.1:" + std::to_string(Unit(st, "segment-1")["port"].get<int>());
  const std::string con = "127.0.0.1:" + std::to_string(Unit(st, "console")["port"].get<int>());
  EXPECT_EQ(Get("https://" + seg, "/api/v1/segments", ca, auth + "/console.token"), 200);
  EXPECT_EQ(Get("https://" + seg, "/api/v1/segments", ca, ""), 401);  // TLS does not replace auth
  EXPECT_EQ(Get("https://" + seg, "/api/v1/segments", "", auth + "/console.token"), -1);
  EXPECT_EQ(Get("http://" + seg, "/api/v1/segments", "", auth + "/console.token"), -1);
  EXPECT_EQ(Get("http://" + con, "/readyz", "", ""), -1);
  // The console proxies to the segment over https, verified with its upstream_ca_file.
  EXPECT_EQ(Get("https://" + con, "/api/v1/svc/segment-1/segments", ca, auth + "/operator.token"),
            200);

  // MQTT over TLS: the segment logged in and published its availability; the operator reads it.
  const std::string pw = SlurpLine(std::filesystem::absolute(run + "/config/mqtt-auth").string() +
                                   "/operator.password");
  const std::string broker = "127.0.0.1:" + std::to_string(Unit(st, "mqtt")["port"].get<int>());
  EXPECT_EQ(Unit(st, "mqtt")["url"], "mqtts://" + broker);
  Inbox inbox;
  auto reader = mqtt::MqttClient::Create({.uri = "mqtts://" + broker,
                                          .client_id = "tls-operator",
                                          .username = "operator",
                                          .password = pw,
                                          .ca_file = ca,
                                          .reconnect_max_s = 1,
                                          .op_timeout = 2000ms});
  ASSERT_TRUE(reader.ok()) << reader.status();
  ASSERT_TRUE((*reader)->Subscribe("strata/node/+/availability", 1, inbox.Handler()).ok());
  ASSERT_TRUE((*reader)->Connect(5000ms).ok());
  inbox.WaitFor(1, 500);  // bounded: 5 s
  EXPECT_EQ(inbox.Get("strata/node/shop-1/availability"), "online");
  (*reader)->Disconnect();
  auto plain = mqtt::MqttClient::Create({.uri = "tcp://" + broker,
                                         .client_id = "tls-plain",
                                         .username = "operator",
                                         .password = pw,
                                         .reconnect_max_s = 1,
                                         .op_timeout = 2000ms});
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE((*plain)->Connect(1500ms).ok());

  // No private-key material in any child's argv, the logs or our stderr.
  std::vector<std::string> secrets;
  for (const char* f : {"ca.key", "segment-1.key", "console.key", "mqtt.key"})
    for (const std::string& l : KeyLines(tls + "/" + f)) secrets.push_back(l);
  EXPECT_GE(secrets.size(), 4u);
  const std::string all = (*up)->Stderr() + ChildArgvAndLogs(st);
  for (const std::string& s : secrets) EXPECT_EQ(all.find(s), std::string::npos);

  ASSERT_NO_FATAL_FAILURE(DownAndWait(kStrata, run, **up, 20s));

  // A second run in the same dir reuses the CA and the certificates.
  const std::string ca_before = Slurp(ca), seg_before = Slurp(tls + "/segment-1.pem");
  std::filesystem::remove(StateFilePath(run));
  auto again =
      testing::Subprocess::Start({kStrata, "up", dir.File("t.yaml"), "--run-dir", run, "-q"});
  ASSERT_TRUE(again.ok());
  st = WaitForPhase(run, 600);  // bounded: 30 s
  EXPECT_EQ(st.value("phase", ""), "running") << (*again)->Stderr();
  EXPECT_EQ(Slurp(ca), ca_before);
  EXPECT_EQ(Slurp(tls + "/segment-1.pem"), seg_before);
  auto down2 = testing::Run({kStrata, "down", "--run-dir", run});
  ASSERT_TRUE(down2.ok());
  EXPECT_EQ(down2->exit_code, 0) << down2->err;
  auto code2 = (*again)->Wait(20s);
  ASSERT_TRUE(code2.ok());
}

// WriteTlsMaterial alone: `strata certs` output per unit (0600 keys, SAN with a non-loopback
// --host), broker copies, reuse on a second call, and a unit named "ca" refused.
TEST(UpTls, WriteTlsMaterialRunsStrataCertsOnceAndReusesIt) {
  testing::TempDir dir;
  auto t = ParseTopology(R"(name: m
security: {tls: on}
nodes: {a: {tier: fog}}
brokers: {bus: {node: a}}
services:
  web: {type: hello, node: a, args: ["--host", "10.1.2.3"]}
)",
                         "m.yaml", ".");
  ASSERT_TRUE(t.ok()) << t.status().message();
  auto broker_dir = [&](const std::string& b) { return dir.File("config/" + b + "-tls"); };
  auto m = WriteTlsMaterial(*t, dir.File("auth/tls"), kStrata, broker_dir);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->ca_file, dir.File("auth/tls/ca.pem"));
  ASSERT_EQ(m->certs.size(), 2u);
  EXPECT_EQ(m->certs["web"].first, dir.File("auth/tls/web.pem"));
  EXPECT_EQ(Mode(dir.File("auth/tls")), 0700);
  for (const char* f : {"ca.key", "web.key", "bus.key"})
    EXPECT_EQ(Mode(dir.File(std::string("auth/tls/") + f)), 0600) << f;
  EXPECT_EQ(Mode(broker_dir("bus")), 0700);
  EXPECT_EQ(Mode(broker_dir("bus") + "/server.key"), 0600);
  EXPECT_EQ(Slurp(broker_dir("bus") + "/server.pem"), Slurp(dir.File("auth/tls/bus.pem")));
  auto text = testing::Run({"/usr/bin/openssl", "x509", "-noout", "-ext", "subjectAltName", "-in",
                            m->certs["web"].first});
  if (text.ok() && text->exit_code == 0) {
    EXPECT_NE(text->out.find("IP Address:10.1.2.3"), std::string::npos) << text->out;
    EXPECT_NE(text->out.find("IP Address:127.0.0.1"), std::string::npos) << text->out;
  }
  const std::string ca = Slurp(m->ca_file), web = Slurp(m->certs["web"].first);
  auto again = WriteTlsMaterial(*t, dir.File("auth/tls"), kStrata, broker_dir);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(Slurp(m->ca_file), ca);
  EXPECT_EQ(Slurp(m->certs["web"].first), web);

  auto named_ca = ParseTopology(
      "name: c\nnodes: {a: {tier: fog}}\nservices: {ca: {type: hello, node: a}}\n", "c.yaml", ".");
  ASSERT_TRUE(named_ca.ok());
  auto refused = WriteTlsMaterial(*named_ca, dir.File("other"), kStrata, broker_dir);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("a unit named 'ca'"), std::string::npos);
}

}  // namespace
}  // namespace strata::topology
