// Read-only views of strata-segment for dashboards (docs/services/segment.md):
//
// - SegmentHistory: segment sizes over time. The service calls Observe() after every ingested
//   batch (and Force() after a model install); a sample {t_ms, events, model_version, sizes} is
//   taken when `every_events` events or `every` of wall time have passed since the last one, into
//   a ring buffer of `capacity` samples (the oldest is dropped). Sizes are customers per segment
//   id, by assigning every customer's current features to the current model.
// - Projection(): a 2-D PCA view of customer feature vectors (standardised with the model's mean
//   and scale), up to `limit` customers spread evenly over the table, each with the segment it is
//   assigned to, plus the centroids projected on the same axes.
// Thread-safety: none; SegmentService calls both under its own mutex.
//
//   SegmentHistory history({.every_events = 1000});
//   history.Observe(accepted, segmenter, newest_event_time, Clock::Real()->Now());
//   nlohmann::json body = history.ToJson();   // {"samples": [...]}
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "strata/core/clock.h"
#include "strata/core/status.h"
#include "strata/segment/segmenter.h"

namespace strata::segment_service {

struct HistoryConfig {
  int64_t every_events = 1000;              // sample after this many ingested events...
  std::chrono::milliseconds every{10'000};  // ...or this much wall time (on the next batch)
  size_t capacity = 720;                    // samples kept (oldest dropped)
};

class SegmentHistory {
 public:
  explicit SegmentHistory(HistoryConfig config = {}) : config_(config) {}
  // Counts `accepted` events and takes a sample when one is due; true when it took one.
  // `features_at` is the feature time (the newest event), `wall` the sample's t_ms.
  bool Observe(int64_t accepted, const segment::Segmenter& seg, WallTime features_at,
               WallTime wall);
  // Takes a sample now (e.g. after a model install).
  void Force(const segment::Segmenter& seg, WallTime features_at, WallTime wall);
  // {"samples": [{"t_ms", "events", "model_version", "sizes": {"<segment id>": n}}]}, oldest first.
  nlohmann::json ToJson() const;
  size_t size() const { return samples_.size(); }

 private:
  struct Sample {
    int64_t t_ms = 0;
    int64_t events = 0;  // events accepted since the service started
    uint64_t model_version = 0;
    std::vector<std::pair<uint32_t, int64_t>> sizes;
  };
  HistoryConfig config_;
  std::deque<Sample> samples_;
  int64_t events_ = 0, events_at_last_ = 0;
  WallTime last_{};
  bool any_ = false;
};

// InvalidArgument unless `history` is sane (every_events >= 1, every > 0, capacity 1..100000).
Status ValidateHistoryConfig(const HistoryConfig& history);

// The projection body (see above) for `limit` (1..5000) customers at feature time `now`.
// FailedPrecondition when there is no model yet.
Result<nlohmann::json> Projection(const segment::Segmenter& seg, WallTime now, int limit);

// The `limit` query parameter of the projection route: 1..5000, default 1000.
Result<int> ProjectionLimit(const std::optional<std::string>& query);

}  // namespace strata::segment_service
