// Tests of the HttpServer additions used by strata-console: streaming (chunked, SSE) responses
// that end on client disconnect and on Stop(), trailing {rest...} path parameters, and public
// paths under auth. A raw httplib client reads the streams as they arrive.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "strata/transport/http.h"
#include "strata/transport/http_client.h"

namespace strata::http {
namespace {

std::unique_ptr<HttpClient> Client(const HttpServer& s, std::string token = "") {
  return std::move(HttpClient::Create({.base_url = "http://127.0.0.1:" + std::to_string(s.port()),
                                       .max_retries = 0,
                                       .token = std::move(token)}))
      .value();
}

TEST(HttpRestParamTest, TrailingWildcardTakesTheRemainingSegments) {
  auto s = HttpServer::Create({.service = "t_rest"});
  ASSERT_TRUE(s.ok());
  auto& server = **s;
  server.Route("GET", "/api/v1/svc/{service}/{rest...}", [](const Request& r) -> Result<Response> {
    return Response::Json({{"service", r.PathParam("service")}, {"rest", r.PathParam("rest")}});
  });
  server.Route("GET", "/api/v1/one/{id}", [](const Request& r) -> Result<Response> {
    return Response::Json({{"id", r.PathParam("id")}});
  });
  ASSERT_TRUE(server.Start().ok());
  auto c = Client(server);
  auto one = c->Get("/api/v1/svc/notify/events");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ((*one->Json())["service"], "notify");
  EXPECT_EQ((*one->Json())["rest"], "events");
  auto deep = c->Get("/api/v1/svc/notify/events/01J/snapshot.jpg?x=1");
  EXPECT_EQ((*deep->Json())["rest"], "events/01J/snapshot.jpg");
  // {rest...} needs at least one segment; plain {id} still matches exactly one.
  EXPECT_EQ(c->Get("/api/v1/svc/notify")->status, 404);
  EXPECT_EQ(c->Get("/api/v1/svc/notify/")->status, 404);
  EXPECT_EQ((*c->Get("/api/v1/one/7")->Json())["id"], "7");
  EXPECT_EQ(c->Get("/api/v1/one/7/8")->status, 404);
  EXPECT_EQ(c->Post("/api/v1/svc/notify/events", "{}", "application/json")->status, 405);
}

TEST(HttpStreamTest, ChunksArriveAsWrittenAndEndWhenTheProviderSaysSo) {
  auto s = HttpServer::Create({.service = "t_stream"});
  ASSERT_TRUE(s.ok());
  auto& server = **s;
  server.Route("GET", "/api/v1/ticks", [](const Request&) -> Result<Response> {
    auto n = std::make_shared<int>(0);
    return Response::Stream("text/event-stream", [n](StreamSink& sink) {
      if (*n == 3) return false;
      return sink.Write("data: " + std::to_string((*n)++) + "\n\n");
    });
  });
  ASSERT_TRUE(server.Start().ok());
  httplib::Client cli("127.0.0.1", server.port());
  // Even when the client accepts gzip, event streams are sent as they are.
  auto res = cli.Get("/api/v1/ticks", {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/event-stream");
  EXPECT_EQ(res->get_header_value("Content-Encoding"), "");
  EXPECT_EQ(res->get_header_value("Cache-Control"), "no-cache");
  EXPECT_EQ(res->body, "data: 0\n\ndata: 1\n\ndata: 2\n\n");
}

class EndlessStream : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = HttpServer::Create({.service = "t_endless"});
    ASSERT_TRUE(s.ok());
    server_ = std::move(s).value();
    server_->Route("GET", "/api/v1/endless", [this](const Request&) -> Result<Response> {
      auto first = std::make_shared<bool>(true);
      auto done = std::make_shared<EndFlag>(this);
      return Response::Stream("text/event-stream", [first, done](StreamSink& sink) {
        if (*first) {
          *first = false;
          return sink.Write(": hello\n\n");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return sink.Write(": tick\n\n");  // fails once the client has gone
      });
    });
    ASSERT_TRUE(server_->Start().ok());
  }
  // Counts providers destroyed (the stream is over and its state released).
  struct EndFlag {
    explicit EndFlag(EndlessStream* t) : test(t) {}
    ~EndFlag() { ++test->ended_; }
    EndlessStream* test;
  };
  // Reads until `stop_after` bytes arrived (then disconnects when `disconnect`), or the stream
  // ends.
  std::string Read(size_t stop_after, bool disconnect) {
    httplib::Client cli("127.0.0.1", server_->port());
    cli.set_read_timeout(10, 0);
    std::string got;
    cli.Get("/api/v1/endless", [&](const char* d, size_t n) {
      {
        std::lock_guard lock(mu_);
        got.append(d, n);
        received_ = got.size();
      }
      return !(disconnect && got.size() >= stop_after);
    });
    return got;
  }
  std::unique_ptr<HttpServer> server_;
  std::atomic<int> ended_{0};
  std::atomic<size_t> received_{0};
  std::mutex mu_;
};

TEST_F(EndlessStream, ProviderEndsWhenTheClientDisconnects) {
  std::string got = Read(9, true);
  EXPECT_EQ(got.substr(0, 9), ": hello\n\n");
  for (int i = 0; i < 200 && ended_ == 0; ++i)  // bounded: 10 s
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(ended_, 1);
  EXPECT_EQ(Client(*server_)->Get("/healthz")->status, 200);  // still serving
}

TEST_F(EndlessStream, StopDoesNotHangOnAnOpenStream) {
  std::string got;
  std::thread reader([&] { got = Read(0, false); });
  for (int i = 0; i < 200 && received_ < 9; ++i)  // bounded: 10 s
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_GE(received_, 9u);
  server_->Stop();
  server_->Wait();  // returns: the stream noticed the shutdown
  reader.join();
  EXPECT_EQ(got.substr(0, 9), ": hello\n\n");
  EXPECT_EQ(ended_, 1);
}

TEST(HttpPublicPathsTest, ListedPathsNeedNoTokenOthersDo) {
  auto s = HttpServer::Create(
      {.service = "t_public",
       .auth = {.enabled = true, .token = "tok-123", .public_paths = {"/", "/assets/*"}}});
  ASSERT_TRUE(s.ok()) << s.status();
  auto& server = **s;
  auto ok = [](const Request& r) -> Result<Response> { return Response::Text(r.path); };
  server.Route("GET", "/", ok);
  server.Route("GET", "/assets/{rest...}", ok);
  server.Route("GET", "/api/v1/x", ok);
  server.Route("GET", "/assetsx", ok);
  ASSERT_TRUE(server.Start().ok());
  auto anon = Client(server);
  EXPECT_EQ(anon->Get("/")->status, 200);
  EXPECT_EQ(anon->Get("/assets/app.js")->body, "/assets/app.js");
  EXPECT_EQ(anon->Get("/api/v1/x")->status, 401);
  EXPECT_EQ(anon->Get("/assetsx")->status, 401);
  EXPECT_EQ(Client(server, "tok-123")->Get("/api/v1/x")->status, 200);
}

}  // namespace
}  // namespace strata::http
