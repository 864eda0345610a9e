// `strata certs` and `strata token` as real processes: generated certificates serve HTTPS to a
// client that trusts the generated CA (and not to one trusting another CA); keys are 0600; the
// CA is not overwritten without --force; keygen/issue produce tokens a server accepts.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "strata/testing/fixtures.h"
#include "strata/transport/http.h"
#include "strata/transport/http_client.h"
#include "transport/service_token.h"

namespace strata {
namespace {

const std::string kStrata = std::string(STRATA_BINARY_DIR) + "/bin/strata";

testing::RunResult Strata(std::vector<std::string> args) {
  args.insert(args.begin(), kStrata);
  auto r = testing::Run(args, std::chrono::seconds(60));
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : testing::RunResult{};
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int Mode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return st.st_mode & 0777;
}

std::unique_ptr<http::HttpServer> HttpsServer(const std::string& dir, const std::string& name) {
  http::ServerConfig cfg{.service = name};
  cfg.tls = {.cert_file = dir + "/" + name + ".pem", .key_file = dir + "/" + name + ".key"};
  auto s = http::HttpServer::Create(cfg);
  EXPECT_TRUE(s.ok()) << s.status();
  if (!s.ok()) return nullptr;
  (*s)->Route("GET", "/api/v1/ping", [](const http::Request&) -> Result<http::Response> {
    return http::Response::Json({{"pong", true}});
  });
  EXPECT_TRUE((*s)->Start().ok());
  return std::move(s).value();
}

Result<http::ClientResponse> GetWithCa(int port, const std::string& host, const std::string& ca) {
  auto c = http::HttpClient::Create({.base_url = "https://" + host + ":" + std::to_string(port),
                                     .max_retries = 0,
                                     .ca_file = ca});
  if (!c.ok()) return c.status();
  return (*c)->Get("/api/v1/ping");
}

TEST(CertsCli, GeneratedCertServesHttpsAndOnlyItsCaVerifies) {
  testing::TempDir a, b;
  auto r = Strata({"certs", "--out", a.path(), "--ca-name", "Test CA A", "--service",
                   "fog:fog-1.local,10.9.8.7", "--service", "cloud"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto r2 = Strata({"certs", "--out", b.path(), "--ca-name", "Test CA B", "--key-type", "rsa",
                    "--service", "fog"});
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  for (std::string f : {"ca.key", "fog.key", "cloud.key"}) EXPECT_EQ(Mode(a.File(f)), 0600) << f;
  EXPECT_EQ(Mode(a.path()), 0700);
  EXPECT_NE(Slurp(a.File("fog.pem")).find("BEGIN CERTIFICATE"), std::string::npos);

  auto server = HttpsServer(a.path(), "fog");
  ASSERT_TRUE(server);
  ASSERT_TRUE(server->tls());
  for (std::string host : {"127.0.0.1", "localhost"}) {
    auto ok = GetWithCa(server->port(), host, a.File("ca.pem"));
    ASSERT_TRUE(ok.ok()) << host << ": " << ok.status();
    EXPECT_EQ(ok->status, 200);
  }
  auto wrong_ca = GetWithCa(server->port(), "127.0.0.1", b.File("ca.pem"));
  EXPECT_FALSE(wrong_ca.ok()) << "a client trusting another CA must not connect";
  // And the RSA set from CA B works with CA B.
  auto server_b = HttpsServer(b.path(), "fog");
  ASSERT_TRUE(server_b);
  auto ok_b = GetWithCa(server_b->port(), "127.0.0.1", b.File("ca.pem"));
  ASSERT_TRUE(ok_b.ok()) << ok_b.status();
  EXPECT_EQ(ok_b->status, 200);
  EXPECT_FALSE(GetWithCa(server_b->port(), "127.0.0.1", a.File("ca.pem")).ok());
}

TEST(CertsCli, IdempotentUnlessForced) {
  testing::TempDir d;
  ASSERT_EQ(Strata({"certs", "--out", d.path(), "--service", "fog"}).exit_code, 0);
  const std::string ca1 = Slurp(d.File("ca.pem")), fog1 = Slurp(d.File("fog.pem"));
  auto again = Strata({"certs", "--out", d.path(), "--service", "fog", "--service", "cloud"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("kept CA"), std::string::npos) << again.out;
  EXPECT_EQ(Slurp(d.File("ca.pem")), ca1);
  EXPECT_EQ(Slurp(d.File("fog.pem")), fog1);
  EXPECT_FALSE(Slurp(d.File("cloud.pem")).empty());
  ASSERT_EQ(Strata({"certs", "--out", d.path(), "--service", "fog", "--force"}).exit_code, 0);
  EXPECT_NE(Slurp(d.File("ca.pem")), ca1);
  EXPECT_NE(Slurp(d.File("fog.pem")), fog1);
  // The regenerated fog certificate verifies against the regenerated CA.
  auto server = HttpsServer(d.path(), "fog");
  ASSERT_TRUE(server);
  auto ok = GetWithCa(server->port(), "127.0.0.1", d.File("ca.pem"));
  ASSERT_TRUE(ok.ok()) << ok.status();
  // Bad input: one line, exit 2.
  auto bad = Strata({"certs", "--out", d.path(), "--service", "Bad Name"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--service"), std::string::npos) << bad.err;
}

TEST(TokenCli, KeygenIssueVerifyAndServerAccepts) {
  testing::TempDir d;
  const std::string keys = d.File("keys");
  ASSERT_EQ(Strata({"token", "keygen", "--out", keys}).exit_code, 0);
  EXPECT_EQ(Mode(keys), 0600);
  auto issued = Strata({"token", "issue", "--key-file", keys, "--sub", "roof", "--tier", "roof",
                        "--ttl", "1h"});
  ASSERT_EQ(issued.exit_code, 0) << issued.err;
  std::string token = issued.out.substr(0, issued.out.find('\n'));
  EXPECT_EQ(token.rfind("st1.", 0), 0u) << token;

  // keygen again appends: the old token still verifies, a new one carries the new kid.
  ASSERT_EQ(Strata({"token", "keygen", "--out", keys}).exit_code, 0);
  auto ks = auth::KeySet::LoadFile(keys);
  ASSERT_TRUE(ks.ok()) << ks.status();
  ASSERT_EQ(ks->keys().size(), 2u);
  EXPECT_TRUE(auth::VerifyToken(token, *ks).ok());
  auto to_file = Strata({"token", "issue", "--key-file", keys, "--sub", "roof", "--out",
                         d.File("roof.token")});
  ASSERT_EQ(to_file.exit_code, 0) << to_file.err;
  EXPECT_TRUE(to_file.out.empty());  // the token went to the file, not stdout
  EXPECT_EQ(Mode(d.File("roof.token")), 0600);
  auto verify = Strata({"token", "verify", "--key-file", keys, "--token-file", d.File("roof.token")});
  ASSERT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_NE(verify.out.find(ks->Newest()->kid), std::string::npos) << verify.out;

  // A server with the key file accepts the CLI's token (from a token file) and rejects junk.
  http::ServerConfig cfg{.service = "fog"};
  cfg.auth = {.enabled = true, .key_file = keys, .allow = {"roof"}};
  auto s = http::HttpServer::Create(cfg);
  ASSERT_TRUE(s.ok()) << s.status();
  (*s)->Route("GET", "/api/v1/ping", [](const http::Request& r) -> Result<http::Response> {
    return http::Response::Json({{"caller", r.principal}});
  });
  ASSERT_TRUE((*s)->Start().ok());
  auto c = http::HttpClient::Create({.base_url = "http://127.0.0.1:" + std::to_string((*s)->port()),
                                     .max_retries = 0,
                                     .token_file = d.File("roof.token")});
  ASSERT_TRUE(c.ok()) << c.status();
  auto r = (*c)->Get("/api/v1/ping");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ((*r->Json())["caller"], "roof");

  // Bad input.
  EXPECT_EQ(Strata({"token", "issue", "--key-file", keys, "--sub", "a b"}).exit_code, 2);
  EXPECT_NE(Strata({"token", "issue", "--key-file", d.File("none"), "--sub", "x"}).exit_code, 0);
  auto bad_ttl = Strata({"token", "issue", "--key-file", keys, "--sub", "x", "--ttl", "soon"});
  EXPECT_EQ(bad_ttl.exit_code, 2);
  // The secret never appears in any output.
  std::string secret_hex = Slurp(keys).substr(Slurp(keys).find(' ') + 1, 64);
  for (const auto* out : {&issued.out, &issued.err, &verify.out, &verify.err, &to_file.err})
    EXPECT_EQ(out->find(secret_hex), std::string::npos);
}

}  // namespace
}  // namespace strata
