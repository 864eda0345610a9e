// JSON codec for customer events (segmentation): one JSON object per event, NDJSON batches.
//
// Schema (JSON object per line):
//   {"customer_id": "c42", "ts": "2026-11-24T05:13:46Z" | 1764000000.5,
//    "type": "purchase|return|view|cart", "amount": 19.99, "quantity": 1,
//    "product": "sku-1", "category": "mugs", "channel": "online", "node": "shop-7",
//    "id": "optional client event id"}
// customer_id, ts and type are required; amount defaults to 0, quantity to 1. `id` (optional) is
// 1..128 printable ASCII characters; the profile store keeps one event per id. Unknown keys are
// rejected (a typo must not silently drop data). Every line is parsed and validated on its own:
// valid lines are returned, invalid lines are reported with their 1-based line number and reason.
// Thread-safety: pure functions.
//
//   EventBatch b = DecodeEventsNdjson(body, /*max_lines=*/100000);
//   for (auto& e : b.events) segmenter.Process(e);
//   for (auto& err : b.errors) Report(err.line, err.reason);
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "strata/core/status.h"
#include "strata/segment/event.h"

namespace strata::codec {

struct LineError {
  size_t line = 0;  // 1-based
  std::string reason;
};

struct EventBatch {
  std::vector<segment::Event> events;
  std::vector<size_t> event_lines;  // the line each event came from
  std::vector<LineError> errors;
  size_t blank_lines = 0;
};

// Decodes one JSON object (already parsed) into a validated Event.
Result<segment::Event> EventFromJson(const nlohmann::json& j);
// Decodes one line of text.
Result<segment::Event> DecodeEventJson(std::string_view text);
// Decodes an NDJSON body. Lines beyond `max_lines` are reported as errors, not read.
EventBatch DecodeEventsNdjson(std::string_view body, size_t max_lines);
nlohmann::json EventToJson(const segment::Event& e);

}  // namespace strata::codec
