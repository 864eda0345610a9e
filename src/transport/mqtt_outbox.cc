// MqttOutbox: durable MQTT outbox with application-level receipts (see
// include/strata/transport/mqtt_outbox.h).
#include "strata/transport/mqtt_outbox.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "strata/metrics/metrics.h"
#include "strata/store/sqlite.h"

namespace strata::mqtt {
namespace {

// AUTOINCREMENT: a seq is never reused after its row is deleted, so "seq > last sent" finds
// exactly the rows never published since Start.
constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS outbox(
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, body BLOB NOT NULL,
  enqueued_at_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS outbox_marks(key TEXT PRIMARY KEY, value TEXT NOT NULL);
)sql";

constexpr size_t kMaxIdLength = 128;
constexpr size_t kMaxListedRejections = 20;

Status ValidateId(const std::string& id) {
  if (id.empty() || id.size() > kMaxIdLength)
    return InvalidArgumentError("outbox row id must be 1.." + std::to_string(kMaxIdLength) +
                                " characters, got " + std::to_string(id.size()));
  for (char c : id)
    if (c < 0x20 || c > 0x7e)
      return InvalidArgumentError("outbox row id '" + id + "' has a non-printable character");
  return Status::Ok();
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

metrics::Counter OutboxCounter(const std::string& what, const std::string& name) {
  return metrics::GetCounter("strata_mqtt_outbox_" + what + "_total",
                             "MQTT outbox rows " + what + " (receipted = the consumer stored them)",
                             {{"outbox", name}});
}

}  // namespace

MqttOutbox::MqttOutbox(OutboxConfig c) : config_(std::move(c)) {}

MqttOutbox::~MqttOutbox() { Stop(); }

Result<std::unique_ptr<MqttOutbox>> MqttOutbox::Open(const OutboxConfig& config) {
  if (config.path.empty()) return InvalidArgumentError("outbox: path is empty");
  if (config.max_rows < 1 || config.max_bytes < 1)
    return InvalidArgumentError("outbox '" + config.name +
                                "': max_rows and max_bytes must be >= 1");
  if (config.batch_rows < 1 || config.batch_rows > 10000 || config.max_inflight < config.batch_rows)
    return InvalidArgumentError("outbox '" + config.name +
                                "': need 1 <= batch_rows <= 10000 and max_inflight >= batch_rows");
  if (config.resend_after.count() < 1)
    return InvalidArgumentError("outbox '" + config.name + "': resend_after must be > 0");
  for (const std::string* t : {&config.events_topic, &config.receipts_topic})
    if (t->empty() || t->find_first_of("+#") != std::string::npos)
      return InvalidArgumentError("outbox '" + config.name + "': topic '" + *t +
                                  "' must be non-empty without wildcards");
  std::unique_ptr<MqttOutbox> box(new MqttOutbox(config));
  STRATA_ASSIGN_OR_RETURN(box->db_,
                          store::Database::Open(config.path, {.full_sync = config.full_sync}));
  STRATA_RETURN_IF_ERROR(box->db_->Exec(kSchema));
  STRATA_ASSIGN_OR_RETURN(
      auto st, box->db_->Prepare("SELECT COUNT(*), COALESCE(SUM(LENGTH(id) + LENGTH(body)), 0) "
                                 "FROM outbox"));
  STRATA_ASSIGN_OR_RETURN(bool row, st.Step());
  if (row) {
    box->rows_ = st.ColumnInt(0);
    box->bytes_ = st.ColumnInt(1);
  }
  std::lock_guard lock(box->mu_);
  box->PublishGaugeLocked();
  return box;
}

void MqttOutbox::PublishGaugeLocked() {
  stats_.pending = rows_;
  metrics::GetGauge("strata_mqtt_outbox_pending", "MQTT outbox rows waiting for a receipt",
                    {{"outbox", config_.name}})
      .Set(static_cast<double>(rows_));
}

Status MqttOutbox::Start(const Config& mqtt, std::chrono::milliseconds deadline) {
  if (client_) return FailedPreconditionError("outbox '" + config_.name + "' already started");
  STRATA_ASSIGN_OR_RETURN(client_, MqttClient::Create(mqtt));
  STRATA_RETURN_IF_ERROR(
      client_->Subscribe(config_.receipts_topic, 1, [this](const Message& m) { OnReceipt(m); }));
  Status s = client_->Connect(deadline);
  if (!s.ok()) {
    client_.reset();
    return s;
  }
  {
    std::lock_guard lock(mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void MqttOutbox::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (client_) {
    client_->Disconnect();
    client_.reset();  // joins its dispatcher: no receipt handler runs after this
  }
}

Result<int64_t> MqttOutbox::Enqueue(const std::vector<OutboxRow>& rows,
                                    const std::vector<std::pair<std::string, std::string>>& marks) {
  int64_t add_bytes = 0;
  for (const OutboxRow& r : rows) {
    STRATA_RETURN_IF_ERROR(ValidateId(r.id));
    if (r.body.find('\n') != std::string::npos)
      return InvalidArgumentError("outbox row '" + r.id + "': body must be one line");
    add_bytes += static_cast<int64_t>(r.id.size() + r.body.size());
  }
  std::lock_guard lock(mu_);
  const int64_t n = static_cast<int64_t>(rows.size());
  if (rows_ + n > config_.max_rows || bytes_ + add_bytes > config_.max_bytes)
    return ResourceExhaustedError(
        "outbox '" + config_.name + "' (" + config_.path + ") is full: " + std::to_string(rows_) +
        " rows / " + std::to_string(bytes_) + " bytes wait for receipts (max_rows " +
        std::to_string(config_.max_rows) + ", max_bytes " + std::to_string(config_.max_bytes) +
        "); it drains as the consumer sends receipts");
  int64_t added = 0, added_bytes = 0;
  const int64_t now = NowMs();
  Status s = db_->Transaction([&]() -> Status {
    STRATA_ASSIGN_OR_RETURN(auto ins,
                            db_->Prepare("INSERT OR IGNORE INTO outbox(id, body, enqueued_at_ms) "
                                         "VALUES(?, ?, ?)"));
    for (const OutboxRow& r : rows) {
      ins.Bind(1, r.id).BindBlob(2, r.body.data(), r.body.size()).Bind(3, now);
      STRATA_RETURN_IF_ERROR(ins.Run());
      if (db_->Changes() > 0) {
        ++added;
        added_bytes += static_cast<int64_t>(r.id.size() + r.body.size());
      }
    }
    STRATA_ASSIGN_OR_RETURN(
        auto mark, db_->Prepare("INSERT OR REPLACE INTO outbox_marks(key, value) VALUES(?, ?)"));
    for (const auto& [k, v] : marks) {
      mark.Bind(1, k).Bind(2, v);
      STRATA_RETURN_IF_ERROR(mark.Run());
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  rows_ += added;
  bytes_ += added_bytes;
  PublishGaugeLocked();
  cv_.notify_all();
  return added;
}

Result<std::optional<std::string>> MqttOutbox::Mark(const std::string& key) {
  std::lock_guard lock(mu_);
  STRATA_ASSIGN_OR_RETURN(auto st, db_->Prepare("SELECT value FROM outbox_marks WHERE key = ?"));
  st.Bind(1, key);
  STRATA_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(st.ColumnText(0));
}

bool MqttOutbox::WaitEmpty(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return rows_ == 0; });
}

bool MqttOutbox::WaitForSpace(int64_t rows, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return rows_ + rows <= config_.max_rows; });
}

OutboxStats MqttOutbox::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

Status MqttOutbox::NextBatchLocked(std::vector<OutboxRow>* out, bool* resend) {
  const auto now = std::chrono::steady_clock::now();
  std::vector<int64_t> due;
  for (auto& [seq, f] : inflight_) {
    if (due.size() >= config_.batch_rows) break;
    if (now - f.sent >= config_.resend_after) due.push_back(seq);
  }
  *resend = !due.empty();
  if (*resend) {
    STRATA_ASSIGN_OR_RETURN(auto st, db_->Prepare("SELECT body FROM outbox WHERE seq = ?"));
    for (int64_t seq : due) {
      st.Bind(1, seq);
      STRATA_ASSIGN_OR_RETURN(bool row, st.Step());
      auto it = inflight_.find(seq);
      if (!row) {  // receipted in the meantime
        seq_of_.erase(it->second.id);
        inflight_.erase(it);
      } else {
        auto blob = st.ColumnBlob(0);
        out->push_back({it->second.id, std::string(blob.begin(), blob.end())});
        it->second.sent = now;
      }
      st.Reset();
    }
    return Status::Ok();
  }
  if (inflight_.size() + config_.batch_rows > config_.max_inflight) return Status::Ok();
  STRATA_ASSIGN_OR_RETURN(
      auto st, db_->Prepare("SELECT seq, id, body FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?"));
  st.Bind(1, last_seq_).Bind(2, static_cast<int64_t>(config_.batch_rows));
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    int64_t seq = st.ColumnInt(0);
    std::string id = st.ColumnText(1);
    auto blob = st.ColumnBlob(2);
    out->push_back({id, std::string(blob.begin(), blob.end())});
    inflight_[seq] = {id, now};
    seq_of_[id] = seq;
    last_seq_ = seq;
  }
  return Status::Ok();
}

void MqttOutbox::Loop() {
  metrics::Counter published = OutboxCounter("published", config_.name);
  metrics::Counter resent = OutboxCounter("resent", config_.name);
  auto backoff = std::chrono::milliseconds(100);
  while (true) {
    std::vector<OutboxRow> batch;
    bool resend = false;
    {
      std::unique_lock lock(mu_);
      if (stop_) return;
      Status s = NextBatchLocked(&batch, &resend);
      if (!s.ok()) spdlog::error("outbox {}: {}", config_.name, s.message());
      if (batch.empty()) {
        // Nothing due: sleep until a new row, a receipt, or the oldest in-flight row is due.
        auto wake = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
        if (!inflight_.empty()) {
          auto oldest = inflight_.begin()->second.sent;
          for (auto& [seq, f] : inflight_) oldest = std::min(oldest, f.sent);
          wake = std::min(wake, oldest + config_.resend_after);
        }
        cv_.wait_until(lock, wake);
        continue;
      }
    }
    std::string payload;
    for (const OutboxRow& r : batch) {
      if (!payload.empty()) payload += '\n';
      payload += r.body;
    }
    Status s = client_->Publish(config_.events_topic, payload, 1, false);
    std::unique_lock lock(mu_);
    if (!s.ok()) {
      // Not at the broker: retry these rows after a short backoff instead of resend_after.
      spdlog::warn("outbox {}: publish of {} row(s) failed: {}", config_.name, batch.size(),
                   s.message());
      auto retry_at = std::chrono::steady_clock::now() - config_.resend_after + backoff;
      for (const OutboxRow& r : batch)
        if (auto it = seq_of_.find(r.id); it != seq_of_.end())
          inflight_[it->second].sent = retry_at;
      backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
      cv_.wait_for(lock, backoff, [&] { return stop_; });
      continue;
    }
    backoff = std::chrono::milliseconds(100);
    const auto n = static_cast<int64_t>(batch.size());
    stats_.published += n;
    published.Inc(static_cast<double>(n));
    if (resend) {
      stats_.resent += n;
      resent.Inc(static_cast<double>(n));
    }
  }
}

void MqttOutbox::OnReceipt(const Message& m) {
  auto j = nlohmann::json::parse(m.payload, nullptr, false);
  if (!j.is_object()) {
    spdlog::warn("outbox {}: receipt on '{}' is not a JSON object; ignored", config_.name, m.topic);
    return;
  }
  std::vector<std::string> ids;
  std::vector<std::pair<std::string, std::string>> rejected;
  if (auto it = j.find("ids"); it != j.end() && it->is_array())
    for (const auto& id : *it)
      if (id.is_string()) ids.push_back(id.get<std::string>());
  if (auto it = j.find("rejected"); it != j.end() && it->is_array())
    for (const auto& r : *it)
      if (r.is_object() && r.contains("id") && r["id"].is_string())
        rejected.emplace_back(r["id"].get<std::string>(), r.value("reason", std::string()));
  if (ids.empty() && rejected.empty()) return;
  std::lock_guard lock(mu_);
  int64_t receipted = 0, dropped = 0, freed_bytes = 0;
  auto erase = [&](const std::string& id, int64_t* count) -> Status {
    STRATA_ASSIGN_OR_RETURN(
        auto st,
        db_->Prepare("DELETE FROM outbox WHERE id = ? RETURNING LENGTH(id) + LENGTH(body)"));
    st.Bind(1, id);
    STRATA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (row) {
      ++*count;
      freed_bytes += st.ColumnInt(0);
      STRATA_ASSIGN_OR_RETURN(bool more, st.Step());
      (void)more;
    }
    return Status::Ok();
  };
  Status s = db_->Transaction([&]() -> Status {
    for (const auto& id : ids) STRATA_RETURN_IF_ERROR(erase(id, &receipted));
    for (const auto& [id, reason] : rejected) STRATA_RETURN_IF_ERROR(erase(id, &dropped));
    return Status::Ok();
  });
  if (!s.ok()) {  // the rows stay and are resent; the next receipt deletes them
    spdlog::error("outbox {}: receipt not applied: {}", config_.name, s.message());
    return;
  }
  auto forget = [&](const std::string& id) {  // only after the commit: else they are resent
    if (auto it = seq_of_.find(id); it != seq_of_.end()) {
      inflight_.erase(it->second);
      seq_of_.erase(it);
    }
  };
  for (const auto& id : ids) forget(id);
  for (const auto& [id, reason] : rejected) {
    forget(id);
    if (stats_.first_rejections.size() < kMaxListedRejections)
      stats_.first_rejections.emplace_back(id, reason);
  }
  if (dropped > 0)
    spdlog::warn("outbox {}: consumer rejected {} row(s), first '{}': {}", config_.name, dropped,
                 rejected[0].first, rejected[0].second);
  rows_ -= receipted + dropped;
  bytes_ -= freed_bytes;
  stats_.receipted += receipted;
  stats_.rejected += dropped;
  OutboxCounter("receipted", config_.name).Inc(static_cast<double>(receipted));
  OutboxCounter("rejected", config_.name).Inc(static_cast<double>(dropped));
  PublishGaugeLocked();
  cv_.notify_all();
}

}  // namespace strata::mqtt
