#include "strata/segment/assign.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "strata/segment/profile.h"

namespace strata::segment {
namespace {

inline void Best2(const float* d2, int k, const float* cn, float zn, Assignment* a) {
  float b1 = std::numeric_limits<float>::infinity(), b2 = b1;
  int i1 = 0;
  for (int j = 0; j < k; ++j) {
    const float v = cn[j] - 2.0f * d2[j];
    if (v < b1) {
      b2 = b1;
      b1 = v;
      i1 = j;
    } else if (v < b2) {
      b2 = v;
    }
  }
  a->index = i1;
  a->distance = std::sqrt(std::max(0.0f, b1 + zn));
  a->second_distance = k > 1 ? std::sqrt(std::max(0.0f, b2 + zn)) : a->distance;
  a->confidence = (k > 1 && a->second_distance > 0)
                      ? std::clamp(1.0f - a->distance / a->second_distance, 0.0f, 1.0f)
                      : 1.0f;
}

}  // namespace

std::string LabelFromZ(const float* z, int dim) {
  if (dim != kNumFeatures) return "segment";
  const float rec = z[kRecencyDays], freq = z[kFrequency], mon = z[kMonetary];
  const float basket = z[kAvgBasket], ret = z[kReturnRate], browse = z[kBrowseRatio];
  const float tenure = z[kTenureDays];
  if (ret > 1.0f) return basket < 0 ? "bargain returners" : "big-basket returners";
  if (browse > 1.0f && freq < 0) return "window shoppers";
  if (rec > 0.75f && (mon > 0.5f || basket > 0.5f)) return "lapsing big spenders";
  if (rec > 0.75f) return "lapsing occasional";
  if (mon > 0.5f && freq > 0.5f) return "high-value frequent";
  if (basket > 0.75f) return "big-basket occasional";
  if (freq > 0.75f) return "frequent small-basket";
  if (tenure < -0.75f) return "newcomers";
  if (mon < -0.75f) return "low-value";
  if (z[kWeekendShare] > 1.0f) return "weekend shoppers";
  if (z[kChannelOnline] > 1.0f) return "online regulars";
  if (z[kChannelStore] > 1.0f) return "in-store regulars";
  return "mainstream";
}

Result<Assigner> Assigner::Create(const SegmentModel& model, const Config& config) {
  STRATA_RETURN_IF_ERROR(model.Validate());
  if (model.k() < 1) return InvalidArgumentError("model: no segments (k = 0)");
  if (model.k() > kMaxSegments) return InvalidArgumentError("model: k > 1024");
  if (model.dim() > kMaxDims) return InvalidArgumentError("model: dim > 256");
  if (config.explain_top < 1) return InvalidArgumentError("explain_top: must be >= 1");
  Assigner a;
  a.model_ = model;
  a.cz_ = model.StandardizedCentroids();
  a.cz_norm_ = a.cz_.rowwise().squaredNorm();
  a.inv_scale_ = model.scale.cwiseInverse();
  const int d = model.dim();
  std::map<std::string, int> seen;
  for (int j = 0; j < model.k(); ++j) {
    std::string label = LabelFromZ(a.cz_.row(j).data(), d);
    const int n = ++seen[label];
    if (n > 1) label.append(1, ' ').append(std::to_string(n));
    a.labels_.push_back(std::move(label));
    std::vector<int> order(d);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int x, int y) { return std::abs(a.cz_(j, x)) > std::abs(a.cz_(j, y)); });
    std::vector<FeatureExplanation> ex;
    for (int t = 0; t < std::min(config.explain_top, d); ++t) {
      const int f = order[t];
      FeatureExplanation e;
      e.feature = f;
      e.z = a.cz_(j, f);
      if (d == kNumFeatures) {
        e.name = std::string(FeatureInfos()[f].name);
        e.segment_value = ToOriginalUnits(f, model.centroids(j, f));
        e.population_value = ToOriginalUnits(f, model.mean[f]);
      } else {
        e.name = "x" + std::to_string(f);
        e.segment_value = model.centroids(j, f);
        e.population_value = model.mean[f];
      }
      ex.push_back(std::move(e));
    }
    a.explain_.push_back(std::move(ex));
  }
  return a;
}

Assignment Assigner::Assign(const float* x) const {
  const int d = model_.dim(), k = model_.k();
  alignas(32) float z[kMaxDims];
  alignas(32) float dots[kMaxSegments];
  float zn = 0;
  for (int f = 0; f < d; ++f) {
    z[f] = (x[f] - model_.mean[f]) * inv_scale_[f];
    zn += z[f] * z[f];
  }
  Eigen::Map<Eigen::VectorXf> dv(dots, k);
  dv.noalias() = cz_ * Eigen::Map<const Eigen::VectorXf>(z, d);
  Assignment a;
  Best2(dots, k, cz_norm_.data(), zn, &a);
  a.segment_id = model_.ids[a.index];
  return a;
}

Status Assigner::AssignBatch(const Matrix& x, std::vector<Assignment>* out) const {
  if (x.cols() != model_.dim()) {
    return InvalidArgumentError("batch: " + std::to_string(x.cols()) + " columns, expected " +
                                std::to_string(model_.dim()));
  }
  const Matrix z = (x.rowwise() - model_.mean).array().rowwise() * inv_scale_.array();
  const Matrix dots = z * cz_.transpose();
  const Eigen::VectorXf zn = z.rowwise().squaredNorm();
  out->resize(x.rows());
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    Assignment& a = (*out)[i];
    Best2(dots.row(i).data(), model_.k(), cz_norm_.data(), zn[i], &a);
    a.segment_id = model_.ids[a.index];
  }
  return Status::Ok();
}

std::optional<int> Assigner::IndexOf(uint32_t segment_id) const {
  for (int j = 0; j < model_.k(); ++j) {
    if (model_.ids[j] == segment_id) return j;
  }
  return std::nullopt;
}

}  // namespace strata::segment
