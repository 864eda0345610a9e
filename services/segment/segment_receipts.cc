// MQTT event ingest with receipts for strata-segment; see segment_receipts.h.
#include "segment_receipts.h"

#include <spdlog/spdlog.h>

#include <cctype>
#include <chrono>
#include <nlohmann/json.hpp>
#include <vector>

#include "strata/metrics/metrics.h"

namespace strata::segment_service {
namespace {

constexpr size_t kIdsPerReceipt = 5000;
constexpr size_t kMaxEventsPerMessage = 100000;

bool ValidPublisher(std::string_view p) {
  if (p.empty() || p.size() > 64) return false;
  for (char c : p)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'))
      return false;
  return true;
}

// Start offsets of the lines of `body` (line n, 1-based as DecodeEventsNdjson counts, starts at
// starts[n - 1]); computed once per message so naming many bad lines stays linear.
std::vector<size_t> LineStarts(std::string_view body) {
  std::vector<size_t> starts{0};
  for (size_t i = 0; i < body.size(); ++i)
    if (body[i] == '\n') starts.push_back(i + 1);
  return starts;
}

std::string_view LineOf(std::string_view body, const std::vector<size_t>& starts, size_t n) {
  if (n == 0 || n > starts.size()) return {};
  size_t begin = starts[n - 1];
  size_t end = n < starts.size() ? starts[n] - 1 : body.size();
  return body.substr(begin, end - begin);
}

}  // namespace

std::string PublisherOf(std::string_view topic, const std::string& node) {
  const std::string prefix = "strata/seg/" + node + "/events/";
  if (topic.size() <= prefix.size() || topic.substr(0, prefix.size()) != prefix) return "";
  std::string_view p = topic.substr(prefix.size());
  return ValidPublisher(p) ? std::string(p) : "";
}

std::vector<std::string> ReceiptPayloads(std::string_view payload, const codec::EventBatch& batch,
                                         const IngestedIds& ids, double ts) {
  nlohmann::json rejected = nlohmann::json::array();
  for (const auto& [id, reason] : ids.rejected)
    rejected.push_back({{"id", id}, {"reason", reason}});
  const std::vector<size_t> starts =
      batch.errors.empty() ? std::vector<size_t>{} : LineStarts(payload);
  for (const auto& err : batch.errors) {  // not even an event: name it if it carries an id
    auto j = nlohmann::json::parse(LineOf(payload, starts, err.line), nullptr, false);
    if (j.is_object() && j.contains("id") && j["id"].is_string())
      rejected.push_back({{"id", j["id"].get<std::string>()}, {"reason", err.reason}});
  }
  std::vector<std::string> out;
  size_t i = 0;
  do {
    nlohmann::json r = {{"ids", nlohmann::json::array()}, {"ts", ts}};
    for (size_t n = 0; i < ids.stored.size() && n < kIdsPerReceipt; ++n, ++i)
      r["ids"].push_back(ids.stored[i]);
    if (out.empty() && !rejected.empty()) r["rejected"] = rejected;
    if (r["ids"].empty() && !r.contains("rejected")) break;
    out.push_back(r.dump());
  } while (i < ids.stored.size());
  return out;
}

void HandleEventsMessage(SegmentService& service, mqtt::MqttClient& bus, const std::string& node,
                         const mqtt::Message& m) {
  codec::EventBatch batch = codec::DecodeEventsNdjson(m.payload, kMaxEventsPerMessage);
  const std::string publisher = PublisherOf(m.topic, node);
  if (publisher.empty() && m.topic != "strata/seg/" + node + "/events")
    spdlog::warn(
        "MQTT events on '{}': publisher name must match [A-Za-z0-9._-]{{1,64}}; stored "
        "without a receipt",
        m.topic);
  IngestedIds ids;
  auto r = service.Ingest(batch, publisher.empty() ? nullptr : &ids);
  if (!r.ok()) {  // nothing committed: no receipt, the publisher's outbox resends
    spdlog::error("MQTT events not ingested: {}", r.status().message());
    return;
  }
  if (!batch.errors.empty())
    spdlog::warn("MQTT events: {} line(s) rejected, first: line {}: {}", batch.errors.size(),
                 batch.errors[0].line, batch.errors[0].reason);
  if (publisher.empty()) return;
  const double ts =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  static metrics::Counter queued =
      metrics::GetCounter("strata_segment_mqtt_receipts_total", "Receipts for MQTT-ingested events",
                          {{"result", "queued"}});
  static metrics::Counter failed =
      metrics::GetCounter("strata_segment_mqtt_receipts_total", "Receipts for MQTT-ingested events",
                          {{"result", "failed"}});
  static metrics::Counter events =
      metrics::GetCounter("strata_segment_mqtt_receipted_events_total",
                          "MQTT-ingested event ids named as stored in a receipt", {});
  const std::string topic = "strata/seg/" + node + "/receipts/" + publisher;
  bool all_queued = true;
  for (const std::string& body : ReceiptPayloads(m.payload, batch, ids, ts)) {
    // From the inline handler this is queued to the client's dispatcher; a receipt lost in a
    // crash only makes the publisher resend, and the resend is answered as a duplicate.
    Status s = bus.Publish(topic, body, 1, false);
    if (s.ok()) {
      queued.Inc();
    } else {
      failed.Inc();
      all_queued = false;
      spdlog::warn("MQTT receipt to '{}' not sent: {}", topic, s.message());
    }
  }
  if (all_queued && !ids.stored.empty()) events.Inc(static_cast<double>(ids.stored.size()));
}

}  // namespace strata::segment_service
