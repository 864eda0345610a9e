#include "strata/vision/model_manifest.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "strata/core/config.h"

namespace strata::vision {

namespace fs = std::filesystem;

Result<std::string> ModelManifest::Resolve(const std::string& relative,
                                           const std::vector<std::string>& dirs) const {
  if (relative.empty()) return InvalidArgumentError(source + ": empty model file name");
  if (fs::path(relative).is_absolute()) {
    if (fs::exists(relative)) return relative;
    return NotFoundError("model file '" + relative + "' does not exist");
  }
  std::string searched;
  for (const std::string& d : dirs) {
    fs::path p = fs::path(d) / relative;
    if (fs::exists(p)) return p.string();
    searched += (searched.empty() ? "" : ", ") + d;
  }
  return NotFoundError("model file '" + relative + "' (manifest " + source + ") not found in [" +
                       searched + "]; run scripts/fetch-models.sh or set STRATA_MODELS");
}

std::vector<std::string> ModelSearchPath(const std::vector<std::string>& extra) {
  std::vector<std::string> dirs = extra;
  if (const char* env = std::getenv("STRATA_MODELS"); env && *env) dirs.emplace_back(env);
  if (const char* home = std::getenv("HOME"); home && *home) {
    dirs.push_back(std::string(home) + "/.cache/strata/models");
  }
  dirs.emplace_back("../shared/assets/models");
  return dirs;
}

Result<std::vector<std::string>> LoadLabels(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFoundError("labels file '" + path + "' cannot be read");
  std::vector<std::string> labels;
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) labels.push_back(line);
  }
  if (labels.empty()) return InvalidArgumentError("labels file '" + path + "' is empty");
  return labels;
}

namespace {

Status ParseInput(const ConfigNode& root, ModelManifest* m) {
  STRATA_ASSIGN_OR_RETURN(ConfigNode in, root.Child("input"));
  if (in.IsNull()) return InvalidArgumentError(root.Where("input") + ": missing required key");
  STRATA_RETURN_IF_ERROR(
      in.CheckKeys({"width", "height", "resize", "pad_value", "channel_order", "scale", "mean"}));
  STRATA_RETURN_IF_ERROR(in.Require("width", &m->input.width));
  STRATA_RETURN_IF_ERROR(in.Require("height", &m->input.height));
  STRATA_RETURN_IF_ERROR(in.GetInRange("width", &m->input.width, 16, 4096));
  STRATA_RETURN_IF_ERROR(in.GetInRange("height", &m->input.height, 16, 4096));
  STRATA_RETURN_IF_ERROR(in.GetEnum("resize", &m->input.resize, {"plain", "letterbox"}));
  STRATA_RETURN_IF_ERROR(in.GetInRange("pad_value", &m->input.pad_value, 0, 255));
  STRATA_RETURN_IF_ERROR(in.GetEnum("channel_order", &m->input.channel_order, {"bgr", "rgb"}));
  STRATA_RETURN_IF_ERROR(in.GetInRange("scale", &m->input.scale, 1e-9, 1e9));
  std::vector<double> mean;
  STRATA_RETURN_IF_ERROR(in.Get("mean", &mean));
  if (!mean.empty()) {
    if (mean.size() != 3) return InvalidArgumentError(in.Where("mean") + ": expected 3 numbers");
    m->input.mean = cv::Scalar(mean[0], mean[1], mean[2]);
  }
  return Status::Ok();
}

Status ParseOutput(const ConfigNode& root, ModelManifest* m) {
  STRATA_ASSIGN_OR_RETURN(ConfigNode out, root.Child("output"));
  if (out.IsNull()) return InvalidArgumentError(root.Where("output") + ": missing required key");
  STRATA_RETURN_IF_ERROR(
      out.CheckKeys({"decoder", "strides", "person_class", "embedding_dim", "align_template"}));
  STRATA_RETURN_IF_ERROR(out.Require("decoder", &m->decoder));
  STRATA_RETURN_IF_ERROR(
      out.GetEnum("decoder", &m->decoder, {"yolox", "darknet_region", "yunet", "embedding"}));
  std::vector<double> strides;
  STRATA_RETURN_IF_ERROR(out.Get("strides", &strides));
  for (double s : strides) {
    if (s < 1 || s > 256 || s != static_cast<int>(s)) {
      return InvalidArgumentError(out.Where("strides") + ": strides must be integers in 1..256");
    }
    m->strides.push_back(static_cast<int>(s));
  }
  if (m->decoder == "yolox" && m->strides.empty()) {
    return InvalidArgumentError(out.Where("strides") + ": the yolox decoder needs strides");
  }
  STRATA_RETURN_IF_ERROR(out.GetInRange("person_class", &m->person_class, 0, 10000));
  STRATA_RETURN_IF_ERROR(out.GetInRange("embedding_dim", &m->embedding_dim, 0, 4096));
  std::vector<double> tpl;
  STRATA_RETURN_IF_ERROR(out.Get("align_template", &tpl));
  if (!tpl.empty() && tpl.size() != 10) {
    return InvalidArgumentError(out.Where("align_template") +
                                ": expected 10 numbers (5 points x, y)");
  }
  for (size_t i = 0; i + 1 < tpl.size(); i += 2) {
    m->align_template.emplace_back(static_cast<float>(tpl[i]), static_cast<float>(tpl[i + 1]));
  }
  if (m->decoder == "embedding" && (m->embedding_dim <= 0 || m->align_template.empty())) {
    return InvalidArgumentError(root.Where("output") +
                                ": the embedding decoder needs embedding_dim and align_template");
  }
  return Status::Ok();
}

}  // namespace

Result<ModelManifest> ParseModelManifest(std::string_view yaml, const std::string& source) {
  STRATA_ASSIGN_OR_RETURN(ConfigNode root, ConfigNode::Parse(yaml, source));
  STRATA_RETURN_IF_ERROR(root.CheckKeys({"name", "kind", "framework", "model", "config", "input",
                                         "output", "labels_file", "labels", "score_threshold",
                                         "nms_threshold", "source_url", "sha256", "license"}));
  ModelManifest m;
  m.source = source;
  STRATA_RETURN_IF_ERROR(root.Require("name", &m.name));
  STRATA_RETURN_IF_ERROR(root.Require("kind", &m.kind));
  STRATA_RETURN_IF_ERROR(
      root.GetEnum("kind", &m.kind, {"detector", "face_detector", "face_embedding"}));
  STRATA_RETURN_IF_ERROR(root.Require("framework", &m.framework));
  STRATA_RETURN_IF_ERROR(
      root.GetEnum("framework", &m.framework, {"onnx", "darknet", "opencv_yunet"}));
  STRATA_RETURN_IF_ERROR(root.Require("model", &m.model_file));
  STRATA_RETURN_IF_ERROR(root.Get("config", &m.config_file));
  if (m.framework == "darknet" && m.config_file.empty()) {
    return InvalidArgumentError(root.Where("config") + ": darknet models need a .cfg file");
  }
  STRATA_RETURN_IF_ERROR(ParseInput(root, &m));
  STRATA_RETURN_IF_ERROR(ParseOutput(root, &m));
  STRATA_RETURN_IF_ERROR(root.Get("labels_file", &m.labels_file));
  STRATA_RETURN_IF_ERROR(root.Get("labels", &m.labels));
  if (m.kind == "detector" && m.labels_file.empty() && m.labels.empty()) {
    return InvalidArgumentError(root.Where("labels_file") +
                                ": a detector needs labels_file or labels");
  }
  STRATA_RETURN_IF_ERROR(root.GetInRange("score_threshold", &m.score_threshold, 0.0, 1.0));
  STRATA_RETURN_IF_ERROR(root.GetInRange("nms_threshold", &m.nms_threshold, 0.0, 1.0));
  return m;
}

Result<ModelManifest> LoadModelManifest(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFoundError("model manifest '" + path + "' cannot be read");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return ParseModelManifest(text, path);
}

}  // namespace strata::vision
