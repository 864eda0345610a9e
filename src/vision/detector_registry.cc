// The explicit list of detector backends. Add a backend here; there is no static self-registration.
#include <algorithm>
#include <string>
#include <vector>

#include "strata/vision/detector.h"

namespace strata::vision {
namespace {

struct Entry {
  const char* name;
  Result<std::unique_ptr<Detector>> (*create)(const DetectorConfig&);
};

constexpr Entry kRegistry[] = {
    {"hog", &CreateHogDetector},
    {"dnn", &CreateDnnDetector},
};

}  // namespace

std::vector<std::string> DetectorBackends() {
  std::vector<std::string> names;
  for (const Entry& e : kRegistry) names.emplace_back(e.name);
  return names;
}

Result<std::unique_ptr<Detector>> CreateDetector(const DetectorConfig& config) {
  for (const Entry& e : kRegistry) {
    if (config.backend == e.name) return e.create(config);
  }
  std::string known;
  for (const Entry& e : kRegistry) known += (known.empty() ? "" : ", ") + std::string(e.name);
  return InvalidArgumentError("detector.backend: unknown backend '" + config.backend +
                              "' (known: " + known + ")");
}

Result<std::unordered_set<int>> ClassIds(const std::vector<std::string>& names,
                                         const std::vector<std::string>& labels) {
  std::unordered_set<int> ids;
  for (const std::string& n : names) {
    auto it = std::find(labels.begin(), labels.end(), n);
    if (it == labels.end()) {
      return InvalidArgumentError("detector.classes: '" + n + "' is not a label of this model");
    }
    ids.insert(static_cast<int>(it - labels.begin()));
  }
  return ids;
}

Status CheckFrame(const cv::Mat& bgr, const std::string& who) {
  if (bgr.empty()) return InvalidArgumentError(who + ": empty frame");
  if (bgr.type() != CV_8UC3) {
    return InvalidArgumentError(who + ": expected an 8-bit BGR frame, got type " +
                                std::to_string(bgr.type()));
  }
  return Status::Ok();
}

}  // namespace strata::vision
