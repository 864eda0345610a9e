// Preprocessing for DNN models, driven by ModelInput from a model manifest: plain resize or
// letterbox (top-left paste on a pad-filled canvas, as YOLOX expects), channel order, scale, mean.
// Pure functions; thread-safe.
#pragma once

#include <opencv2/core.hpp>

#include "strata/vision/model_manifest.h"

namespace strata::vision {

struct Letterbox {
  double ratio = 1.0;  // input pixels per frame pixel (same on both axes)
  cv::Size resized;    // frame size after scaling, pasted at (0, 0)
};

// Scales `bgr` by r = min(W/w, H/h) (INTER_LINEAR) and pastes it at the top-left of a `target`
// canvas filled with `pad`. Returns the canvas; *info receives r.
cv::Mat LetterboxImage(const cv::Mat& bgr, cv::Size target, int pad, Letterbox* info);

// NCHW float blob for `spec` (resize mode, size, channel order, scale, mean). For letterbox, *info
// gets the ratio; for plain resize, info->ratio is unused (boxes scale per axis).
cv::Mat MakeBlob(const cv::Mat& bgr, const ModelInput& spec, Letterbox* info);

}  // namespace strata::vision
