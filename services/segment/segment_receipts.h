// MQTT event ingest with application-level receipts for strata-segment (docs/services/segment.md
// "Receipts"). A publisher that wants to know its events are stored sends them on
// strata/seg/<node>/events/<publisher> (NDJSON, QoS 1, every event with an `id`); after the batch
// is committed, segment publishes {"ids":[...], "rejected":[{"id":..,"reason":..}], "ts":...}
// (QoS 1) on strata/seg/<node>/receipts/<publisher>. `ids` lists every event of the message that
// is stored — now or before (duplicates) — and `rejected` the invalid ones, which a resend cannot
// fix. Events without an id, and messages on the plain .../events topic, get no receipt (the
// pre-receipt behaviour). The publisher name comes from the topic, not the payload, so a broker ACL
// can pin it to the MQTT user. No receipt is sent when the commit failed: the publisher resends.
// Metrics: strata_segment_mqtt_receipts_total{result="queued"|"failed"},
// strata_segment_mqtt_receipted_events_total.
// Thread-safety: HandleEventsMessage may run on any thread (the service locks itself).
//
//   bus->SubscribeInline("strata/seg/" + node + "/events/+", 1, [&](const mqtt::Message& m) {
//     HandleEventsMessage(service, *bus, node, m);
//   });
#pragma once

#include <string>
#include <string_view>

#include "segment_service.h"
#include "strata/transport/mqtt.h"

namespace strata::segment_service {

// The publisher named by `topic` (strata/seg/<node>/events/<publisher>), or "" for the plain
// events topic or a name outside [A-Za-z0-9._-]{1,64}.
std::string PublisherOf(std::string_view topic, const std::string& node);

// The receipts (at most 5000 ids each) for a committed message `payload` whose decoded batch is
// `batch` and whose ingested ids are `ids`; undecodable lines that still carry a string "id" are
// listed as rejected. Empty when there is nothing to name. `ts` is Unix seconds.
std::vector<std::string> ReceiptPayloads(std::string_view payload, const codec::EventBatch& batch,
                                         const IngestedIds& ids, double ts);

// Decodes and ingests one MQTT events message; sends the receipts when it came from a publisher.
void HandleEventsMessage(SegmentService& service, mqtt::MqttClient& bus, const std::string& node,
                         const mqtt::Message& m);

}  // namespace strata::segment_service
