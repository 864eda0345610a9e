// `strata link` as a process: proxies a real HTTP request, answers its admin API, exits 0 on
// SIGTERM; bad flags exit 2 with one line.
#include <gtest/gtest.h>

#include <csignal>

#include "strata/testing/fixtures.h"
#include "strata/transport/http.h"
#include "strata/transport/http_client.h"

namespace strata::link {
namespace {

using namespace std::chrono_literals;

const std::string kStrata = std::string(STRATA_BINARY_DIR) + "/bin/strata";

std::unique_ptr<http::HttpClient> Client(int port) {
  return std::move(http::HttpClient::Create(
                       {.base_url = "http://127.0.0.1:" + std::to_string(port), .max_retries = 0}))
      .value();
}

TEST(LinkCliTest, ProxiesAnHttpRequestAndStopsOnSigterm) {
  auto upstream = std::move(http::HttpServer::Create({.service = "upstream"})).value();
  upstream->Route("GET", "/api/v1/ping", [](const http::Request&) -> Result<http::Response> {
    return http::Response::Json({{"pong", true}});
  });
  ASSERT_TRUE(upstream->Start().ok());
  testing::TempDir dir;
  auto proc = testing::Subprocess::Start({kStrata, "link", "--listen", "127.0.0.1:0", "--upstream",
                                          "127.0.0.1:" + std::to_string(upstream->port()), "--name",
                                          "cli-test", "--latency", "5ms", "--bandwidth", "20mbit",
                                          "--port-file", dir.File("port"), "--admin-port-file",
                                          dir.File("admin"), "--log-level", "info"});
  ASSERT_TRUE(proc.ok()) << proc.status();
  auto port = testing::WaitForPortFile(dir.File("port"), 10s);
  auto admin_port = testing::WaitForPortFile(dir.File("admin"), 10s);
  ASSERT_TRUE(port.ok() && admin_port.ok()) << (*proc)->Stderr();
  auto t0 = std::chrono::steady_clock::now();
  auto r = Client(*port)->Get("/api/v1/ping");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ((*r->Json())["pong"], true);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 10ms - 1ms);
  auto status = Client(*admin_port)->Get("/api/v1/link");
  ASSERT_TRUE(status.ok());
  nlohmann::json j = *status->Json();
  EXPECT_EQ(j["name"], "cli-test");
  EXPECT_EQ(j["settings"]["downstream"]["bandwidth"], "20mbit");
  EXPECT_EQ(j["settings"]["upstream"]["latency_ms"], 5);
  EXPECT_GT(j["stats"]["bytes"]["downstream"].get<uint64_t>(), 0u);
  (*proc)->Signal(SIGTERM);
  auto code = (*proc)->Wait(10s);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0) << (*proc)->Stderr();
}

TEST(LinkCliTest, BadFlagsExitTwoWithOneLine) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--listen", "127.0.0.1:0"},  // no --upstream
           {"--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:0"},
           {"--listen", "127.0.0.1", "--upstream", "127.0.0.1:80"},
           {"--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:80", "--latency", "fast"},
           {"--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:80", "--latency", "40"},
           {"--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:80", "--bandwidth", "20mbps"},
           {"--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:80", "--loss", "1.5"},
           {"--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:80", "--partition-mode", "drop"},
           {"--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:80", "--name", "a b"},
           {"--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:80", "--frobnicate"}}) {
    std::vector<std::string> argv = {kStrata, "link"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = testing::Run(argv, 10s);
    ASSERT_TRUE(r.ok());
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r->exit_code, 2) << joined << r->err;
    EXPECT_EQ(std::count(r->err.begin(), r->err.end(), '\n'), 1) << joined << r->err;
    EXPECT_EQ(r->err.rfind("strata: error: ", 0), 0u) << joined << r->err;
  }
}

}  // namespace
}  // namespace strata::link
