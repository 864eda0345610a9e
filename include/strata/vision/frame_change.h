// FrameChange: the roof tier's motion gate. Decides per frame whether it changed enough to forward.
//
// Algorithm (per frame): grayscale -> downscale to `downscale_height` -> Gaussian blur ->
// absolute difference against the previous frame (`consecutive`) or a running-average background
// (`background`, seeded from the first frame) -> threshold -> ignore masks -> dilate -> contours.
// The changed fraction is the area of contours >= `min_contour_area` over the unmasked area; the
// frame is "changed" when that fraction >= `min_changed_fraction`. A keep-alive frame is forwarded
// when nothing was forwarded for `keepalive` (measured on the caller's frame timestamps, so tests
// are deterministic: pass `clock->Now()` from an injected strata::Clock in services).
// When more than `scene_change_fraction` of the frame changes (lights, IR switch, PTZ) the
// reference is reset to the current frame so the gate recalibrates at once.
// Thread-safety: not thread-safe (holds the reference frame); use one instance per camera.
//
//   STRATA_ASSIGN_OR_RETURN(auto gate, FrameChange::Create({}));
//   STRATA_ASSIGN_OR_RETURN(FrameChangeResult r, gate.Process(frame, clock->Now()));
//   if (r.forward) Send(frame);
#pragma once

#include <chrono>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "strata/core/clock.h"
#include "strata/core/status.h"

namespace strata::vision {

// A polygon in normalised frame coordinates (0..1), at least 3 points.
using NormPolygon = std::vector<cv::Point2f>;

struct FrameChangeConfig {
  std::string method = "background";  // "consecutive" | "background"
  int downscale_height = 180;         // px; 0 = no downscale
  // "linear" (fast: ~35 us at 768x576; the blur that follows removes the aliasing) or "area"
  // (anti-aliased but ~15x slower for non-integer factors).
  std::string interpolation = "linear";
  int blur_kernel = 5;                 // odd, >= 1 (1 = no blur)
  int pixel_threshold = 25;            // 1..255: per-pixel grey difference that counts as change
  int dilate_iterations = 2;           // 0..10
  double min_contour_area = 0.0;       // px at the downscaled size; smaller blobs are ignored
  double min_changed_fraction = 0.01;  // (0, 1]
  double background_alpha = 0.05;      // (0, 1]: running-average weight of the new frame
  double scene_change_fraction = 0.5;  // (0, 1]: reset the reference above this; 1 = never
  std::chrono::milliseconds keepalive{60000};  // 0 = no keep-alive frames
  std::vector<NormPolygon> ignore_masks;       // regions whose changes are ignored
};

enum class ForwardReason { kNone, kFirstFrame, kChanged, kKeepAlive };
std::string_view ForwardReasonName(ForwardReason reason);

struct FrameChangeResult {
  bool changed = false;  // changed fraction >= min_changed_fraction
  bool forward = false;  // changed, first frame or keep-alive
  ForwardReason reason = ForwardReason::kNone;
  bool scene_change = false;             // reference was reset (global change)
  double changed_fraction = 0;           // 0..1 of the unmasked area
  std::vector<cv::Rect2f> motion_boxes;  // normalised (x, y, w, h) of counted contours
};

class FrameChange {
 public:
  using Config = FrameChangeConfig;
  // InvalidArgument naming the field for an out-of-range or unknown setting.
  static Result<FrameChange> Create(const Config& config);

  // `frame` is 8-bit BGR (3 channels) or grey (1 channel). InvalidArgument for an empty frame, a
  // wrong type, or a size change mid-stream (call Reset() when the stream changes).
  Result<FrameChangeResult> Process(const cv::Mat& frame, WallTime timestamp);
  // Forgets the reference frame and the keep-alive timer.
  void Reset();
  const Config& config() const { return config_; }

 private:
  explicit FrameChange(Config config) : config_(std::move(config)) {}
  cv::Mat Prepare(const cv::Mat& frame) const;
  void BuildMask(cv::Size size);

  Config config_;
  cv::Mat reference_;  // previous prepared frame (CV_8U) or background (CV_32F)
  cv::Mat active_;     // 255 where changes count, 0 inside ignore masks
  int active_pixels_ = 0;
  cv::Size input_size_;
  bool has_forwarded_ = false;
  WallTime last_forward_{};
  cv::Mat diff_, bin_, ref8_;  // scratch buffers, reused across frames
};

}  // namespace strata::vision
