#include "strata/vision/preprocess.h"

#include <algorithm>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

namespace strata::vision {

cv::Mat LetterboxImage(const cv::Mat& bgr, cv::Size target, int pad, Letterbox* info) {
  double r = std::min(static_cast<double>(target.width) / bgr.cols,
                      static_cast<double>(target.height) / bgr.rows);
  cv::Size resized(std::max(1, static_cast<int>(bgr.cols * r)),
                   std::max(1, static_cast<int>(bgr.rows * r)));
  cv::Mat canvas(target, bgr.type(), cv::Scalar::all(pad));
  cv::Mat scaled;
  cv::resize(bgr, scaled, resized, 0, 0, cv::INTER_LINEAR);
  scaled.copyTo(canvas(cv::Rect(cv::Point(0, 0), resized)));
  if (info) {
    info->ratio = r;
    info->resized = resized;
  }
  return canvas;
}

cv::Mat MakeBlob(const cv::Mat& bgr, const ModelInput& spec, Letterbox* info) {
  cv::Size size(spec.width, spec.height);
  bool swap_rb = spec.channel_order == "rgb";
  if (spec.resize == "letterbox") {
    cv::Mat canvas = LetterboxImage(bgr, size, spec.pad_value, info);
    return cv::dnn::blobFromImage(canvas, spec.scale, size, spec.mean, swap_rb, false);
  }
  if (info) {
    info->ratio = 1.0;
    info->resized = size;
  }
  return cv::dnn::blobFromImage(bgr, spec.scale, size, spec.mean, swap_rb, false);
}

}  // namespace strata::vision
