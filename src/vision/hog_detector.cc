// "hog": OpenCV's HOG + linear SVM default people detector (Dalal-Triggs, 64x128 window).
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include "strata/vision/detector.h"

namespace strata::vision {
namespace {

class HogDetector final : public Detector {
 public:
  explicit HogDetector(const DetectorConfig& c) : config_(c) {
    hog_.setSVMDetector(cv::HOGDescriptor::getDefaultPeopleDetector());
    score_threshold_ = c.score_threshold < 0 ? 0.0f : static_cast<float>(c.score_threshold);
    nms_threshold_ = c.nms_threshold < 0 ? 0.45f : static_cast<float>(c.nms_threshold);
  }

  Result<std::vector<Detection>> Detect(const cv::Mat& bgr) override {
    STRATA_RETURN_IF_ERROR(CheckFrame(bgr, "hog"));
    try {
      cv::Mat img = bgr;
      double scale = 1.0;
      if (config_.hog_max_width > 0 && bgr.cols > config_.hog_max_width) {
        scale = static_cast<double>(config_.hog_max_width) / bgr.cols;
        cv::resize(bgr, img, cv::Size(), scale, scale, cv::INTER_AREA);
      }
      // OpenCV 4.6's HOG crashes (SIGSEGV) on images smaller than its detection window; nobody
      // fits in such a frame anyway.
      if (img.cols < hog_.winSize.width || img.rows < hog_.winSize.height)
        return std::vector<Detection>{};
      std::vector<cv::Rect> rects;
      std::vector<double> weights;
      hog_.detectMultiScale(img, rects, weights, 0, cv::Size(8, 8), cv::Size(8, 8),
                            config_.hog_scale, 0, false);
      std::vector<Candidate> cands;
      for (size_t i = 0; i < rects.size(); ++i) {
        const cv::Rect& r = rects[i];
        cands.push_back({cv::Rect2f(r.x / scale, r.y / scale, r.width / scale, r.height / scale), 0,
                         static_cast<float>(weights[i])});
      }
      PostprocessOptions opt;
      opt.score_threshold = score_threshold_;
      opt.nms_threshold = nms_threshold_;
      return Postprocess(cands, labels_, bgr.size(), opt);
    } catch (const cv::Exception& e) {
      return InternalError(std::string("hog: OpenCV: ") + e.what());
    }
  }
  const std::string& name() const override { return name_; }
  const std::vector<std::string>& labels() const override { return labels_; }

 private:
  DetectorConfig config_;
  cv::HOGDescriptor hog_;
  float score_threshold_;
  float nms_threshold_;
  std::string name_ = "hog";
  std::vector<std::string> labels_ = {"person"};
};

}  // namespace

Result<std::unique_ptr<Detector>> CreateHogDetector(const DetectorConfig& config) {
  if (!(config.hog_scale > 1.0 && config.hog_scale <= 2.0)) {
    return InvalidArgumentError("detector.hog_scale: must be in (1, 2], got " +
                                std::to_string(config.hog_scale));
  }
  if (config.hog_max_width < 0 || (config.hog_max_width > 0 && config.hog_max_width < 64)) {
    return InvalidArgumentError("detector.hog_max_width: must be 0 or >= 64");
  }
  for (const std::string& c : config.classes) {
    if (c != "person") {
      return InvalidArgumentError("detector.classes: the hog backend only detects 'person', not '" +
                                  c + "'");
    }
  }
  if (config.threads > 0) cv::setNumThreads(config.threads);
  return std::unique_ptr<Detector>(new HogDetector(config));
}

}  // namespace strata::vision
