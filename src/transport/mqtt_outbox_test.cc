// MqttOutbox against a real SQLite file and a real mosquitto: rows survive a reopen, bounds and
// bad input are refused precisely, a row is deleted only when a receipt names it (a PUBACK is not
// enough), and a row without a receipt is published again after resend_after.
// Run: ctest -R mqtt_outbox_test
#include "strata/transport/mqtt_outbox.h"

#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "strata/testing/fixtures.h"

namespace strata::mqtt {
namespace {

OutboxConfig Cfg(const std::string& path) {
  return {.path = path,
          .name = "test",
          .events_topic = "t/seg/n1/events/pub1",
          .receipts_topic = "t/seg/n1/receipts/pub1",
          .max_rows = 5,
          .max_bytes = 1 << 20,
          .resend_after = std::chrono::milliseconds(300),
          .batch_rows = 2,
          .max_inflight = 10};
}

TEST(MqttOutboxTest, RowsAndMarksSurviveReopenAndBoundsAreEnforced) {
  testing::TempDir dir;
  const std::string path = dir.File("sub/outbox.db");
  {
    auto box = MqttOutbox::Open(Cfg(path));
    ASSERT_TRUE(box.ok()) << box.status();
    auto n = (*box)->Enqueue({{"a", "{\"v\":1}"}, {"b", "{\"v\":2}"}, {"c", "{\"v\":3}"}},
                             {{"enqueued", "3"}});
    ASSERT_TRUE(n.ok()) << n.status();
    EXPECT_EQ(*n, 3);
    auto again = (*box)->Enqueue({{"a", "{\"v\":1}"}});  // already pending: skipped
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, 0);
  }
  auto box = MqttOutbox::Open(Cfg(path));
  ASSERT_TRUE(box.ok()) << box.status();
  EXPECT_EQ((*box)->stats().pending, 3);
  auto mark = (*box)->Mark("enqueued");
  ASSERT_TRUE(mark.ok() && mark->has_value());
  EXPECT_EQ(**mark, "3");
  auto none = (*box)->Mark("nope");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  auto full = (*box)->Enqueue({{"d", "1"}, {"e", "2"}, {"f", "3"}});  // 3 + 3 > max_rows 5
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(full.status().message().find("is full: 3 rows"), std::string::npos)
      << full.status().message();
  EXPECT_EQ((*box)->stats().pending, 3);  // nothing of the refused batch was added
  EXPECT_EQ((*box)->Enqueue({{"", "x"}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*box)->Enqueue({{std::string(129, 'i'), "x"}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ((*box)->Enqueue({{"g", "two\nlines"}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE((*box)->WaitForSpace(3, std::chrono::milliseconds(10)));
  EXPECT_TRUE((*box)->WaitForSpace(2, std::chrono::milliseconds(10)));

  auto bad = Cfg(path);
  bad.events_topic = "t/+/events";
  EXPECT_EQ(MqttOutbox::Open(bad).status().code(), StatusCode::kInvalidArgument);
}

// A consumer that records every event id it receives (with repeats) and sends receipts on demand.
struct Consumer {
  std::mutex mu;
  std::multiset<std::string> seen;
  size_t Count(const std::string& id) {
    std::lock_guard lock(mu);
    return seen.count(id);
  }
};

template <typename Pred>
bool Eventually(Pred pred) {  // bounded: at most 10 s
  for (int i = 0; i < 500; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

TEST(MqttOutboxTest, RowIsDeletedOnlyOnReceiptAndResentUntilThen) {
  auto broker = testing::MosquittoBroker::Start();
  ASSERT_TRUE(broker.ok()) << broker.status();
  testing::TempDir dir;
  const std::string path = dir.File("outbox.db");
  Consumer consumer;
  auto sub = MqttClient::Create({.uri = (*broker)->uri(), .client_id = "outbox-consumer"});
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE((*sub)
                  ->Subscribe("t/seg/n1/events/pub1", 1,
                              [&](const Message& m) {
                                std::lock_guard lock(consumer.mu);
                                size_t start = 0;
                                while (start <= m.payload.size()) {
                                  size_t end = m.payload.find('\n', start);
                                  if (end == std::string::npos) end = m.payload.size();
                                  auto j = nlohmann::json::parse(
                                      m.payload.substr(start, end - start), nullptr, false);
                                  if (j.is_object()) consumer.seen.insert(j.value("id", ""));
                                  start = end + 1;
                                }
                              })
                  .ok());
  ASSERT_TRUE((*sub)->Connect(std::chrono::seconds(5)).ok());

  auto box = MqttOutbox::Open(Cfg(path));
  ASSERT_TRUE(box.ok()) << box.status();
  ASSERT_TRUE(
      (*box)
          ->Enqueue({{"a", R"({"id":"a"})"}, {"b", R"({"id":"b"})"}, {"c", R"({"id":"c"})"}})
          .ok());
  ASSERT_TRUE(
      (*box)
          ->Start({.uri = (*broker)->uri(), .client_id = "outbox-pub1"}, std::chrono::seconds(5))
          .ok());
  ASSERT_TRUE(Eventually(
      [&] { return consumer.Count("a") && consumer.Count("b") && consumer.Count("c"); }));
  // PUBACKed but not receipted: every row is still there, and each is published again.
  EXPECT_EQ((*box)->stats().pending, 3);
  ASSERT_TRUE(Eventually([&] { return consumer.Count("a") >= 2 && consumer.Count("c") >= 2; }));
  EXPECT_GE((*box)->stats().resent, 2);
  EXPECT_EQ((*box)->stats().pending, 3);

  // A receipt for a and b (and an unknown id) deletes exactly those two.
  ASSERT_TRUE(
      (*sub)->Publish("t/seg/n1/receipts/pub1", R"({"ids":["a","b","zz"],"ts":1})", 1).ok());
  ASSERT_TRUE(Eventually([&] { return (*box)->stats().pending == 1; }));
  EXPECT_EQ((*box)->stats().receipted, 2);
  // Garbage on the receipts topic changes nothing.
  ASSERT_TRUE((*sub)->Publish("t/seg/n1/receipts/pub1", "not json", 1).ok());
  ASSERT_TRUE((*sub)->Publish("t/seg/n1/receipts/pub1", R"({"ids":"c"})", 1).ok());
  EXPECT_FALSE((*box)->WaitEmpty(std::chrono::milliseconds(400)));
  EXPECT_EQ((*box)->stats().pending, 1);
  size_t a_before = consumer.Count("a");
  ASSERT_TRUE(Eventually([&] { return consumer.Count("c") >= 3; }));  // still resent
  EXPECT_EQ(consumer.Count("a"), a_before);                           // receipted: never again

  // A rejection also ends the row (a resend cannot help), and is reported.
  ASSERT_TRUE((*sub)
                  ->Publish("t/seg/n1/receipts/pub1",
                            R"({"ids":[],"rejected":[{"id":"c","reason":"type: unknown"}]})", 1)
                  .ok());
  ASSERT_TRUE((*box)->WaitEmpty(std::chrono::seconds(10)));
  OutboxStats st = (*box)->stats();
  EXPECT_EQ(st.rejected, 1);
  ASSERT_EQ(st.first_rejections.size(), 1u);
  EXPECT_EQ(st.first_rejections[0].second, "type: unknown");
  (*box)->Stop();
  box->reset();
  auto reopened = MqttOutbox::Open(Cfg(path));
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->stats().pending, 0);  // the deletions were committed
}

TEST(MqttOutboxTest, RowsEnqueuedWhileTheBrokerIsDownGoOutWhenItIsBack) {
  auto broker = testing::MosquittoBroker::Start();
  ASSERT_TRUE(broker.ok()) << broker.status();
  testing::TempDir dir;
  Consumer consumer;
  auto box = MqttOutbox::Open(Cfg(dir.File("outbox.db")));
  ASSERT_TRUE(box.ok());
  ASSERT_TRUE(
      (*box)
          ->Start({.uri = (*broker)->uri(), .client_id = "outbox-pub2", .reconnect_max_s = 1},
                  std::chrono::seconds(5))
          .ok());
  (*broker)->Stop();
  ASSERT_TRUE((*box)->Enqueue({{"x", R"({"id":"x"})"}}).ok());  // durable even with no broker
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE((*broker)->Restart().ok());
  auto sub = MqttClient::Create({.uri = (*broker)->uri(), .client_id = "outbox-consumer2"});
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE((*sub)
                  ->Subscribe("t/seg/n1/events/pub1", 1,
                              [&](const Message& m) {
                                auto j = nlohmann::json::parse(m.payload, nullptr, false);
                                if (!j.is_object()) return;
                                std::string id = j.value("id", "");
                                {
                                  std::lock_guard lock(consumer.mu);
                                  consumer.seen.insert(id);
                                }
                                (void)(*sub)->Publish("t/seg/n1/receipts/pub1",
                                                      nlohmann::json{{"ids", {id}}}.dump(), 1);
                              })
                  .ok());
  ASSERT_TRUE((*sub)->Connect(std::chrono::seconds(5)).ok());
  EXPECT_TRUE((*box)->WaitEmpty(std::chrono::seconds(15)));
  EXPECT_GE(consumer.Count("x"), 1u);
  EXPECT_EQ((*box)->stats().receipted, 1);
}

}  // namespace
}  // namespace strata::mqtt
