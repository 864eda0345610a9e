// DiskQueueSender against a real HTTP server on port 0: oldest-first delivery with the stored
// headers and X-Strata-Message-Id, retry on 503 and on a dead upstream, poison on 400, spooled
// items sent after a "restart" (a new sender on the same file). Waits are bounded.
#include "strata/store/disk_queue_sender.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <vector>

#include "strata/transport/http.h"

namespace strata::store {
namespace {

struct Upstream {
  std::unique_ptr<http::HttpServer> server;
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> got;  // (message id, body)
  std::vector<std::string> cameras;
  std::atomic<int> fail_next{0};    // answer 503 this many times
  std::atomic<int> unauth_next{0};  // then 401 this many times
  void Start() {
    server = std::move(http::HttpServer::Create({.service = "upstream"})).value();
    server->Route("POST", "/in", [this](const http::Request& r) -> Result<http::Response> {
      if (fail_next > 0) {
        --fail_next;
        return UnavailableError("busy");
      }
      if (unauth_next > 0) {
        --unauth_next;
        return UnauthenticatedError("token expired");
      }
      if (r.body == "poison") return InvalidArgumentError("bad crop");
      std::lock_guard lock(mu);
      got.emplace_back(r.Header("x-strata-message-id"), r.body);
      cameras.push_back(r.Header("x-strata-camera"));
      return http::Response::Json({{"ok", true}});
    });
    ASSERT_TRUE(server->Start().ok());
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server->port()); }
};

class DiskQueueSenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("strata_dqs_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<DiskQueueSender> Make(const std::string& url) {
    auto q = DiskQueue::Open({.path = (dir_ / "q.db").string(), .name = "sender_test"});
    EXPECT_TRUE(q.ok()) << q.status();
    auto c = http::HttpClient::Create({.base_url = url,
                                       .connect_timeout = std::chrono::milliseconds(300),
                                       .read_timeout = std::chrono::milliseconds(1000),
                                       .max_retries = 0});
    EXPECT_TRUE(c.ok());
    auto s = DiskQueueSender::Create(std::move(q).value(), std::move(c).value(),
                                     {.path = "/in",
                                      .backoff_min = std::chrono::milliseconds(10),
                                      .backoff_max = std::chrono::milliseconds(100)});
    EXPECT_TRUE(s.ok()) << s.status();
    return std::move(s).value();
  }
  std::filesystem::path dir_;
};

TEST_F(DiskQueueSenderTest, SendsOldestFirstWithIdsRetriesBusyAndDropsPoison) {
  Upstream up;
  up.Start();
  up.fail_next = 3;
  up.unauth_next = 2;  // a credential problem is retried, not treated as poison
  auto s = Make(up.url());
  std::vector<std::string> ids;
  for (std::string b : {"one", "poison", "two", "three"})
    ids.push_back(*s->Push(b, {{"X-Strata-Camera", "porch"}}));
  ASSERT_TRUE(s->WaitIdle(std::chrono::seconds(10)));
  std::lock_guard lock(up.mu);
  ASSERT_EQ(up.got.size(), 3u);
  EXPECT_EQ(up.got[0], std::make_pair(ids[0], std::string("one")));
  EXPECT_EQ(up.got[1], std::make_pair(ids[2], std::string("two")));
  EXPECT_EQ(up.got[2], std::make_pair(ids[3], std::string("three")));
  EXPECT_EQ(up.cameras[0], "porch");
  EXPECT_EQ(s->stats().sent, 3u);
  EXPECT_EQ(s->stats().poison, 1u);
  EXPECT_GE(s->stats().retries, 5u);
  EXPECT_EQ(s->queue().size(), 0);
}

TEST_F(DiskQueueSenderTest, KeepsItemsWhileTheUpstreamIsDownAndSendsThemAfterRestart) {
  Upstream up;
  up.Start();
  {
    auto s = Make("http://127.0.0.1:1");  // nothing listens: refused, retried
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(s->Push("m" + std::to_string(i), {}).ok());
    EXPECT_FALSE(s->WaitIdle(std::chrono::milliseconds(200)));
    EXPECT_EQ(s->queue().size(), 5);
  }  // "crash": the sender goes away with the items spooled
  auto s = Make(up.url());
  ASSERT_TRUE(s->WaitIdle(std::chrono::seconds(10)));
  std::lock_guard lock(up.mu);
  ASSERT_EQ(up.got.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(up.got[i].second, "m" + std::to_string(i));
}

TEST_F(DiskQueueSenderTest, RejectsBadConfig) {
  auto q = DiskQueue::Open({.path = (dir_ / "q.db").string()});
  auto c = http::HttpClient::Create({.base_url = "http://127.0.0.1:1"});
  ASSERT_TRUE(q.ok() && c.ok());
  EXPECT_FALSE(
      DiskQueueSender::Create(std::move(q).value(), std::move(c).value(), {.path = "in"}).ok());
}

}  // namespace
}  // namespace strata::store
