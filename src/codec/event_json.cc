// JSON codec for customer events: EventFromJson / DecodeEventJson / DecodeEventsNdjson /
// EventToJson (schema and usage in include/strata/codec/event_json.h).
#include "strata/codec/event_json.h"

#include <cmath>

namespace strata::codec {
namespace {

constexpr size_t kMaxLineBytes = 64 * 1024;
constexpr size_t kMaxTextField = 256;

Status Text(const nlohmann::json& j, const char* key, std::string* out, bool required) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) return InvalidArgumentError(std::string(key) + ": missing");
    return Status::Ok();
  }
  if (!it->is_string()) return InvalidArgumentError(std::string(key) + ": expected a string");
  const std::string& s = it->get_ref<const std::string&>();
  if (s.size() > kMaxTextField)
    return InvalidArgumentError(std::string(key) + ": longer than " +
                                std::to_string(kMaxTextField) + " bytes");
  *out = s;
  return Status::Ok();
}

}  // namespace

Result<segment::Event> EventFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return InvalidArgumentError("expected a JSON object per line");
  static const char* kKeys[] = {"customer_id", "ts",      "type",    "amount", "quantity",
                                "product",     "category", "channel", "node",   "id"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool known = false;
    for (const char* k : kKeys) known |= it.key() == k;
    if (!known) return InvalidArgumentError(it.key() + ": unknown key");
  }
  segment::Event e;
  STRATA_RETURN_IF_ERROR(Text(j, "customer_id", &e.customer_id, true));
  auto ts = j.find("ts");
  if (ts == j.end() || ts->is_null()) return InvalidArgumentError("ts: missing");
  if (ts->is_string()) {
    auto t = ParseRfc3339(ts->get_ref<const std::string&>());
    if (!t.ok()) return InvalidArgumentError("ts: " + t.status().message());
    e.timestamp = *t;
  } else if (ts->is_number()) {
    double secs = ts->get<double>();
    if (!std::isfinite(secs) || secs < 0 || secs > 4.1e9)
      return InvalidArgumentError("ts: unix seconds out of range");
    e.timestamp = FromUnixSeconds(secs);
  } else {
    return InvalidArgumentError("ts: expected an RFC 3339 string or unix seconds");
  }
  std::string type;
  STRATA_RETURN_IF_ERROR(Text(j, "type", &type, true));
  auto parsed_type = segment::ParseEventType(type);
  if (!parsed_type.ok()) return InvalidArgumentError("type: " + parsed_type.status().message());
  e.type = *parsed_type;
  if (auto a = j.find("amount"); a != j.end() && !a->is_null()) {
    if (!a->is_number()) return InvalidArgumentError("amount: expected a number");
    e.amount = a->get<double>();
  }
  if (auto q = j.find("quantity"); q != j.end() && !q->is_null()) {
    if (!q->is_number_integer()) return InvalidArgumentError("quantity: expected an integer");
    int64_t v = q->get<int64_t>();
    if (v < 0 || v > segment::kMaxQuantity)
      return InvalidArgumentError("quantity: out of range (" + std::to_string(v) + ")");
    e.quantity = static_cast<int32_t>(v);
  }
  STRATA_RETURN_IF_ERROR(Text(j, "product", &e.product, false));
  STRATA_RETURN_IF_ERROR(Text(j, "category", &e.category, false));
  STRATA_RETURN_IF_ERROR(Text(j, "channel", &e.channel, false));
  STRATA_RETURN_IF_ERROR(Text(j, "node", &e.node, false));
  if (auto id = j.find("id"); id != j.end() && !id->is_null()) {
    if (!id->is_string()) return InvalidArgumentError("id: expected a string");
    e.id = id->get<std::string>();
    if (e.id.empty()) return InvalidArgumentError("id: empty (expected 1..128 printable characters)");
    STRATA_RETURN_IF_ERROR(segment::ValidateEventId(e.id));
  }
  STRATA_RETURN_IF_ERROR(segment::ValidateEvent(e));
  return e;
}

Result<segment::Event> DecodeEventJson(std::string_view text) {
  if (text.size() > kMaxLineBytes)
    return InvalidArgumentError("line longer than " + std::to_string(kMaxLineBytes) + " bytes");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return InvalidArgumentError("malformed JSON at byte " + std::to_string(e.byte));
  } catch (const nlohmann::json::exception& e) {  // e.g. number overflow (1e999)
    return InvalidArgumentError(std::string("malformed JSON: ") + e.what());
  }
  return EventFromJson(j);
}

EventBatch DecodeEventsNdjson(std::string_view body, size_t max_lines) {
  EventBatch batch;
  size_t line = 0, pos = 0;
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) end = body.size();
    std::string_view text = body.substr(pos, end - pos);
    pos = end + 1;
    ++line;
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text.find_first_not_of(" \t") == std::string_view::npos) {
      batch.blank_lines++;
      continue;
    }
    if (line > max_lines) {
      batch.errors.push_back({line, "batch has more than " + std::to_string(max_lines) +
                                        " lines; this line and the rest were not read"});
      break;
    }
    auto e = DecodeEventJson(text);
    if (e.ok()) {
      batch.events.push_back(std::move(e).value());
      batch.event_lines.push_back(line);
    } else {
      batch.errors.push_back({line, e.status().message()});
    }
  }
  return batch;
}

nlohmann::json EventToJson(const segment::Event& e) {
  nlohmann::json j = {{"customer_id", e.customer_id},
                      {"ts", FormatRfc3339(e.timestamp)},
                      {"type", segment::EventTypeName(e.type)},
                      {"amount", e.amount},
                      {"quantity", e.quantity}};
  if (!e.product.empty()) j["product"] = e.product;
  if (!e.category.empty()) j["category"] = e.category;
  if (!e.channel.empty()) j["channel"] = e.channel;
  if (!e.node.empty()) j["node"] = e.node;
  if (!e.id.empty()) j["id"] = e.id;
  return j;
}

}  // namespace strata::codec
