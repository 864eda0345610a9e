// FaceEncoder turns a face into a template (a float vector) for the Gallery to compare.
//   "lbph"          — LBP spatial histogram (cv::face::LBPHFaceRecognizer, radius 1, 8 neighbours,
//                     8x8 grid) of the grey face resized to 92x112; metric chi-square distance
//                     (lower = more alike). Embedded default: needs no model file, no landmarks.
//   "mobilefacenet" — 128-d MobileFaceNet embedding (manifest configs/models/mobilefacenet.yaml)
//                     of the face aligned with 5 landmarks to the ArcFace 112x112 template;
//                     L2-normalised; metric cosine similarity (higher = more alike).
// Thread-safety: NOT thread-safe (cv::dnn::Net state); one encoder per worker.
//
//   STRATA_ASSIGN_OR_RETURN(auto enc, CreateFaceEncoder(FaceEncoderConfig()));  // lbph
//   STRATA_ASSIGN_OR_RETURN(std::vector<float> t, enc->Encode(image, &face));
#pragma once

#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "strata/core/status.h"
#include "strata/vision/faces.h"

namespace strata::vision {

enum class FaceMetric { kCosine, kChiSquare };
std::string_view FaceMetricName(FaceMetric m);
// Cosine similarity (vectors assumed L2-normalised) or chi-square distance 2*sum((a-b)^2/(a+b)).
double CompareTemplates(FaceMetric metric, const std::vector<float>& a,
                        const std::vector<float>& b);
// True when `score` means "same person" at `threshold` for this metric.
bool IsMatch(FaceMetric metric, double score, double threshold);

struct FaceEncoderConfig {
  std::string backend = "lbph";  // "lbph" | "mobilefacenet"
  std::string manifest;          // mobilefacenet; "" = configs/models/mobilefacenet.yaml
  std::vector<std::string> model_dirs;
};

class FaceEncoder {
 public:
  virtual ~FaceEncoder() = default;
  // Template of the face `face` in `image` (BGR or grey). With face == nullptr the whole image is
  // taken as the face (lbph only). InvalidArgument when the image is empty or, for mobilefacenet,
  // the face has no landmarks.
  virtual Result<std::vector<float>> Encode(const cv::Mat& image, const Face* face) = 0;
  virtual const std::string& name() const = 0;  // "lbph" | "mobilefacenet"
  virtual FaceMetric metric() const = 0;
  virtual double default_threshold() const = 0;
  virtual int dim() const = 0;
};

Result<std::unique_ptr<FaceEncoder>> CreateFaceEncoder(const FaceEncoderConfig& config);

// Warps `image` so the 5 landmarks land on `tmpl` (estimateAffinePartial2D, LMEDS), output `size`.
// InvalidArgument when no similarity transform can be estimated.
Result<cv::Mat> AlignFace(const cv::Mat& image, const std::array<cv::Point2f, 5>& landmarks,
                          const std::vector<cv::Point2f>& tmpl, cv::Size size);

}  // namespace strata::vision
