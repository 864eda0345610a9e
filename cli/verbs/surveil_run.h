// The surveillance pipeline as one call: starts strata-notify, strata-identify, strata-detect and
// strata-roof (and a local mosquitto when installed) on free loopback ports, optionally with a
// `strata link` WAN emulator on the roof->detect or detect->identify link, streams the video and
// returns the report (surveil_report.h) with the alerts. Used by `strata surveil` and
// `strata experiment placement`.
// Thread-safety: one call at a time per process (it reads the services' global link meters).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "strata/core/status.h"

namespace strata::cli {

inline constexpr char kVtest[] = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";

struct SurveilOptions {
  std::string video = kVtest;
  std::string camera = "cam1";
  int64_t max_frames = 0;
  double capture_fps = 10, forward_fps = 5;
  bool realtime = false;
  std::string detector = "hog";  // hog | a dnn manifest name or path
  std::string faces = "haar";    // haar | yunet (detect and identify)
  std::string encoder = "lbph";  // lbph | mobilefacenet (identify)
  double threshold = -1;         // identify's same-person threshold; < 0 = the encoder's default
  std::vector<std::string> enrol;  // NAME=IMAGE
  std::string models, manifests;
  std::vector<std::string> zones;  // "x,y x,y x,y ..." normalised polygons (restricted zones)
  bool alert_on_person = false;
  bool mqtt = true;
  bool console = false;  // also start strata-console on the four services and print its URL
  std::string json_path, work_dir, svg_path;
  int timeout_s = 1800;
};

// A link that crosses a WAN, emulated by `strata link` (docs/link.md).
struct WanLink {
  std::string latency = "20ms";  // one way
  std::string jitter = "0ms";
  std::string bandwidth = "20mbit";
};

// Where the WAN is: between the camera side and the detector (detector in the cloud) or between
// the detector and the cloud services (detector on the fog, near the camera).
struct Placement {
  std::optional<WanLink> roof_to_detect;
  std::optional<WanLink> detect_to_cloud;
};

// The report JSON (BuildSurveilReport + "alerts"); errors name the failing service or input.
Result<nlohmann::json> RunSurveilPipeline(const SurveilOptions& o, const Placement& placement = {});

}  // namespace strata::cli
