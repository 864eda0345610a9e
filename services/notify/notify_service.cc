// NotifyService: alert decisions, durability and the sweeper (see notify_service.h). The read
// routes live in notify_events.cc.
#include "notify_service.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "strata/metrics/metrics.h"
#include "strata/vision/image_io.h"

namespace strata::notify_service {

using nlohmann::json;

namespace {

int64_t UnixMs(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

void CountSighting(const std::string& result) {
  metrics::GetCounter("strata_notify_sightings_total", "Sightings received, by decision",
                      {{"result", result}})
      .Inc();
}

void CountAlert(const std::string& event_type, const std::string& phase) {
  metrics::GetCounter("strata_notify_alerts_total", "Alert phases raised",
                      {{"event_type", event_type}, {"phase", phase}})
      .Inc();
}

// Writes `data` to `path` and fsyncs it. Internal naming the file on failure.
Status WriteFileSynced(const std::string& path, std::string_view data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return InternalError("cannot create " + path);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  bool ok = done == data.size() && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return InternalError("cannot write " + path);
  return Status::Ok();
}

Identity IdentityFromJson(const json& j) {
  Identity id;
  id.status = j.value("status", "");
  if (j.value("name", json()).is_string()) id.name = j["name"].get<std::string>();
  if (j.value("score", json()).is_number()) id.score = j["score"].get<double>();
  if (j.value("threshold", json()).is_number()) id.threshold = j["threshold"].get<double>();
  if (j.value("metric", json()).is_string()) id.metric = j["metric"].get<std::string>();
  return id;
}

// Message ids (X-Strata-Message-Id) are remembered this long (wall clock): a sender's retry
// after a longer outage would make a second alert update (never a lost one).
constexpr auto kMessageIdRetention = std::chrono::hours(24);

json Decision(const std::string& alert_id, const std::string& phase, const std::string& type) {
  return {{"alert_id", alert_id.empty() ? json(nullptr) : json(alert_id)},
          {"phase", phase},
          {"event_type", type.empty() ? json(nullptr) : json(type)}};
}

}  // namespace

NotifyService::~NotifyService() { Stop(); }

Result<std::unique_ptr<NotifyService>> NotifyService::Create(const Config& config, Clock* clock) {
  if (config.cooldown.count() <= 0) return InvalidArgumentError("notify.cooldown: must be > 0");
  if (config.unknown_snapshot_retention.count() <= 0)
    return InvalidArgumentError("notify.unknown_snapshot_retention: must be > 0");
  for (const auto& [cam, zones] : config.cameras)
    for (const Zone& z : zones)
      if (z.polygon.size() < 3)
        return InvalidArgumentError("notify.cameras." + cam + ".zones." + z.name +
                                    ": a polygon needs >= 3 points");
  std::unique_ptr<NotifyService> s(new NotifyService());
  s->config_ = config;
  s->clock_ = clock ? clock : Clock::Real();
  std::error_code ec;
  std::filesystem::create_directories(config.snapshots_dir, ec);
  if (ec) return InternalError("cannot create " + config.snapshots_dir + ": " + ec.message());
  STRATA_ASSIGN_OR_RETURN(s->store_, NotifyStore::Open(config.db));
  s->RecoverSnapshots();
  STRATA_ASSIGN_OR_RETURN(s->publisher_,
                          Publisher::Create(config.mqtt, config.webhook, s->store_.get()));
  STRATA_ASSIGN_OR_RETURN(auto open, s->store_->OpenAlerts());
  for (AlertRow& row : open) {
    OpenAlert a;
    a.identity = IdentityFromJson(row.doc.value("identity", json::object()));
    for (const json& z : row.doc.value("zones", json::array()))
      a.zones.insert(z.get<std::string>());
    a.last_seen = WallTime(std::chrono::milliseconds(row.last_seen_ms));
    std::string key = row.camera + "/" + std::to_string(row.track_id);
    a.row = std::move(row);
    s->open_[key] = std::move(a);
  }
  return s;
}

void NotifyService::Start() {
  std::lock_guard lock(run_mu_);
  if (started_) return;
  started_ = true;
  publisher_->Start();
  sweeper_ = std::thread([this] { SweepLoop(); });
}

void NotifyService::Stop() {
  {
    std::lock_guard lock(run_mu_);
    stop_ = true;
  }
  run_cv_.notify_all();
  if (sweeper_.joinable()) sweeper_.join();
  if (publisher_) publisher_->Stop();
}

void NotifyService::SweepLoop() {
  auto next_checkpoint = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  std::unique_lock lock(run_mu_);
  while (!run_cv_.wait_for(lock, config_.sweep_interval, [this] { return stop_; })) {
    lock.unlock();
    auto ended = Sweep();
    if (!ended.ok()) spdlog::error("notify: sweep failed: {}", ended.status().message());
    if (std::chrono::steady_clock::now() > next_checkpoint) {
      auto forgot = store_->ForgetMessagesBefore(
          UnixMs(std::chrono::system_clock::now() - kMessageIdRetention));
      if (!forgot.ok()) spdlog::warn("notify: pruning message ids: {}", forgot.status().message());
      Status s = store_->Checkpoint();
      if (!s.ok()) spdlog::warn("notify: checkpoint failed: {}", s.message());
      next_checkpoint = std::chrono::steady_clock::now() + std::chrono::minutes(5);
    }
    lock.lock();
  }
}

Result<http::Response> NotifyService::PostSighting(const http::Request& r) {
  if (auto bad = http::CheckContentType(r, "image/jpeg")) {
    CountSighting("invalid");
    return *bad;
  }
  auto s = ParseSighting(r);
  Status st = s.status();
  if (st.ok() && r.body.empty()) st = InvalidArgumentError("empty body: send one image/jpeg crop");
  if (st.ok()) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(r.body.data());
    st = vision::DecodeJpeg({bytes, r.body.size()}, config_.image_limits).status();
  }
  if (!st.ok()) {
    CountSighting("invalid");
    return st;
  }
  STRATA_ASSIGN_OR_RETURN(json decision, Process(*s, r.body));
  publisher_->Wake();
  return http::Response::Json(decision);
}

Result<json> NotifyService::Process(const Sighting& s, std::string_view jpeg) {
  std::lock_guard lock(mu_);
  if (!s.message_id.empty()) {  // a retry of an answered sighting: the same answer, no new alert
    STRATA_ASSIGN_OR_RETURN(std::optional<std::string> seen, store_->SeenMessage(s.message_id));
    if (seen) {
      json answer = json::parse(*seen, nullptr, false);
      if (!answer.is_object()) answer = json::object();
      answer["duplicate"] = true;
      CountSighting("duplicate");
      return answer;
    }
  }
  WallTime now = clock_->Now();
  STRATA_RETURN_IF_ERROR(SweepLocked(now).status());
  auto cams = config_.cameras.find(s.camera);
  std::vector<std::string> zones =
      cams == config_.cameras.end() ? std::vector<std::string>{} : ZonesHit(s, cams->second);
  std::string key = s.camera + "/" + std::to_string(s.track_id);
  auto it = open_.find(key);
  if (it != open_.end()) return UpdateLocked(it->second, s, jpeg, zones, now);
  bool unknown = config_.alert_on_unknown && s.kind == "face" && s.identity.status == "unknown";
  std::string type = unknown                   ? "unknown_face"
                     : !zones.empty()          ? "zone_entry"
                     : config_.alert_on_person ? "person"
                                               : "";
  if (type.empty()) {
    if (!s.message_id.empty())
      STRATA_RETURN_IF_ERROR(
          store_->RememberMessage(s.message_id, Decision("", "none", "").dump()));
    CountSighting("no_alert");
    return Decision("", "none", "");
  }
  return OpenLocked(s, jpeg, type, zones, now);
}

Result<json> NotifyService::OpenLocked(const Sighting& s, std::string_view jpeg,
                                       const std::string& event_type,
                                       const std::vector<std::string>& zones, WallTime now) {
  std::string id = ulids_.Next(now);
  json doc = {{"event_type", event_type},
              {"alert_id", id},
              {"phase", "new"},
              {"camera", s.camera},
              {"zones", zones},
              {"label", "person"},
              {"identity", IdentityJson(s.identity)},
              {"started_at", FormatRfc3339(now)},
              {"updated_at", FormatRfc3339(now)},
              {"ended_at", nullptr},
              {"track_id", s.track_id},
              {"snapshot_url", PublicUrl() + "/api/v1/events/" + id + "/snapshot.jpg"}};
  FillFromSighting(doc, s, now);
  AlertRow row{.alert_id = id,
               .camera = s.camera,
               .track_id = s.track_id,
               .event_type = event_type,
               .phase = "new",
               .last_seen_ms = UnixMs(now),
               .snapshot = SnapshotState::kPresent,
               .snapshot_ms = UnixMs(now),
               .snapshot_score = s.score.value_or(-1.0),
               .identity_status = s.identity.status,
               .doc = doc};
  STRATA_RETURN_IF_ERROR(Persist(row, jpeg, s.message_id));
  OpenAlert a{row, s.identity, {zones.begin(), zones.end()}, now};
  open_[s.camera + "/" + std::to_string(s.track_id)] = std::move(a);
  CountSighting("new");
  CountAlert(event_type, "new");
  return Decision(id, "new", event_type);
}

Result<json> NotifyService::UpdateLocked(OpenAlert& a, const Sighting& s, std::string_view jpeg,
                                         const std::vector<std::string>& zones, WallTime now) {
  a.last_seen = now;
  a.row.last_seen_ms = UnixMs(now);
  const Identity& id = s.identity;
  bool identity_changed =
      id.status != "no_face" &&
      (id.status != a.identity.status || (id.status == "known" && id.name != a.identity.name));
  bool better = s.score && *s.score >= a.row.snapshot_score + config_.snapshot_min_gain;
  std::set<std::string> all_zones = a.zones;
  all_zones.insert(zones.begin(), zones.end());
  if (!identity_changed && !better && all_zones.size() == a.zones.size()) {
    json decision = Decision(a.row.alert_id, "none", a.row.event_type);
    if (!s.message_id.empty())
      STRATA_RETURN_IF_ERROR(store_->RememberMessage(s.message_id, decision.dump()));
    CountSighting("deduplicated");
    return decision;
  }
  AlertRow row = a.row;
  json& doc = row.doc;
  doc["phase"] = row.phase = "update";
  doc["updated_at"] = FormatRfc3339(now);
  doc["zones"] = all_zones;
  if (identity_changed) {
    doc["identity"] = IdentityJson(id);
    row.identity_status = id.status;
  }
  FillFromSighting(doc, s, now);
  if (better) {
    row.snapshot = SnapshotState::kPresent;
    row.snapshot_ms = UnixMs(now);
    row.snapshot_score = *s.score;
    doc["snapshot_url"] = PublicUrl() + "/api/v1/events/" + row.alert_id + "/snapshot.jpg";
  }
  STRATA_RETURN_IF_ERROR(Persist(row, better ? jpeg : std::string_view(), s.message_id));
  a.row = std::move(row);
  if (identity_changed) a.identity = id;
  a.zones = std::move(all_zones);
  CountSighting("update");
  CountAlert(a.row.event_type, "update");
  return Decision(a.row.alert_id, "update", a.row.event_type);
}

void NotifyService::FillFromSighting(json& doc, const Sighting& s, WallTime now) const {
  doc["score"] = s.score ? json(*s.score) : json(nullptr);
  doc["box"] = s.box ? json(*s.box) : json(nullptr);
  doc["frame_id"] = s.frame_id.empty() ? json(nullptr) : json(s.frame_id);
  doc["captured_at"] = s.captured_at ? json(FormatRfc3339(*s.captured_at)) : json(nullptr);
  doc["hops"] = HopsJson(s.hops);
  json path = json::array();
  for (const Hop& h : s.hops) path.push_back(h.node);
  path.push_back("notify");
  doc["path"] = path;
  doc["traceparent"] = s.traceparent.empty() ? json(nullptr) : json(s.traceparent);
  json e2e = nullptr;
  if (s.captured_at) {
    double ms = std::chrono::duration<double, std::milli>(now - *s.captured_at).count();
    e2e = ms;
    if (ms >= 0)
      metrics::GetHistogram("strata_notify_alert_latency_seconds",
                            "Capture-to-alert latency of alert phases new and update")
          .Observe(ms / 1000);
  }
  doc["latency_ms"] = {{"end_to_end", e2e}};
}
// Persist writes <id>.jpg.tmp, commits the row, then renames. A crash between the commit and the
// rename leaves a committed alert whose snapshot is only the .tmp: finish the rename for those;
// every other .tmp belongs to a row that was never committed (or already has its picture).
void NotifyService::RecoverSnapshots() {
  std::error_code ec;
  std::vector<std::filesystem::path> tmps;
  for (const auto& entry : std::filesystem::directory_iterator(config_.snapshots_dir, ec))
    if (entry.path().extension() == ".tmp") tmps.push_back(entry.path());
  for (const std::filesystem::path& tmp : tmps) {
    std::filesystem::path final_path = tmp;
    final_path.replace_extension();  // <id>.jpg
    std::string id = final_path.stem().string();
    auto row = store_->Get(id);
    bool committed = row.ok() && row->snapshot == SnapshotState::kPresent;
    if (committed && !std::filesystem::exists(final_path, ec)) {
      std::filesystem::rename(tmp, final_path, ec);
      if (!ec) {
        spdlog::warn("notify: recovered the snapshot of alert {} after a crash", id);
        continue;
      }
    }
    std::filesystem::remove(tmp, ec);
  }
}

Status NotifyService::Persist(const AlertRow& row, std::string_view jpeg,
                              const std::string& message_id) {
  std::vector<Delivery> outbox;
  std::string text = row.doc.dump();
  if (publisher_->has_mqtt()) {
    std::string topic = config_.mqtt.prefix + "/camera/" + row.camera + "/alert";
    outbox.push_back({0, row.alert_id, "mqtt", topic, text, 0});
    if (!jpeg.empty())
      outbox.push_back({0, row.alert_id, "mqtt", topic + "/snapshot", std::string(jpeg), 0});
  }
  if (publisher_->has_webhook()) outbox.push_back({0, row.alert_id, "webhook", "", text, 0});
  std::string final_path = SnapshotPath(row.alert_id), tmp = final_path + ".tmp";
  if (!jpeg.empty()) STRATA_RETURN_IF_ERROR(WriteFileSynced(tmp, jpeg));
  std::string answer =
      message_id.empty() ? "" : Decision(row.alert_id, row.phase, row.event_type).dump();
  Status s = store_->Save(row, outbox, message_id, answer);
  if (!jpeg.empty()) {
    if (s.ok() && std::rename(tmp.c_str(), final_path.c_str()) != 0)
      s = InternalError("cannot rename " + tmp);
    if (!s.ok()) std::remove(tmp.c_str());
  }
  return s;
}

Result<int> NotifyService::Sweep() {
  std::lock_guard lock(mu_);
  return SweepLocked(clock_->Now());
}

Result<int> NotifyService::SweepLocked(WallTime now) {
  int ended = 0;
  for (auto it = open_.begin(); it != open_.end();) {
    OpenAlert& a = it->second;
    if (a.last_seen + config_.cooldown > now) {
      ++it;
      continue;
    }
    AlertRow row = a.row;
    row.doc["phase"] = row.phase = "end";
    row.doc["ended_at"] = FormatRfc3339(a.last_seen);
    row.doc["updated_at"] = FormatRfc3339(now);
    row.ended = true;
    STRATA_RETURN_IF_ERROR(Persist(row, {}));
    CountAlert(row.event_type, "end");
    it = open_.erase(it);
    ++ended;
  }
  STRATA_RETURN_IF_ERROR(ExpireSnapshotsLocked(now));
  if (ended > 0) publisher_->Wake();
  return ended;
}

Status NotifyService::ExpireSnapshotsLocked(WallTime now) {
  int64_t cutoff = UnixMs(now - config_.unknown_snapshot_retention);
  STRATA_ASSIGN_OR_RETURN(auto rows, store_->SnapshotsOlderThan("unknown", cutoff));
  for (AlertRow& row : rows) {
    std::error_code ec;
    std::filesystem::remove(SnapshotPath(row.alert_id), ec);
    row.snapshot = SnapshotState::kExpired;
    row.doc["snapshot_url"] = nullptr;
    STRATA_RETURN_IF_ERROR(store_->Save(row, {}));
    auto open = open_.find(row.camera + "/" + std::to_string(row.track_id));
    if (open != open_.end() && open->second.row.alert_id == row.alert_id) {
      open->second.row.snapshot = row.snapshot;
      open->second.row.doc["snapshot_url"] = nullptr;
    }
    metrics::GetCounter("strata_notify_snapshots_expired_total",
                        "Unknown-face snapshots deleted after unknown_snapshot_retention")
        .Inc();
  }
  return Status::Ok();
}

}  // namespace strata::notify_service
