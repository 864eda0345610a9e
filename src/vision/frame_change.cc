#include "strata/vision/frame_change.h"

#include <algorithm>
#include <opencv2/imgproc.hpp>
#include <string>

namespace strata::vision {

std::string_view ForwardReasonName(ForwardReason reason) {
  switch (reason) {
    case ForwardReason::kNone:
      return "none";
    case ForwardReason::kFirstFrame:
      return "first_frame";
    case ForwardReason::kChanged:
      return "changed";
    case ForwardReason::kKeepAlive:
      return "keepalive";
  }
  return "none";
}

namespace {

Status Bad(const std::string& field, const std::string& why) {
  return InvalidArgumentError("frame_change." + field + ": " + why);
}

}  // namespace

Result<FrameChange> FrameChange::Create(const Config& c) {
  if (c.method != "consecutive" && c.method != "background") {
    return Bad("method", "expected 'consecutive' or 'background', got '" + c.method + "'");
  }
  if (c.downscale_height < 0 || c.downscale_height > 4320) {
    return Bad("downscale_height",
               "must be 0 (off) or 1..4320, got " + std::to_string(c.downscale_height));
  }
  if (c.interpolation != "linear" && c.interpolation != "area") {
    return Bad("interpolation", "expected 'linear' or 'area', got '" + c.interpolation + "'");
  }
  if (c.blur_kernel < 1 || c.blur_kernel % 2 == 0 || c.blur_kernel > 31) {
    return Bad("blur_kernel", "must be odd and in 1..31, got " + std::to_string(c.blur_kernel));
  }
  if (c.pixel_threshold < 1 || c.pixel_threshold > 255) {
    return Bad("pixel_threshold", "must be in 1..255, got " + std::to_string(c.pixel_threshold));
  }
  if (c.dilate_iterations < 0 || c.dilate_iterations > 10) {
    return Bad("dilate_iterations", "must be in 0..10");
  }
  if (!(c.min_contour_area >= 0)) return Bad("min_contour_area", "must be >= 0");
  if (!(c.min_changed_fraction > 0 && c.min_changed_fraction <= 1)) {
    return Bad("min_changed_fraction", "must be in (0, 1]");
  }
  if (!(c.background_alpha > 0 && c.background_alpha <= 1)) {
    return Bad("background_alpha", "must be in (0, 1]");
  }
  if (!(c.scene_change_fraction > 0 && c.scene_change_fraction <= 1)) {
    return Bad("scene_change_fraction", "must be in (0, 1]");
  }
  if (c.keepalive.count() < 0) return Bad("keepalive", "must be >= 0");
  for (size_t i = 0; i < c.ignore_masks.size(); ++i) {
    const NormPolygon& poly = c.ignore_masks[i];
    std::string where = "ignore_masks[" + std::to_string(i) + "]";
    if (poly.size() < 3) return Bad(where, "a polygon needs at least 3 points");
    for (const cv::Point2f& p : poly) {
      if (!(p.x >= 0 && p.x <= 1 && p.y >= 0 && p.y <= 1)) {
        return Bad(where, "points must be normalised to 0..1");
      }
    }
  }
  return FrameChange(c);
}

void FrameChange::Reset() {
  reference_.release();
  has_forwarded_ = false;
  input_size_ = cv::Size();
}

cv::Mat FrameChange::Prepare(const cv::Mat& frame) const {
  // Grey first, then downscale: on a stream of distinct 768x576 frames this costs ~145 us against
  // ~225 us for resizing the BGR frame first (measured; the BGR resize touches 3x the memory).
  cv::Mat gray;
  if (frame.channels() == 3) {
    cv::cvtColor(frame, gray, cv::COLOR_BGR2GRAY);
  } else {
    gray = frame;
  }
  cv::Mat small;
  if (config_.downscale_height > 0 && gray.rows > config_.downscale_height) {
    int w = std::max(1, gray.cols * config_.downscale_height / gray.rows);
    cv::resize(gray, small, cv::Size(w, config_.downscale_height), 0, 0,
               config_.interpolation == "area" ? cv::INTER_AREA : cv::INTER_LINEAR);
  } else {
    small = gray.clone();
  }
  if (config_.blur_kernel > 1) {
    cv::GaussianBlur(small, small, cv::Size(config_.blur_kernel, config_.blur_kernel), 0);
  }
  return small;
}

void FrameChange::BuildMask(cv::Size size) {
  active_ = cv::Mat(size, CV_8U, cv::Scalar(255));
  for (const NormPolygon& poly : config_.ignore_masks) {
    std::vector<cv::Point> pts;
    for (const cv::Point2f& p : poly) {
      pts.emplace_back(cvRound(p.x * (size.width - 1)), cvRound(p.y * (size.height - 1)));
    }
    cv::fillPoly(active_, std::vector<std::vector<cv::Point>>{pts}, cv::Scalar(0));
  }
  active_pixels_ = cv::countNonZero(active_);
}

Result<FrameChangeResult> FrameChange::Process(const cv::Mat& frame, WallTime timestamp) {
  if (frame.empty()) return InvalidArgumentError("frame_change: empty frame");
  if (frame.depth() != CV_8U || (frame.channels() != 1 && frame.channels() != 3)) {
    return InvalidArgumentError("frame_change: expected an 8-bit BGR or grey frame, got type " +
                                std::to_string(frame.type()));
  }
  if (!reference_.empty() && frame.size() != input_size_) {
    return InvalidArgumentError(
        "frame_change: frame size changed from " + std::to_string(input_size_.width) + "x" +
        std::to_string(input_size_.height) + " to " + std::to_string(frame.cols) + "x" +
        std::to_string(frame.rows) + "; call Reset() for a new stream");
  }
  FrameChangeResult result;
  try {
    cv::Mat small = Prepare(frame);
    if (reference_.empty()) {
      input_size_ = frame.size();
      BuildMask(small.size());
      if (config_.method == "background") {
        small.convertTo(reference_, CV_32F);
      } else {
        reference_ = small;
      }
      result.forward = true;
      result.reason = ForwardReason::kFirstFrame;
      has_forwarded_ = true;
      last_forward_ = timestamp;
      return result;
    }
    if (config_.method == "background") {
      reference_.convertTo(ref8_, CV_8U);
      cv::absdiff(small, ref8_, diff_);
    } else {
      cv::absdiff(small, reference_, diff_);
    }
    cv::threshold(diff_, bin_, config_.pixel_threshold - 1, 255, cv::THRESH_BINARY);
    if (!config_.ignore_masks.empty()) cv::bitwise_and(bin_, active_, bin_);
    if (config_.dilate_iterations > 0) {
      cv::dilate(bin_, bin_, cv::Mat(), cv::Point(-1, -1), config_.dilate_iterations);
      if (!config_.ignore_masks.empty()) cv::bitwise_and(bin_, active_, bin_);
    }
    double changed_area = 0;
    if (cv::countNonZero(bin_) > 0) {
      std::vector<std::vector<cv::Point>> contours;
      cv::findContours(bin_, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
      const float sx = 1.0f / bin_.cols, sy = 1.0f / bin_.rows;
      for (const auto& c : contours) {
        cv::Rect r = cv::boundingRect(c);
        // A blob's area: its contour area, but at least its pixel count for thin shapes.
        double area = std::max(cv::contourArea(c), static_cast<double>(c.size()));
        if (area < config_.min_contour_area) continue;
        changed_area += area;
        result.motion_boxes.emplace_back(r.x * sx, r.y * sy, r.width * sx, r.height * sy);
      }
    }
    result.changed_fraction =
        active_pixels_ > 0 ? std::min(1.0, changed_area / active_pixels_) : 0.0;
    result.changed = result.changed_fraction >= config_.min_changed_fraction;

    if (result.changed_fraction > config_.scene_change_fraction) {
      result.scene_change = true;
      if (config_.method == "background") {
        small.convertTo(reference_, CV_32F);
      } else {
        reference_ = small;
      }
    } else if (config_.method == "background") {
      cv::accumulateWeighted(small, reference_, config_.background_alpha);
    } else {
      reference_ = small;
    }
  } catch (const cv::Exception& e) {
    return InternalError(std::string("frame_change: OpenCV: ") + e.what());
  }

  if (result.changed) {
    result.forward = true;
    result.reason = ForwardReason::kChanged;
  } else if (config_.keepalive.count() > 0 &&
             (!has_forwarded_ || timestamp - last_forward_ >= config_.keepalive)) {
    result.forward = true;
    result.reason = ForwardReason::kKeepAlive;
  }
  if (result.forward) {
    has_forwarded_ = true;
    last_forward_ = timestamp;
  }
  return result;
}

}  // namespace strata::vision
