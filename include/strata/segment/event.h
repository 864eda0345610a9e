// Event: one customer interaction (purchase, return, view, cart) as the segmentation stages see it.
//
// An Event is a plain value; codecs (NDJSON, MQTT) live outside src/segment and build Events, then
// call ValidateEvent before handing them to a ProfileTable. Timestamps may arrive out of order.
// Thread-safety: Event is a value type; the free functions are pure and thread-safe.
//
//   Event e{.customer_id = "c42", .timestamp = FromUnixSeconds(1.7e9),
//           .type = EventType::kPurchase, .amount = 19.99, .quantity = 1};
//   STRATA_RETURN_IF_ERROR(ValidateEvent(e));
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "strata/core/clock.h"
#include "strata/core/status.h"

namespace strata::segment {

enum class EventType : uint8_t { kPurchase = 0, kReturn = 1, kView = 2, kCart = 3 };

// "purchase", "return", "view", "cart".
std::string_view EventTypeName(EventType type);
// Inverse of EventTypeName (exact, lower case); InvalidArgument naming the text otherwise.
Result<EventType> ParseEventType(std::string_view text);

struct Event {
  std::string customer_id;
  WallTime timestamp{};
  EventType type = EventType::kPurchase;
  double amount = 0.0;   // money value of the event, >= 0 (a return carries the refunded value)
  int32_t quantity = 1;  // items, >= 1 (0 allowed for views)
  std::string product;
  std::string category;
  std::string channel;  // free text; "online"/"web"/"app" and "store"/"pos" are recognised
  std::string node;     // store or edge node that saw the event
  std::string id;       // optional client event id ("" = none): a repeated id is stored once
};

inline constexpr size_t kMaxCustomerIdLength = 128;
inline constexpr int32_t kMaxQuantity = 1'000'000;
inline constexpr size_t kMaxEventIdLength = 128;

// OK for "" (no id) or 1..kMaxEventIdLength printable ASCII characters (0x20..0x7e);
// InvalidArgument starting with "id: " otherwise.
Status ValidateEventId(std::string_view id);

// OK, or InvalidArgument whose message starts with the offending field name, e.g.
// "customer_id: missing", "amount: not finite (nan)", "amount: negative (-3.5)",
// "quantity: out of range (0 for purchase; expected 1..1000000)", "timestamp: missing",
// "id: too long (...)".
Status ValidateEvent(const Event& event);

}  // namespace strata::segment
