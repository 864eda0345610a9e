// NotifyService: strata-notify, the cloud tier's alerting service (docs/services/notify.md).
//
// POST /api/v1/sightings takes one identified JPEG crop from strata-identify (metadata in
// X-Strata-* headers, docs/surveillance.md) and decides: an unknown face → unknown_face (when
// alert_on_unknown), a person whose box bottom-centre is inside a restricted zone of its camera →
// zone_entry, any person → person (when alert_on_person). Alerts are deduplicated per
// (camera, track): the first alerting sighting opens an alert (phase new, a new ULID), later ones
// update it only on a material change (identity decided or changed, a crop better by
// snapshot_min_gain, a new zone) and the alert ends (phase end) once the track has been unseen
// for `cooldown` (checked by a sweeper thread and on every sighting). Every phase is written to
// SQLite with its outbox rows before the answer (acks mean durable) and then published by the
// Publisher to MQTT <prefix>/camera/<cam>/alert (+ /alert/snapshot, the JPEG) and the webhook.
// Unknown-face snapshots are deleted after unknown_snapshot_retention (the row is kept).
// Routes: POST /api/v1/sightings, GET /api/v1/events, GET /api/v1/events/{id},
// GET /api/v1/events/{id}/snapshot.jpg, POST /api/v1/events/{id}/ack (an operator's
// acknowledgement, kept in SQLite; the event documents carry it as `acknowledged`).
// Thread-safety: handlers run concurrently; one mutex serialises alert decisions (decide, write,
// remember), the store has its own. Time comes from the injected Clock (ManualClock in tests).
//
//   STRATA_ASSIGN_OR_RETURN(auto svc, NotifyService::Create(config));
//   svc->RegisterRoutes(*server);  // routes, readiness check, OpenAPI document
//   svc->Start();                  // sweeper and publisher threads
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include "notify_config.h"
#include "notify_outbox.h"
#include "notify_sighting.h"
#include "notify_store.h"
#include "strata/core/clock.h"
#include "strata/core/ulid.h"
#include "strata/transport/http.h"

namespace strata::notify_service {

class NotifyService {
 public:
  using Config = NotifyConfig;
  // Opens the database (resuming open alerts) and the snapshot directory; creates the sinks.
  // Errors name the file or the bad setting. `clock` must outlive the service.
  static Result<std::unique_ptr<NotifyService>> Create(const Config& config,
                                                       Clock* clock = Clock::Real());
  ~NotifyService();  // Stop()

  void RegisterRoutes(http::HttpServer& server);
  // Starts the sweeper and publisher threads (once).
  void Start();
  // Stops and joins them; undelivered alerts stay in the outbox. Idempotent.
  void Stop();

  // The decision for one validated sighting and its JPEG crop:
  // {"alert_id"|null, "phase": "new"|"update"|"none", "event_type"|null}. Internal/DataLoss
  // when the alert could not be made durable (nothing is published then).
  Result<nlohmann::json> Process(const Sighting& s, std::string_view jpeg);
  // Ends alerts unseen for `cooldown` and expires old unknown-face snapshots; returns the number
  // of alerts ended.
  Result<int> Sweep();
  PublisherStats publisher_stats() const { return publisher_->stats(); }
  Result<int64_t> outbox_pending() { return store_->PendingCount(); }

 private:
  struct OpenAlert {
    AlertRow row;
    Identity identity;
    std::set<std::string> zones;
    WallTime last_seen;
  };

  NotifyService() = default;
  Result<http::Response> PostSighting(const http::Request& r);
  Result<http::Response> GetEvents(const http::Request& r);
  Result<http::Response> GetEvent(const http::Request& r);
  Result<http::Response> GetSnapshot(const http::Request& r);
  Result<http::Response> AckEvent(const http::Request& r);
  Result<int> SweepLocked(WallTime now);
  Status ExpireSnapshotsLocked(WallTime now);
  Result<nlohmann::json> OpenLocked(const Sighting& s, std::string_view jpeg,
                                    const std::string& event_type,
                                    const std::vector<std::string>& zones, WallTime now);
  Result<nlohmann::json> UpdateLocked(OpenAlert& a, const Sighting& s, std::string_view jpeg,
                                      const std::vector<std::string>& zones, WallTime now);
  // Writes the row and its outbox rows (and moves the snapshot in place when `jpeg` is set).
  // `message_id` (when set) is recorded with the answer in the same transaction.
  Status Persist(const AlertRow& row, std::string_view jpeg, const std::string& message_id = "");
  // At start-up: completes the snapshot renames a crash interrupted after the commit.
  void RecoverSnapshots();
  void FillFromSighting(nlohmann::json& doc, const Sighting& s, WallTime now) const;
  std::string SnapshotPath(const std::string& alert_id) const;
  std::string PublicUrl() const;
  void SweepLoop();

  Config config_;
  Clock* clock_ = nullptr;
  std::unique_ptr<NotifyStore> store_;
  std::unique_ptr<Publisher> publisher_;
  UlidGenerator ulids_;
  const http::HttpServer* server_ = nullptr;

  std::mutex mu_;                          // alert decisions
  std::map<std::string, OpenAlert> open_;  // "camera/track" → open alert

  std::mutex run_mu_;
  std::condition_variable run_cv_;
  bool stop_ = false, started_ = false;
  std::thread sweeper_;
};

// The event document served by the read routes: the alert JSON plus
// "acknowledged": {"by", "at_ms"} or null.
nlohmann::json EventDoc(const AlertRow& row);

// The hand-written OpenAPI 3.1 document (services/notify/openapi.json, embedded at build time).
std::string_view OpenApi();

}  // namespace strata::notify_service
