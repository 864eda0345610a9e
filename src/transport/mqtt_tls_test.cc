// MQTT over TLS with password auth against a real mosquitto: a second listener with a self-signed
// certificate and a password_file. Credentials come from a config section (ParseMqttAuth). The
// right ca_file + password round-trips a QoS 1 message; a wrong password is Unauthenticated; a CA
// that does not verify the broker fails with the TLS error in the message.
#include <gtest/gtest.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <fstream>
#include <mutex>

#include "strata/testing/fixtures.h"
#include "strata/transport/client_config.h"
#include "strata/transport/mqtt.h"

namespace strata::mqtt {
namespace {

const std::string kPassword = "broker-pw-never-printed";

struct TlsBroker {
  testing::TempDir dir, other_ca_dir;
  testing::TlsFiles tls, other;
  std::unique_ptr<testing::MosquittoBroker> broker;
  int tls_port = 0;

  // Returns a skip reason ("" when up).
  std::string Start() {
    auto t = testing::MakeSelfSignedCert(dir.path());
    auto o = testing::MakeSelfSignedCert(other_ca_dir.path());
    if (!t.ok() || !o.ok()) return "openssl unavailable";
    tls = *t;
    other = *o;
    auto pw = testing::Run({"/usr/bin/mosquitto_passwd", "-b", "-c", dir.File("passwd"), "fog-1",
                            kPassword});
    if (!pw.ok() || pw->exit_code != 0) return "mosquitto_passwd unavailable";
    auto port = testing::FreeLoopbackPort();
    if (!port.ok()) return "no free port";
    tls_port = *port;
    testing::BrokerOptions opts;
    // allow_anonymous/password_file are global in mosquitto 2 (no per_listener_settings): the
    // later allow_anonymous false wins, so every client must log in.
    // As root, mosquitto drops to user 'mosquitto', which cannot read this private temp dir.
    opts.extra_config = std::string(geteuid() == 0 ? "user root\n" : "") +
                        "allow_anonymous false\npassword_file " + dir.File("passwd") +
                        "\nlistener " + std::to_string(tls_port) + " 127.0.0.1\ncertfile " +
                        tls.cert_file + "\nkeyfile " + tls.key_file + "\n";
    auto b = testing::MosquittoBroker::Start(opts);
    if (!b.ok()) return b.status().ToString();
    broker = std::move(b).value();
    if (!testing::WaitForPort(tls_port, std::chrono::seconds(5)).ok()) return "TLS listener down";
    return "";
  }
  std::string Url(const std::string& scheme) const {
    return scheme + "://127.0.0.1:" + std::to_string(tls_port);
  }
};

Result<Config> FromYaml(const std::string& yaml, Config base) {
  STRATA_ASSIGN_OR_RETURN(ConfigNode root, ConfigNode::Parse(yaml, "mqtt.yaml"));
  STRATA_ASSIGN_OR_RETURN(ConfigNode mq, root.Child("mqtt"));
  STRATA_RETURN_IF_ERROR(ParseMqttAuth(mq, &base));
  return base;
}

TEST(MqttTlsTest, RightCaAndPasswordRoundTripQos1) {
  TlsBroker b;
  if (std::string why = b.Start(); !why.empty()) GTEST_SKIP() << why;
  std::ofstream(b.dir.File("pw.txt")) << kPassword << "\n";
  auto cfg = FromYaml("mqtt:\n  username: fog-1\n  password_file: " + b.dir.File("pw.txt") +
                          "\n  ca_file: " + b.tls.cert_file + "\n",
                      {.uri = b.Url("mqtts"), .client_id = "tls-sub"});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  auto client = MqttClient::Create(*cfg);
  ASSERT_TRUE(client.ok()) << client.status();
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Message> got;
  Status c = (*client)->Connect(std::chrono::seconds(5));
  ASSERT_TRUE(c.ok()) << c;
  Status sub = (*client)->Subscribe("strata/tls/#", 1, [&](const Message& m) {
    std::lock_guard lock(mu);
    got.push_back(m);
    cv.notify_all();
  });
  ASSERT_TRUE(sub.ok()) << sub;
  Status p = (*client)->Publish("strata/tls/alert", "hello-tls", 1, false);
  ASSERT_TRUE(p.ok()) << p;
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return !got.empty(); }));
  EXPECT_EQ(got[0].topic, "strata/tls/alert");
  EXPECT_EQ(got[0].payload, "hello-tls");
  EXPECT_EQ(got[0].qos, 1);
}

TEST(MqttTlsTest, WrongPasswordIsUnauthenticated) {
  TlsBroker b;
  if (std::string why = b.Start(); !why.empty()) GTEST_SKIP() << why;
  setenv("STRATA_TEST_WRONG_PW", "not-the-password", 1);
  auto cfg = FromYaml("mqtt:\n  username: fog-1\n  password_env: STRATA_TEST_WRONG_PW\n"
                      "  ca_file: " + b.tls.cert_file + "\n",
                      {.uri = b.Url("ssl"), .client_id = "tls-wrong-pw"});
  unsetenv("STRATA_TEST_WRONG_PW");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  auto client = MqttClient::Create(*cfg);
  ASSERT_TRUE(client.ok());
  Status s = (*client)->Connect(std::chrono::seconds(3));
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << s;
  EXPECT_NE(s.message().find("refused the credentials"), std::string::npos) << s;
  EXPECT_EQ(s.message().find("not-the-password"), std::string::npos);
  EXPECT_FALSE((*client)->IsConnected());
}

TEST(MqttTlsTest, CaThatDoesNotVerifyTheBrokerFails) {
  TlsBroker b;
  if (std::string why = b.Start(); !why.empty()) GTEST_SKIP() << why;
  auto client = MqttClient::Create({.uri = b.Url("ssl"),
                                    .client_id = "tls-wrong-ca",
                                    .username = "fog-1",
                                    .password = kPassword,
                                    .ca_file = b.other.cert_file,
                                    .op_timeout = std::chrono::milliseconds(1000)});
  ASSERT_TRUE(client.ok());
  Status s = (*client)->Connect(std::chrono::milliseconds(1500));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s;
  EXPECT_NE(s.message().find("TLS"), std::string::npos) << s;
  EXPECT_NE(s.message().find("certificate verify failed"), std::string::npos) << s;
  std::cout << "wrong CA: " << s << "\n";
  EXPECT_FALSE((*client)->IsConnected());
  // Plain TCP against the TLS listener does not get in either.
  auto plain = MqttClient::Create({.uri = "tcp://127.0.0.1:" + std::to_string(b.tls_port),
                                   .client_id = "tls-plain",
                                   .username = "fog-1",
                                   .password = kPassword,
                                   .op_timeout = std::chrono::milliseconds(1000)});
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE((*plain)->Connect(std::chrono::milliseconds(1000)).ok());
}

}  // namespace
}  // namespace strata::mqtt
