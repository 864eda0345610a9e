// Test helpers: where model files, assets and vtest.avi are (skip when absent).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace strata::vision::testing {

inline std::string AssetsDir() { return std::string(STRATA_SOURCE_DIR) + "/../shared/assets"; }

// $STRATA_MODELS first, then ../shared/assets/models.
inline std::vector<std::string> TestModelDirs() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("STRATA_MODELS"); env && *env) dirs.emplace_back(env);
  dirs.push_back(AssetsDir() + "/models");
  return dirs;
}

inline std::string FindModel(const std::string& rel) {
  for (const std::string& d : TestModelDirs()) {
    std::filesystem::path p = std::filesystem::path(d) / rel;
    if (std::filesystem::exists(p)) return p.string();
  }
  return "";
}

inline std::string Manifest(const std::string& name) {
  return std::string(STRATA_SOURCE_DIR) + "/configs/models/" + name + ".yaml";
}

inline std::string VtestPath() {
  std::string p = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";
  return std::filesystem::exists(p) ? p : "";
}

}  // namespace strata::vision::testing
