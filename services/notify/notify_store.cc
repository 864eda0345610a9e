// SQLite alert log and outbox of strata-notify (see notify_store.h).
#include "notify_store.h"

#include <chrono>

namespace strata::notify_service {
namespace {

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS alerts(
  alert_id TEXT PRIMARY KEY, camera TEXT NOT NULL, track_id INTEGER NOT NULL,
  event_type TEXT NOT NULL, phase TEXT NOT NULL, ended INTEGER NOT NULL,
  last_seen_ms INTEGER NOT NULL, snapshot INTEGER NOT NULL, snapshot_ms INTEGER NOT NULL,
  snapshot_score REAL NOT NULL, identity_status TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS alerts_open ON alerts(ended);
CREATE INDEX IF NOT EXISTS alerts_snapshot ON alerts(snapshot, identity_status, snapshot_ms);
CREATE TABLE IF NOT EXISTS outbox(
  id INTEGER PRIMARY KEY AUTOINCREMENT, alert_id TEXT NOT NULL, sink TEXT NOT NULL,
  topic TEXT NOT NULL, body BLOB NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
  state INTEGER NOT NULL DEFAULT 0, error TEXT);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(state, id);
CREATE TABLE IF NOT EXISTS messages(
  id TEXT PRIMARY KEY, answer TEXT NOT NULL, at_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS messages_at ON messages(at_ms);
)sql";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status InsertMessage(store::Database& db, const std::string& id, const std::string& answer) {
  STRATA_ASSIGN_OR_RETURN(auto st, db.Prepare("INSERT OR REPLACE INTO messages(id, answer, at_ms) "
                                              "VALUES(?,?,?)"));
  st.Bind(1, id).Bind(2, answer).Bind(3, NowMs());
  return st.Run();
}

constexpr char kColumns[] =
    "SELECT alert_id, camera, track_id, event_type, phase, ended, last_seen_ms, snapshot, "
    "snapshot_ms, snapshot_score, identity_status, doc, acknowledged_at_ms, acknowledged_by "
    "FROM alerts ";

// An upsert that leaves the acknowledgement columns alone (INSERT OR REPLACE would clear them).
constexpr char kUpsert[] =
    "INSERT INTO alerts(alert_id, camera, track_id, event_type, phase, ended, last_seen_ms, "
    "snapshot, snapshot_ms, snapshot_score, identity_status, doc) VALUES(?,?,?,?,?,?,?,?,?,?,?,?) "
    "ON CONFLICT(alert_id) DO UPDATE SET camera = excluded.camera, track_id = excluded.track_id, "
    "event_type = excluded.event_type, phase = excluded.phase, ended = excluded.ended, "
    "last_seen_ms = excluded.last_seen_ms, snapshot = excluded.snapshot, "
    "snapshot_ms = excluded.snapshot_ms, snapshot_score = excluded.snapshot_score, "
    "identity_status = excluded.identity_status, doc = excluded.doc";

// Migration 1: the acknowledgement columns (databases made before acks existed lack them).
Status AddAckColumns(store::Database& db) {
  STRATA_ASSIGN_OR_RETURN(auto st, db.Prepare("SELECT name FROM pragma_table_info('alerts')"));
  bool has_ack = false;
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool more, st.Step());
    if (!more) break;
    has_ack = has_ack || st.ColumnText(0) == "acknowledged_at_ms";
  }
  if (has_ack) return Status::Ok();
  return db.Transaction([&] {
    return db.Exec(
        "ALTER TABLE alerts ADD COLUMN acknowledged_at_ms INTEGER;"
        "ALTER TABLE alerts ADD COLUMN acknowledged_by TEXT;");
  });
}

// The smallest ULID of millisecond `ms` (ULIDs sort by time; `ms` must fit in 48 bits).
std::string UlidFloor(int64_t ms) {
  static constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  std::string id(26, '0');
  for (int i = 0; i < 10; ++i) id[i] = kCrockford[(ms >> (45 - 5 * i)) & 31];
  return id;
}

}  // namespace

Result<std::unique_ptr<NotifyStore>> NotifyStore::Open(const std::string& path) {
  std::unique_ptr<NotifyStore> s(new NotifyStore());
  STRATA_ASSIGN_OR_RETURN(s->db_, store::Database::Open(path));
  STRATA_RETURN_IF_ERROR(s->db_->Exec(kSchema));
  STRATA_RETURN_IF_ERROR(AddAckColumns(*s->db_));
  return s;
}

Status NotifyStore::Save(const AlertRow& row, const std::vector<Delivery>& outbox,
                         const std::string& message_id, const std::string& answer) {
  std::lock_guard lock(mu_);
  return db_->Transaction([&]() -> Status {
    if (!message_id.empty()) STRATA_RETURN_IF_ERROR(InsertMessage(*db_, message_id, answer));
    STRATA_ASSIGN_OR_RETURN(auto st, db_->Prepare(kUpsert));
    st.Bind(1, row.alert_id).Bind(2, row.camera).Bind(3, row.track_id).Bind(4, row.event_type);
    st.Bind(5, row.phase).Bind(6, row.ended ? 1 : 0).Bind(7, row.last_seen_ms);
    st.Bind(8, static_cast<int>(row.snapshot)).Bind(9, row.snapshot_ms);
    st.Bind(10, row.snapshot_score).Bind(11, row.identity_status).Bind(12, row.doc.dump());
    STRATA_RETURN_IF_ERROR(st.Run());
    STRATA_ASSIGN_OR_RETURN(
        auto ins, db_->Prepare("INSERT INTO outbox(alert_id, sink, topic, body) VALUES(?,?,?,?)"));
    for (const Delivery& d : outbox) {
      ins.Bind(1, d.alert_id).Bind(2, d.sink).Bind(3, d.topic);
      ins.BindBlob(4, d.body.data(), d.body.size());
      STRATA_RETURN_IF_ERROR(ins.Run());
    }
    return Status::Ok();
  });
}

Result<std::optional<std::string>> NotifyStore::SeenMessage(const std::string& message_id) {
  std::lock_guard lock(mu_);
  STRATA_ASSIGN_OR_RETURN(auto st, db_->Prepare("SELECT answer FROM messages WHERE id = ?"));
  st.Bind(1, message_id);
  STRATA_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(st.ColumnText(0));
}

Status NotifyStore::RememberMessage(const std::string& message_id, const std::string& answer) {
  std::lock_guard lock(mu_);
  return InsertMessage(*db_, message_id, answer);
}

Result<int> NotifyStore::ForgetMessagesBefore(int64_t cutoff_ms) {
  std::lock_guard lock(mu_);
  STRATA_ASSIGN_OR_RETURN(auto st, db_->Prepare("DELETE FROM messages WHERE at_ms < ?"));
  st.Bind(1, cutoff_ms);
  STRATA_RETURN_IF_ERROR(st.Run());
  return db_->Changes();
}

Result<std::vector<AlertRow>> NotifyStore::Query(store::Statement& st) {
  std::vector<AlertRow> rows;
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool more, st.Step());
    if (!more) break;
    AlertRow r;
    r.alert_id = st.ColumnText(0);
    r.camera = st.ColumnText(1);
    r.track_id = st.ColumnInt(2);
    r.event_type = st.ColumnText(3);
    r.phase = st.ColumnText(4);
    r.ended = st.ColumnInt(5) != 0;
    r.last_seen_ms = st.ColumnInt(6);
    r.snapshot = static_cast<SnapshotState>(st.ColumnInt(7));
    r.snapshot_ms = st.ColumnInt(8);
    r.snapshot_score = st.ColumnDouble(9);
    r.identity_status = st.ColumnText(10);
    r.doc = nlohmann::json::parse(st.ColumnText(11), nullptr, false);
    if (r.doc.is_discarded())
      return DataLossError(db_->path() + ": alert " + r.alert_id + " has a corrupt document");
    if (!st.ColumnIsNull(12)) {
      r.acknowledged_at_ms = st.ColumnInt(12);
      r.acknowledged_by = st.ColumnText(13);
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

Result<std::vector<AlertRow>> NotifyStore::OpenAlerts() {
  std::lock_guard lock(mu_);
  STRATA_ASSIGN_OR_RETURN(auto st, db_->Prepare(std::string(kColumns) + "WHERE ended = 0"));
  return Query(st);
}

Result<AlertRow> NotifyStore::Get(const std::string& alert_id) {
  std::lock_guard lock(mu_);
  STRATA_ASSIGN_OR_RETURN(auto st, db_->Prepare(std::string(kColumns) + "WHERE alert_id = ?"));
  st.Bind(1, alert_id);
  STRATA_ASSIGN_OR_RETURN(auto rows, Query(st));
  if (rows.empty()) return NotFoundError("event '" + alert_id + "' is unknown");
  return rows.front();
}

Result<std::vector<AlertRow>> NotifyStore::List(const EventQuery& q) {
  std::lock_guard lock(mu_);
  STRATA_ASSIGN_OR_RETURN(
      auto st, db_->Prepare(std::string(kColumns) +
                            "WHERE (?1 = '' OR alert_id < ?1) AND (?2 = '' OR camera = ?2) AND "
                            "(?3 = '' OR event_type = ?3) AND alert_id >= ?5 AND "
                            "(?6 < 0 OR (acknowledged_at_ms IS NOT NULL) = ?6) "
                            "ORDER BY alert_id DESC LIMIT ?4"));
  st.Bind(1, q.before).Bind(2, q.camera).Bind(3, q.event_type).Bind(4, q.limit);
  st.Bind(5, q.since_ms ? UlidFloor(*q.since_ms) : std::string());
  st.Bind(6, q.acknowledged ? (*q.acknowledged ? 1 : 0) : -1);
  return Query(st);
}

Result<AlertRow> NotifyStore::Acknowledge(const std::string& alert_id, const std::string& by,
                                          int64_t at_ms, bool* first) {
  std::lock_guard lock(mu_);
  STRATA_ASSIGN_OR_RETURN(auto up, db_->Prepare("UPDATE alerts SET acknowledged_at_ms = ?, "
                                                "acknowledged_by = ? WHERE alert_id = ? AND "
                                                "acknowledged_at_ms IS NULL"));
  up.Bind(1, at_ms).Bind(2, by).Bind(3, alert_id);
  STRATA_RETURN_IF_ERROR(up.Run());
  if (first) *first = db_->Changes() > 0;
  STRATA_ASSIGN_OR_RETURN(auto st, db_->Prepare(std::string(kColumns) + "WHERE alert_id = ?"));
  st.Bind(1, alert_id);
  STRATA_ASSIGN_OR_RETURN(auto rows, Query(st));
  if (rows.empty()) return NotFoundError("event '" + alert_id + "' is unknown");
  return rows.front();
}

Result<std::vector<AlertRow>> NotifyStore::SnapshotsOlderThan(const std::string& identity_status,
                                                              int64_t cutoff_ms) {
  std::lock_guard lock(mu_);
  STRATA_ASSIGN_OR_RETURN(
      auto st, db_->Prepare(std::string(kColumns) +
                            "WHERE snapshot = 1 AND identity_status = ? AND snapshot_ms <= ?"));
  st.Bind(1, identity_status).Bind(2, cutoff_ms);
  return Query(st);
}

Result<std::vector<Delivery>> NotifyStore::Pending(const std::string& sink, int limit) {
  std::lock_guard lock(mu_);
  STRATA_ASSIGN_OR_RETURN(
      auto st, db_->Prepare("SELECT id, alert_id, sink, topic, body, attempts "
                            "FROM outbox WHERE state = 0 AND sink = ? ORDER BY id LIMIT ?"));
  st.Bind(1, sink).Bind(2, limit);
  std::vector<Delivery> out;
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool more, st.Step());
    if (!more) break;
    std::vector<uint8_t> body = st.ColumnBlob(4);
    out.push_back({st.ColumnInt(0), st.ColumnText(1), st.ColumnText(2), st.ColumnText(3),
                   std::string(body.begin(), body.end()), static_cast<int>(st.ColumnInt(5))});
  }
  return out;
}

Result<int64_t> NotifyStore::PendingCount() {
  std::lock_guard lock(mu_);
  STRATA_ASSIGN_OR_RETURN(auto st, db_->Prepare("SELECT COUNT(*) FROM outbox WHERE state = 0"));
  STRATA_ASSIGN_OR_RETURN(bool row, st.Step());
  return row ? st.ColumnInt(0) : 0;
}

Status NotifyStore::Checkpoint() {
  std::lock_guard lock(mu_);
  return db_->Checkpoint();
}

Status NotifyStore::MarkDelivered(int64_t id) {
  std::lock_guard lock(mu_);
  STRATA_ASSIGN_OR_RETURN(auto st, db_->Prepare("DELETE FROM outbox WHERE id = ?"));
  st.Bind(1, id);
  return st.Run();
}

Status NotifyStore::MarkAttempt(int64_t id, int attempts, bool give_up, const std::string& error) {
  std::lock_guard lock(mu_);
  STRATA_ASSIGN_OR_RETURN(auto st,
                          db_->Prepare("UPDATE outbox SET attempts = ?, state = ?, error = ? "
                                       "WHERE id = ?"));
  st.Bind(1, attempts).Bind(2, give_up ? 2 : 0).Bind(3, error).Bind(4, id);
  return st.Run();
}

}  // namespace strata::notify_service
