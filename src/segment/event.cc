#include "strata/segment/event.h"

#include <cmath>
#include <string>

namespace strata::segment {

std::string_view EventTypeName(EventType type) {
  switch (type) {
    case EventType::kPurchase:
      return "purchase";
    case EventType::kReturn:
      return "return";
    case EventType::kView:
      return "view";
    case EventType::kCart:
      return "cart";
  }
  return "unknown";
}

Result<EventType> ParseEventType(std::string_view text) {
  for (EventType t :
       {EventType::kPurchase, EventType::kReturn, EventType::kView, EventType::kCart}) {
    if (text == EventTypeName(t)) return t;
  }
  return InvalidArgumentError("type: unknown event type '" + std::string(text) +
                              "' (expected purchase|return|view|cart)");
}

Status ValidateEventId(std::string_view id) {
  if (id.size() > kMaxEventIdLength) {
    return InvalidArgumentError("id: too long (" + std::to_string(id.size()) + " bytes; max " +
                                std::to_string(kMaxEventIdLength) + ")");
  }
  for (unsigned char c : id) {
    if (c < 0x20 || c > 0x7e)
      return InvalidArgumentError("id: not a printable ASCII character (byte " +
                                  std::to_string(static_cast<int>(c)) + ")");
  }
  return Status::Ok();
}

Status ValidateEvent(const Event& e) {
  if (e.customer_id.empty()) return InvalidArgumentError("customer_id: missing");
  if (e.customer_id.size() > kMaxCustomerIdLength) {
    return InvalidArgumentError("customer_id: too long (" + std::to_string(e.customer_id.size()) +
                                " bytes; max " + std::to_string(kMaxCustomerIdLength) + ")");
  }
  for (unsigned char c : e.customer_id) {
    if (c < 0x20 || c == 0x7f) return InvalidArgumentError("customer_id: control character");
  }
  if (e.timestamp.time_since_epoch().count() == 0) {
    return InvalidArgumentError("timestamp: missing");
  }
  if (!std::isfinite(e.amount)) {
    return InvalidArgumentError("amount: not finite (" + std::to_string(e.amount) + ")");
  }
  if (e.amount < 0) {
    return InvalidArgumentError("amount: negative (" + std::to_string(e.amount) + ")");
  }
  const bool browsing = e.type == EventType::kView;
  const int32_t min_q = browsing ? 0 : 1;
  if (e.quantity < min_q || e.quantity > kMaxQuantity) {
    return InvalidArgumentError("quantity: out of range (" + std::to_string(e.quantity) + " for " +
                                std::string(EventTypeName(e.type)) + "; expected " +
                                std::to_string(min_q) + ".." + std::to_string(kMaxQuantity) + ")");
  }
  STRATA_RETURN_IF_ERROR(ValidateEventId(e.id));
  switch (e.type) {
    case EventType::kPurchase:
    case EventType::kReturn:
    case EventType::kView:
    case EventType::kCart:
      break;
    default:
      return InvalidArgumentError("type: invalid enum value " +
                                  std::to_string(static_cast<int>(e.type)));
  }
  return Status::Ok();
}

}  // namespace strata::segment
