// Security matrix over REAL service binaries: every path × method of a service's own
// /api/v1/openapi.json (plus the built-in /healthz, /readyz, /metrics, openapi.json) is called with
// {no header, Basic scheme, garbage, wrong signature, foreign key, expired, other principal, other
// tier, right token, right tier, older key, static admin token}; 401s/403s must be problem+json,
// only the documented public routes may answer without a token, and no token, signature or key
// byte may appear in the service's logs, /metrics, any response body or /proc/<pid>/cmdline.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "security_harness.h"

namespace strata::security_test {
namespace {

struct MatrixResult {
  int requests = 0;
  int routes = 0;  // path × method pairs probed
  std::set<std::string> public_routes;  // "GET /healthz" answered without a token
  std::string bodies;                   // every response body, for the secret scan
};

// "/api/v1/customers/{id}/segment" → "/api/v1/customers/1/segment"; "{rest...}" → "1/1".
std::string FillParams(const std::string& path) {
  std::string p = std::regex_replace(path, std::regex(R"(\{[A-Za-z_]+\.\.\.\})"), "1/1");
  return std::regex_replace(p, std::regex(R"(\{[A-Za-z_]+\})"), "1");
}

bool IsProblem(const RawResponse& r, int status) {
  if (r.content_type.rfind("application/problem+json", 0) != 0) return false;
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  return !j.is_discarded() && j.value("status", 0) == status && j.contains("detail");
}

// Runs the whole matrix against `svc`; failures are reported with the route and credential.
MatrixResult RunMatrix(const SecurityHarness& h, const RunningService& svc) {
  MatrixResult out;
  RawResponse spec = RawRequest(svc.port, "GET", "/api/v1/openapi.json", "");
  EXPECT_EQ(spec.status, 200) << "openapi.json must be public";
  auto doc = nlohmann::json::parse(spec.body, nullptr, false);
  EXPECT_TRUE(!doc.is_discarded() && doc.contains("paths")) << spec.body.substr(0, 200);
  if (doc.is_discarded() || !doc.contains("paths")) return out;
  std::set<std::pair<std::string, std::string>> routes = {
      {"GET", "/healthz"}, {"GET", "/readyz"}, {"GET", "/metrics"}, {"GET", "/api/v1/openapi.json"}};
  for (const auto& [path, ops] : doc["paths"].items()) {
    for (const auto& [method, op] : ops.items()) {
      std::string m = method;
      std::transform(m.begin(), m.end(), m.begin(), ::toupper);
      if (m == "GET" || m == "POST" || m == "PUT" || m == "DELETE" || m == "PATCH")
        routes.insert({m, path});
    }
  }
  for (const auto& [method, path] : routes) {
    ++out.routes;
    const std::string where = method + " " + path;
    const std::string url = FillParams(path);
    RawResponse anon = RawRequest(svc.port, method, url, "", "{}");
    ++out.requests;
    out.bodies += anon.body;
    EXPECT_NE(anon.status, 0) << where << ": no answer";
    if (anon.status != 401) {
      out.public_routes.insert(where);
      EXPECT_NE(anon.status, 403) << where;
      continue;  // public: the credential does not matter
    }
    if (method == "GET") {  // HEAD is routed like GET: no way around the token either
      RawResponse head = RawRequest(svc.port, "HEAD", url, "");
      ++out.requests;
      EXPECT_EQ(head.status, 401) << "HEAD " << path << " without a token";
    }
    std::string row = where + ":";
    for (const Credential& c : h.creds()) {
      RawResponse r = c.header.empty() ? anon : RawRequest(svc.port, method, url, c.header, "{}");
      row += " " + std::to_string(r.status);
      if (!c.header.empty()) ++out.requests;
      out.bodies += r.body;
      const std::string what = where + " with " + c.name + " credential";
      if (c.want == 0) {
        EXPECT_NE(r.status, 0) << what << ": no answer";
        EXPECT_NE(r.status, 401) << what << ": " << r.body;
        EXPECT_NE(r.status, 403) << what << ": " << r.body;
        continue;
      }
      EXPECT_EQ(r.status, c.want) << what << ": " << r.body;
      EXPECT_TRUE(IsProblem(r, c.want)) << what << ": " << r.content_type << " " << r.body;
      if (c.want == 401) {
        EXPECT_EQ(r.www_authenticate, "Bearer realm=\"strata\"") << what;
      }
    }
    if (std::getenv("STRATA_SECURITY_VERBOSE")) std::printf("%s\n", row.c_str());
  }
  return out;
}

// The matrix, then the secret scan over the metrics, the bodies, argv and the full logs.
MatrixResult CheckService(const SecurityHarness& h, RunningService svc,
                          const std::set<std::string>& expected_public,
                          const std::vector<std::string>& extra_secrets = {}) {
  MatrixResult m = RunMatrix(h, svc);
  EXPECT_EQ(m.public_routes, expected_public);
  std::vector<std::string> secrets = h.secrets();
  secrets.insert(secrets.end(), extra_secrets.begin(), extra_secrets.end());
  RawResponse metrics = RawRequest(svc.port, "GET", "/metrics", h.right_header());
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("strata_http_auth_total"), std::string::npos);
  EXPECT_EQ(FindSecret(metrics.body, secrets), "") << "secret in /metrics";
  EXPECT_EQ(FindSecret(m.bodies, secrets), "") << "secret in a response body";
  const std::string cmdline = ProcCmdline(svc.proc->pid());
  EXPECT_NE(cmdline.find("--config"), std::string::npos) << "cmdline unreadable";
  EXPECT_EQ(FindSecret(cmdline, secrets), "") << "secret in /proc/<pid>/cmdline";
  svc.proc->Signal(SIGTERM);
  Result<int> code = svc.proc->Wait(std::chrono::seconds(10));
  EXPECT_TRUE(code.ok() && *code == 0) << svc.proc->Stderr().substr(0, 2000);
  const std::string logs = svc.proc->Stdout() + svc.proc->Stderr();
  // The debug log really saw the rejections (so the scan below looked at them).
  EXPECT_NE(logs.find("401"), std::string::npos) << logs.substr(0, 2000);
  EXPECT_NE(logs.find("403"), std::string::npos) << logs.substr(0, 2000);
  EXPECT_EQ(FindSecret(logs, secrets), "") << "secret in the logs";
  std::printf("[matrix] %d routes, %d requests, public: %zu\n", m.routes, m.requests,
              m.public_routes.size());
  return m;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

const std::set<std::string> kProbes = {"GET /healthz", "GET /readyz", "GET /api/v1/openapi.json"};

class EndpointMatrix : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(h_.error(), ""); }
  RunningService Start(const std::string& service, const std::string& yaml) {
    Result<RunningService> s = h_.StartService(service, yaml);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(s).value() : RunningService{};
  }
  SecurityHarness h_;
};

TEST_F(EndpointMatrix, Hello) {
  // Control: the scanner does see every kind of credential it is given.
  for (const Credential& c : h_.creds()) {
    if (c.header.rfind("Bearer ", 0) == 0 && c.name != "garbage") {
      EXPECT_NE(FindSecret("log line " + c.header, h_.secrets()), "") << c.name;
    }
  }
  EXPECT_NE(FindSecret(ReadFile(h_.dir().File("keys")), h_.secrets()), "");
  RunningService s = Start("hello", h_.ServerYaml());
  ASSERT_NE(s.port, 0);
  MatrixResult m = CheckService(h_, std::move(s), kProbes);
  EXPECT_GE(m.routes, 7);
}

TEST_F(EndpointMatrix, HelloWithPublicMetricsAddsExactlyMetrics) {
  RunningService s = Start("hello", h_.ServerYaml(/*metrics_public=*/true));
  ASSERT_NE(s.port, 0);
  std::set<std::string> want = kProbes;
  want.insert("GET /metrics");
  CheckService(h_, std::move(s), want);
}

TEST_F(EndpointMatrix, Segment) {
  RunningService s = Start("segment", h_.ServerYaml() + "segment:\n  node: sec-1\n");
  ASSERT_NE(s.port, 0);
  MatrixResult m = CheckService(h_, std::move(s), kProbes);
  EXPECT_GE(m.routes, 12);
}

TEST_F(EndpointMatrix, Notify) {
  RunningService s = Start("notify", h_.ServerYaml());
  ASSERT_NE(s.port, 0);
  MatrixResult m = CheckService(h_, std::move(s), kProbes);
  EXPECT_GE(m.routes, 9);
}

TEST_F(EndpointMatrix, FederateCloud) {
  // Node tokens are secrets too: sentinels that must not leak either.
  const std::string t1 = "5e" + std::string(62, 'a'), t2 = "5e" + std::string(62, 'b');
  RunningService s = Start("federate", h_.ServerYaml() +
                                           "federate:\n  role: cloud\n  id: cloud\n  group: sec\n"
                                           "  nodes:\n    - {id: fog-1, token: \"" + t1 + "\"}\n"
                                           "    - {id: fog-2, token: \"" + t2 + "\"}\n");
  ASSERT_NE(s.port, 0);
  MatrixResult m = CheckService(h_, std::move(s), kProbes, {t1, t2});
  EXPECT_GE(m.routes, 15);
}

TEST_F(EndpointMatrix, ConsoleUiIsPublicApiIsNot) {
  RunningService s = Start("console", h_.ServerYaml());
  ASSERT_NE(s.port, 0);
  std::set<std::string> want = kProbes;
  want.insert({"GET /", "GET /assets/{rest...}"});  // the UI bundle (docs/services/console.md)
  // The public prefix /assets/* must not open the API through dot segments or encodings.
  for (const char* trick :
       {"/assets/../api/v1/overview", "/assets/%2e%2e/api/v1/overview",
        "/assets/..%2fapi/v1/overview", "/assets/x/../../api/v1/services", "//api/v1/services",
        "/./api/v1/services", "/index.html/../api/v1/services", "/healthz/../api/v1/services",
        "/api/v1/openapi.json/../services"}) {
    RawResponse r = RawRequest(s.port, "GET", trick, "");
    EXPECT_TRUE(r.status == 400 || r.status == 401 || r.status == 404) << trick << ": " << r.status;
    EXPECT_EQ(r.body.find("\"services\""), std::string::npos) << trick << " reached the API";
  }
  MatrixResult m = CheckService(h_, std::move(s), want);
  EXPECT_GE(m.routes, 10);
}

TEST_F(EndpointMatrix, Detect) {
  // The embedded default (HOG people + Haar faces) needs no model download.
  RunningService s = Start("detect", h_.ServerYaml());
  ASSERT_NE(s.port, 0);
  MatrixResult m = CheckService(h_, std::move(s), kProbes);
  EXPECT_GE(m.routes, 7);
}

TEST_F(EndpointMatrix, RoofWithItsOwnClientToken) {
  const std::string video = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";
  if (!std::ifstream(video).good()) GTEST_SKIP() << video << " is absent (Debian opencv-doc)";
  // Its token for the fog (sent to a closed port, so every send fails and is logged) must not
  // leak either.
  const std::string client_token = "SENTINEL-roof-client-0f1e2d3c4b5a69788796a5b4c3d2e1f0";
  std::ofstream(h_.dir().File("roof-client.token")) << client_token << "\n";
  RunningService s = Start("roof", h_.ServerYaml() + "roof:\n  camera: sec\n  source: " + video +
                                       "\n  max_frames: 20\n  fog_url: http://127.0.0.1:9\n"
                                       "  token_file: " + h_.dir().File("roof-client.token") + "\n");
  ASSERT_NE(s.port, 0);
  MatrixResult m = CheckService(h_, std::move(s), kProbes, {client_token, client_token.substr(21)});
  EXPECT_GE(m.routes, 6);
}

TEST_F(EndpointMatrix, Identify) {
  // The embedded default (Haar + LBPH) needs no model download; the gallery key is created 0600
  // under the data dir.
  RunningService s = Start("identify", h_.ServerYaml());
  ASSERT_NE(s.port, 0);
  const std::string key = ReadFile(h_.dir().File("identify-data/gallery.key"));
  ASSERT_EQ(key.size(), 32u) << "gallery key not created where expected";
  MatrixResult m = CheckService(h_, std::move(s), kProbes, SecretForms(key));
  EXPECT_GE(m.routes, 8);
}

}  // namespace
}  // namespace strata::security_test
