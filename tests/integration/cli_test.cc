// The strata CLI as a user runs it: help, version, exit codes, health probes, config check.
#include <gtest/gtest.h>

#include <fstream>

#include "strata/testing/fixtures.h"
#include "strata/transport/http.h"

namespace strata {
namespace {

const std::string kStrata = std::string(STRATA_BINARY_DIR) + "/bin/strata";

TEST(CliTest, HelpAndVersion) {
  auto help = testing::Run({kStrata, "--help"});
  ASSERT_TRUE(help.ok());
  EXPECT_EQ(help->exit_code, 0);
  for (const char* verb : {"version", "health", "config"})
    EXPECT_NE(help->out.find(verb), std::string::npos) << verb;
  auto v = testing::Run({kStrata, "version", "--json"});
  EXPECT_EQ(v->exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(v->out)["name"], "strata");
}

TEST(CliTest, UsageErrorsExit2WithOneLine) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"--bogus"}, {"health", "--timeout-ms", "abc", "http://x:1"},
        {"nosuchverb"}, {"-v", "loud", "version"}}) {
    args.insert(args.begin(), kStrata);
    auto r = testing::Run(args);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->exit_code, 2) << args[1];
    EXPECT_EQ(std::count(r->err.begin(), r->err.end(), '\n'), 1) << r->err;
    EXPECT_EQ(r->err.rfind("strata: error: ", 0), 0u) << r->err;
  }
}

TEST(CliTest, HealthProbesRunningAndDeadServices) {
  auto server = http::HttpServer::Create({.service = "cli_health"});
  ASSERT_TRUE(server.ok());
  ASSERT_TRUE((*server)->Start().ok());
  std::string up = "http://127.0.0.1:" + std::to_string((*server)->port());
  auto ok = testing::Run({kStrata, "health", up, "--json"});
  EXPECT_EQ(ok->exit_code, 0) << ok->err;
  EXPECT_EQ(nlohmann::json::parse(ok->out)[0]["readyz"], "ok");
  auto port = testing::FreeLoopbackPort();
  auto down = testing::Run({kStrata, "health", up, "http://127.0.0.1:" + std::to_string(*port)});
  EXPECT_EQ(down->exit_code, 1);
  EXPECT_NE(down->out.find("Connection"), std::string::npos) << down->out;
}

TEST(CliTest, ConfigCheck) {
  testing::TempDir dir;
  std::ofstream(dir.File("ok.yaml")) << "server:\n  port: 8080\n  max_body_bytes: 1048576\n";
  std::ofstream(dir.File("bad.yaml")) << "server:\n  port: 8080\n  workers: many\n";
  auto ok = testing::Run({kStrata, "config", "check", dir.File("ok.yaml")});
  EXPECT_EQ(ok->exit_code, 0) << ok->err;
  EXPECT_NE(ok->out.find("ok (server 127.0.0.1:8080, body limit 1048576 bytes"), std::string::npos);
  auto bad = testing::Run({kStrata, "config", "check", dir.File("bad.yaml")});
  EXPECT_EQ(bad->exit_code, 2);
  EXPECT_EQ(bad->err, "strata: error: " + dir.File("bad.yaml") +
                          ":3: key 'server.workers': expected an integer, got 'many'\n");
  auto missing = testing::Run({kStrata, "config", "check", dir.File("missing.yaml")});
  EXPECT_EQ(missing->exit_code, 1);
}

}  // namespace
}  // namespace strata
