#include "strata/segment/event.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace strata::segment {
namespace {

Event Valid() {
  Event e;
  e.customer_id = "c1";
  e.timestamp = FromUnixSeconds(1.7e9);
  e.type = EventType::kPurchase;
  e.amount = 10;
  e.quantity = 2;
  return e;
}

void ExpectRejected(const Event& e, const std::string& prefix) {
  Status s = ValidateEvent(e);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(s.message().rfind(prefix, 0), 0u) << s.message();
}

TEST(EventTest, ValidEventPasses) { EXPECT_TRUE(ValidateEvent(Valid()).ok()); }

TEST(EventTest, RejectsBadFieldsNamingTheField) {
  Event e = Valid();
  e.customer_id = "";
  ExpectRejected(e, "customer_id: missing");
  e = Valid();
  e.customer_id = std::string(200, 'x');
  ExpectRejected(e, "customer_id: too long");
  e = Valid();
  e.amount = std::numeric_limits<double>::quiet_NaN();
  ExpectRejected(e, "amount: not finite");
  e.amount = std::numeric_limits<double>::infinity();
  ExpectRejected(e, "amount: not finite");
  e.amount = -3.5;
  ExpectRejected(e, "amount: negative");
  e = Valid();
  e.quantity = 0;
  ExpectRejected(e, "quantity: out of range");
  e.quantity = kMaxQuantity + 1;
  ExpectRejected(e, "quantity: out of range");
  e = Valid();
  e.timestamp = WallTime{};
  ExpectRejected(e, "timestamp: missing");
  e = Valid();
  e.type = static_cast<EventType>(9);
  ExpectRejected(e, "type: invalid");
}

TEST(EventTest, ViewMayHaveZeroQuantity) {
  Event e = Valid();
  e.type = EventType::kView;
  e.quantity = 0;
  e.amount = 0;
  EXPECT_TRUE(ValidateEvent(e).ok());
}

TEST(EventTest, TypeNamesRoundTrip) {
  for (EventType t :
       {EventType::kPurchase, EventType::kReturn, EventType::kView, EventType::kCart}) {
    auto parsed = ParseEventType(EventTypeName(t));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, t);
  }
  auto bad = ParseEventType("refund");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("refund"), std::string::npos);
}

}  // namespace
}  // namespace strata::segment
