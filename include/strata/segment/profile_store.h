// ProfileStore: durable customer profiles — a ProfileTable backed by SQLite (WAL,
// synchronous=FULL): an append-only event log written before events are acknowledged, plus
// incremental snapshots of changed profiles that truncate the log.
//
// Append() validates a batch, writes the valid events in one transaction (one fsync: group
// commit), then applies them to the in-memory table; only then are they acknowledged. Open()
// loads the latest snapshot and replays the log tail, so a process killed at any point recovers
// every acknowledged event (profile state is bit-identical to the uncrashed run).
// Idempotent by event id: an event whose non-empty Event::id is already in the log (UNIQUE
// index on seg_events.event_id; it survives snapshots for the newest keep_event_ids ids) or
// earlier in the same batch is acknowledged as a duplicate and not applied again. Events
// without an id are always appended.
// Thread-safety: not thread-safe; one writer thread owns a ProfileStore.
//
//   STRATA_ASSIGN_OR_RETURN(auto store, ProfileStore::Open({.path = "var/profiles.db"}));
//   STRATA_ASSIGN_OR_RETURN(auto ack, store->Append(events));   // ack.accepted, ack.rejected
//   if (store->log_events() > 100000) STRATA_RETURN_IF_ERROR(store->Snapshot());
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "strata/core/status.h"
#include "strata/segment/event.h"
#include "strata/segment/profile.h"
#include "strata/store/sqlite.h"

namespace strata::segment {

class ProfileStore {
 public:
  struct Config {
    std::string path = "var/segment_profiles.db";
    ProfileTable::Config profiles;
    bool full_sync = true;  // false: synchronous=NORMAL (faster; not kill -9 durable)
    // Event ids remembered across snapshots (the dedupe window); older ones are pruned.
    int64_t keep_event_ids = 1'000'000;
  };
  struct Rejected {
    size_t index;  // position in the appended batch (0-based)
    Status status;
  };
  struct AppendResult {
    int64_t accepted = 0;    // acknowledged events, duplicates included
    int64_t duplicates = 0;  // of `accepted`: ids already stored, not applied again
    std::vector<size_t> duplicate_indices;  // their positions in the batch (ascending)
    std::vector<Rejected> rejected;
  };

  // Opens/creates the database, loads the snapshot and replays the event log.
  // Errors: InvalidArgument (config), DataLoss (corrupt database/profile blob), Internal (SQL).
  static Result<std::unique_ptr<ProfileStore>> Open(const Config& config);
  // Same, but recovers into and applies events to `external` (which must be empty and outlive
  // the store), e.g. &segmenter.mutable_profiles(), so the service keeps one table; then call
  // Segmenter::AssignApplied for each acknowledged event. config.profiles is ignored for it.
  static Result<std::unique_ptr<ProfileStore>> Open(const Config& config, ProfileTable* external);

  ProfileStore(const ProfileStore&) = delete;
  ProfileStore& operator=(const ProfileStore&) = delete;

  // Durably logs and applies the valid events of `events`; invalid ones are listed (never
  // silently dropped). On a database error nothing of the batch is acknowledged or applied.
  Result<AppendResult> Append(std::span<const Event> events);
  // Writes every profile changed since the last snapshot and truncates the log, atomically.
  Status Snapshot();

  const ProfileTable& table() const { return *table_; }
  int64_t log_events() const { return log_events_; }      // events to replay (not snapshotted)
  int64_t replayed_on_open() const { return replayed_; }  // log events replayed by Open

 private:
  ProfileStore(std::unique_ptr<store::Database> db, ProfileTable table)
      : db_(std::move(db)), own_table_(std::move(table)), table_(&own_table_) {}
  Status Load();

  std::unique_ptr<store::Database> db_;
  ProfileTable own_table_;
  ProfileTable* table_;  // &own_table_ or the external table
  int64_t log_events_ = 0;
  int64_t replayed_ = 0;
  int64_t keep_event_ids_ = 1'000'000;
};

}  // namespace strata::segment
