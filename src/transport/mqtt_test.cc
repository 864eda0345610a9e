#include "strata/transport/mqtt.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "strata/testing/fixtures.h"
#include "strata/transport/link_meter.h"

namespace strata::mqtt {
namespace {

// Collects messages and waits for a condition with a bounded timeout.
class Inbox {
 public:
  void Add(const Message& m) {
    std::lock_guard lock(mu_);
    msgs_.push_back(m);
    cv_.notify_all();
  }
  bool WaitFor(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return msgs_.size() >= n; });
  }
  std::vector<Message> Get() {
    std::lock_guard lock(mu_);
    return msgs_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Message> msgs_;
};

bool WaitUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

TEST(TopicMatchTest, Wildcards) {
  EXPECT_TRUE(TopicMatches("strata/camera/+/alert", "strata/camera/front/alert"));
  EXPECT_FALSE(TopicMatches("strata/camera/+/alert", "strata/camera/front/motion"));
  EXPECT_FALSE(TopicMatches("strata/camera/+/alert", "strata/camera/front/alert/snapshot"));
  EXPECT_TRUE(TopicMatches("strata/#", "strata/seg/n1/events"));
  EXPECT_TRUE(TopicMatches("strata/seg/n1/events", "strata/seg/n1/events"));
  EXPECT_FALSE(TopicMatches("strata/seg/n1", "strata/seg/n1/events"));
  EXPECT_TRUE(TopicMatches("+/+", "a/b"));
  EXPECT_FALSE(TopicMatches("+/+", "a"));
}

TEST(MqttTest, CreateRejectsBadConfig) {
  EXPECT_EQ(MqttClient::Create({.uri = "http://x"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MqttClient::Create({.reconnect_min_s = 0}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(MqttTest, ConnectToMissingBrokerIsUnavailable) {
  auto port = testing::FreeLoopbackPort();
  auto c = MqttClient::Create({.uri = "tcp://127.0.0.1:" + std::to_string(*port)});
  ASSERT_TRUE(c.ok());
  Status s = (*c)->Connect(std::chrono::milliseconds(300));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s;
  EXPECT_EQ((*c)->Publish("a/b", "x").code(), StatusCode::kUnavailable);
}

TEST(MqttTest, Qos1RoundTripThroughRealBroker) {
  auto broker = testing::MosquittoBroker::Start();
  ASSERT_TRUE(broker.ok()) << broker.status();
  auto sub = MqttClient::Create({.uri = (*broker)->uri(), .client_id = "rt-sub"});
  auto pub = MqttClient::Create(
      {.uri = (*broker)->uri(), .client_id = "rt-pub", .link_src = "rt_node", .link_dst = "rt_broker"});
  ASSERT_TRUE(sub.ok() && pub.ok());
  Inbox inbox;
  ASSERT_TRUE((*sub)->Subscribe("strata/test/+/x", 1, [&](const Message& m) { inbox.Add(m); }).ok());
  ASSERT_TRUE((*sub)->Connect(std::chrono::seconds(5)).ok());
  ASSERT_TRUE((*pub)->Connect(std::chrono::seconds(5)).ok());
  ASSERT_TRUE(WaitUntil([&] { return (*sub)->ConnectCount() >= 1; }, std::chrono::seconds(5)));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // SUBACK from the dispatcher
  std::string binary("\x00\x01\xff payload", 11);
  ASSERT_TRUE((*pub)->Publish("strata/test/a/x", binary, 1).ok());
  ASSERT_TRUE((*pub)->Publish("strata/test/b/y", "not for us", 1).ok());
  ASSERT_TRUE((*pub)->Publish("strata/test/b/x", "second", 1).ok());
  ASSERT_TRUE(inbox.WaitFor(2));
  auto msgs = inbox.Get();
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].topic, "strata/test/a/x");
  EXPECT_EQ(msgs[0].payload, binary);
  EXPECT_EQ(msgs[0].qos, 1);
  EXPECT_EQ(msgs[1].payload, "second");
  LinkStats s = LinkMeter::Global().Get("rt_node", "rt_broker");
  EXPECT_EQ(s.messages, 3u);
  EXPECT_EQ(s.bytes, binary.size() + 10 + 6);
}

// An inline handler runs on paho's thread (not the dispatcher), sees every QoS 1 message in
// order, and may Publish: that publish is deferred to the dispatcher instead of waiting, inside
// paho's callback, for a PUBACK that this same thread would have to read.
TEST(MqttTest, InlineHandlerSeesEveryMessageInOrderAndMayPublish) {
  auto broker = testing::MosquittoBroker::Start();
  ASSERT_TRUE(broker.ok()) << broker.status();
  auto sub = MqttClient::Create({.uri = (*broker)->uri(), .client_id = "in-sub"});
  auto pub = MqttClient::Create({.uri = (*broker)->uri(), .client_id = "in-pub"});
  auto obs = MqttClient::Create({.uri = (*broker)->uri(), .client_id = "in-obs"});
  ASSERT_TRUE(sub.ok() && pub.ok() && obs.ok());
  Inbox inline_seen, queued_seen, replies;
  std::mutex mu;
  std::vector<std::thread::id> inline_threads, queued_threads;
  std::vector<Status> publish_results;
  MqttClient* raw = sub->get();
  ASSERT_TRUE((*sub)->SubscribeInline("strata/in/+", 1, [&](const Message& m) {
    Status s = raw->Publish("strata/out/" + m.payload, m.payload, 1);
    {
      std::lock_guard lock(mu);
      inline_threads.push_back(std::this_thread::get_id());
      publish_results.push_back(s);
    }
    inline_seen.Add(m);
  }).ok());
  ASSERT_TRUE((*sub)->Subscribe("strata/in/q", 1, [&](const Message& m) {
    {
      std::lock_guard lock(mu);
      queued_threads.push_back(std::this_thread::get_id());
    }
    queued_seen.Add(m);
  }).ok());
  ASSERT_TRUE((*obs)->Subscribe("strata/out/+", 1, [&](const Message& m) { replies.Add(m); }).ok());
  ASSERT_TRUE((*obs)->Connect(std::chrono::seconds(5)).ok());
  ASSERT_TRUE((*sub)->Connect(std::chrono::seconds(5)).ok());
  ASSERT_TRUE((*pub)->Connect(std::chrono::seconds(5)).ok());
  ASSERT_TRUE(WaitUntil([&] { return (*sub)->ConnectCount() >= 1 && (*obs)->ConnectCount() >= 1; },
                        std::chrono::seconds(5)));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // SUBACKs from the dispatchers
  constexpr int kN = 40;
  for (int i = 0; i < kN; ++i)
    ASSERT_TRUE((*pub)->Publish("strata/in/" + std::string(i % 2 ? "q" : "p"), std::to_string(i), 1).ok());
  ASSERT_TRUE(inline_seen.WaitFor(kN));
  ASSERT_TRUE(queued_seen.WaitFor(kN / 2));  // "strata/in/q" also reaches the queued handler
  ASSERT_TRUE(replies.WaitFor(kN)) << "publishes made inside the inline handler never arrived";
  auto seen = inline_seen.Get();
  ASSERT_EQ(seen.size(), static_cast<size_t>(kN));
  for (int i = 0; i < kN; ++i) EXPECT_EQ(seen[i].payload, std::to_string(i));
  std::lock_guard lock(mu);
  for (const Status& s : publish_results) EXPECT_TRUE(s.ok()) << s;
  ASSERT_FALSE(queued_threads.empty());
  for (auto id : inline_threads) EXPECT_NE(id, queued_threads[0]) << "inline handler ran on the dispatcher";
}

TEST(MqttTest, ReconnectsAndResubscribesAfterBrokerRestart) {
  auto broker = testing::MosquittoBroker::Start();
  ASSERT_TRUE(broker.ok()) << broker.status();
  auto sub = MqttClient::Create({.uri = (*broker)->uri(), .client_id = "rs-sub"});
  auto pub = MqttClient::Create({.uri = (*broker)->uri(), .client_id = "rs-pub"});
  Inbox inbox;
  ASSERT_TRUE((*sub)->Subscribe("strata/restart", 1, [&](const Message& m) { inbox.Add(m); }).ok());
  ASSERT_TRUE((*sub)->Connect(std::chrono::seconds(5)).ok());
  ASSERT_TRUE((*pub)->Connect(std::chrono::seconds(5)).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_TRUE((*pub)->Publish("strata/restart", "before", 1).ok());
  ASSERT_TRUE(inbox.WaitFor(1));

  (*broker)->Stop(SIGKILL);
  ASSERT_TRUE(WaitUntil([&] { return !(*sub)->IsConnected() && !(*pub)->IsConnected(); },
                        std::chrono::seconds(10)));
  EXPECT_EQ((*pub)->Publish("strata/restart", "while down", 1).code(), StatusCode::kUnavailable);
  ASSERT_TRUE((*broker)->Restart().ok());
  // Both clients reconnect by themselves (clean sessions: the subscriber must resubscribe).
  ASSERT_TRUE(WaitUntil([&] { return (*sub)->ConnectCount() >= 2 && (*pub)->IsConnected(); },
                        std::chrono::seconds(20)));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE((*pub)->Publish("strata/restart", "after", 1).ok());
  ASSERT_TRUE(inbox.WaitFor(2)) << "message after reconnect not received";
  auto msgs = inbox.Get();
  EXPECT_EQ(msgs.back().payload, "after");
}

TEST(MqttTest, RetainedMessageReachesLateSubscriber) {
  auto broker = testing::MosquittoBroker::Start();
  ASSERT_TRUE(broker.ok());
  auto pub = MqttClient::Create({.uri = (*broker)->uri(), .client_id = "ret-pub"});
  ASSERT_TRUE((*pub)->Connect(std::chrono::seconds(5)).ok());
  ASSERT_TRUE((*pub)->Publish("strata/node/n1/availability", "online", 1, true).ok());
  auto sub = MqttClient::Create({.uri = (*broker)->uri(), .client_id = "ret-sub"});
  Inbox inbox;
  ASSERT_TRUE((*sub)->Subscribe("strata/node/+/availability", 1, [&](const Message& m) {
    inbox.Add(m);
  }).ok());
  ASSERT_TRUE((*sub)->Connect(std::chrono::seconds(5)).ok());
  ASSERT_TRUE(inbox.WaitFor(1));
  EXPECT_EQ(inbox.Get()[0].payload, "online");
  EXPECT_TRUE(inbox.Get()[0].retained);
}

}  // namespace
}  // namespace strata::mqtt
