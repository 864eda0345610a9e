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
  STRATA_RETURN_IF_ERROR(db->Exec(kSchema));
  std::unique_ptr<ProfileStore> s(new ProfileStore(std::move(db), std::move(table).value()));
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
                             "category, channel, node FROM seg_events ORDER BY seq"));
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
  STRATA_ASSIGN_OR_RETURN(auto insert,
                          db_->Prepare("INSERT INTO seg_events(customer_id, ts_ns, type, amount, "
                                       "quantity, product, category, channel, node) "
                                       "VALUES(?,?,?,?,?,?,?,?,?)"));
  STRATA_RETURN_IF_ERROR(db_->Transaction([&]() -> Status {
    for (const Event* e : valid) {
      insert.Bind(1, std::string_view(e->customer_id))
          .Bind(2, ToNs(e->timestamp))
          .Bind(3, static_cast<int64_t>(e->type))
          .Bind(4, e->amount)
          .Bind(5, static_cast<int64_t>(e->quantity))
          .Bind(6, std::string_view(e->product))
          .Bind(7, std::string_view(e->category))
          .Bind(8, std::string_view(e->channel))
          .Bind(9, std::string_view(e->node));
      STRATA_RETURN_IF_ERROR(insert.Run());
    }
    return Status::Ok();
  }));
  // Committed (durable): now apply and acknowledge.
  for (const Event* e : valid) table_->UpdateUnchecked(*e);
  result.accepted = static_cast<int64_t>(valid.size());
  log_events_ += result.accepted;
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
    return db_->Exec("DELETE FROM seg_events");
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
