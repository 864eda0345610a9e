// Assigner: nearest-centroid segment assignment for one customer or a batch, with a confidence
// (margin to the second-nearest centroid), a readable segment label, and an explanation (the
// features that most separate the segment from the population, as z-scores and original units).
//
// Built once from a SegmentModel (precomputes standardised centroids, norms, labels and
// explanations); Assign costs one k x d matrix-vector product (Eigen) and no allocation.
// Thread-safety: immutable after Create; Assign/AssignBatch/Explain may be called concurrently.
// Swap in a new Assigner (e.g. behind a shared_ptr) when the model changes.
//
//   STRATA_ASSIGN_OR_RETURN(Assigner a, Assigner::Create(km.Model()));
//   Assignment s = a.Assign(table.Features(idx, now).data());
//   std::cout << a.Label(s.index) << " " << s.confidence;
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "strata/core/status.h"
#include "strata/segment/segment_model.h"

namespace strata::segment {

inline constexpr int kMaxSegments = 1024;
inline constexpr int kMaxDims = 256;

struct Assignment {
  uint32_t segment_id = 0;  // stable id from the model
  int index = -1;           // row in the model
  float distance = 0;       // standardised Euclidean distance to the centroid
  float second_distance = 0;
  float confidence = 1;  // 1 - distance / second_distance, in [0, 1]; 1 when k == 1
};

struct FeatureExplanation {
  int feature = 0;
  std::string name;
  float z = 0;                  // (centroid - population mean) / population stddev
  double segment_value = 0;     // centroid, original units (log1p undone)
  double population_value = 0;  // population mean, original units
};

// Readable label from a standardised centroid (dim 16 feature order), e.g. "high-value frequent",
// "lapsing big spenders", "bargain returners"; "segment" when nothing stands out.
std::string LabelFromZ(const float* z, int dim);

class Assigner {
 public:
  struct Config {
    int explain_top = 3;  // features per segment explanation, >= 1
  };
  // InvalidArgument when the model is invalid (SegmentModel::Validate), empty, k > 1024 or
  // dim > 256, or explain_top < 1.
  static Result<Assigner> Create(const SegmentModel& model, const Config& config);
  static Result<Assigner> Create(const SegmentModel& model) { return Create(model, Config{}); }

  // x: dim floats in feature units.
  Assignment Assign(const float* x) const;
  // Rows of x in feature units; InvalidArgument on a column mismatch.
  Status AssignBatch(const Matrix& x, std::vector<Assignment>* out) const;

  int k() const { return model_.k(); }
  std::optional<int> IndexOf(uint32_t segment_id) const;
  // Unique per model ("bargain returners", "bargain returners 2", ...).
  const std::string& Label(int index) const { return labels_[index]; }
  const std::vector<FeatureExplanation>& Explain(int index) const { return explain_[index]; }
  const SegmentModel& model() const { return model_; }

 private:
  Assigner() = default;
  SegmentModel model_;
  Matrix cz_;                // standardised centroids, k x d
  Eigen::VectorXf cz_norm_;  // ||cz_j||^2
  Eigen::RowVectorXf inv_scale_;
  std::vector<std::string> labels_;
  std::vector<std::vector<FeatureExplanation>> explain_;
};

}  // namespace strata::segment
