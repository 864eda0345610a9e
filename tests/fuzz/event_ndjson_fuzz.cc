// Fuzz target: NDJSON customer events (POST /api/v1/events, MQTT strata/seg/<node>/events).
// Invariants: every line is either an event, an error or blank; every decoded event re-encodes to
// JSON that decodes to the same customer and amount.
#include "fuzz.h"
#include "strata/codec/event_json.h"

std::vector<std::string> strata::fuzz::Seeds() {
  return {
      R"({"customer_id":"c1","timestamp":"2026-11-24T05:13:46Z","type":"purchase","amount":12.5,"quantity":2,"product":"p1","category":"books","channel":"web","node":"edge-1"})"
      "\n"
      R"({"customer_id":"c2","timestamp":"2026-11-24 05:13:47","type":"view","amount":0,"quantity":0})",
      R"({"customer_id":"c3","timestamp":1764000000,"type":"return","amount":3})"
      "\n\n{\"customer_id\":null}\nnot json\n",
      R"({"customer_id":"c4","timestamp":"2026-11-24T05:13:46.5+02:00","type":"purchase","amount":1e308})",
  };
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  strata::codec::EventBatch b = strata::codec::DecodeEventsNdjson(body, 1000);
  STRATA_FUZZ_CHECK(b.events.size() == b.event_lines.size());
  for (const auto& e : b.events) {
    auto again = strata::codec::DecodeEventJson(strata::codec::EventToJson(e).dump());
    STRATA_FUZZ_CHECK(again.ok());
    STRATA_FUZZ_CHECK(again->customer_id == e.customer_id);
    STRATA_FUZZ_CHECK(again->amount == e.amount);
  }
  return 0;
}
