// IouTracker: a simple IoU tracker (SORT without the Kalman filter) so one person walking through
// the scene is one track, not one alert per frame. Each Update() greedily matches detections to
// live tracks by IoU (highest first, >= iou_threshold, same class); unmatched detections start
// tentative tracks, which are confirmed after `min_hits` matches; tracks unmatched for more than
// `max_age` updates are dropped. Track ids start at 1 and are never reused.
// Thread-safety: not thread-safe; one instance per camera.
//
//   STRATA_ASSIGN_OR_RETURN(IouTracker tracker, IouTracker::Create({}));
//   std::vector<Detection> tracked = tracker.Update(detections);  // confirmed, with track_id
#pragma once

#include <vector>

#include "strata/core/status.h"
#include "strata/vision/detection.h"

namespace strata::vision {

struct IouTrackerConfig {
  double iou_threshold = 0.3;  // (0, 1]
  int min_hits = 3;            // >= 1: matches before a track is reported
  int max_age = 10;            // >= 0: updates a track may go unmatched before it is dropped
};

struct Track {
  int id = 0;
  Detection last;  // latest matched detection (track_id set)
  int hits = 0;    // matched updates
  int misses = 0;  // consecutive unmatched updates
  bool confirmed = false;
};

class IouTracker {
 public:
  using Config = IouTrackerConfig;
  // InvalidArgument naming the field when out of range.
  static Result<IouTracker> Create(const Config& config);

  // Returns the confirmed tracks matched in this update, as detections with track_id set.
  std::vector<Detection> Update(const std::vector<Detection>& detections);
  const std::vector<Track>& tracks() const { return tracks_; }  // live tracks (incl. tentative)
  int tracks_started() const { return next_id_ - 1; }
  int tracks_confirmed() const { return confirmed_total_; }

 private:
  explicit IouTracker(Config c) : config_(c) {}
  Config config_;
  std::vector<Track> tracks_;
  int next_id_ = 1;
  int confirmed_total_ = 0;
};

}  // namespace strata::vision
