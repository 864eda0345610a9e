// StreamKMeans: online mini-batch k-means with forgetting and a micro-segment lifecycle.
//
// Update rule per mini-batch of m points (Spark StreamingKMeans, "points" time unit): every weight
// is discounted by a^m with a = 0.5^(1/half_life_points); then for each segment j that received
// m_j points with mean x̄_j: n_j' = n_j + m_j, c_j += (m_j / n_j') (x̄_j - c_j).
// Distances are standardised with Welford statistics of the input stream (with the same
// exponential forgetting as the centroids, so the scale follows the current population). Seeding is
// k-means++ on a recency-biased reservoir sample followed by Lloyd refinement on that sample.
// Lifecycle, every lifecycle_every_points: death (weight < death_weight_fraction of the total),
// merge (centroids closer than merge_distance), birth by split (2-means on the segment's reservoir
// points reduces its SSQ below split_gain of the 1-means SSQ, or the segment is bimodal along the
// split axis: 1 - SSQ_axis(2) / SSQ_axis(1) >= split_bimodality; below k_init the best split is
// taken unconditionally, as Spark replaces a dying cluster), k kept in [k_min, k_max].
// A Page–Hinkley test on the per-batch mean assignment distance re-seeds from the reservoir on
// drift. Each lifecycle tick also tries an offline refinement (batch refit of the reservoir,
// adopted when it lowers the reservoir SSQ by refit_improvement). Segment ids are stable: after a
// re-seed new centroids inherit the id of the nearest old centroid (greedy matching within
// match_distance). Deterministic for a given seed and input. Thread-safety: not thread-safe; one
// trainer thread. Model() returns an independent snapshot.
//
//   STRATA_ASSIGN_OR_RETURN(auto km, StreamKMeans::Create({.k_init = 8, .seed = 7}));
//   STRATA_RETURN_IF_ERROR(km.Update(batch));  // batch: m x 16 feature rows
//   if (km.seeded()) assigner = Assigner::Create(km.Model());
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "strata/core/rng.h"
#include "strata/core/status.h"
#include "strata/segment/kmeans_reference.h"
#include "strata/segment/segment_model.h"

namespace strata::segment {

enum class ModelChangeKind : uint8_t { kSeeded, kReseeded, kSplit, kMerged, kDied, kInstalled };
struct ModelChange {
  ModelChangeKind kind;
  uint64_t at_point;          // points seen when it happened
  std::vector<uint32_t> ids;  // split: parent, child; merged: kept, removed; died: id
};
std::string_view ModelChangeKindName(ModelChangeKind kind);

class StreamKMeans {
 public:
  struct Config {
    int dim = 16;
    int k_init = 8;
    int k_min = 2;
    int k_max = 64;
    double half_life_points = 50000;  // forgetting; 0 = none (plain mini-batch k-means)
    int reservoir_size = 4096;
    int reservoir_window = 50000;  // replace prob = size / min(seen, window): recency bias
    int warmup_points = 2048;      // points before k-means++ seeding (<= reservoir_size)
    int seed_lloyd_iterations = 20;
    int seed_restarts = 3;
    // Lifecycle.
    bool lifecycle = true;
    int lifecycle_every_points = 8192;
    double death_weight_fraction = 0.01;
    double merge_distance = 1.0;    // standardised Euclidean distance between centroids
    double split_gain = 0.65;       // split when SSQ(2-means) < split_gain * SSQ(1-means)
    double split_bimodality = 0.8;  // ...or when 1 - SSQ ratio along the split axis >= this
                                    // (Gaussian 0.64; both children must hold >= 10%)
    double split_min_share = 0.02;  // only segments with >= this share of weight split
    int split_min_points = 40;      // reservoir points needed to consider a split
    // Offline refinement each lifecycle tick: Lloyd/k-means++ on the reservoir replaces the live
    // centroids when it lowers the reservoir SSQ by at least this fraction (>= 1 disables).
    double refit_improvement = 0.05;
    // Drift (Page–Hinkley on batch mean of RMS-per-feature distance).
    bool drift_detection = true;
    double ph_delta = 0.02;
    double ph_lambda = 1.0;
    int ph_min_batches = 20;      // batches after (re)seeding before alarms count
    double match_distance = 2.0;  // max distance to inherit an id after re-seeding
    uint64_t seed = 1;
  };
  struct Stats {
    uint64_t points = 0, batches = 0, reseeds = 0, splits = 0, merges = 0, deaths = 0,
             drift_alarms = 0, refits = 0;
  };

  // InvalidArgument naming the field: dim < 1, k_min < 1, k_min > k_init > k_max, half-life < 0,
  // warmup > reservoir, non-positive intervals or thresholds.
  static Result<StreamKMeans> Create(const Config& config);

  // Feeds one mini-batch (rows are points in feature units, cols == dim). InvalidArgument on a
  // column mismatch or non-finite value (the batch is then ignored entirely).
  Status Update(const Matrix& batch);

  bool seeded() const { return centroids_.rows() > 0; }
  int k() const { return static_cast<int>(centroids_.rows()); }
  // Snapshot; an empty (k = 0) model before seeding.
  SegmentModel Model() const;
  const Stats& stats() const { return stats_; }
  // Lifecycle/drift changes since the last call (for a "segment changes" topic).
  std::vector<ModelChange> TakeChanges();
  // Replaces the live model (e.g. a federated global model from PUT /model): centroids, ids,
  // weights (1 each when empty) and the standardisation. Training continues from it.
  // InvalidArgument when the model is invalid, has another dim, or k is outside [k_min, k_max].
  Status Install(const SegmentModel& model);
  const Config& config() const { return config_; }

 private:
  explicit StreamKMeans(const Config& config);
  void Observe(const Matrix& batch);  // Welford stats + reservoir
  Eigen::RowVectorXf Scale() const;
  Eigen::RowVectorXf Mean() const;
  Matrix ReservoirMatrix() const;
  // Returns false when a re-seed was skipped because it did not beat min_improvement.
  bool Seed(int k, bool reseed, double min_improvement);
  void Step(const Matrix& batch);
  void Lifecycle();
  bool TrySplit(bool force);
  void RemoveRow(int j);
  void Record(ModelChangeKind kind, std::vector<uint32_t> ids);

  Config config_;
  Rng rng_;
  Stats stats_;
  double decay_per_point_;  // a
  // Welford over the stream.
  int64_t n_ = 0;
  Eigen::RowVectorXd mean_, m2_;
  double stat_weight_ = 0;  // decayed count behind mean_/m2_
  // Reservoir.
  std::vector<float> reservoir_;  // row-major, reservoir_rows_ x dim
  int reservoir_rows_ = 0;
  // Model.
  Matrix centroids_;  // feature units
  std::vector<double> weights_;
  std::vector<uint32_t> ids_;
  uint32_t next_id_ = 1;
  uint64_t version_ = 0;
  uint64_t next_lifecycle_ = 0;
  // Page–Hinkley.
  int64_t ph_n_ = 0;
  double ph_mean_ = 0, ph_sum_ = 0, ph_min_ = 0;
  std::vector<ModelChange> changes_;
};

}  // namespace strata::segment
