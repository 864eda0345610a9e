// DiskQueue: a durable, bounded FIFO of messages in one SQLite file (WAL, synchronous=FULL) — the
// spool behind store-and-forward uplinks (docs/surveillance.md "Store-and-forward").
//
// An item is (id ULID, body bytes, meta blob, enqueued_at, attempts). Push() returns after the
// item is committed (it survives kill -9); Peek() returns the oldest; Ack(id) deletes it. The
// queue is bounded by max_items and max_bytes (body + meta): a Push beyond either evicts the
// OLDEST items in the same transaction, counted in evicted() and
// strata_store_queue_evicted_total{queue}. Reopening the file gives back the same items in the
// same order. Gauges: strata_store_queue_depth{queue}, strata_store_queue_bytes{queue}.
// EncodeMeta/DecodeMeta turn a list of (name, value) pairs (e.g. HTTP headers) into the meta blob.
// Thread-safety: every method is safe from any thread; one mutex serialises the single connection
// (one writer per database file — do not open the same file twice).
//
//   STRATA_ASSIGN_OR_RETURN(auto q, DiskQueue::Open({.path = "var/uplink.db", .name = "uplink"}));
//   STRATA_ASSIGN_OR_RETURN(std::string id, q->Push(body, EncodeMeta(headers)));
//   STRATA_ASSIGN_OR_RETURN(auto item, q->Peek());  // std::nullopt when empty
//   if (item && Send(*item)) STRATA_RETURN_IF_ERROR(q->Ack(item->id));
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "strata/core/status.h"
#include "strata/core/ulid.h"

namespace strata::store {

class Database;

struct DiskQueueConfig {
  std::string path;               // the SQLite file (its directory is created)
  std::string name = "queue";     // the {queue} label of the metrics
  int64_t max_items = 10000;      // >= 1
  int64_t max_bytes = 256 << 20;  // body + meta bytes, >= 1
  bool full_sync = true;          // false: synchronous=NORMAL (tests/benchmarks only)
};

struct QueueItem {
  std::string id;  // ULID
  std::string body;
  std::string meta;
  int64_t enqueued_at_ms = 0;  // Unix ms
  int attempts = 0;
};

class DiskQueue {
 public:
  // InvalidArgument for bad bounds; errors of Database::Open otherwise.
  static Result<std::unique_ptr<DiskQueue>> Open(const DiskQueueConfig& config);
  ~DiskQueue();

  // Appends one item, evicting the oldest beyond the bounds; durable when it returns. Returns the
  // id (a new ULID when `id` is empty). ResourceExhausted when the item alone exceeds max_bytes;
  // AlreadyExists for a duplicate id.
  Result<std::string> Push(std::string_view body, std::string_view meta, std::string id = "");
  // The oldest item, or nullopt when empty.
  Result<std::optional<QueueItem>> Peek();
  // Deletes the item; OK when it is already gone (e.g. evicted while in flight).
  Status Ack(const std::string& id);
  // Records one more failed attempt on the item (attempts + 1).
  Status MarkAttempt(const std::string& id);

  int64_t size() const;
  int64_t bytes() const;
  uint64_t evicted() const;  // since Open
  const DiskQueueConfig& config() const { return config_; }

 private:
  explicit DiskQueue(DiskQueueConfig c);
  Status EvictOldestLocked();
  void PublishLocked();

  DiskQueueConfig config_;
  mutable std::mutex mu_;
  std::unique_ptr<Database> db_;
  UlidGenerator ids_;
  int64_t size_ = 0, bytes_ = 0;
  uint64_t evicted_ = 0;
};

// "name: value\n" lines; names and values must not contain '\n' (those pairs are skipped).
std::string EncodeMeta(const std::vector<std::pair<std::string, std::string>>& pairs);
std::vector<std::pair<std::string, std::string>> DecodeMeta(std::string_view meta);

}  // namespace strata::store
