// Client credentials for outbound links (client_config.h): parsing (good values, missing files,
// unset env vars, errors that never contain the secret) and a real HTTP(S) server that requires
// signed st1 tokens: the configured token_file passes, no token gets 401; ca_file verifies https.
#include "strata/transport/client_config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "strata/testing/fixtures.h"
#include "strata/transport/http.h"
#include "transport/service_token.h"

namespace strata {
namespace {

const std::string kSecret = "s3cr3t-VALUE-do-not-print";
const std::string kHex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

ConfigNode Node(const std::string& yaml) {
  auto root = ConfigNode::Parse(yaml, "test.yaml");
  EXPECT_TRUE(root.ok()) << root.status();
  return *root->Child("link");
}

TEST(ParseHttpClientAuth, ReadsTokenFileAndCaFile) {
  testing::TempDir dir;
  Write(dir.File("token"), kSecret + "\n");
  Write(dir.File("ca.pem"), "-----BEGIN CERTIFICATE-----\n");
  http::ClientConfig c{.base_url = "http://x"};
  Status s = ParseHttpClientAuth(Node("link:\n  url: http://x\n  token_file: " + dir.File("token") +
                                      "\n  ca_file: " + dir.File("ca.pem") + "\n"),
                                 &c);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(c.token_file, dir.File("token"));
  EXPECT_EQ(c.ca_file, dir.File("ca.pem"));
  EXPECT_EQ(c.base_url, "http://x");  // untouched
  EXPECT_TRUE(c.token.empty());
}

TEST(ParseHttpClientAuth, AbsentKeysChangeNothing) {
  http::ClientConfig c{.token = "keep"};
  ASSERT_TRUE(ParseHttpClientAuth(Node("link:\n  url: http://x\n"), &c).ok());
  ASSERT_TRUE(ParseHttpClientAuth(Node("other: 1\n"), &c).ok());  // no section at all
  EXPECT_EQ(c.token, "keep");
  EXPECT_TRUE(c.token_file.empty());
}

TEST(ParseHttpClientAuth, TokenEnvReadsTheVariable) {
  setenv("STRATA_TEST_CLIENT_TOKEN", kSecret.c_str(), 1);
  http::ClientConfig c;
  Status s = ParseHttpClientAuth(Node("link:\n  token_env: STRATA_TEST_CLIENT_TOKEN\n"), &c);
  unsetenv("STRATA_TEST_CLIENT_TOKEN");
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(c.token, kSecret);
}

TEST(ParseHttpClientAuth, ErrorsNameTheKeyAndNeverTheSecret) {
  testing::TempDir dir;
  Write(dir.File("empty"), "\n");
  setenv("STRATA_TEST_BAD_TOKEN", (kSecret + "\r\nX-Evil: 1").c_str(), 1);
  setenv("STRATA_TEST_TOKEN2", kSecret.c_str(), 1);
  struct Case {
    std::string yaml;
    StatusCode code;
    std::string want;
  } cases[] = {
      {"link:\n  token_file: " + dir.File("missing") + "\n", StatusCode::kNotFound,
       "test.yaml:2: key 'link.token_file'"},
      {"link:\n  token_file: " + dir.File("empty") + "\n", StatusCode::kInvalidArgument,
       "is empty"},
      {"link:\n  token_env: STRATA_TEST_UNSET_VAR_X\n", StatusCode::kInvalidArgument,
       "STRATA_TEST_UNSET_VAR_X is not set"},
      {"link:\n  token_env: STRATA_TEST_BAD_TOKEN\n", StatusCode::kInvalidArgument,
       "control characters"},
      {"link:\n  token_file: " + dir.File("empty") + "\n  token_env: STRATA_TEST_TOKEN2\n",
       StatusCode::kInvalidArgument, "set only one of 'token_file' and 'token_env'"},
      {"link:\n  ca_file: " + dir.File("no-ca.pem") + "\n", StatusCode::kNotFound,
       "key 'link.ca_file'"},
  };
  for (const auto& c : cases) {
    http::ClientConfig out;
    Status s = ParseHttpClientAuth(Node(c.yaml), &out);
    EXPECT_EQ(s.code(), c.code) << c.yaml << " → " << s;
    EXPECT_NE(s.message().find(c.want), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find(kSecret), std::string::npos) << s.message();
  }
  unsetenv("STRATA_TEST_BAD_TOKEN");
  unsetenv("STRATA_TEST_TOKEN2");
}

TEST(ParseMqttAuth, ReadsUserPasswordFileAndTlsFiles) {
  testing::TempDir dir;
  Write(dir.File("pw"), kSecret + "\r\n");
  for (auto f : {"ca.pem", "cert.pem", "key.pem"}) Write(dir.File(f), "x");
  mqtt::Config c{.uri = "ssl://127.0.0.1:8883"};
  Status s = ParseMqttAuth(Node("link:\n  url: mqtts://h\n  username: fog-1\n  password_file: " +
                                dir.File("pw") + "\n  ca_file: " + dir.File("ca.pem") +
                                "\n  cert_file: " + dir.File("cert.pem") +
                                "\n  key_file: " + dir.File("key.pem") + "\n"),
                           &c);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(c.username, "fog-1");
  EXPECT_EQ(c.password, kSecret);  // trailing newline stripped
  EXPECT_EQ(c.ca_file, dir.File("ca.pem"));
  EXPECT_EQ(c.cert_file, dir.File("cert.pem"));
  EXPECT_EQ(c.key_file, dir.File("key.pem"));

  mqtt::Config copy{.uri = "ssl://other", .username = "old"};
  CopyMqttAuth(c, &copy);
  EXPECT_EQ(copy.uri, "ssl://other");
  EXPECT_EQ(copy.username, "fog-1");
  EXPECT_EQ(copy.password, kSecret);
  EXPECT_EQ(copy.key_file, dir.File("key.pem"));
}

TEST(ParseMqttAuth, PasswordEnv) {
  setenv("STRATA_TEST_MQTT_PW", kSecret.c_str(), 1);
  mqtt::Config c;
  Status s = ParseMqttAuth(Node("link:\n  username: u\n  password_env: STRATA_TEST_MQTT_PW\n"), &c);
  unsetenv("STRATA_TEST_MQTT_PW");
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(c.password, kSecret);
}

TEST(ParseMqttAuth, ErrorsNameTheKeyAndNeverTheSecret) {
  testing::TempDir dir;
  Write(dir.File("pw"), kSecret + "\n");
  Write(dir.File("cert.pem"), "x");
  struct Case {
    std::string yaml;
    StatusCode code;
    std::string want;
  } cases[] = {
      {"link:\n  username: u\n  password_file: " + dir.File("missing") + "\n",
       StatusCode::kNotFound, "test.yaml:3: key 'link.password_file'"},
      {"link:\n  username: u\n  password_env: STRATA_TEST_UNSET_PW\n",
       StatusCode::kInvalidArgument, "STRATA_TEST_UNSET_PW is not set"},
      {"link:\n  password_file: " + dir.File("pw") + "\n", StatusCode::kInvalidArgument,
       "key 'link.username': required when a password is set"},
      {"link:\n  cert_file: " + dir.File("cert.pem") + "\n", StatusCode::kInvalidArgument,
       "cert_file and key_file go together"},
      {"link:\n  ca_file: " + dir.File("none.pem") + "\n", StatusCode::kNotFound,
       "key 'link.ca_file'"},
  };
  for (const auto& c : cases) {
    mqtt::Config out;
    Status s = ParseMqttAuth(Node(c.yaml), &out);
    EXPECT_EQ(s.code(), c.code) << c.yaml << " → " << s;
    EXPECT_NE(s.message().find(c.want), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find(kSecret), std::string::npos) << s.message();
  }
}

TEST(MqttTls, CreateRejectsTlsFilesWithoutATlsUri) {
  auto c = mqtt::MqttClient::Create({.uri = "tcp://127.0.0.1:1883", .ca_file = "/etc/hostname"});
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("ssl://"), std::string::npos) << c.status();
  EXPECT_TRUE(mqtt::MqttClient::Create({.uri = "mqtts://127.0.0.1:8883"}).ok());
}

// A server that requires signed service tokens (auth.key_file), called by a client whose
// credentials come from a config section.
TEST(ClientAuthIntegration, TokenFilePassesAndNoTokenGets401) {
  testing::TempDir dir;
  Write(dir.File("keys"), "k1 " + kHex + "\n");
  auto keys = auth::KeySet::LoadFile(dir.File("keys"));
  ASSERT_TRUE(keys.ok()) << keys.status();
  auto token = auth::IssueToken(*keys, "detect", "fog", std::chrono::hours(1));
  ASSERT_TRUE(token.ok());
  Write(dir.File("detect.token"), *token + "\n");

  http::ServerConfig sc{.service = "cloud"};
  sc.auth = {.enabled = true, .token_env = "", .key_file = dir.File("keys"), .allow = {"tier:fog"}};
  auto server = http::HttpServer::Create(sc);
  ASSERT_TRUE(server.ok()) << server.status();
  (*server)->Route("POST", "/api/v1/faces", [](const http::Request& r) -> Result<http::Response> {
    return http::Response::Json({{"caller", r.principal}}, 201);
  });
  ASSERT_TRUE((*server)->Start().ok());
  const std::string url = "http://127.0.0.1:" + std::to_string((*server)->port());

  http::ClientConfig with{.base_url = url, .max_retries = 0};
  ASSERT_TRUE(ParseHttpClientAuth(Node("link:\n  token_file: " + dir.File("detect.token") + "\n"),
                                  &with).ok());
  auto client = http::HttpClient::Create(with);
  ASSERT_TRUE(client.ok()) << client.status();
  auto ok = (*client)->Post("/api/v1/faces", "x", "image/jpeg");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->status, 201) << ok->body;
  EXPECT_NE(ok->body.find("detect"), std::string::npos) << ok->body;

  http::ClientConfig without{.base_url = url, .max_retries = 0};
  ASSERT_TRUE(ParseHttpClientAuth(Node("link:\n  url: " + url + "\n"), &without).ok());
  auto anon = http::HttpClient::Create(without);
  ASSERT_TRUE(anon.ok());
  auto denied = (*anon)->Post("/api/v1/faces", "x", "image/jpeg");
  ASSERT_TRUE(denied.ok()) << denied.status();
  EXPECT_EQ(denied->status, 401) << denied->body;
}

// ca_file verifies an https:// upstream whose certificate is not in the system store.
TEST(ClientAuthIntegration, CaFileVerifiesHttpsUpstream) {
  testing::TempDir dir;
  auto tls = testing::MakeSelfSignedCert(dir.path());
  if (!tls.ok()) GTEST_SKIP() << tls.status();
  auto server = http::HttpServer::Create(
      {.service = "tls", .tls = {.cert_file = tls->cert_file, .key_file = tls->key_file}});
  ASSERT_TRUE(server.ok()) << server.status();
  (*server)->Route("GET", "/api/v1/ping", [](const http::Request&) -> Result<http::Response> {
    return http::Response::Json({{"ok", true}});
  });
  ASSERT_TRUE((*server)->Start().ok());
  const std::string url = "https://127.0.0.1:" + std::to_string((*server)->port());

  http::ClientConfig good{.base_url = url, .max_retries = 0};
  ASSERT_TRUE(ParseHttpClientAuth(Node("link:\n  ca_file: " + tls->cert_file + "\n"), &good).ok());
  auto r = (*http::HttpClient::Create(good))->Get("/api/v1/ping");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);

  http::ClientConfig untrusted{.base_url = url, .max_retries = 0};  // system store only
  auto bad = (*http::HttpClient::Create(untrusted))->Get("/api/v1/ping");
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace strata
