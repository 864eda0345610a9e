// NotifyStore: strata-notify's durable state in one SQLite database (WAL, synchronous=FULL) —
// the alert log (one row per alert, holding its latest JSON document) and the delivery outbox
// (one row per message still to send to a sink). An alert row and its outbox rows are written in
// one transaction, before the sighting is acknowledged ("acks mean durable"). The message table
// remembers each sighting's X-Strata-Message-Id with the answer given, committed in the same
// transaction as the alert it changed, so a sender's retry is answered, not processed twice.
// Schema changes are applied in Open (columns added to databases made by older versions).
// Thread-safety: every method may be called from any thread; one mutex serialises all access to
// the single connection (one writer per database).
//
//   STRATA_ASSIGN_OR_RETURN(auto store, NotifyStore::Open("var/notify.db"));
//   STRATA_RETURN_IF_ERROR(store->Save(row, {{.sink = "mqtt", .topic = t, .body = json}}));
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "strata/core/status.h"
#include "strata/store/sqlite.h"

namespace strata::notify_service {

enum class SnapshotState { kNone = 0, kPresent = 1, kExpired = 2 };

struct AlertRow {
  std::string alert_id;  // ULID
  std::string camera;
  int64_t track_id = 0;
  std::string event_type;
  std::string phase;  // new | update | end
  bool ended = false;
  int64_t last_seen_ms = 0;  // Unix ms of the last sighting that changed the row
  SnapshotState snapshot = SnapshotState::kNone;
  int64_t snapshot_ms = 0;     // when the snapshot file was written
  double snapshot_score = -1;  // score of the crop in the snapshot (-1 = unknown)
  std::string identity_status;
  nlohmann::json doc;  // the alert JSON as last published
  // Set by Acknowledge only; Save never changes them (an update keeps the operator's ack).
  std::optional<int64_t> acknowledged_at_ms;
  std::string acknowledged_by;
};

struct Delivery {
  int64_t id = 0;  // assigned by Save
  std::string alert_id;
  std::string sink;   // "mqtt" | "webhook"
  std::string topic;  // MQTT topic; webhook: ""
  std::string body;   // JSON text or JPEG bytes
  int attempts = 0;
};

struct EventQuery {
  int limit = 50;
  std::string before;              // alert_id cursor; "" = newest
  std::string camera, event_type;  // "" = any
  std::optional<int64_t> since_ms;  // alerts started (ULID time) at or after; nullopt = any
  std::optional<bool> acknowledged;  // nullopt = any
};

class NotifyStore {
 public:
  // Opens or creates the database and its tables. Errors name the file.
  static Result<std::unique_ptr<NotifyStore>> Open(const std::string& path);

  // Inserts or replaces the alert row and appends `outbox` rows, in one transaction — with the
  // message (id, answer) when `message_id` is not empty.
  Status Save(const AlertRow& row, const std::vector<Delivery>& outbox,
              const std::string& message_id = "", const std::string& answer = "");
  // The answer recorded for a message id, or nullopt when the id is new.
  Result<std::optional<std::string>> SeenMessage(const std::string& message_id);
  // Records a message that changed no alert (its answer only).
  Status RememberMessage(const std::string& message_id, const std::string& answer);
  // Forgets message ids recorded before `cutoff_ms` (bounds the table); returns how many.
  Result<int> ForgetMessagesBefore(int64_t cutoff_ms);
  // Alerts not ended yet (to resume dedupe and cooldown after a restart).
  Result<std::vector<AlertRow>> OpenAlerts();
  // NotFound for an unknown id.
  Result<AlertRow> Get(const std::string& alert_id);
  // Newest first; at most q.limit rows.
  Result<std::vector<AlertRow>> List(const EventQuery& q);
  // Records the operator's acknowledgement unless the alert already has one (the first ack is
  // kept); returns the row as stored and sets `*first` to whether this call recorded it.
  // NotFound for an unknown id.
  Result<AlertRow> Acknowledge(const std::string& alert_id, const std::string& by, int64_t at_ms,
                               bool* first = nullptr);
  // Rows of `identity_status` whose snapshot was written at or before `cutoff_ms`.
  Result<std::vector<AlertRow>> SnapshotsOlderThan(const std::string& identity_status,
                                                   int64_t cutoff_ms);
  // Pending outbox rows of `sink`, oldest first.
  Result<std::vector<Delivery>> Pending(const std::string& sink, int limit);
  Result<int64_t> PendingCount();
  // PRAGMA wal_checkpoint(TRUNCATE), so the WAL does not grow without bound.
  Status Checkpoint();
  // Delivered: the row is deleted.
  Status MarkDelivered(int64_t id);
  // A failed attempt; `give_up` marks the row failed (kept for inspection, never retried).
  Status MarkAttempt(int64_t id, int attempts, bool give_up, const std::string& error);

 private:
  NotifyStore() = default;
  Result<std::vector<AlertRow>> Query(store::Statement& st);
  std::mutex mu_;
  std::unique_ptr<store::Database> db_;
};

}  // namespace strata::notify_service
