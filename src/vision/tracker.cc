#include "strata/vision/tracker.h"

#include <algorithm>
#include <tuple>

namespace strata::vision {

Result<IouTracker> IouTracker::Create(const Config& c) {
  if (!(c.iou_threshold > 0 && c.iou_threshold <= 1)) {
    return InvalidArgumentError("tracker.iou_threshold: must be in (0, 1]");
  }
  if (c.min_hits < 1 || c.min_hits > 1000) {
    return InvalidArgumentError("tracker.min_hits: must be in 1..1000");
  }
  if (c.max_age < 0 || c.max_age > 100000) {
    return InvalidArgumentError("tracker.max_age: must be in 0..100000");
  }
  return IouTracker(c);
}

std::vector<Detection> IouTracker::Update(const std::vector<Detection>& detections) {
  // All (iou, track, detection) pairs above the threshold, best first.
  std::vector<std::tuple<float, int, int>> pairs;
  for (int t = 0; t < static_cast<int>(tracks_.size()); ++t) {
    for (int d = 0; d < static_cast<int>(detections.size()); ++d) {
      if (tracks_[t].last.class_id != detections[d].class_id) continue;
      float iou = Iou(tracks_[t].last.box, detections[d].box);
      if (iou >= config_.iou_threshold) pairs.emplace_back(iou, t, d);
    }
  }
  std::stable_sort(pairs.begin(), pairs.end(),
                   [](const auto& a, const auto& b) { return std::get<0>(a) > std::get<0>(b); });
  std::vector<char> track_used(tracks_.size(), 0), det_used(detections.size(), 0);
  std::vector<Detection> out;
  for (const auto& [iou, t, d] : pairs) {
    if (track_used[t] || det_used[d]) continue;
    track_used[t] = det_used[d] = 1;
    Track& tr = tracks_[t];
    tr.last = detections[d];
    tr.last.track_id = tr.id;
    ++tr.hits;
    tr.misses = 0;
    if (!tr.confirmed && tr.hits >= config_.min_hits) {
      tr.confirmed = true;
      ++confirmed_total_;
    }
    if (tr.confirmed) out.push_back(tr.last);
  }
  for (size_t t = 0; t < tracks_.size(); ++t) {
    if (!track_used[t]) ++tracks_[t].misses;
  }
  tracks_.erase(std::remove_if(tracks_.begin(), tracks_.end(),
                               [&](const Track& tr) { return tr.misses > config_.max_age; }),
                tracks_.end());
  for (size_t d = 0; d < detections.size(); ++d) {
    if (det_used[d]) continue;
    Track tr;
    tr.id = next_id_++;
    tr.last = detections[d];
    tr.last.track_id = tr.id;
    tr.hits = 1;
    if (config_.min_hits <= 1) {
      tr.confirmed = true;
      ++confirmed_total_;
      out.push_back(tr.last);
    }
    tracks_.push_back(std::move(tr));
  }
  return out;
}

}  // namespace strata::vision
