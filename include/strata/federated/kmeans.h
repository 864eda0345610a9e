// Federated clustering strategies over generic centroid matrices.
//
// (a) Iterative federated k-means (FedLloyd, FedAvg-style): each node assigns its points to the
//     nearest *global* centroid (warm start from the current GlobalModel) and reports sufficient
//     statistics (LocalStats); the aggregator sums them and ApplyAggregate moves each centroid to
//     (a·W_j·μ_j + S_j) / (a·W_j + N_j), a = decay (0 = plain Lloyd step).
// (b) One-shot k-FED (Dennis, Li, Smith, ICML 2021): each node runs k-means locally with k' centres
//     (LocalKMeans) and sends them (CentroidReport); KFedAggregate seeds with one random node's
//     centres, adds farthest-first centres until k, then does one weighted Lloyd step over all
//     reported centres. k-FED exposes raw local centres: use it only inside a trust boundary.
// Points are row-major n×d doubles. Thread-safety: pure functions; the Rng is caller-owned.
//
//   GlobalModel g = KFedAggregate(reports, k, rng).value();
//   for (int r = 0; r < rounds; ++r) {
//     SufficientStats sum = ...;  // Σ over nodes of LocalStats(points_i, d, g, true)
//     g = ApplyAggregate(g, sum, {}).value();
//   }
#pragma once

#include <span>
#include <vector>

#include "strata/core/rng.h"
#include "strata/core/status.h"
#include "strata/federated/update.h"

namespace strata::federated {

double SquaredDistance(std::span<const double> a, std::span<const double> b);
// Index of the nearest of k centroids (row-major k×d) to x.
int NearestCentroid(std::span<const double> centroids, int k, std::span<const double> x);
// Σ_i w_i · min_j ‖x_i − μ_j‖² (weights empty = all 1).
double Ssq(std::span<const double> points, int d, std::span<const double> centroids, int k,
           std::span<const double> weights = {});

// Node side of FedLloyd: statistics of the node's points assigned to the global centroids.
// InvalidArgument when points.size() is not a multiple of model.d or weights mismatch.
Result<SufficientStats> LocalStats(std::span<const double> points, const GlobalModel& model,
                                   bool with_second_moments, std::span<const double> weights = {});

struct ApplyConfig {
  double decay = 0.0;        // a in [0, 1]: weight kept from the previous global model
  double min_weight = 1e-9;  // segments whose new weight is below this keep their old centroid
};

// Server side of FedLloyd: the next GlobalModel (version + 1). InvalidArgument on shape mismatch.
Result<GlobalModel> ApplyAggregate(const GlobalModel& prev, const SufficientStats& sum,
                                   const ApplyConfig& config);

// Weighted k-means++ seeding followed by up to `iters` Lloyd iterations (stops when no point
// changes segment). Returns k×d centroids; InvalidArgument when there are fewer than k points.
Result<std::vector<double>> LocalKMeans(std::span<const double> points, int d, int k, int iters,
                                        Rng& rng, std::span<const double> weights = {});

// Node side of k-FED: local k-means plus per-centre weights, as a CentroidReport.
Result<CentroidReport> KFedLocal(const std::string& node_id, std::span<const double> points, int d,
                                 int k_local, int iters, Rng& rng);

// Server side of k-FED: a GlobalModel with k centroids (version 1). InvalidArgument when the
// reports disagree on d or hold fewer than k centres in total. With restarts = 0 this is the
// paper's algorithm (random node's centres + farthest-first + one weighted Lloyd step). With
// restarts > 0 the server also runs weighted k-means++ / Lloyd on the reported centres (a weighted
// coreset) `restarts` times and keeps whichever solution has the lowest weighted SSQ over the
// centres; farthest-first seeding is outlier-sensitive, and this makes the cold start robust.
Result<GlobalModel> KFedAggregate(std::span<const CentroidReport> reports, int k, Rng& rng,
                                  int restarts = 10);

}  // namespace strata::federated
