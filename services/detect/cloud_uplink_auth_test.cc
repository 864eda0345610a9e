// The fog→cloud uplink against a cloud that requires signed st1 service tokens (server.auth
// key_file): detect's config section `detect.cloud` carries token_file, the crop arrives with the
// caller's principal; the same section without it gets 401 and the crop is not accepted. Config
// errors for the credential keys name the key; typos are still rejected.
#include <gtest/gtest.h>

#include <fstream>
#include <mutex>
#include <vector>

#include "cloud_uplink.h"
#include "detect_config.h"
#include "strata/testing/fixtures.h"
#include "strata/transport/http.h"
#include "transport/service_token.h"

namespace strata::detect_service {
namespace {

const std::string kHex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

struct AuthCloud {
  testing::TempDir dir;
  std::unique_ptr<http::HttpServer> server;
  std::mutex mu;
  std::vector<std::string> callers;  // principal of every accepted crop

  void Start() {
    std::ofstream(dir.File("keys")) << "k1 " << kHex << "\n";
    http::ServerConfig sc{.service = "fake_identify"};
    sc.auth = {.enabled = true, .token_env = "", .key_file = dir.File("keys"), .allow = {"tier:fog"}};
    server = std::move(http::HttpServer::Create(sc)).value();
    server->Route("POST", "/api/v1/faces", [this](const http::Request& r) -> Result<http::Response> {
      std::lock_guard lock(mu);
      callers.push_back(r.principal);
      return http::Response::Json({{"ok", true}});
    });
    ASSERT_TRUE(server->Start().ok());
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server->port()); }
  std::string IssueTokenFile(const std::string& sub, const std::string& tier) {
    auto keys = auth::KeySet::LoadFile(dir.File("keys"));
    EXPECT_TRUE(keys.ok());
    auto t = auth::IssueToken(*keys, sub, tier, std::chrono::hours(1));
    EXPECT_TRUE(t.ok());
    std::ofstream(dir.File(sub + ".token")) << *t << "\n";
    return dir.File(sub + ".token");
  }
};

Result<Options> Parse(const std::string& yaml) {
  STRATA_ASSIGN_OR_RETURN(ConfigNode root, ConfigNode::Parse(yaml, "detect.yaml"));
  Options opts;
  STRATA_RETURN_IF_ERROR(ParseConfig(root, ServiceArgs{.service = "detect"}, &opts));
  return opts;
}

// Sends one face crop through an uplink built from `opts` and waits until it was tried.
CloudUplink::Stats SendOneCrop(const Options& opts) {
  auto up = CloudUplink::Create(opts.detect.cloud);
  EXPECT_TRUE(up.ok()) << up.status();
  if (!up.ok()) return {};
  UplinkItem item{.camera = "cam", .frame_id = "f1", .track_id = 1, .has_face = true,
                  .face_score = 0.9f, .face_jpeg = "jpeg-bytes"};
  (*up)->Enqueue(item, (*up)->Decide("cam", 1, true, 0.9f));
  EXPECT_TRUE((*up)->WaitIdle(std::chrono::seconds(10)));
  return (*up)->stats();
}

TEST(CloudUplinkAuthTest, ConfiguredTokenFilePassesMissingTokenGets401) {
  AuthCloud cloud;
  cloud.Start();
  const std::string token_file = cloud.IssueTokenFile("detect", "fog");

  auto with = Parse("detect:\n  cloud:\n    url: " + cloud.url() + "\n    token_file: " +
                    token_file + "\n    min_interval: 0s\n");
  ASSERT_TRUE(with.ok()) << with.status();
  EXPECT_EQ(with->detect.cloud.auth.token_file, token_file);
  CloudUplink::Stats s = SendOneCrop(*with);
  EXPECT_EQ(s.sent, 1u);
  EXPECT_EQ(s.failed, 0u);
  {
    std::lock_guard lock(cloud.mu);
    ASSERT_EQ(cloud.callers.size(), 1u);
    EXPECT_EQ(cloud.callers[0], "detect");
  }

  auto without = Parse("detect:\n  cloud:\n    url: " + cloud.url() + "\n    min_interval: 0s\n");
  ASSERT_TRUE(without.ok()) << without.status();
  s = SendOneCrop(*without);
  EXPECT_EQ(s.sent, 0u);
  EXPECT_EQ(s.failed, 1u);
  {
    std::lock_guard lock(cloud.mu);
    EXPECT_EQ(cloud.callers.size(), 1u);  // the unauthenticated crop never reached the handler
  }
  // What the uplink got back: 401 problem+json (same client settings, one direct request).
  http::ClientConfig cc{.base_url = cloud.url(), .max_retries = 0};
  auto client = http::HttpClient::Create(cc);
  ASSERT_TRUE(client.ok());
  auto r = (*client)->Post("/api/v1/faces", "jpeg-bytes", "image/jpeg");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->Header("content-type").rfind("application/problem+json", 0), 0u);
}

TEST(CloudUplinkAuthTest, CredentialKeyErrorsNameTheKey) {
  Status missing = Parse("detect:\n  cloud:\n    url: http://127.0.0.1:1\n"
                         "    token_file: /nonexistent/detect.token\n").status();
  EXPECT_EQ(missing.code(), StatusCode::kNotFound) << missing;
  EXPECT_NE(missing.message().find("detect.yaml:4: key 'detect.cloud.token_file'"),
            std::string::npos) << missing;
  Status typo = Parse("detect:\n  cloud:\n    url: http://127.0.0.1:1\n    token_fil: x\n").status();
  EXPECT_EQ(typo.code(), StatusCode::kInvalidArgument) << typo;
  EXPECT_NE(typo.message().find("token_fil"), std::string::npos) << typo;
  Status env = Parse("detect:\n  cloud:\n    token_env: STRATA_TEST_NO_SUCH_TOKEN_VAR\n").status();
  EXPECT_NE(env.message().find("STRATA_TEST_NO_SUCH_TOKEN_VAR is not set"), std::string::npos)
      << env;
}

}  // namespace
}  // namespace strata::detect_service
