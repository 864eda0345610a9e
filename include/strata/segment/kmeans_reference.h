// Offline clustering reference and quality metrics: Lloyd's k-means with k-means++ seeding and
// restarts, sum of squared distances (SSQ), nearest-centroid labels, adjusted Rand index (ARI).
//
// These are the batch baselines the streaming model is tested against ("streaming ≈ batch") and
// the seeding/refinement routines StreamKMeans reuses. Points are rows of a row-major float matrix
// (already standardised by the caller when that matters).
// Thread-safety: pure functions; safe to call concurrently. Rng arguments are not shared.
//
//   STRATA_ASSIGN_OR_RETURN(KMeansResult ref, LloydKMeans(points, 8, {.restarts = 4, .seed = 7}));
//   double ari = AdjustedRandIndex(ref.labels, truth);
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <vector>

#include "strata/core/rng.h"
#include "strata/core/status.h"

namespace strata::segment {

using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct LloydOptions {
  int restarts = 4;  // independent k-means++ seedings; the lowest SSQ wins
  int max_iterations = 100;
  double tolerance = 1e-6;  // stop when relative SSQ improvement falls below this
  uint64_t seed = 1;
};

struct KMeansResult {
  Matrix centroids;         // k x d
  std::vector<int> labels;  // per point, 0..k-1
  double ssq = 0;           // sum of squared distances to the nearest centroid
  int iterations = 0;       // of the winning restart
};

// k-means++ (D^2 sampling) seeding: indices of k distinct rows of `points` (fewer when the data
// has fewer distinct points).
std::vector<int> KMeansPlusPlusSeeds(const Matrix& points, int k, Rng& rng);

// Lloyd iterations from `centroids` (modified in place); empty clusters are re-seeded at the point
// farthest from its centroid. Returns labels and SSQ.
KMeansResult LloydRefine(const Matrix& points, Matrix centroids, int max_iterations,
                         double tolerance);

// InvalidArgument when k < 1, k > rows, points has no columns or non-finite values.
Result<KMeansResult> LloydKMeans(const Matrix& points, int k, const LloydOptions& options = {});

// Squared distances from each row to each centroid (n x k).
Matrix SquaredDistances(const Matrix& points, const Matrix& centroids);
std::vector<int> NearestCentroids(const Matrix& points, const Matrix& centroids);
double Ssq(const Matrix& points, const Matrix& centroids);

// Hubert–Arabie adjusted Rand index of two labelings of the same items (labels any ints).
// 1 = identical partitions, ~0 = chance. Returns 1 when both are single clusters.
double AdjustedRandIndex(const std::vector<int>& a, const std::vector<int>& b);

}  // namespace strata::segment
