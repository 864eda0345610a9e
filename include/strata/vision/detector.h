// Detector: one interface for every person/object detector backend, chosen by name from the
// explicit registry in src/vision/detector_registry.cc:
//   "hog" — cv::HOGDescriptor default people detector (embedded default, needs no files);
//   "dnn" — cv::dnn driven by a model manifest (YOLOX ONNX, Yolo-Fastest darknet; see
//           configs/models/*.yaml).
// Create() loads the model and validates the config; Detect() preprocesses, runs the network,
// decodes, filters by score and class, and applies per-class NMS.
// Thread-safety: a Detector is NOT thread-safe (cv::dnn::Net keeps per-call state); create one per
// worker thread.
//
//   DetectorConfig cfg;
//   cfg.backend = "dnn";
//   cfg.manifest = "configs/models/yolo_fastest_body.yaml";
//   STRATA_ASSIGN_OR_RETURN(auto det, CreateDetector(cfg));
//   STRATA_ASSIGN_OR_RETURN(std::vector<Detection> people, det->Detect(frame));
#pragma once

#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "strata/core/status.h"
#include "strata/vision/detection.h"

namespace strata::vision {

struct DetectorConfig {
  std::string backend = "hog";          // registry name: "hog" | "dnn"
  std::string manifest;                 // dnn: path of a model manifest YAML
  std::vector<std::string> model_dirs;  // searched before $STRATA_MODELS etc.
  double score_threshold = -1;          // < 0: the manifest's (dnn) or 0.0 (hog SVM margin)
  double nms_threshold = -1;            // < 0: the manifest's (dnn) or 0.45 (hog)
  std::vector<std::string> classes = {"person"};  // labels to keep; empty = every class
  int input_size = 0;  // dnn: override the manifest's square input; 0 = keep
  // hog only:
  double hog_scale = 1.05;  // pyramid step, > 1
  int hog_max_width = 0;    // downscale frames wider than this first; 0 = never
  int threads = 0;          // > 0: cv::setNumThreads for this process
};

class Detector {
 public:
  virtual ~Detector() = default;
  // Detections in the pixels of `bgr`. InvalidArgument for an empty or non-BGR frame; Internal for
  // an OpenCV failure (the message names the backend).
  virtual Result<std::vector<Detection>> Detect(const cv::Mat& bgr) = 0;
  virtual const std::string& name() const = 0;  // e.g. "hog", "dnn:yolox_nano@416"
  virtual const std::vector<std::string>& labels() const = 0;
};

// Looks `config.backend` up in the registry. InvalidArgument names the unknown backend and lists
// the known ones; model problems come back as NotFound / InvalidArgument from the backend.
Result<std::unique_ptr<Detector>> CreateDetector(const DetectorConfig& config);
// Registered backend names, in registry order.
std::vector<std::string> DetectorBackends();

// Backend factories (listed in detector_registry.cc).
Result<std::unique_ptr<Detector>> CreateHogDetector(const DetectorConfig& config);
Result<std::unique_ptr<Detector>> CreateDnnDetector(const DetectorConfig& config);

// Shared by backends: class names → ids; InvalidArgument for a name not in `labels`.
Result<std::unordered_set<int>> ClassIds(const std::vector<std::string>& names,
                                         const std::vector<std::string>& labels);
Status CheckFrame(const cv::Mat& bgr, const std::string& who);

}  // namespace strata::vision
