// ModelManifest: the facts about one model file (input size, resize mode, channel order, scale,
// mean, output decoder, labels, default thresholds), read from `configs/models/<name>.yaml` so no
// model fact lives in code. Model files are found through a search path:
// explicit dirs, then $STRATA_MODELS, then $HOME/.cache/strata/models, then
// ../shared/assets/models. Thread-safety: plain values; LoadModelManifest has no shared state.
//
//   STRATA_ASSIGN_OR_RETURN(ModelManifest m, LoadModelManifest("configs/models/yolox_nano.yaml"));
//   STRATA_ASSIGN_OR_RETURN(std::string onnx, m.Resolve(m.model_file, ModelSearchPath()));
#pragma once

#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "strata/core/status.h"

namespace strata::vision {

struct ModelInput {
  int width = 0;
  int height = 0;
  std::string resize = "plain";       // "plain" | "letterbox" (top-left paste)
  int pad_value = 114;                // letterbox fill
  std::string channel_order = "bgr";  // "bgr" | "rgb"
  double scale = 1.0;                 // blob = (pixel - mean) * scale
  cv::Scalar mean{0, 0, 0};
};

struct ModelManifest {
  std::string name;
  std::string kind;         // "detector" | "face_detector" | "face_embedding"
  std::string framework;    // "onnx" | "darknet" | "opencv_yunet"
  std::string model_file;   // relative to a model dir (or absolute)
  std::string config_file;  // darknet .cfg; empty otherwise
  ModelInput input;
  std::string decoder;       // "yolox" | "darknet_region" | "yunet" | "embedding"
  std::vector<int> strides;  // yolox grid strides
  int person_class = 0;
  std::string labels_file;          // one label per line, relative to a model dir
  std::vector<std::string> labels;  // inline labels (used when labels_file is empty)
  double score_threshold = 0.3;
  double nms_threshold = 0.45;
  int embedding_dim = 0;
  std::vector<cv::Point2f> align_template;  // face_embedding: 5 points in input pixels
  std::string source;                       // manifest path, for messages

  // First existing `relative` under `dirs` (absolute paths are checked as is). NotFound lists the
  // directories searched.
  Result<std::string> Resolve(const std::string& relative,
                              const std::vector<std::string>& dirs) const;
};

// Parses and validates a manifest; errors name the file, key and line.
Result<ModelManifest> LoadModelManifest(const std::string& path);
Result<ModelManifest> ParseModelManifest(std::string_view yaml, const std::string& source);

// extra dirs first, then $STRATA_MODELS, $HOME/.cache/strata/models, ../shared/assets/models.
std::vector<std::string> ModelSearchPath(const std::vector<std::string>& extra = {});

// Reads a labels file (one per line, blank lines dropped). NotFound / InvalidArgument when empty.
Result<std::vector<std::string>> LoadLabels(const std::string& path);

}  // namespace strata::vision
