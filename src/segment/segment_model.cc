#include "strata/segment/segment_model.h"

#include <algorithm>

namespace strata::segment {

Matrix SegmentModel::StandardizedCentroids() const { return Standardize(centroids); }

Matrix SegmentModel::Standardize(const Matrix& x) const {
  return (x.rowwise() - mean).array().rowwise() / scale.array();
}

Status SegmentModel::Validate() const {
  const auto k = centroids.rows(), d = centroids.cols();
  if (static_cast<Eigen::Index>(ids.size()) != k) return InvalidArgumentError("ids: size != k");
  if (!weights.empty() && static_cast<Eigen::Index>(weights.size()) != k) {
    return InvalidArgumentError("weights: size != k");
  }
  if (mean.size() != d || scale.size() != d) return InvalidArgumentError("mean/scale: size != dim");
  if (!centroids.allFinite() || !mean.allFinite() || !scale.allFinite()) {
    return InvalidArgumentError("model: non-finite value");
  }
  if ((scale.array() <= 0).any()) return InvalidArgumentError("scale: must be > 0");
  std::vector<uint32_t> sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    return InvalidArgumentError("ids: duplicate segment id");
  }
  return Status::Ok();
}

}  // namespace strata::segment
