// Update model: per-segment sufficient statistics and the messages that carry them.
//
// A node's contribution to a round is, for each of the k global segments, the weighted sum of its
// customers' feature vectors S_j = Σ w·x (d values), the weight N_j = Σ w and optionally the
// second moment Q_j = Σ w·‖x‖². These are sums, so aggregation (plain, hierarchical or secure) is
// element-wise addition and the aggregate of aggregates is exact. Matrices are row-major k×d.
// GlobalModel is the versioned k×d centroid matrix the aggregator publishes; CentroidReport is the
// one-shot k-FED message (raw local centres, to be used only inside a trust boundary).
// Thread-safety: plain values; safe to share read-only.
//
//   SufficientStats s = SufficientStats::Zero(k, d, /*with_second_moments=*/true);
//   s.Add(segment, x, weight);
//   ModelUpdate u{.round_id = 3, .node_id = "edge-1", .model_version = 2, .stats = s};
//   std::vector<uint8_t> wire = u.Encode();
//   Result<ModelUpdate> back = ModelUpdate::Decode(wire);
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "strata/core/status.h"

namespace strata::federated {

// Decode limits (oversized messages are rejected before allocation).
inline constexpr uint32_t kMaxSegments = 4096;
inline constexpr uint32_t kMaxDims = 4096;
inline constexpr uint32_t kMaxMatrixValues = 1u << 22;
inline constexpr size_t kMaxNodeIdBytes = 128;

struct SufficientStats {
  int k = 0;
  int d = 0;
  std::vector<double> sums;    // k*d, row-major: Σ w·x per segment
  std::vector<double> counts;  // k: Σ w per segment
  std::vector<double> second;  // k or empty: Σ w·‖x‖² per segment
  uint64_t contributors = 0;   // number of nodes whose stats were summed into this one

  static SufficientStats Zero(int k, int d, bool with_second_moments);
  bool has_second_moments() const { return !second.empty(); }
  // Adds one (weighted) point to segment j. Precondition: 0 <= j < k, x.size() == d.
  void Add(int j, std::span<const double> x, double weight = 1.0);
  // Element-wise sum; InvalidArgument on a shape mismatch (k, d or second-moment presence).
  Status Accumulate(const SufficientStats& other);
  // InvalidArgument when vector sizes disagree with k and d, or values are not finite.
  Status Validate() const;
  // Flattened [sums..., counts..., second...] for secure aggregation; Unflatten inverts it.
  std::vector<double> Flatten() const;
  static Result<SufficientStats> Unflatten(std::span<const double> flat, int k, int d,
                                           bool with_second_moments);
  size_t FlatSize() const { return sums.size() + counts.size() + second.size(); }
};

struct ModelUpdate {
  uint64_t round_id = 0;
  std::string node_id;
  uint64_t model_version = 0;  // the global model version the node trained from
  SufficientStats stats;

  std::vector<uint8_t> Encode() const;
  // DataLoss when truncated, InvalidArgument when malformed, oversized or inconsistent.
  static Result<ModelUpdate> Decode(std::span<const uint8_t> bytes);
  // Exact Encode() size, e.g. for a link-meter check that nodes send nothing but updates.
  static size_t EncodedSize(int k, int d, bool with_second_moments, size_t node_id_bytes) {
    return 41 + node_id_bytes +
           8 * (static_cast<size_t>(k) * d + k + (with_second_moments ? k : 0));
  }
};

struct GlobalModel {
  uint64_t version = 0;
  int k = 0;
  int d = 0;
  std::vector<double> centroids;  // k*d
  std::vector<double> weights;    // k: aggregate weight per segment (0 = never observed)

  std::span<const double> Centroid(int j) const {
    return std::span<const double>(centroids).subspan(static_cast<size_t>(j) * d, d);
  }
  Status Validate() const;
  std::vector<uint8_t> Encode() const;
  static Result<GlobalModel> Decode(std::span<const uint8_t> bytes);
};

// k-FED one-shot message: a node's local centres (k_local×d) with their weights.
struct CentroidReport {
  std::string node_id;
  int k = 0;
  int d = 0;
  std::vector<double> centroids;
  std::vector<double> weights;

  std::vector<uint8_t> Encode() const;
  static Result<CentroidReport> Decode(std::span<const uint8_t> bytes);
};

}  // namespace strata::federated
