// Tests of console::ParseConfig: defaults, and a precise error for each kind of bad value.
#include "console_config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "strata/testing/fixtures.h"

namespace strata::console {
namespace {

Result<Options> Parse(const std::string& yaml) {
  STRATA_ASSIGN_OR_RETURN(ConfigNode root, ConfigNode::Parse(yaml, "console.yaml"));
  ServiceArgs args;
  args.service = "console";
  Options o;
  STRATA_RETURN_IF_ERROR(ParseConfig(root, args, &o));
  return o;
}

std::string Error(const std::string& yaml) {
  auto r = Parse(yaml);
  EXPECT_FALSE(r.ok()) << yaml;
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status();
  return r.status().message();
}

TEST(ConsoleConfigTest, DefaultsAndAFullConfig) {
  unsetenv("STRATA_UPSTREAM_TOKEN");
  auto empty = Parse("");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->server.workers, kDefaultConsoleWorkers);
  EXPECT_EQ(empty->console.poll_interval, std::chrono::seconds(1));
  EXPECT_TRUE(empty->console.upstreams.empty());
  EXPECT_EQ(empty->console.upstream_token, "");

  auto full = Parse(R"(
server: {workers: 32}
console:
  poll_interval: 250ms
  web_dir: /tmp/ui
  upstreams:
    - {name: detect, tier: fog, node: fog-1, url: "http://127.0.0.1:8082/"}
    - {name: notify, type: notify, tier: cloud, url: "https://cloud.example:443"}
)");
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_EQ(full->server.workers, 32);
  EXPECT_EQ(full->console.poll_interval, std::chrono::milliseconds(250));
  EXPECT_EQ(full->console.web_dir, "/tmp/ui");
  ASSERT_EQ(full->console.upstreams.size(), 2u);
  const Upstream& d = full->console.upstreams[0];
  EXPECT_EQ(d.type, "detect");  // defaults to the name
  EXPECT_EQ(d.node, "fog-1");
  EXPECT_EQ(d.url, "http://127.0.0.1:8082");  // trailing slash dropped
  EXPECT_EQ(full->console.upstreams[1].node, "notify");
}

TEST(ConsoleConfigTest, BadValuesNameTheKeyAndLine) {
  std::string e =
      Error("console:\n  upstreams:\n    - {name: a, tier: attic, url: 'http://h:1'}\n");
  EXPECT_NE(e.find("console.yaml:3: key 'console.upstreams[0].tier'"), std::string::npos) << e;
  EXPECT_NE(e.find("tier 'attic' must be one of roof, edge, fog, cloud"), std::string::npos) << e;

  for (const char* url :
       {"ftp://h:1", "http://h:1/api", "http://h:99999", "http://u@h:1", "h:1", "http://h:1?x=1"}) {
    e = Error(std::string("console:\n  upstreams:\n    - {name: a, tier: fog, url: '") + url +
              "'}\n");
    EXPECT_NE(e.find("key 'console.upstreams[0].url': url '"), std::string::npos)
        << url << ": " << e;
  }
  e = Error(
      "console:\n  upstreams:\n    - {name: a, tier: fog, url: 'http://h:1'}\n"
      "    - {name: a, tier: fog, url: 'http://h:2'}\n");
  EXPECT_NE(e.find("console.yaml:4"), std::string::npos) << e;
  EXPECT_NE(e.find("duplicate upstream name 'a'"), std::string::npos) << e;
  e = Error(
      "console:\n  upstreams:\n    - {name: a, tier: fog, node: n1, url: 'http://h:1'}\n"
      "    - {name: b, tier: edge, node: n1, url: 'http://h:2'}\n");
  EXPECT_NE(e.find("node 'n1' is already in tier 'fog'"), std::string::npos) << e;
  e = Error("console:\n  upstreams:\n    - {name: 'Bad Name', tier: fog, url: 'http://h:1'}\n");
  EXPECT_NE(e.find("name 'Bad Name' must match"), std::string::npos) << e;
  e = Error("console:\n  upstreams:\n    - {name: a, tier: fog}\n");
  EXPECT_NE(e.find("url"), std::string::npos) << e;
  e = Error("console:\n  upstreams:\n    - {name: a, tier: fog, url: 'http://h:1', prot: 1}\n");
  EXPECT_NE(e.find("prot"), std::string::npos) << e;
  e = Error("console:\n  upstreams: {a: 1}\n");
  EXPECT_NE(e.find("expected a list"), std::string::npos) << e;
  e = Error("console:\n  poll_interval: 10ms\n");
  EXPECT_NE(e.find("console.poll_interval"), std::string::npos) << e;
  e = Error("console:\n  pol_interval: 1s\n");
  EXPECT_NE(e.find("pol_interval"), std::string::npos) << e;
}

TEST(ConsoleConfigTest, UpstreamTokenFromFileOrEnvironment) {
  testing::TempDir dir;
  std::ofstream(dir.File("tok")) << "  file-token \n";
  setenv("STRATA_UPSTREAM_TOKEN", "env-token", 1);
  auto env = Parse("");
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(env->console.upstream_token, "env-token");
  auto file = Parse("console: {upstream_token_file: '" + dir.File("tok") + "'}");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->console.upstream_token, "file-token");  // the file wins, trimmed
  unsetenv("STRATA_UPSTREAM_TOKEN");
  std::string e = Error("console: {upstream_token_file: '" + dir.File("missing") + "'}");
  EXPECT_NE(e.find("cannot read"), std::string::npos) << e;
  EXPECT_EQ(e.find("file-token"), std::string::npos);
}

}  // namespace
}  // namespace strata::console
