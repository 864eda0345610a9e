#include "strata/core/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace strata {
namespace {

struct ServerCfg {
  std::string host = "127.0.0.1";
  int port = 8080;
  double ratio = 0.5;
  bool tls = false;
  std::chrono::milliseconds timeout{5000};
  std::vector<std::string> tags;
};

Status ParseServer(const ConfigNode& root, ServerCfg* cfg) {
  STRATA_ASSIGN_OR_RETURN(ConfigNode s, root.Child("server"));
  STRATA_RETURN_IF_ERROR(s.CheckKeys({"host", "port", "ratio", "tls", "timeout", "tags"}));
  STRATA_RETURN_IF_ERROR(s.Require("host", &cfg->host));
  STRATA_RETURN_IF_ERROR(s.GetInRange("port", &cfg->port, 0, 65535));
  STRATA_RETURN_IF_ERROR(s.GetInRange("ratio", &cfg->ratio, 0.0, 1.0));
  STRATA_RETURN_IF_ERROR(s.Get("tls", &cfg->tls));
  STRATA_RETURN_IF_ERROR(s.Get("timeout", &cfg->timeout));
  STRATA_RETURN_IF_ERROR(s.Get("tags", &cfg->tags));
  return Status::Ok();
}

TEST(ConfigTest, ParsesTypedValuesAndKeepsDefaults) {
  auto root = ConfigNode::Parse(
      "server:\n  host: 0.0.0.0\n  port: 9000\n  timeout: 250ms\n  tags: [a, b]\n", "t.yaml");
  ASSERT_TRUE(root.ok()) << root.status();
  ServerCfg cfg;
  ASSERT_TRUE(ParseServer(*root, &cfg).ok());
  EXPECT_EQ(cfg.host, "0.0.0.0");
  EXPECT_EQ(cfg.port, 9000);
  EXPECT_DOUBLE_EQ(cfg.ratio, 0.5);  // default kept
  EXPECT_FALSE(cfg.tls);
  EXPECT_EQ(cfg.timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(cfg.tags, (std::vector<std::string>{"a", "b"}));
}

TEST(ConfigTest, MissingRequiredKeyNamesFileKeyAndLine) {
  auto root = ConfigNode::Parse("server:\n  port: 1\n", "svc.yaml");
  ASSERT_TRUE(root.ok());
  ServerCfg cfg;
  Status s = ParseServer(*root, &cfg);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("svc.yaml:"), std::string::npos) << s;
  EXPECT_NE(s.message().find("'server.host'"), std::string::npos) << s;
  EXPECT_NE(s.message().find("missing required key"), std::string::npos) << s;
}

TEST(ConfigTest, WrongTypeNamesLine) {
  auto root = ConfigNode::Parse("server:\n  host: h\n  # comment\n  port: abc\n", "svc.yaml");
  ASSERT_TRUE(root.ok());
  ServerCfg cfg;
  Status s = ParseServer(*root, &cfg);
  EXPECT_EQ(s.message(), "svc.yaml:4: key 'server.port': expected an integer, got 'abc'");
  EXPECT_EQ(cfg.port, 8080);  // untouched on error
}

TEST(ConfigTest, OutOfRangeAndNonFinite) {
  ServerCfg cfg;
  auto r1 = ConfigNode::Parse("server:\n  host: h\n  port: 70000\n", "a.yaml");
  EXPECT_NE(ParseServer(*r1, &cfg).message().find("out of range [0, 65535]"), std::string::npos);
  auto r2 = ConfigNode::Parse("server:\n  host: h\n  ratio: .nan\n", "a.yaml");
  EXPECT_NE(ParseServer(*r2, &cfg).message().find("finite"), std::string::npos);
  auto r3 = ConfigNode::Parse("server:\n  host: h\n  timeout: 5 parsecs\n", "a.yaml");
  EXPECT_NE(ParseServer(*r3, &cfg).message().find("unknown duration unit"), std::string::npos);
}

TEST(ConfigTest, UnknownKeyIsATypo) {
  auto root = ConfigNode::Parse("server:\n  host: h\n  prot: 1\n", "a.yaml");
  ServerCfg cfg;
  Status s = ParseServer(*root, &cfg);
  EXPECT_NE(s.message().find("a.yaml:3: unknown key 'server.prot'"), std::string::npos) << s;
}

TEST(ConfigTest, MalformedYamlReportsLine) {
  auto root = ConfigNode::Parse("server:\n  host: [unclosed\n  port: 1\n", "bad.yaml");
  ASSERT_FALSE(root.ok());
  EXPECT_NE(root.status().message().find("bad.yaml:"), std::string::npos);
  EXPECT_NE(root.status().message().find("malformed YAML"), std::string::npos);
  auto scalar = ConfigNode::Parse("just a string", "s.yaml");
  EXPECT_FALSE(scalar.ok());
}

TEST(ConfigTest, MissingFileIsNotFound) {
  auto r = ConfigNode::LoadFile("/nonexistent/strata.yaml");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

TEST(ConfigTest, LoadsFileAndWalksSequences) {
  auto path = std::filesystem::temp_directory_path() / "strata_config_test.yaml";
  std::ofstream(path) << "cameras:\n  - name: front\n    fps: 10\n  - name: back\n    fps: x\n";
  auto root = ConfigNode::LoadFile(path.string());
  ASSERT_TRUE(root.ok()) << root.status();
  auto cams = root->Child("cameras");
  ASSERT_TRUE(cams.ok());
  auto items = cams->Items();
  ASSERT_EQ(items.size(), 2u);
  std::string name;
  int fps = 0;
  ASSERT_TRUE(items[0].Get("name", &name).ok());
  ASSERT_TRUE(items[0].Get("fps", &fps).ok());
  EXPECT_EQ(name, "front");
  EXPECT_EQ(fps, 10);
  Status s = items[1].Get("fps", &fps);
  EXPECT_NE(s.message().find(":5: key 'cameras[1].fps'"), std::string::npos) << s;
  std::filesystem::remove(path);
}

TEST(ConfigTest, MissingSectionsGiveNullNodesAndKeepDefaults) {
  auto root = ConfigNode::Parse("", "empty.yaml");
  ASSERT_TRUE(root.ok());
  auto server = root->Child("server");
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_TRUE(server->IsNull());
  auto auth = server->Child("auth");  // a child of a missing section is also null
  ASSERT_TRUE(auth.ok());
  EXPECT_TRUE(auth->IsNull());
  EXPECT_TRUE(auth->CheckKeys({"enabled"}).ok());
  bool enabled = true;
  EXPECT_TRUE(auth->Get("enabled", &enabled).ok());
  EXPECT_TRUE(enabled);
  EXPECT_EQ(auth->path(), "server.auth");
  auto scalar = ConfigNode::Parse("server: 3\n", "s.yaml");
  EXPECT_FALSE(scalar->Child("server").ok());
}

TEST(ConfigTest, EnumAndDurations) {
  auto root = ConfigNode::Parse("mode: fast\nevery: 2m\n", "e.yaml");
  std::string mode = "slow";
  EXPECT_FALSE(root->GetEnum("mode", &mode, {"slow", "medium"}).ok());
  EXPECT_TRUE(root->GetEnum("mode", &mode, {"slow", "fast"}).ok());
  EXPECT_EQ(mode, "fast");
  EXPECT_EQ(*ParseDuration("1.5s"), std::chrono::milliseconds(1500));
  EXPECT_EQ(*ParseDuration("3"), std::chrono::milliseconds(3000));
  EXPECT_EQ(*ParseDuration("1h"), std::chrono::hours(1));
  EXPECT_FALSE(ParseDuration("-1s").ok());
  EXPECT_FALSE(ParseDuration("soon").ok());
}

}  // namespace
}  // namespace strata

namespace strata {
namespace {

// Found by tests/fuzz/config_yaml: complex keys used to escape as a yaml-cpp exception.
TEST(ConfigShapeTest, ComplexKeysDeepNestingAndAliasBombsAreErrorsNotCrashes) {
  auto complex = ConfigNode::Parse("server:\n  ? [a, b]\n  : 1\n", "c.yaml");
  ASSERT_FALSE(complex.ok());
  EXPECT_NE(complex.status().message().find("c.yaml:2"), std::string::npos) << complex.status();
  EXPECT_NE(complex.status().message().find("plain names"), std::string::npos);
  auto deep = ConfigNode::Parse("a: " + std::string(100, '[') + std::string(100, ']') + "\n", "d.yaml");
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.status().message().find("deeper than 64"), std::string::npos) << deep.status();
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'h'; ++c)
    bomb += std::string(1, c) + ": &" + c + " [*" + char(c - 1) + ", *" + char(c - 1) + ", *" +
            char(c - 1) + ", *" + char(c - 1) + ", *" + char(c - 1) + ", *" + char(c - 1) +
            ", *" + char(c - 1) + ", *" + char(c - 1) + ", *" + char(c - 1) + ", *" +
            char(c - 1) + "]\n";
  auto laughs = ConfigNode::Parse(bomb, "b.yaml");
  ASSERT_FALSE(laughs.ok());
  EXPECT_NE(laughs.status().message().find("100000 nodes"), std::string::npos) << laughs.status();
  EXPECT_TRUE(ConfigNode::Parse("a: &x {b: 1}\nc: *x\n", "ok.yaml").ok());  // plain aliases work
}

}  // namespace
}  // namespace strata
