#include "strata/transport/http_client.h"

#include <gtest/gtest.h>

#include <atomic>

#include "strata/testing/fixtures.h"
#include "strata/transport/http.h"

namespace strata::http {
namespace {

TEST(HttpClientTest, RejectsBadBaseUrl) {
  for (const char* bad : {"", "ftp://x", "127.0.0.1:80", "http://"}) {
    auto c = HttpClient::Create({.base_url = bad});
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(HttpClientTest, ConnectionRefusedIsUnavailable) {
  auto port = testing::FreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  auto c = HttpClient::Create({.base_url = "http://127.0.0.1:" + std::to_string(*port),
                               .max_retries = 1,
                               .backoff_initial = std::chrono::milliseconds(10)});
  auto r = (*c)->Get("/healthz");
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status();
}

class FlakyServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = HttpServer::Create({.service = "t_flaky"});
    ASSERT_TRUE(s.ok());
    server_ = std::move(s).value();
    server_->Route("GET", "/api/v1/flaky", [this](const Request&) -> Result<Response> {
      if (++calls_ <= 2) return UnavailableError("warming up");
      return Response::Json({{"calls", calls_.load()}});
    });
    server_->Route("POST", "/api/v1/flaky", [this](const Request&) -> Result<Response> {
      ++calls_;
      return UnavailableError("always busy");
    });
    ASSERT_TRUE(server_->Start().ok());
    auto c = HttpClient::Create({.base_url = "http://127.0.0.1:" + std::to_string(server_->port()),
                                 .max_retries = 3,
                                 .backoff_initial = std::chrono::milliseconds(5)});
    ASSERT_TRUE(c.ok());
    client_ = std::move(c).value();
  }
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<HttpClient> client_;
  std::atomic<int> calls_{0};
};

TEST_F(FlakyServerTest, IdempotentGetIsRetriedOn503) {
  auto r = client_->Get("/api/v1/flaky");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(calls_, 3);
}

TEST_F(FlakyServerTest, PostIsNotRetriedUnlessIdempotent) {
  auto r = client_->Post("/api/v1/flaky", "{}", "application/json");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(calls_, 1);
  Status s = r->ToStatus();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "HTTP 503: always busy");
  calls_ = 0;
  (void)client_->Post("/api/v1/flaky", "{}", "application/json", {}, /*idempotent=*/true);
  EXPECT_EQ(calls_, 4);
}

TEST(HttpClientTest, StatusMappingRoundTrips) {
  for (auto s : {InvalidArgumentError("x"), NotFoundError("x"), UnauthenticatedError("x"),
                 PermissionDeniedError("x"), AlreadyExistsError("x"), FailedPreconditionError("x"),
                 ResourceExhaustedError("x"), UnavailableError("x"), DeadlineExceededError("x"),
                 InternalError("x")}) {
    EXPECT_EQ(StatusCodeFromHttp(ToHttpStatus(s)), s.code()) << s;
  }
}

}  // namespace
}  // namespace strata::http
