// Signed service tokens: format, verification, the server security matrix, key rotation and
// client token-file rotation, and that secrets never reach error bodies or logs.
#include "transport/service_token.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "strata/core/config.h"
#include "strata/testing/fixtures.h"
#include "strata/transport/http.h"
#include "strata/transport/http_client.h"
#include "strata/transport/service.h"

namespace strata::auth {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

const std::string kHex1 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const std::string kHex2 = "f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f";

KeySet Keys(const std::string& text) {
  auto k = KeySet::Parse(text, "keys");
  EXPECT_TRUE(k.ok()) << k.status();
  return std::move(k).value();
}

// Writes via rename so readers see either the old or the new file, never half of one.
void WriteAtomic(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
  }
  ASSERT_EQ(std::rename(tmp.c_str(), path.c_str()), 0);
}

TEST(Base64Url, RoundTripsAllLengthsAndRejectsJunk) {
  std::string bytes;
  for (int n = 0; n < 40; ++n) {
    std::string enc = Base64UrlEncode(bytes);
    EXPECT_EQ(enc.find_first_of("+/="), std::string::npos);
    auto dec = Base64UrlDecode(enc);
    ASSERT_TRUE(dec.ok()) << n;
    EXPECT_EQ(*dec, bytes);
    bytes += static_cast<char>(n * 37 + 250);
  }
  EXPECT_FALSE(Base64UrlDecode("ab+c").ok());
  EXPECT_FALSE(Base64UrlDecode("abcde").ok());  // 5 chars: impossible length
  EXPECT_FALSE(Base64UrlDecode("QR").ok());     // non-zero trailing bits
}

TEST(KeySet, ParsesCommentsAndNamesTheBadLineWithoutTheSecret) {
  KeySet ks = Keys("# keys\nk1 " + kHex1 + "\n\nk2 " + kHex2 + "\n");
  ASSERT_EQ(ks.keys().size(), 2u);
  EXPECT_EQ(ks.Newest()->kid, "k2");
  EXPECT_EQ(ks.Find("k1")->secret.size(), 32u);
  auto bad = KeySet::Parse("k1 " + kHex1 + "\nk2 " + kHex2.substr(0, 62) + "zz\n", "f");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("f:2"), std::string::npos) << bad.status();
  EXPECT_EQ(bad.status().message().find(kHex2.substr(0, 16)), std::string::npos);
  EXPECT_FALSE(KeySet::Parse("k1 " + kHex1 + "\nk1 " + kHex2 + "\n", "f").ok());  // duplicate
  EXPECT_FALSE(KeySet::Parse("# nothing\n", "f").ok());
  EXPECT_FALSE(KeySet::Parse("k1 abcd\n", "f").ok());
}

TEST(KeySet, NewKeyLinesParseAndDiffer) {
  auto a = NewKeyLine(), b = NewKeyLine();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  KeySet ks = Keys(*a + *b);
  EXPECT_EQ(ks.keys().size(), 2u);
}

TEST(ServiceToken, IssueVerifyTamperExpire) {
  KeySet ks = Keys("k1 " + kHex1 + "\n");
  auto now = std::chrono::system_clock::now();
  auto t = IssueToken(ks, "detect", "fog", hours(24), now);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->rfind("st1.", 0), 0u);
  auto c = VerifyToken(*t, ks, now + hours(1));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->sub, "detect");
  EXPECT_EQ(c->tier, "fog");
  EXPECT_EQ(c->kid, "k1");
  EXPECT_EQ(c->exp - c->iat, 24 * 3600);

  auto expired = VerifyToken(*t, ks, now + hours(25));
  EXPECT_EQ(expired.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(expired.status().message(), "token expired");

  // Swap the claims for ones naming another principal, keep the signature: invalid.
  std::string forged_claims =
      Base64UrlEncode(R"({"sub":"identify","tier":"cloud","iat":1,"exp":99999999999,"kid":"k1"})");
  std::string sig = t->substr(t->rfind('.'));
  auto forged = VerifyToken("st1." + forged_claims + sig, ks, now);
  EXPECT_EQ(forged.status().message(), "invalid token");

  // Same kid, different secret: invalid, and an expired forgery is "invalid", not "expired".
  KeySet other = Keys("k1 " + kHex2 + "\n");
  EXPECT_EQ(VerifyToken(*t, other, now).status().message(), "invalid token");
  EXPECT_EQ(VerifyToken(*t, other, now + hours(48)).status().message(), "invalid token");
  // Unknown kid, junk, wrong prefix, oversize.
  EXPECT_FALSE(VerifyToken(*t, Keys("k9 " + kHex1 + "\n"), now).ok());
  for (std::string junk : {std::string(""), std::string("st1."), std::string("st1.a.b.c"),
                           std::string("st2.") + t->substr(4), std::string(5000, 'a')})
    EXPECT_EQ(VerifyToken(junk, ks, now).status().message(), "invalid token") << junk;
  EXPECT_FALSE(IssueToken(ks, "bad name", "fog", hours(1)).ok());
  EXPECT_FALSE(IssueToken(ks, "detect", "fog", seconds(0)).ok());
}

TEST(ServiceToken, AllowRules) {
  TokenClaims c{.sub = "detect", .tier = "fog"};
  EXPECT_TRUE(Allowed(c, {}));
  EXPECT_TRUE(Allowed(c, {"roof", "detect"}));
  EXPECT_TRUE(Allowed(c, {"tier:fog"}));
  EXPECT_FALSE(Allowed(c, {"roof", "tier:cloud", "tier:"}));
  EXPECT_TRUE(Allowed(c, {"*"}));
}

// ---- the HTTP server ------------------------------------------------------------------------

class CapturedLogs {
 public:
  CapturedLogs() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    auto logger = std::make_shared<spdlog::logger>("captured", sink);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~CapturedLogs() { spdlog::set_default_logger(previous_); }
  std::string text() {
    spdlog::default_logger()->flush();
    return out_.str();
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

struct Fixture {
  testing::TempDir dir;
  std::string key_file = dir.File("keys");
  std::unique_ptr<http::HttpServer> server;

  explicit Fixture(const std::string& keys, std::vector<std::string> allow) {
    WriteAtomic(key_file, keys);
    http::ServerConfig cfg{.service = "fog"};
    cfg.auth = {.enabled = true, .token_env = "", .key_file = key_file, .allow = std::move(allow)};
    auto s = http::HttpServer::Create(cfg);
    EXPECT_TRUE(s.ok()) << s.status();
    server = std::move(s).value();
    server->Route("GET", "/api/v1/frames/{id}", [](const http::Request& r) -> Result<http::Response> {
      return http::Response::Json({{"id", r.PathParam("id")}, {"caller", r.principal}});
    });
    server->Route("POST", "/api/v1/frames", [](const http::Request& r) -> Result<http::Response> {
      return http::Response::Json({{"caller", r.principal}}, 201);
    });
    EXPECT_TRUE(server->Start().ok());
  }
  std::unique_ptr<http::HttpClient> Client(const std::string& token) {
    auto c = http::HttpClient::Create(
        {.base_url = "http://127.0.0.1:" + std::to_string(server->port()), .max_retries = 0, .token = token});
    EXPECT_TRUE(c.ok());
    return std::move(c).value();
  }
};

TEST(ServiceTokenServer, SecurityMatrix) {
  CapturedLogs logs;
  Fixture f("k1 " + kHex1 + "\n", {"roof"});
  KeySet ks = Keys("k1 " + kHex1 + "\n");
  auto now = std::chrono::system_clock::now();
  struct Case {
    std::string name, token;
    int status;
    std::string detail;
  };
  std::vector<Case> cases = {
      {"no token", "", 401, "missing or invalid bearer token"},
      {"wrong signature", *IssueToken(Keys("k1 " + kHex2 + "\n"), "roof", "roof", hours(1)), 401,
       "invalid token"},
      {"expired", *IssueToken(ks, "roof", "roof", hours(1), now - hours(2)), 401, "token expired"},
      {"other principal", *IssueToken(ks, "detect", "fog", hours(1)), 403, "not allowed"},
      {"right token", *IssueToken(ks, "roof", "roof", hours(1)), 200, ""},
  };
  for (const Case& c : cases) {
    auto client = f.Client(c.token);
    auto get = client->Get("/api/v1/frames/7");
    auto post = client->Post("/api/v1/frames", "{}", "application/json");
    ASSERT_TRUE(get.ok() && post.ok()) << c.name;
    int post_expected = c.status == 200 ? 201 : c.status;
    EXPECT_EQ(get->status, c.status) << c.name << ": " << get->body;
    EXPECT_EQ(post->status, post_expected) << c.name << ": " << post->body;
    for (const auto* r : {&*get, &*post}) {
      if (!c.token.empty()) {
        EXPECT_EQ(r->body.find(c.token), std::string::npos) << c.name;
      }
      EXPECT_EQ(r->body.find(kHex1.substr(0, 16)), std::string::npos);
      if (c.status == 200) {
        EXPECT_EQ((*r->Json())["caller"], "roof");
      } else {
        EXPECT_EQ(r->Header("content-type"), "application/problem+json");
        EXPECT_NE((*r->Json())["detail"].get<std::string>().find(c.detail), std::string::npos)
            << c.name << ": " << r->body;
      }
    }
    if (c.status == 401) {
      EXPECT_EQ(get->Header("www-authenticate"), "Bearer realm=\"strata\"");
    }
  }
  // Health stays public; the server keeps serving after all those rejections.
  auto health = f.Client("")->Get("/healthz");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);

  std::string log = logs.text();
  EXPECT_NE(log.find("403"), std::string::npos) << "the capture saw no auth log at all";
  for (const Case& c : cases) {
    if (c.token.empty()) continue;
    EXPECT_EQ(log.find(c.token), std::string::npos) << c.name;
    EXPECT_EQ(log.find(c.token.substr(c.token.rfind('.') + 1)), std::string::npos) << c.name;
  }
  EXPECT_EQ(log.find(kHex1.substr(0, 16)), std::string::npos);
}

TEST(ServiceTokenServer, TierRuleAdmitsAWholeTier) {
  Fixture f("k1 " + kHex1 + "\n", {"tier:fog"});
  KeySet ks = Keys("k1 " + kHex1 + "\n");
  auto fog = f.Client(*IssueToken(ks, "detect-2", "fog", hours(1)))->Get("/api/v1/frames/1");
  auto cloud = f.Client(*IssueToken(ks, "identify", "cloud", hours(1)))->Get("/api/v1/frames/1");
  ASSERT_TRUE(fog.ok() && cloud.ok());
  EXPECT_EQ(fog->status, 200);
  EXPECT_EQ(cloud->status, 403);
}

TEST(ServiceTokenServer, RotationAddThenRemoveKeyWithoutRestart) {
  Fixture f("k1 " + kHex1 + "\n", {"roof"});
  std::string old_token = *IssueToken(Keys("k1 " + kHex1 + "\n"), "roof", "roof", hours(1));
  std::string token_file = f.dir.File("roof.token");
  WriteAtomic(token_file, old_token + "\n");
  auto client = http::HttpClient::Create({.base_url = "http://127.0.0.1:" +
                                                      std::to_string(f.server->port()),
                                          .max_retries = 0,
                                          .token_file = token_file});
  ASSERT_TRUE(client.ok()) << client.status();
  auto get = [&] { return (*client)->Get("/api/v1/frames/1")->status; };
  EXPECT_EQ(get(), 200);

  // Step 1: add k2 (newest, signs new tokens); old tokens still verify.
  const std::string both = "k1 " + kHex1 + "\nk2 " + kHex2 + "\n";
  WriteAtomic(f.key_file, both);
  std::string new_token = *IssueToken(Keys(both), "roof", "roof", hours(1));
  EXPECT_EQ(VerifyToken(new_token, Keys(both))->kid, "k2");
  EXPECT_EQ(get(), 200);
  EXPECT_EQ(f.Client(new_token)->Get("/api/v1/frames/1")->status, 200);

  // Step 2: remove k1. The client still holds the old token → 401 ...
  WriteAtomic(f.key_file, "k2 " + kHex2 + "\n");
  EXPECT_EQ(get(), 401);
  // ... until its token file is replaced: picked up on the next request, no restart.
  WriteAtomic(token_file, new_token + "\n");
  EXPECT_EQ(get(), 200);

  // A broken key file keeps the previous keys instead of locking everyone out.
  WriteAtomic(f.key_file, "garbage\n");
  EXPECT_EQ(get(), 200);
}

TEST(ServiceTokenServer, StaticTokenStillAcceptedAlongsideKeys) {
  testing::TempDir dir;
  WriteAtomic(dir.File("keys"), "k1 " + kHex1 + "\n");
  http::ServerConfig cfg;
  cfg.auth = {.enabled = true, .token = "static-secret", .key_file = dir.File("keys")};
  auto s = http::HttpServer::Create(cfg);
  ASSERT_TRUE(s.ok()) << s.status();
  (*s)->Route("GET", "/api/v1/x", [](const http::Request&) -> Result<http::Response> {
    return http::Response::Json({});
  });
  ASSERT_TRUE((*s)->Start().ok());
  std::string base = "http://127.0.0.1:" + std::to_string((*s)->port());
  for (auto [token, want] : std::vector<std::pair<std::string, int>>{
           {"static-secret", 200},
           {*IssueToken(Keys("k1 " + kHex1 + "\n"), "any", "", hours(1)), 200},
           {"static-secreT", 401}}) {
    auto c = http::HttpClient::Create({.base_url = base, .max_retries = 0, .token = token});
    EXPECT_EQ((*c)->Get("/api/v1/x")->status, want) << token;
  }
}

TEST(ServiceTokenServer, MissingKeyFileAndEmptyTokenFileAreErrors) {
  http::ServerConfig cfg;
  cfg.auth = {.enabled = true, .key_file = "/nonexistent/keys"};
  EXPECT_FALSE(http::HttpServer::Create(cfg).ok());
  testing::TempDir dir;
  WriteAtomic(dir.File("empty"), "\n");
  EXPECT_FALSE(http::HttpClient::Create({.base_url = "http://127.0.0.1:1",
                                         .token_file = dir.File("empty")})
                   .ok());
}

TEST(ServiceTokenServer, RepeatedFailuresFromOneAddressAreThrottled) {
  testing::TempDir dir;
  WriteAtomic(dir.File("keys"), "k1 " + kHex1 + "\n");
  http::ServerConfig cfg{.service = "t_throttle"};
  cfg.auth = {.enabled = true, .key_file = dir.File("keys"), .max_failures_per_minute = 3};
  auto s = http::HttpServer::Create(cfg);
  ASSERT_TRUE(s.ok()) << s.status();
  (*s)->Route("GET", "/api/v1/x", [](const http::Request&) -> Result<http::Response> {
    return http::Response::Json({});
  });
  ASSERT_TRUE((*s)->Start().ok());
  std::string base = "http://127.0.0.1:" + std::to_string((*s)->port());
  auto get = [&](const std::string& token) {
    auto c = http::HttpClient::Create({.base_url = base, .max_retries = 0, .token = token});
    return (*c)->Get("/api/v1/x");
  };
  const std::string good = *IssueToken(Keys("k1 " + kHex1 + "\n"), "roof", "roof", hours(1));
  EXPECT_EQ(get(good)->status, 200);
  // Two failures: still under the limit, a good token passes.
  for (int i = 0; i < 2; ++i) EXPECT_EQ(get("st1.bad.sig")->status, 401) << i;
  EXPECT_EQ(get(good)->status, 200);
  EXPECT_EQ(get("guess-3")->status, 401);  // the 3rd failure within the minute → blocked
  auto blocked = get(good);
  ASSERT_TRUE(blocked.ok());
  EXPECT_EQ(blocked->status, 429) << blocked->body;
  EXPECT_GT(std::stoi(blocked->Header("retry-after")), 0);
  EXPECT_EQ(get("")->status, 429);
  auto c = http::HttpClient::Create({.base_url = base, .max_retries = 0});
  EXPECT_EQ((*c)->Get("/healthz")->status, 200);  // probes stay public while blocked
}

TEST(DefaultOnAuth, NonLoopbackWithoutAuthIsRefusedUnlessExplicitlyOff) {
  http::ServerConfig cfg{.service = "detect", .host = "0.0.0.0"};
  auto refused = http::HttpServer::Create(cfg);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("without authentication"), std::string::npos);
  EXPECT_NE(refused.status().message().find("enabled: false"), std::string::npos);
  cfg.host = "192.168.1.10";
  EXPECT_FALSE(http::HttpServer::Create(cfg).ok());
  for (std::string loop : {"127.0.0.1", "127.1.2.3", "localhost", "::1"}) {
    cfg.host = loop;
    EXPECT_TRUE(http::HttpServer::Create(cfg).ok()) << loop;
  }
  cfg.host = "127.evil.example";
  EXPECT_FALSE(http::HttpServer::Create(cfg).ok());
  cfg.host = "0.0.0.0";
  cfg.auth.explicitly_disabled = true;
  EXPECT_TRUE(http::HttpServer::Create(cfg).ok());  // created, not bound: no non-loopback socket
}

TEST(DefaultOnAuth, ConfigParsesExplicitOffKeyFileAndAllow) {
  ServiceArgs args{.service = "fog"};
  http::ServerConfig a, b, c;
  auto off = ConfigNode::Parse("server:\n  host: 0.0.0.0\n  auth: {enabled: false}\n", "a.yaml");
  ASSERT_TRUE(off.ok());
  ASSERT_TRUE(ParseServerConfig(*off, args, &a).ok());
  EXPECT_TRUE(a.auth.explicitly_disabled);
  auto none = ConfigNode::Parse("server:\n  host: 0.0.0.0\n", "b.yaml");
  ASSERT_TRUE(ParseServerConfig(*none, args, &b).ok());
  EXPECT_FALSE(b.auth.explicitly_disabled);
  EXPECT_FALSE(http::HttpServer::Create(b).ok());
  auto on = ConfigNode::Parse(
      "server:\n  auth:\n    enabled: true\n    key_file: /k\n    allow: [roof, 'tier:fog']\n", "c.yaml");
  ASSERT_TRUE(ParseServerConfig(*on, args, &c).ok());
  EXPECT_EQ(c.auth.key_file, "/k");
  EXPECT_EQ(c.auth.allow, (std::vector<std::string>{"roof", "tier:fog"}));
}

}  // namespace
}  // namespace strata::auth
