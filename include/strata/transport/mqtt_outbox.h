// MqttOutbox: a publisher-side durable outbox for MQTT with application-level receipts — the
// publishing half of "nothing acknowledged is lost" for events sent to strata-segment over MQTT
// (docs/reliability.md, docs/services/segment.md "Receipts").
//
// Enqueue() commits rows (id, one-line body) to one SQLite file (WAL, synchronous=FULL) and
// returns; the rows survive kill -9 of the publisher. A sender thread publishes pending rows
// oldest first, `batch_rows` per MQTT message (NDJSON: bodies joined by '\n'), QoS 1, on
// `events_topic`. A row is deleted only when a receipt on `receipts_topic` names its id
// ({"ids":[...], "rejected":[{"id":..,"reason":..}], "ts":...}); a row without a receipt
// `resend_after` after it was published is published again (the consumer deduplicates by id).
// A PUBACK alone never deletes a row: it only says the broker has the message. Rejected ids (the
// consumer stored nothing and a resend cannot help) are deleted and counted. The outbox is bounded
// (max_rows, max_bytes): Enqueue beyond them fails with ResourceExhausted, nothing is evicted.
// Marks are small key/value pairs committed in the same transaction as a batch (e.g. how far a
// file replay has enqueued, so a restarted publisher resumes where it stopped).
// Metrics (label outbox=<name>): strata_mqtt_outbox_pending (gauge),
// strata_mqtt_outbox_{published,resent,receipted,rejected}_total.
// Thread-safety: every method is safe from any thread; one mutex serialises the SQLite connection
// (one process per outbox file).
//
//   STRATA_ASSIGN_OR_RETURN(auto box, MqttOutbox::Open({.path = "var/outbox.db",
//       .events_topic = "strata/seg/edge-1/events/shop-7",
//       .receipts_topic = "strata/seg/edge-1/receipts/shop-7"}));
//   STRATA_RETURN_IF_ERROR(box->Start({.uri = broker, .client_id = "strata-outbox-shop-7",
//                                      .clean_session = false}, std::chrono::seconds(10)));
//   STRATA_RETURN_IF_ERROR(box->Enqueue({{"e-1", event_json}}).status());
//   box->WaitEmpty(std::chrono::seconds(60));  // true once every row is receipted
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "strata/core/status.h"
#include "strata/transport/mqtt.h"

namespace strata::store {
class Database;
}

namespace strata::mqtt {

struct OutboxConfig {
  std::string path;                              // the SQLite file (its directory is created)
  std::string name = "outbox";                   // the {outbox} metric label
  std::string events_topic;                      // where rows are published
  std::string receipts_topic;                    // where the consumer's receipts arrive
  int64_t max_rows = 100000;                     // >= 1
  int64_t max_bytes = 64 << 20;                  // id + body bytes, >= 1
  std::chrono::milliseconds resend_after{5000};  // republish a row still without a receipt
  size_t batch_rows = 100;                       // rows per MQTT message (1..10000)
  size_t max_inflight = 5000;  // published, not yet receipted rows (>= batch_rows)
  bool full_sync = true;       // false: synchronous=NORMAL (benchmarks only)
};

struct OutboxRow {
  std::string id;    // 1..128 printable ASCII characters, unique in the outbox
  std::string body;  // one line (no '\n')
};

struct OutboxStats {
  int64_t pending = 0;                                                // rows not yet receipted
  int64_t published = 0, resent = 0, receipted = 0, rejected = 0;     // rows, since Open
  std::vector<std::pair<std::string, std::string>> first_rejections;  // (id, reason), <= 20
};

class MqttOutbox {
 public:
  // InvalidArgument for bad bounds/topics; errors of Database::Open otherwise.
  static Result<std::unique_ptr<MqttOutbox>> Open(const OutboxConfig& config);
  ~MqttOutbox();  // Stop()s

  // Creates the MQTT client, subscribes to the receipts topic (QoS 1), connects (bounded by
  // `deadline`) and starts the sender, which first sends what the file already holds.
  Status Start(const Config& mqtt, std::chrono::milliseconds deadline);
  // Commits `rows` (and `marks`) in one transaction; durable when it returns. Rows whose id is
  // already pending are skipped; returns how many were added. InvalidArgument for a bad id or a
  // body with '\n'; ResourceExhausted when the outbox would exceed max_rows or max_bytes.
  Result<int64_t> Enqueue(const std::vector<OutboxRow>& rows,
                          const std::vector<std::pair<std::string, std::string>>& marks = {});
  // A mark's value, or nullopt.
  Result<std::optional<std::string>> Mark(const std::string& key);
  // Blocks until the outbox is empty (every row receipted or rejected) or `timeout`.
  bool WaitEmpty(std::chrono::milliseconds timeout);
  // Blocks until `rows` more rows fit (by count) or `timeout`.
  bool WaitForSpace(int64_t rows, std::chrono::milliseconds timeout);
  OutboxStats stats() const;
  // Stops the sender and disconnects (rows stay in the file). Idempotent.
  void Stop();

 private:
  explicit MqttOutbox(OutboxConfig c);
  void Loop();
  void OnReceipt(const Message& m);
  // Picks the next message's rows (due resends first, then new rows) and marks them in flight.
  Status NextBatchLocked(std::vector<OutboxRow>* out, bool* resend);
  void PublishGaugeLocked();

  struct Inflight {
    std::string id;
    std::chrono::steady_clock::time_point sent;
  };

  OutboxConfig config_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<MqttClient> client_;
  std::map<int64_t, Inflight> inflight_;             // seq → published row
  std::unordered_map<std::string, int64_t> seq_of_;  // id → seq, for rows in inflight_
  int64_t last_seq_ = 0;  // newest row published at least once since Start
  int64_t rows_ = 0, bytes_ = 0;
  OutboxStats stats_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace strata::mqtt
