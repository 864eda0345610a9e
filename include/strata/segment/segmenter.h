// Segmenter: the segmentation pipeline stage — event -> profile update -> segment assignment,
// with a background-style trainer that feeds mini-batches of customers (features as of the newest
// event time) to StreamKMeans and refreshes the Assigner.
//
// Training samples customers uniformly from the profile table every `train_every_events` events,
// so the model clusters the current population (not event-time snapshots, whose recency is
// always ~0). Train(now, n) runs extra mini-batches when the node is idle.
// Thread-safety: not thread-safe (one ingest thread). A service answers reads from a copy of
// assigner() published after each refresh.
//
//   STRATA_ASSIGN_OR_RETURN(auto seg, Segmenter::Create({}));
//   STRATA_ASSIGN_OR_RETURN(Assignment a, seg.Process(event));  // a.index < 0 before warm-up
#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include "strata/core/rng.h"
#include "strata/core/status.h"
#include "strata/segment/assign.h"
#include "strata/segment/event.h"
#include "strata/segment/profile.h"
#include "strata/segment/stream_kmeans.h"

namespace strata::segment {

class Segmenter {
 public:
  struct Config {
    ProfileTable::Config profiles;
    StreamKMeans::Config clustering;
    int train_every_events = 512;   // one mini-batch per this many events
    int train_batch = 128;          // customers per mini-batch (0.25 training points per event)
    int refresh_every_batches = 4;  // rebuild the Assigner after this many mini-batches
    uint64_t seed = 1;
  };
  // Errors from ProfileTable::Create / StreamKMeans::Create (prefixed "profiles."/"clustering."),
  // or InvalidArgument for non-positive intervals or clustering.dim != 16.
  static Result<Segmenter> Create(const Config& config);

  // Validates and ingests one event. Returns the customer's assignment; before the model is
  // seeded the assignment has index -1 and segment_id 0.
  Result<Assignment> Process(const Event& event);
  // For events already folded into mutable_profiles() (e.g. by a ProfileStore opened on it):
  // advances the clock, trains on schedule and returns the customer's assignment.
  // NotFound when the customer is not in the table.
  Result<Assignment> AssignApplied(const Event& event);
  // Runs `batches` training mini-batches at time `now` (idle refresh).
  Status Train(WallTime now, int batches);

  // Installs an external model (PUT /model, federation) and rebuilds the Assigner.
  // Errors from StreamKMeans::Install.
  Status InstallModel(const SegmentModel& model);
  // Lifecycle/drift changes of the model since the last call (for the "changes" topic).
  std::vector<ModelChange> TakeModelChanges() { return kmeans_->TakeChanges(); }

  // NotFound for an unknown customer; FailedPrecondition before the model is seeded.
  Result<Assignment> Lookup(std::string_view customer_id) const;
  // All customers' features as of `now` (rows in table index order).
  Matrix FeatureMatrix(WallTime now) const;

  const ProfileTable& profiles() const { return profiles_; }
  ProfileTable& mutable_profiles() { return profiles_; }
  const StreamKMeans& clustering() const { return *kmeans_; }
  // Null before the model is seeded.
  const Assigner* assigner() const { return assigner_.get(); }
  WallTime newest() const { return newest_; }

 private:
  Segmenter(const Config& c, ProfileTable p, StreamKMeans k);
  Status TrainBatch(WallTime now);
  Result<Assignment> AfterUpdate(uint32_t index, WallTime t);
  void Refresh();

  Config config_;
  ProfileTable profiles_;
  std::unique_ptr<StreamKMeans> kmeans_;
  std::unique_ptr<Assigner> assigner_;
  Rng rng_;
  Matrix batch_;
  WallTime newest_{};
  int64_t since_train_ = 0;
  int batches_since_refresh_ = 0;
};

}  // namespace strata::segment
