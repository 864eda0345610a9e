#include <gtest/gtest.h>

#include "hello_routes.h"
#include "strata/transport/http_client.h"

namespace strata::hello {
namespace {

class HelloTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = http::HttpServer::Create({.service = "hello_test"});
    ASSERT_TRUE(s.ok());
    server_ = std::move(s).value();
    RegisterRoutes(*server_);
    ASSERT_TRUE(server_->Start().ok());
    client_ = std::move(http::HttpClient::Create(
                            {.base_url = "http://127.0.0.1:" + std::to_string(server_->port()),
                             .max_retries = 0}))
                  .value();
  }
  std::unique_ptr<http::HttpServer> server_;
  std::unique_ptr<http::HttpClient> client_;
};

TEST_F(HelloTest, EveryRouteIsInTheOpenApiDocumentAndBack) {
  auto mismatches = http::OpenApiMismatches(*server_, OpenApi());
  EXPECT_TRUE(mismatches.empty()) << mismatches.front();
  auto r = client_->Get("/api/v1/openapi.json");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r->Json())["openapi"], "3.1.0");
}

TEST_F(HelloTest, GreetsAndValidatesNames) {
  EXPECT_EQ((*client_->Get("/api/v1/hello")->Json())["greeting"], "hello, world");
  EXPECT_EQ((*client_->Get("/api/v1/hello?name=fog%201")->Json())["greeting"], "hello, fog 1");
  EXPECT_EQ(client_->Get("/api/v1/hello?name=%3Cscript%3E")->status, 400);
  EXPECT_EQ(client_->Get("/api/v1/hello?name=" + std::string(65, 'a'))->status, 400);
}

TEST_F(HelloTest, SleepRejectsBadDurations) {
  EXPECT_EQ(client_->Get("/api/v1/sleep?ms=1")->status, 200);
  for (const char* bad : {"-5", "abc", "10001", "99999999999", ""})
    EXPECT_EQ(client_->Get(std::string("/api/v1/sleep?ms=") + bad)->status, 400) << bad;
}

TEST_F(HelloTest, EchoRoundTripsJson) {
  auto r = client_->Post("/api/v1/echo", R"({"a":[1,2,{"b":null}]})", "application/json");
  EXPECT_EQ(r->body, R"({"a":[1,2,{"b":null}]})");
  EXPECT_EQ(client_->Post("/api/v1/echo", "{oops", "application/json")->status, 400);
}

}  // namespace
}  // namespace strata::hello
