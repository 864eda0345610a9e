// Test-only helpers: a synthetic non-IID federated data generator and an independent Lloyd's
// k-means reference (k-means++ seeding, best of several restarts).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <vector>

namespace strata::federated::testing {

struct FederatedData {
  int k = 0;
  int d = 0;
  std::vector<double> true_centers;              // k×d
  std::vector<std::vector<double>> node_points;  // per node, row-major n_i×d
  std::vector<double> pooled;                    // all points
};

// k Gaussian segments (centres uniform in [−10, 10]^d, unit variance); each node draws its
// segment proportions from Dirichlet(alpha) and then `points_per_node` points.
FederatedData MakeNonIid(int nodes, int k, int d, int points_per_node, double alpha, uint64_t seed);

// Centralised Lloyd's k-means reference: best SSQ over `restarts` k-means++ runs.
std::vector<double> ReferenceLloyd(const std::vector<double>& points, int d, int k, int restarts,
                                   uint64_t seed);
double ReferenceSsq(const std::vector<double>& points, int d, const std::vector<double>& centers);

}  // namespace strata::federated::testing
