// strata-hello as a real process: port file, graceful SIGTERM, bad configs.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <thread>

#include "strata/testing/fixtures.h"
#include "strata/transport/http_client.h"

namespace strata {
namespace {

const std::string kHello = std::string(STRATA_BINARY_DIR) + "/bin/strata-hello";

struct Running {
  std::unique_ptr<testing::Subprocess> proc;
  std::unique_ptr<http::HttpClient> client;
};

Running StartHello(testing::TempDir& dir, std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = {kHello, "--port", "0", "--port-file", dir.File("port")};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto p = testing::Subprocess::Start(argv);
  EXPECT_TRUE(p.ok()) << p.status();
  auto port = testing::WaitForPortFile(dir.File("port"), std::chrono::seconds(10));
  EXPECT_TRUE(port.ok()) << port.status() << (*p)->Stderr();
  auto c = http::HttpClient::Create(
      {.base_url = "http://127.0.0.1:" + std::to_string(port.value_or(1)), .max_retries = 0});
  return {std::move(p).value(), std::move(c).value()};
}

TEST(HelloProcessTest, SigtermDuringSlowRequestLetsItFinish) {
  testing::TempDir dir;
  Running svc = StartHello(dir);
  ASSERT_EQ(svc.client->Get("/healthz")->status, 200);
  Result<http::ClientResponse> slow = UnavailableError("not run");
  std::thread t([&] { slow = svc.client->Get("/api/v1/sleep?ms=800"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  svc.proc->Signal(SIGTERM);
  t.join();
  ASSERT_TRUE(slow.ok()) << slow.status();
  EXPECT_EQ(slow->status, 200);
  EXPECT_EQ((*slow->Json())["slept_ms"], 800);
  auto code = svc.proc->Wait(std::chrono::seconds(10));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0) << svc.proc->Stderr();
  EXPECT_NE(svc.proc->Stderr().find("stopped cleanly"), std::string::npos);
}

TEST(HelloProcessTest, ServesJsonLogsAndAuthFromEnvironment) {
  testing::TempDir dir;
  std::ofstream(dir.File("hello.yaml")) << "server:\n  auth:\n    enabled: true\n"
                                           "    token_env: HELLO_TEST_TOKEN\n";
  std::vector<std::string> argv = {kHello, "--port", "0", "--port-file", dir.File("port"),
                                   "--config", dir.File("hello.yaml"), "--log-format", "json"};
  auto p = testing::Subprocess::Start(argv, {"HELLO_TEST_TOKEN=tok-123456"});
  ASSERT_TRUE(p.ok());
  auto port = testing::WaitForPortFile(dir.File("port"), std::chrono::seconds(10));
  ASSERT_TRUE(port.ok()) << (*p)->Stderr();
  std::string base = "http://127.0.0.1:" + std::to_string(*port);
  auto anon = std::move(http::HttpClient::Create({.base_url = base, .max_retries = 0})).value();
  auto authed = std::move(http::HttpClient::Create({.base_url = base, .max_retries = 0,
                                                    .token = "tok-123456"})).value();
  EXPECT_EQ(anon->Get("/api/v1/hello")->status, 401);
  EXPECT_EQ(authed->Get("/api/v1/hello")->status, 200);
  (*p)->Signal(SIGTERM);
  ASSERT_EQ(*(*p)->Wait(std::chrono::seconds(10)), 0);
  std::string err = (*p)->Stderr();
  EXPECT_NE(err.find("{\"level\":\"info\""), std::string::npos) << err;
  EXPECT_EQ(err.find("tok-123456"), std::string::npos) << "token leaked into logs";
}

TEST(HelloProcessTest, BadConfigExitsWithOneReadableLine) {
  testing::TempDir dir;
  std::ofstream(dir.File("bad.yaml")) << "server:\n  prot: 8080\n";
  auto r = testing::Run({kHello, "--config", dir.File("bad.yaml")});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 2);
  EXPECT_EQ(r->err, "strata-hello: error: " + dir.File("bad.yaml") +
                        ":2: unknown key 'server.prot' (known keys: host, port, max_body_bytes, "
                        "read_timeout, write_timeout, keep_alive_timeout, workers, max_queue, "
                        "max_connections, header_timeout, body_timeout, max_header_bytes, "
                        "max_header_count, auth, tls, rate_limit)\n");
  auto missing = testing::Run({kHello, "--config", dir.File("nope.yaml")});
  EXPECT_EQ(missing->exit_code, 2);
  EXPECT_EQ(std::count(missing->err.begin(), missing->err.end(), '\n'), 1) << missing->err;
}

TEST(HelloProcessTest, BadFlagsExit2) {
  auto r = testing::Run({kHello, "--port", "99999"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 2);
  EXPECT_NE(r->err.find("--port"), std::string::npos);
}

}  // namespace
}  // namespace strata
