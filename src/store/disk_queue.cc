// DiskQueue: durable bounded FIFO in SQLite (see include/strata/store/disk_queue.h).
#include "strata/store/disk_queue.h"

#include "strata/metrics/metrics.h"
#include "strata/store/sqlite.h"

namespace strata::store {
namespace {

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS queue(
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, body BLOB NOT NULL, meta BLOB NOT NULL,
  enqueued_at_ms INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0);
)sql";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             Clock::Real()->Now().time_since_epoch())
      .count();
}

}  // namespace

DiskQueue::DiskQueue(DiskQueueConfig c) : config_(std::move(c)) {}
DiskQueue::~DiskQueue() = default;

Result<std::unique_ptr<DiskQueue>> DiskQueue::Open(const DiskQueueConfig& config) {
  if (config.path.empty()) return InvalidArgumentError("disk queue: path is empty");
  if (config.max_items < 1 || config.max_bytes < 1)
    return InvalidArgumentError("disk queue '" + config.name +
                                "': max_items and max_bytes must be >= 1");
  std::unique_ptr<DiskQueue> q(new DiskQueue(config));
  STRATA_ASSIGN_OR_RETURN(q->db_, Database::Open(config.path, {.full_sync = config.full_sync}));
  STRATA_RETURN_IF_ERROR(q->db_->Exec(kSchema));
  STRATA_ASSIGN_OR_RETURN(
      auto st, q->db_->Prepare("SELECT COUNT(*), COALESCE(SUM(LENGTH(body) + LENGTH(meta)), 0) "
                               "FROM queue"));
  STRATA_ASSIGN_OR_RETURN(bool row, st.Step());
  if (row) {
    q->size_ = st.ColumnInt(0);
    q->bytes_ = st.ColumnInt(1);
  }
  std::lock_guard lock(q->mu_);
  q->PublishLocked();
  return q;
}

void DiskQueue::PublishLocked() {
  metrics::Labels l{{"queue", config_.name}};
  metrics::GetGauge("strata_store_queue_depth", "Items waiting in a durable queue", l)
      .Set(static_cast<double>(size_));
  metrics::GetGauge("strata_store_queue_bytes", "Body + meta bytes waiting in a durable queue", l)
      .Set(static_cast<double>(bytes_));
}

Status DiskQueue::EvictOldestLocked() {
  STRATA_ASSIGN_OR_RETURN(auto st,
                          db_->Prepare("DELETE FROM queue WHERE seq = (SELECT MIN(seq) FROM queue) "
                                       "RETURNING LENGTH(body) + LENGTH(meta)"));
  STRATA_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return InternalError("disk queue '" + config_.name + "': nothing to evict");
  bytes_ -= st.ColumnInt(0);
  --size_;
  ++evicted_;
  STRATA_ASSIGN_OR_RETURN(bool more, st.Step());
  (void)more;
  return Status::Ok();
}

Result<std::string> DiskQueue::Push(std::string_view body, std::string_view meta, std::string id) {
  const int64_t n = static_cast<int64_t>(body.size() + meta.size());
  if (n > config_.max_bytes)
    return ResourceExhaustedError("disk queue '" + config_.name + "': item of " +
                                  std::to_string(n) + " bytes exceeds max_bytes " +
                                  std::to_string(config_.max_bytes));
  std::lock_guard lock(mu_);
  const int64_t now = NowMs();
  if (id.empty()) id = ids_.Next(Clock::Real()->Now());
  const int64_t size0 = size_, bytes0 = bytes_;
  const uint64_t evicted0 = evicted_;
  Status s = db_->Transaction([&]() -> Status {
    while (size_ > 0 && (size_ + 1 > config_.max_items || bytes_ + n > config_.max_bytes))
      STRATA_RETURN_IF_ERROR(EvictOldestLocked());
    STRATA_ASSIGN_OR_RETURN(
        auto ins,
        db_->Prepare("INSERT INTO queue(id, body, meta, enqueued_at_ms) VALUES(?,?,?,?)"));
    ins.Bind(1, id).BindBlob(2, body.data(), body.size()).BindBlob(3, meta.data(), meta.size());
    ins.Bind(4, now);
    return ins.Run();
  });
  if (!s.ok()) {  // rolled back: the counters too
    size_ = size0;
    bytes_ = bytes0;
    evicted_ = evicted0;
    return s;
  }
  ++size_;
  bytes_ += n;
  if (evicted_ > evicted0)
    metrics::GetCounter("strata_store_queue_evicted_total",
                        "Items evicted (oldest first) from a full durable queue",
                        {{"queue", config_.name}})
        .Inc(static_cast<double>(evicted_ - evicted0));
  PublishLocked();
  return id;
}

Result<std::optional<QueueItem>> DiskQueue::Peek() {
  std::lock_guard lock(mu_);
  STRATA_ASSIGN_OR_RETURN(auto st, db_->Prepare("SELECT id, body, meta, enqueued_at_ms, attempts "
                                                "FROM queue ORDER BY seq LIMIT 1"));
  STRATA_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<QueueItem>();
  std::vector<uint8_t> body = st.ColumnBlob(1), meta = st.ColumnBlob(2);
  return std::optional<QueueItem>(QueueItem{st.ColumnText(0), std::string(body.begin(), body.end()),
                                            std::string(meta.begin(), meta.end()), st.ColumnInt(3),
                                            static_cast<int>(st.ColumnInt(4))});
}

Status DiskQueue::Ack(const std::string& id) {
  std::lock_guard lock(mu_);
  STRATA_ASSIGN_OR_RETURN(
      auto st,
      db_->Prepare("DELETE FROM queue WHERE id = ? RETURNING LENGTH(body) + LENGTH(meta)"));
  st.Bind(1, id);
  STRATA_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return Status::Ok();
  bytes_ -= st.ColumnInt(0);
  --size_;
  STRATA_ASSIGN_OR_RETURN(bool more, st.Step());
  (void)more;
  PublishLocked();
  return Status::Ok();
}

Status DiskQueue::MarkAttempt(const std::string& id) {
  std::lock_guard lock(mu_);
  STRATA_ASSIGN_OR_RETURN(auto st,
                          db_->Prepare("UPDATE queue SET attempts = attempts + 1 WHERE id = ?"));
  st.Bind(1, id);
  return st.Run();
}

int64_t DiskQueue::size() const {
  std::lock_guard lock(mu_);
  return size_;
}

int64_t DiskQueue::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

uint64_t DiskQueue::evicted() const {
  std::lock_guard lock(mu_);
  return evicted_;
}

std::string EncodeMeta(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string out;
  for (const auto& [k, v] : pairs) {
    if (k.find_first_of("\n:") != std::string::npos || v.find('\n') != std::string::npos) continue;
    out += k + ": " + v + "\n";
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> DecodeMeta(std::string_view meta) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!meta.empty()) {
    size_t nl = meta.find('\n');
    std::string_view line = meta.substr(0, nl);
    size_t colon = line.find(": ");
    if (colon != std::string_view::npos)
      out.emplace_back(std::string(line.substr(0, colon)), std::string(line.substr(colon + 2)));
    if (nl == std::string_view::npos) break;
    meta.remove_prefix(nl + 1);
  }
  return out;
}

}  // namespace strata::store
