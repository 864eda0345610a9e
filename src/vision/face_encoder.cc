#include <cmath>
#include <opencv2/calib3d.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/face.hpp>
#include <opencv2/imgproc.hpp>

#include "strata/vision/face_recognition.h"
#include "strata/vision/model_manifest.h"

namespace strata::vision {

std::string_view FaceMetricName(FaceMetric m) {
  return m == FaceMetric::kCosine ? "cosine" : "chi_square";
}

double CompareTemplates(FaceMetric metric, const std::vector<float>& a,
                        const std::vector<float>& b) {
  size_t n = std::min(a.size(), b.size());
  double acc = 0;
  if (metric == FaceMetric::kCosine) {
    for (size_t i = 0; i < n; ++i) acc += static_cast<double>(a[i]) * b[i];
    return acc;
  }
  for (size_t i = 0; i < n; ++i) {
    double s = static_cast<double>(a[i]) + b[i];
    if (s > 0) acc += (a[i] - b[i]) * static_cast<double>(a[i] - b[i]) / s;
  }
  return 2 * acc;
}

bool IsMatch(FaceMetric metric, double score, double threshold) {
  return metric == FaceMetric::kCosine ? score >= threshold : score <= threshold;
}

Result<cv::Mat> AlignFace(const cv::Mat& image, const std::array<cv::Point2f, 5>& landmarks,
                          const std::vector<cv::Point2f>& tmpl, cv::Size size) {
  if (tmpl.size() != 5) return InvalidArgumentError("AlignFace: template needs 5 points");
  std::vector<cv::Point2f> src(landmarks.begin(), landmarks.end());
  cv::Mat m = cv::estimateAffinePartial2D(src, tmpl, cv::noArray(), cv::LMEDS);
  if (m.empty()) return InvalidArgumentError("AlignFace: landmarks are degenerate");
  cv::Mat aligned;
  cv::warpAffine(image, aligned, m, size, cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar());
  return aligned;
}

namespace {

class LbphEncoder final : public FaceEncoder {
 public:
  Result<std::vector<float>> Encode(const cv::Mat& image, const Face* face) override {
    if (image.empty()) return InvalidArgumentError("lbph: empty image");
    try {
      cv::Mat roi = image;
      if (face) {
        cv::Rect r = cv::Rect(face->box) & cv::Rect(0, 0, image.cols, image.rows);
        if (r.area() <= 0) return InvalidArgumentError("lbph: face box outside the image");
        roi = image(r);
      }
      cv::Mat gray;
      if (roi.channels() == 3) {
        cv::cvtColor(roi, gray, cv::COLOR_BGR2GRAY);
      } else {
        gray = roi;
      }
      cv::resize(gray, gray, cv::Size(92, 112), 0, 0, cv::INTER_AREA);
      // Training a one-image model is how OpenCV exposes its spatial LBP histogram.
      auto model = cv::face::LBPHFaceRecognizer::create(1, 8, 8, 8);
      model->train(std::vector<cv::Mat>{gray}, std::vector<int>{0});
      cv::Mat h = model->getHistograms().at(0);
      return std::vector<float>(h.begin<float>(), h.end<float>());
    } catch (const cv::Exception& e) {
      return InternalError(std::string("lbph: OpenCV: ") + e.what());
    }
  }
  const std::string& name() const override { return name_; }
  FaceMetric metric() const override { return FaceMetric::kChiSquare; }
  // Calibrated on AT&T/ORL (genuine p90 82, impostor p10 83); see docs/vision.md.
  double default_threshold() const override { return 80.0; }
  int dim() const override { return 64 * 256; }

 private:
  std::string name_ = "lbph";
};

class MobileFaceNetEncoder final : public FaceEncoder {
 public:
  MobileFaceNetEncoder(ModelManifest m, cv::dnn::Net net)
      : m_(std::move(m)), net_(std::move(net)) {}

  Result<std::vector<float>> Encode(const cv::Mat& image, const Face* face) override {
    if (image.empty()) return InvalidArgumentError("mobilefacenet: empty image");
    if (!face || !face->has_landmarks) {
      return InvalidArgumentError(
          "mobilefacenet: needs a face with 5 landmarks (use the yunet face detector)");
    }
    try {
      cv::Mat bgr = image;
      if (image.channels() == 1) cv::cvtColor(image, bgr, cv::COLOR_GRAY2BGR);
      cv::Size size(m_.input.width, m_.input.height);
      STRATA_ASSIGN_OR_RETURN(cv::Mat aligned,
                              AlignFace(bgr, face->landmarks, m_.align_template, size));
      cv::Mat blob = cv::dnn::blobFromImage(aligned, m_.input.scale, size, m_.input.mean,
                                            m_.input.channel_order == "rgb", false);
      net_.setInput(blob);
      cv::Mat out = net_.forward();
      if (static_cast<int>(out.total()) != m_.embedding_dim) {
        return InternalError("mobilefacenet: output has " + std::to_string(out.total()) +
                             " values, manifest says " + std::to_string(m_.embedding_dim));
      }
      std::vector<float> v(out.ptr<float>(), out.ptr<float>() + out.total());
      double norm = 0;
      for (float x : v) norm += static_cast<double>(x) * x;
      norm = std::sqrt(norm);
      if (norm <= 0) return InternalError("mobilefacenet: zero embedding");
      for (float& x : v) x = static_cast<float>(x / norm);
      return v;
    } catch (const cv::Exception& e) {
      return InternalError(std::string("mobilefacenet: OpenCV: ") + e.what());
    }
  }
  const std::string& name() const override { return name_; }
  FaceMetric metric() const override { return FaceMetric::kCosine; }
  double default_threshold() const override { return m_.score_threshold; }
  int dim() const override { return m_.embedding_dim; }

 private:
  ModelManifest m_;
  cv::dnn::Net net_;
  std::string name_ = "mobilefacenet";
};

}  // namespace

Result<std::unique_ptr<FaceEncoder>> CreateFaceEncoder(const FaceEncoderConfig& config) {
  if (config.backend == "lbph") return std::unique_ptr<FaceEncoder>(new LbphEncoder());
  if (config.backend != "mobilefacenet") {
    return InvalidArgumentError("face_encoder.backend: expected lbph or mobilefacenet, got '" +
                                config.backend + "'");
  }
  std::string path =
      config.manifest.empty() ? "configs/models/mobilefacenet.yaml" : config.manifest;
  STRATA_ASSIGN_OR_RETURN(ModelManifest m, LoadModelManifest(path));
  if (m.kind != "face_embedding" || m.decoder != "embedding") {
    return InvalidArgumentError(path + ": not a face_embedding manifest");
  }
  STRATA_ASSIGN_OR_RETURN(std::string model,
                          m.Resolve(m.model_file, ModelSearchPath(config.model_dirs)));
  cv::dnn::Net net;
  try {
    net = cv::dnn::readNetFromONNX(model);
  } catch (const cv::Exception& e) {
    return InvalidArgumentError("cannot load model '" + model + "': " + e.err);
  }
  if (net.empty()) return InvalidArgumentError("cannot load model '" + model + "'");
  return std::unique_ptr<FaceEncoder>(new MobileFaceNetEncoder(std::move(m), std::move(net)));
}

}  // namespace strata::vision
