// Unit tests of the console's small parts: SSE formatting, the EventHub ring, LinkTracker rates.
#include <gtest/gtest.h>

#include "event_hub.h"
#include "links.h"

namespace strata::console {
namespace {

using std::chrono::milliseconds;

TEST(SseEventTest, FormatsEventIdAndOneDataLinePerLine) {
  EXPECT_EQ(SseEvent("overview", R"({"a":1})"), "event: overview\ndata: {\"a\":1}\n\n");
  EXPECT_EQ(SseEvent("alert", "x\r\ny", "01J"), "event: alert\nid: 01J\ndata: x\ndata: y\n\n");
}

TEST(EventHubTest, WaitersGetWhatIsNewAndLaggardsSkipTheOldest) {
  EventHub hub(3);
  uint64_t seen = hub.Head();
  EXPECT_EQ(seen, 0u);
  EXPECT_TRUE(hub.WaitAfter(&seen, milliseconds(1)).empty());  // times out
  hub.Publish("a");
  hub.Publish("b");
  EXPECT_EQ(hub.WaitAfter(&seen, milliseconds(1)), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(seen, 2u);
  for (const char* e : {"c", "d", "e", "f"}) hub.Publish(e);
  EXPECT_EQ(hub.WaitAfter(&seen, milliseconds(1)), (std::vector<std::string>{"d", "e", "f"}));
  hub.Close();
  EXPECT_TRUE(hub.closed());
  EXPECT_TRUE(hub.WaitAfter(&seen, std::chrono::hours(1)).empty());  // Close wakes at once
}

TEST(LinkTrackerTest, RatesFromDeltasAndZeroAfterACounterReset) {
  LinkTracker t;
  auto at = std::chrono::steady_clock::time_point() + std::chrono::hours(1);
  auto text = [](int bytes, int msgs) {
    return "strata_link_bytes_total{src=\"a\",dst=\"b\"} " + std::to_string(bytes) +
           "\nstrata_link_messages_total{src=\"a\",dst=\"b\"} " + std::to_string(msgs) + "\n";
  };
  auto first = t.Update(metrics::PromText::Parse(text(100, 1)), at);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0]["bytes_total"], 100);
  EXPECT_EQ(first[0]["bytes_per_s"], 0.0);
  auto second = t.Update(metrics::PromText::Parse(text(300, 5)), at + std::chrono::seconds(2));
  EXPECT_EQ(second[0]["bytes_per_s"], 100.0);
  EXPECT_EQ(second[0]["messages_per_s"], 2.0);
  EXPECT_EQ(second[0]["latency_ms_p50"], 0.0);  // no histogram
  auto reset = t.Update(metrics::PromText::Parse(text(50, 1)), at + std::chrono::seconds(3));
  EXPECT_EQ(reset[0]["bytes_per_s"], 0.0);
  EXPECT_TRUE(t.Update(metrics::PromText::Parse(""), at + std::chrono::seconds(4)).empty());
}

}  // namespace
}  // namespace strata::console
