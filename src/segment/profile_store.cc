#include "strata/segment/profile_store.h"

#include <chrono>

namespace strata::segment {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS seg_events(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  customer_id TEXT NOT NULL, ts_ns INTEGER NOT NULL, type INTEGER NOT NULL,
  amount REAL NOT NULL, quantity INTEGER NOT NULL,
  product TEXT NOT NULL, category TEXT NOT NULL, channel TEXT NOT NULL, node TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS seg_profiles(customer_id TEXT PRIMARY KEY, state BLOB NOT NULL)
  WITHOUT ROWID;
)sql";
// Added for idempotent ingest (databases created before it get the columns once at open):
// event_id: the client's event id (NULL = none; UNIQUE lets any number of NULLs through);
// snapshotted: 1 = already folded into seg_profiles, kept only so its id still dedupes.
constexpr const char* kAddEventId = "ALTER TABLE seg_events ADD COLUMN event_id TEXT";
constexpr const char* kAddSnapshotted =
    "ALTER TABLE seg_events ADD COLUMN snapshotted INTEGER NOT NULL DEFAULT 0";
constexpr const char* kIdIndex =
    "CREATE UNIQUE INDEX IF NOT EXISTS seg_events_event_id ON seg_events(event_id)";

Result<bool> HasColumn(store::Database& db, const std::string& column) {
  STRATA_ASSIGN_OR_RETURN(auto info, db.Prepare("PRAGMA table_info(seg_events)"));
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool row, info.Step());
    if (!row) return false;
    if (info.ColumnText(1) == column) return true;
  }
}

Status Migrate(store::Database& db) {
  STRATA_ASSIGN_OR_RETURN(bool has_id, HasColumn(db, "event_id"));
  STRATA_ASSIGN_OR_RETURN(bool has_snap, HasColumn(db, "snapshotted"));
  if (has_id && has_snap) return db.Exec(kIdIndex);
  return db.Transaction([&]() -> Status {
    if (!has_id) STRATA_RETURN_IF_ERROR(db.Exec(kAddEventId));
    if (!has_snap) STRATA_RETURN_IF_ERROR(db.Exec(kAddSnapshotted));
    return db.Exec(kIdIndex);
  });
}

int64_t ToNs(WallTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
WallTime FromNs(int64_t ns) {
  return WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::nanoseconds(ns)));
}

}  // namespace

Result<std::unique_ptr<ProfileStore>> ProfileStore::Open(const Config& config) {
  return Open(config, nullptr);
}

Result<std::unique_ptr<ProfileStore>> ProfileStore::Open(const Config& config,
                                                         ProfileTable* external) {
  if (config.path.empty()) return InvalidArgumentError("path: missing");
  auto table = ProfileTable::Create(config.profiles);
  if (!table.ok()) return table.status().WithContext("profiles");
  if (external != nullptr && external->size() != 0) {
    return FailedPreconditionError("external profile table must be empty before recovery");
  }
  store::DatabaseOptions opts;
  opts.full_sync = config.full_sync;
  STRATA_ASSIGN_OR_RETURN(auto db, store::Database::Open(config.path, opts));
  if (config.keep_event_ids < 0) return InvalidArgumentError("keep_event_ids: negative");
  STRATA_RETURN_IF_ERROR(db->Exec(kSchema));
  STRATA_RETURN_IF_ERROR(Migrate(*db).WithContext("adding seg_events.event_id"));
  std::unique_ptr<ProfileStore> s(new ProfileStore(std::move(db), std::move(table).value()));
  s->keep_event_ids_ = config.keep_event_ids;
  if (external != nullptr) s->table_ = external;
  STRATA_RETURN_IF_ERROR(s->Load());
  return s;
}

Status ProfileStore::Load() {
  STRATA_ASSIGN_OR_RETURN(auto profiles,
                          db_->Prepare("SELECT customer_id, state FROM seg_profiles"));
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool row, profiles.Step());
    if (!row) break;
    const std::string id = profiles.ColumnText(0);
    const std::vector<uint8_t> blob = profiles.ColumnBlob(1);
    STRATA_RETURN_IF_ERROR(table_->RestoreProfile(
        id, std::string_view(reinterpret_cast<const char*>(blob.data()), blob.size())));
  }
  STRATA_ASSIGN_OR_RETURN(
      auto log, db_->Prepare("SELECT customer_id, ts_ns, type, amount, quantity, product, "
                             "category, channel, node, event_id FROM seg_events WHERE snapshotted = 0 "
                             "ORDER BY seq"));
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool row, log.Step());
    if (!row) break;
    Event e;
    e.customer_id = log.ColumnText(0);
    e.timestamp = FromNs(log.ColumnInt(1));
    e.type = static_cast<EventType>(log.ColumnInt(2));
    e.amount = log.ColumnDouble(3);
    e.quantity = static_cast<int32_t>(log.ColumnInt(4));
    e.product = log.ColumnText(5);
    e.category = log.ColumnText(6);
    e.channel = log.ColumnText(7);
    e.node = log.ColumnText(8);
    e.id = log.ColumnText(9);  // NULL reads as ""
    Status valid = ValidateEvent(e);
    if (!valid.ok()) {
      return DataLossError("event log entry " + std::to_string(replayed_ + 1) +
                           " is invalid: " + valid.message());
    }
    table_->UpdateUnchecked(e);
    ++replayed_;
  }
  log_events_ = replayed_;
  return Status::Ok();
}

Result<ProfileStore::AppendResult> ProfileStore::Append(std::span<const Event> events) {
  AppendResult result;
  std::vector<const Event*> valid;
  valid.reserve(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    Status s = ValidateEvent(events[i]);
    if (s.ok()) {
      valid.push_back(&events[i]);
    } else {
      result.rejected.push_back({i, std::move(s)});
    }
  }
  if (valid.empty()) return result;
  // A repeated event id (already in the log, or earlier in this batch) inserts nothing: it is
  // acknowledged as a duplicate and not applied again.
  STRATA_ASSIGN_OR_RETURN(auto insert,
                          db_->Prepare("INSERT INTO seg_events(customer_id, ts_ns, type, amount, "
                                       "quantity, product, category, channel, node, event_id) "
                                       "VALUES(?,?,?,?,?,?,?,?,?,?) "
                                       "ON CONFLICT(event_id) DO NOTHING"));
  std::vector<bool> duplicate(valid.size(), false);
  STRATA_RETURN_IF_ERROR(db_->Transaction([&]() -> Status {
    for (size_t i = 0; i < valid.size(); ++i) {
      const Event* e = valid[i];
      insert.Bind(1, std::string_view(e->customer_id))
          .Bind(2, ToNs(e->timestamp))
          .Bind(3, static_cast<int64_t>(e->type))
          .Bind(4, e->amount)
          .Bind(5, static_cast<int64_t>(e->quantity))
          .Bind(6, std::string_view(e->product))
          .Bind(7, std::string_view(e->category))
          .Bind(8, std::string_view(e->channel))
          .Bind(9, std::string_view(e->node));
      if (e->id.empty()) {
        insert.BindNull(10);
      } else {
        insert.Bind(10, std::string_view(e->id));
      }
      STRATA_RETURN_IF_ERROR(insert.Run());
      duplicate[i] = !e->id.empty() && db_->Changes() == 0;
    }
    return Status::Ok();
  }));
  // Committed (durable): now apply and acknowledge.
  for (size_t i = 0; i < valid.size(); ++i) {
    if (duplicate[i]) {
      result.duplicate_indices.push_back(static_cast<size_t>(valid[i] - events.data()));
      continue;
    }
    table_->UpdateUnchecked(*valid[i]);
  }
  result.accepted = static_cast<int64_t>(valid.size());
  result.duplicates = static_cast<int64_t>(result.duplicate_indices.size());
  log_events_ += result.accepted - result.duplicates;
  return result;
}

Status ProfileStore::Snapshot() {
  const std::vector<uint32_t> dirty = table_->TakeDirty();
  STRATA_ASSIGN_OR_RETURN(auto upsert,
                          db_->Prepare("INSERT OR REPLACE INTO seg_profiles(customer_id, state) "
                                       "VALUES(?, ?)"));
  Status s = db_->Transaction([&]() -> Status {
    for (uint32_t idx : dirty) {
      const std::string blob = table_->SerializeProfile(idx);
      upsert.Bind(1, table_->customer_id(idx)).BindBlob(2, blob.data(), blob.size());
      STRATA_RETURN_IF_ERROR(upsert.Run());
    }
    // Events without an id are folded into the profiles and go; events with one stay (marked, so
    // they are not replayed) for the newest keep_event_ids ids, which keep deduping resends.
    STRATA_RETURN_IF_ERROR(db_->Exec("DELETE FROM seg_events WHERE event_id IS NULL"));
    STRATA_RETURN_IF_ERROR(db_->Exec("UPDATE seg_events SET snapshotted = 1 WHERE snapshotted = 0"));
    STRATA_ASSIGN_OR_RETURN(auto prune,
                            db_->Prepare("DELETE FROM seg_events WHERE seq <= (SELECT seq FROM "
                                         "seg_events ORDER BY seq DESC LIMIT 1 OFFSET ?)"));
    prune.Bind(1, keep_event_ids_);
    return prune.Run();
  });
  if (!s.ok()) {
    // Nothing was written: the profiles stay dirty for the next attempt.
    for (uint32_t idx : dirty) table_->MarkDirty(idx);
    return s;
  }
  log_events_ = 0;
  return db_->Checkpoint();
}

}  // namespace strata::segment
