// SegmentModel: an immutable snapshot of the streaming clustering — centroids in feature units,
// stable segment ids, decayed weights, and the standardisation (mean, scale) used for distances.
//
// Distances are Euclidean in standardised space: z = (x - mean) / scale. The model is what
// Assigner and QuantizedModel are built from, what federation exchanges, and what GET /model
// serves (through a codec outside src/segment).
// Thread-safety: a plain value; share const copies freely.
#pragma once

#include <cstdint>
#include <vector>

#include "strata/segment/kmeans_reference.h"

namespace strata::segment {

struct SegmentModel {
  uint64_t version = 0;        // increases with every change of the centroid set
  std::vector<uint32_t> ids;   // stable segment id per centroid row
  std::vector<float> weights;  // decayed number of points per segment
  Matrix centroids;            // k x d, feature units
  Eigen::RowVectorXf mean;     // d
  Eigen::RowVectorXf scale;    // d, > 0

  int k() const { return static_cast<int>(centroids.rows()); }
  int dim() const { return static_cast<int>(centroids.cols()); }
  // Centroids standardised: (c - mean) / scale.
  Matrix StandardizedCentroids() const;
  // Rows of x standardised with this model's mean/scale.
  Matrix Standardize(const Matrix& x) const;
  // OK, or InvalidArgument naming what is inconsistent (sizes, non-finite, scale <= 0, dup ids).
  Status Validate() const;
};

}  // namespace strata::segment
