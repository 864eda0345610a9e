// Tests of the UI file serving of strata-console: the packed test UI (testdata/dist, packed by
// pack_assets.cmake and linked with .incbin) sent gzip or inflated, ETag/Cache-Control, path
// traversal, --web-dir mode, the "UI not built" page, and that the UI stays public under auth.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "console_service.h"
#include "strata/testing/fixtures.h"

namespace strata::console {
EmbeddedBundle ConsoleTestBundle();  // generated from testdata/dist (CMakeLists.txt)

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::string kDist = std::string(STRATA_SOURCE_DIR) + "/services/console/testdata/dist";

std::unique_ptr<ConsoleService> StartConsole(const EmbeddedBundle& ui, std::string web_dir = "",
                                             std::string token = "") {
  Options o;
  o.server.service = "console_assets_test";
  if (!token.empty()) o.server.auth = {.enabled = true, .token = token};
  o.console.web_dir = std::move(web_dir);
  auto s = ConsoleService::Create(o, ui);
  EXPECT_TRUE(s.ok()) << s.status();
  if (!s.ok()) return nullptr;
  EXPECT_TRUE((*s)->server().Start().ok());
  return std::move(s).value();
}

// A raw client: no automatic decompression, so the test sees the bytes on the wire.
std::unique_ptr<httplib::Client> Raw(ConsoleService& s) {
  auto c = std::make_unique<httplib::Client>("127.0.0.1", s.server().port());
  c->set_decompress(false);
  return c;
}

TEST(ConsoleAssetsTest, PackedFilesAreServedGzipOrInflated) {
  auto console = StartConsole(ConsoleTestBundle());
  ASSERT_TRUE(console);
  auto c = Raw(*console);
  const std::string index = ReadFile(kDist + "/index.html");
  ASSERT_FALSE(index.empty());

  auto gz = c->Get("/", {{"Accept-Encoding", "gzip, deflate, br"}});
  ASSERT_TRUE(gz);
  EXPECT_EQ(gz->status, 200);
  EXPECT_EQ(gz->get_header_value("Content-Encoding"), "gzip");
  EXPECT_EQ(gz->get_header_value_count("Content-Encoding"), 1u);  // not compressed twice
  EXPECT_EQ(gz->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(gz->get_header_value("Cache-Control"), "no-cache");
  ASSERT_GE(gz->body.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(gz->body[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>(gz->body[1]), 0x8b);
  auto inflated = Gunzip(gz->body);
  ASSERT_TRUE(inflated.ok()) << inflated.status();
  EXPECT_EQ(*inflated, index);

  auto plain = c->Get("/", {{"Accept-Encoding", "identity"}});
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->get_header_value("Content-Encoding"), "");
  EXPECT_EQ(plain->body, index);
  EXPECT_EQ(c->Get("/index.html", {{"Accept-Encoding", "identity"}})->body, index);

  // Binary file, under assets/: immutable, byte-exact both ways.
  const std::string blob = ReadFile(kDist + "/assets/blob-test.bin");
  auto bin = c->Get("/assets/blob-test.bin", {{"Accept-Encoding", "identity"}});
  EXPECT_EQ(bin->body, blob);
  EXPECT_EQ(bin->get_header_value("Cache-Control"), "public, max-age=31536000, immutable");
  auto bin_gz = c->Get("/assets/blob-test.bin", {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(*Gunzip(bin_gz->body), blob);
  auto js = c->Get("/assets/app-test1234.js", {{"Accept-Encoding", "identity"}});
  EXPECT_EQ(js->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js->body, ReadFile(kDist + "/assets/app-test1234.js"));

  // ETag → 304 without a body.
  std::string etag = js->get_header_value("ETag");
  ASSERT_FALSE(etag.empty());
  auto again = c->Get("/assets/app-test1234.js", {{"If-None-Match", etag}});
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());
  EXPECT_EQ(c->Get("/assets/app-test1234.js", {{"If-None-Match", "\"other\""}})->status, 200);

  EXPECT_EQ(c->Get("/assets/missing.js")->status, 404);
  EXPECT_EQ(c->Get("/nothing.txt")->status, 404);
}

TEST(ConsoleAssetsTest, PathTraversalIsRejected) {
  testing::TempDir dir;
  std::ofstream(dir.File("index.html")) << "<p>dev</p>";
  std::ofstream(dir.File("secret.txt")) << "do not serve";
  std::filesystem::create_directories(dir.File("ui/assets"));
  std::ofstream(dir.File("ui/index.html")) << "<p>dev ui</p>";
  for (auto* console :
       {StartConsole(ConsoleTestBundle()).release(), StartConsole({}, dir.File("ui")).release()}) {
    std::unique_ptr<ConsoleService> owned(console);
    auto c = Raw(*console);
    for (const char* path : {"/assets/%2e%2e/%2e%2e/secret.txt", "/assets/../secret.txt",
                             "/assets/./app-test1234.js", "/assets/a%5c..%5csecret.txt"}) {
      auto r = c->Get(path);
      ASSERT_TRUE(r) << path;
      EXPECT_EQ(r->status, 400) << path << " " << r->body;
      EXPECT_EQ(r->get_header_value("Content-Type"), "application/problem+json");
      EXPECT_EQ(r->body.find("do not serve"), std::string::npos);
    }
    EXPECT_EQ(c->Get("/healthz")->status, 200);  // still serving
  }
}

TEST(ConsoleAssetsTest, WebDirServesPlainFilesFromDisk) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.File("assets"));
  std::ofstream(dir.File("index.html")) << "<p>dev ui</p>";
  std::ofstream(dir.File("assets/x.css")) << "p{color:red}";
  auto console = StartConsole(ConsoleTestBundle(), dir.path());
  ASSERT_TRUE(console);
  auto c = Raw(*console);
  auto index = c->Get("/", {{"Accept-Encoding", "identity"}});
  EXPECT_EQ(index->body, "<p>dev ui</p>");  // the directory wins over the embedded UI
  auto css = c->Get("/assets/x.css", {{"Accept-Encoding", "identity"}});
  EXPECT_EQ(css->body, "p{color:red}");
  EXPECT_EQ(css->get_header_value("Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(c->Get("/assets/y.css")->status, 404);
  EXPECT_EQ(c->Get("/assets")->status, 404);

  Options bad;
  bad.console.web_dir = dir.File("missing");
  auto s = ConsoleService::Create(bad, {});
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);
}

TEST(ConsoleAssetsTest, WithoutAUiTheIndexSaysHowToBuildIt) {
  auto console = StartConsole(EmbeddedBundle{});
  ASSERT_TRUE(console);
  auto c = Raw(*console);
  auto r = c->Get("/");
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("not built"), std::string::npos);
  EXPECT_NE(r->body.find("npm"), std::string::npos);
  EXPECT_EQ(c->Get("/assets/app.js")->status, 404);
}

TEST(ConsoleAssetsTest, UiIsPublicApiNeedsTheTokenUnderAuth) {
  auto console = StartConsole(ConsoleTestBundle(), "", "console-token");
  ASSERT_TRUE(console);
  auto c = Raw(*console);
  EXPECT_EQ(c->Get("/")->status, 200);
  EXPECT_EQ(c->Get("/index.html")->status, 200);
  EXPECT_EQ(c->Get("/assets/app-test1234.js")->status, 200);
  for (const char* api :
       {"/api/v1/overview", "/api/v1/stream", "/api/v1/services", "/api/v1/svc/notify/events"}) {
    auto r = c->Get(api);
    EXPECT_EQ(r->status, 401) << api;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/problem+json");
  }
  auto ok = c->Get("/api/v1/services", {{"Authorization", "Bearer console-token"}});
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, R"({"services":[]})");
}

}  // namespace
}  // namespace strata::console
