#include "strata/codec/event_json.h"

#include <gtest/gtest.h>

namespace strata::codec {
namespace {

TEST(EventJsonTest, DecodesAFullEventAndRoundTrips) {
  auto e = DecodeEventJson(
      R"({"customer_id":"c42","ts":"2011-12-09T12:50:00Z","type":"purchase","amount":19.5,)"
      R"("quantity":3,"product":"sku-1","category":"mugs","channel":"online","node":"shop-7"})");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->customer_id, "c42");
  EXPECT_EQ(FormatRfc3339(e->timestamp), "2011-12-09T12:50:00.000Z");
  EXPECT_EQ(e->type, segment::EventType::kPurchase);
  EXPECT_DOUBLE_EQ(e->amount, 19.5);
  EXPECT_EQ(e->quantity, 3);
  EXPECT_EQ(e->category, "mugs");
  auto back = EventFromJson(EventToJson(*e));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->customer_id, e->customer_id);
  EXPECT_EQ(back->timestamp, e->timestamp);
  EXPECT_EQ(back->node, "shop-7");
}

TEST(EventJsonTest, UnixSecondsAndDefaults) {
  auto e = DecodeEventJson(R"({"customer_id":"c1","ts":1700000000.25,"type":"view","quantity":0})");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_DOUBLE_EQ(ToUnixSeconds(e->timestamp), 1700000000.25);
  EXPECT_DOUBLE_EQ(e->amount, 0);
}

TEST(EventJsonTest, RejectsBadFieldsWithTheFieldName) {
  struct Case {
    const char* json;
    const char* reason_prefix;
  } cases[] = {
      {R"({"ts":1,"type":"view"})", "customer_id: missing"},
      {R"({"customer_id":"","ts":1,"type":"view"})", "customer_id"},
      {R"({"customer_id":7,"ts":1,"type":"view"})", "customer_id: expected a string"},
      {R"({"customer_id":"c","type":"view"})", "ts: missing"},
      {R"({"customer_id":"c","ts":"yesterday","type":"view"})", "ts: "},
      {R"({"customer_id":"c","ts":1,"type":"steal"})", "type: "},
      {R"({"customer_id":"c","ts":1,"type":"purchase","amount":-3})", "amount"},
      {R"({"customer_id":"c","ts":1,"type":"purchase","amount":"12"})", "amount: expected a number"},
      {R"({"customer_id":"c","ts":1,"type":"purchase","quantity":1.5})", "quantity: expected an integer"},
      {R"({"customer_id":"c","ts":1,"type":"purchase","quantity":-1})", "quantity: out of range"},
      {R"({"customer_id":"c","ts":1,"type":"purchase","amnt":3})", "amnt: unknown key"},
      {R"([1,2])", "expected a JSON object"},
      {R"({"customer_id":"c","ts":1,)", "malformed JSON"},
  };
  for (const auto& c : cases) {
    auto e = DecodeEventJson(c.json);
    ASSERT_FALSE(e.ok()) << c.json;
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(e.status().message().rfind(c.reason_prefix, 0), 0u)
        << c.json << " -> " << e.status().message();
  }
}

TEST(EventJsonTest, NonFiniteNumbersAreRejected) {
  // JSON has no NaN/Infinity literals, and a huge exponent overflows: all malformed, none crash.
  for (const char* amount : {"NaN", "Infinity", "-Infinity", "1e999"}) {
    auto e = DecodeEventJson(std::string(R"({"customer_id":"c","ts":1,"type":"purchase","amount":)") +
                             amount + "}");
    ASSERT_FALSE(e.ok()) << amount;
    EXPECT_EQ(e.status().message().rfind("malformed JSON", 0), 0u) << e.status();
  }
}

TEST(EventJsonTest, NdjsonKeepsValidLinesAndReportsEveryBadOne) {
  std::string body =
      "{\"customer_id\":\"a\",\"ts\":1,\"type\":\"view\",\"quantity\":0}\n"
      "not json\n"
      "\n"
      "{\"customer_id\":\"b\",\"ts\":2,\"type\":\"purchase\",\"amount\":5}\r\n"
      "{\"customer_id\":\"c\",\"ts\":3,\"type\":\"purchase\",\"amount\":-1}\n"
      "{\"customer_id\":\"d\",\"ts\":4,\"type\":\"cart\"}";  // no trailing newline
  EventBatch b = DecodeEventsNdjson(body, 1000);
  ASSERT_EQ(b.events.size(), 3u);
  EXPECT_EQ(b.events[1].customer_id, "b");
  EXPECT_EQ(b.event_lines, (std::vector<size_t>{1, 4, 6}));
  ASSERT_EQ(b.errors.size(), 2u);
  EXPECT_EQ(b.errors[0].line, 2u);
  EXPECT_EQ(b.errors[1].line, 5u);
  EXPECT_EQ(b.blank_lines, 1u);
}

TEST(EventJsonTest, LineLimitReportsTheRest) {
  std::string body;
  for (int i = 0; i < 5; ++i)
    body += "{\"customer_id\":\"x\",\"ts\":1,\"type\":\"view\",\"quantity\":0}\n";
  EventBatch b = DecodeEventsNdjson(body, 3);
  EXPECT_EQ(b.events.size(), 3u);
  ASSERT_EQ(b.errors.size(), 1u);
  EXPECT_EQ(b.errors[0].line, 4u);
}

TEST(EventJsonTest, OverlongLineAndFieldsAreRejected) {
  std::string huge = R"({"customer_id":"c","ts":1,"type":"view","product":")" +
                     std::string(70000, 'p') + "\"}";
  EXPECT_NE(DecodeEventJson(huge).status().message().find("longer than"), std::string::npos);
  std::string long_field = R"({"customer_id":"c","ts":1,"type":"view","quantity":0,"product":")" +
                           std::string(300, 'p') + "\"}";
  EXPECT_EQ(DecodeEventJson(long_field).status().message().rfind("product: longer", 0), 0u);
}

TEST(EventJsonTest, EventIdIsKeptAndRoundTrips) {
  auto e = DecodeEventJson(R"({"customer_id":"c","ts":1,"type":"view","quantity":0,"id":"ev-1 A~"})");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->id, "ev-1 A~");
  EXPECT_EQ(EventToJson(*e).value("id", ""), "ev-1 A~");
  auto back = EventFromJson(EventToJson(*e));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->id, "ev-1 A~");
  auto none = DecodeEventJson(R"({"customer_id":"c","ts":1,"type":"view","quantity":0,"id":null})");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->id, "");
  EXPECT_FALSE(EventToJson(*none).contains("id"));
  const std::string max_id(128, 'x');
  auto longest = DecodeEventJson(R"({"customer_id":"c","ts":1,"type":"view","quantity":0,"id":")" +
                                 max_id + "\"}");
  ASSERT_TRUE(longest.ok()) << longest.status();
  EXPECT_EQ(longest->id, max_id);
}

TEST(EventJsonTest, BadEventIdsAreRejectedWithTheFieldName) {
  const std::string base = R"({"customer_id":"c","ts":1,"type":"view","quantity":0,"id":)";
  struct Case {
    std::string id_json;
    const char* reason_prefix;
  } cases[] = {
      {"7", "id: expected a string"},
      {"[\"a\"]", "id: expected a string"},
      {"\"\"", "id: empty"},
      {"\"" + std::string(129, 'x') + "\"", "id: too long (129 bytes; max 128)"},
      {"\"a\\u0001b\"", "id: not a printable ASCII character (byte 1)"},
      {"\"tab\\there\"", "id: not a printable ASCII character (byte 9)"},
      {"\"caf\u00e9\"", "id: not a printable ASCII character"},
  };
  for (const auto& c : cases) {
    auto e = DecodeEventJson(base + c.id_json + "}");
    ASSERT_FALSE(e.ok()) << c.id_json;
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(e.status().message().rfind(c.reason_prefix, 0), 0u)
        << c.id_json << " -> " << e.status().message();
  }
}

}  // namespace
}  // namespace strata::codec
