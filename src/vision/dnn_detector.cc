// "dnn": cv::dnn detectors described by a model manifest (YOLOX ONNX, Yolo-Fastest darknet).
#include <opencv2/dnn.hpp>

#include "strata/vision/detector.h"
#include "strata/vision/preprocess.h"

namespace strata::vision {
namespace {

class DnnDetector final : public Detector {
 public:
  DnnDetector(ModelManifest m, cv::dnn::Net net, std::vector<std::string> labels,
              PostprocessOptions opt)
      : m_(std::move(m)), net_(std::move(net)), labels_(std::move(labels)), opt_(std::move(opt)) {
    out_names_ = net_.getUnconnectedOutLayersNames();
    name_ = "dnn:" + m_.name + "@" + std::to_string(m_.input.width);
  }

  Result<std::vector<Detection>> Detect(const cv::Mat& bgr) override {
    STRATA_RETURN_IF_ERROR(CheckFrame(bgr, name_));
    try {
      Letterbox lb;
      cv::Mat blob = MakeBlob(bgr, m_.input, &lb);
      net_.setInput(blob);
      std::vector<cv::Mat> outs;
      net_.forward(outs, out_names_);
      std::vector<Candidate> cands;
      if (m_.decoder == "yolox") {
        if (outs.size() != 1) return InternalError(name_ + ": expected one output");
        STRATA_ASSIGN_OR_RETURN(
            cands, DecodeYolox(outs[0], cv::Size(m_.input.width, m_.input.height), m_.strides,
                               lb.ratio, opt_.score_threshold));
      } else {
        STRATA_ASSIGN_OR_RETURN(cands, DecodeDarknetRegion(outs, bgr.size(), opt_.score_threshold));
      }
      return Postprocess(cands, labels_, bgr.size(), opt_);
    } catch (const cv::Exception& e) {
      return InternalError(name_ + ": OpenCV: " + e.what());
    }
  }
  const std::string& name() const override { return name_; }
  const std::vector<std::string>& labels() const override { return labels_; }

 private:
  ModelManifest m_;
  cv::dnn::Net net_;
  std::vector<std::string> labels_;
  PostprocessOptions opt_;
  std::vector<std::string> out_names_;
  std::string name_;
};

}  // namespace

Result<std::unique_ptr<Detector>> CreateDnnDetector(const DetectorConfig& config) {
  if (config.manifest.empty()) {
    return InvalidArgumentError("detector.manifest: the dnn backend needs a model manifest");
  }
  STRATA_ASSIGN_OR_RETURN(ModelManifest m, LoadModelManifest(config.manifest));
  if (m.kind != "detector" || (m.decoder != "yolox" && m.decoder != "darknet_region")) {
    return InvalidArgumentError(m.source + ": not a detector manifest (kind '" + m.kind +
                                "', decoder '" + m.decoder + "')");
  }
  if (config.input_size != 0) {
    if (config.input_size < 64 || config.input_size > 2048 || config.input_size % 32 != 0) {
      return InvalidArgumentError(
          "detector.input_size: must be a multiple of 32 in 64..2048, got " +
          std::to_string(config.input_size));
    }
    m.input.width = m.input.height = config.input_size;
  }
  if (config.score_threshold > 1 || config.nms_threshold > 1) {
    return InvalidArgumentError("detector: score_threshold and nms_threshold must be <= 1");
  }
  std::vector<std::string> dirs = ModelSearchPath(config.model_dirs);
  std::vector<std::string> labels = m.labels;
  if (!m.labels_file.empty()) {
    STRATA_ASSIGN_OR_RETURN(std::string lp, m.Resolve(m.labels_file, dirs));
    STRATA_ASSIGN_OR_RETURN(labels, LoadLabels(lp));
  }
  PostprocessOptions opt;
  opt.score_threshold =
      static_cast<float>(config.score_threshold < 0 ? m.score_threshold : config.score_threshold);
  opt.nms_threshold =
      static_cast<float>(config.nms_threshold < 0 ? m.nms_threshold : config.nms_threshold);
  STRATA_ASSIGN_OR_RETURN(opt.classes, ClassIds(config.classes, labels));
  STRATA_ASSIGN_OR_RETURN(std::string model, m.Resolve(m.model_file, dirs));
  if (config.threads > 0) cv::setNumThreads(config.threads);
  cv::dnn::Net net;
  try {
    if (m.framework == "darknet") {
      STRATA_ASSIGN_OR_RETURN(std::string cfg, m.Resolve(m.config_file, dirs));
      net = cv::dnn::readNetFromDarknet(cfg, model);
    } else {
      net = cv::dnn::readNetFromONNX(model);
    }
  } catch (const cv::Exception& e) {
    return InvalidArgumentError("cannot load model '" + model + "': " + e.err);
  }
  if (net.empty()) return InvalidArgumentError("cannot load model '" + model + "': empty network");
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  return std::unique_ptr<Detector>(
      new DnnDetector(std::move(m), std::move(net), std::move(labels), std::move(opt)));
}

}  // namespace strata::vision
