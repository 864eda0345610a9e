// SegmentService: the edge node's customer-segmentation HTTP adapter. Events are made durable
// (ProfileStore: SQLite WAL, synchronous=FULL, one fsync per batch) before they are acknowledged,
// then fed to the Segmenter; reads answer from the same in-memory state.
//
// The store and the segmenter share one ProfileTable. PUT /api/v1/model installs a model (e.g. the
// federated global one) into the segmenter, which keeps training from it.
// Routes (docs/services/segment.md): POST /api/v1/events (NDJSON), GET /api/v1/customers/{id},
// GET /api/v1/customers/{id}/segment, GET /api/v1/segments, GET /api/v1/segments/{id}/customers,
// GET /api/v1/model, PUT /api/v1/model, GET /api/v1/segments/history,
// GET /api/v1/segments/projection (the last two in segment_views.cc).
// Thread-safety: every public method may be called from any thread (one mutex guards the state;
// lookups take microseconds).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "strata/codec/event_json.h"
#include "strata/segment/assign.h"
#include "strata/segment/profile_store.h"
#include "strata/segment/segmenter.h"
#include "segment_views.h"
#include "strata/transport/http.h"

namespace strata::segment_service {

struct Config {
  std::string node = "edge-1";           // this node's name (MQTT topics, link labels)
  std::string data_dir = "var";
  size_t max_batch_lines = 100000;       // NDJSON lines per POST
  int64_t snapshot_every_events = 200000;  // snapshot profiles and truncate the log
  segment::Segmenter::Config segmenter;
  HistoryConfig history;                 // GET /api/v1/segments/history sampling
};

// Event ids of an ingested batch, for MQTT receipts (segment_receipts.h): `stored` were committed
// now or before (duplicates), `rejected` were invalid (id, reason). Events without an id are in
// neither.
struct IngestedIds {
  std::vector<std::string> stored;
  std::vector<std::pair<std::string, std::string>> rejected;
};

// A segment change (birth, merge, death, relabel) to publish on strata/seg/<node>/changes.
using ChangeSink = std::function<void(const nlohmann::json& change)>;

class SegmentService {
 public:
  // Opens (or recovers) the profile store under data_dir. Errors name the file.
  static Result<std::unique_ptr<SegmentService>> Create(const Config& config);

  void RegisterRoutes(http::HttpServer& server);
  void SetChangeSink(ChangeSink sink);

  // Ingests a decoded batch durably; the JSON answer lists the accepted count (duplicates
  // included), how many of them were duplicate event ids (stored once, not applied again) and
  // per-line errors. With `ids`, also the ids of stored and rejected events (after the commit).
  Result<nlohmann::json> Ingest(const codec::EventBatch& batch, IngestedIds* ids = nullptr);
  int64_t customers() const;

 private:
  SegmentService() = default;
  Result<http::Response> PostEvents(const http::Request& r);
  Result<http::Response> GetCustomer(const http::Request& r, bool segment_only);
  Result<http::Response> GetSegments(const http::Request& r);
  Result<http::Response> GetSegmentCustomers(const http::Request& r);
  Result<http::Response> GetModel(const http::Request& r);
  Result<http::Response> PutModel(const http::Request& r);
  Result<http::Response> GetHistory(const http::Request& r);     // segment_views.cc
  Result<http::Response> GetProjection(const http::Request& r);  // segment_views.cc
  // Feeds the history after a batch (`accepted` events) or, with `force`, samples now.
  void SampleHistoryLocked(int64_t accepted, bool force = false);
  nlohmann::json SegmentJsonLocked(const segment::Assigner& a, int index) const;
  void PublishChangesLocked();
  // Event time "now" for features: the newest event seen (live or recovered from disk).
  WallTime NowLocked() const;

  Config config_;
  mutable std::mutex mu_;
  std::unique_ptr<segment::ProfileStore> store_;
  std::unique_ptr<segment::Segmenter> segmenter_;  // fixed address: the store updates its table
  ChangeSink sink_;
  WallTime recovered_newest_{};
  SegmentHistory history_;
};

}  // namespace strata::segment_service
