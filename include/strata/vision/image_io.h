// Safe image decoding: dimensions are read from the JPEG SOF / PNG IHDR header and checked against
// limits BEFORE any pixel buffer is allocated, so a 20000x20000 "decompression bomb", an empty
// body, non-image bytes or a truncated/corrupt JPEG become InvalidArgument with one precise line
// instead of an allocation or an OpenCV exception. Service handlers map that Status to HTTP 4xx.
// Thread-safety: free functions without shared state; safe from any thread.
//
//   STRATA_ASSIGN_OR_RETURN(cv::Mat bgr, DecodeJpeg(body, ImageLimits{}));
#pragma once

#include <cstdint>
#include <opencv2/core.hpp>
#include <span>
#include <string>
#include <vector>

#include "strata/core/status.h"

namespace strata::vision {

struct ImageLimits {
  size_t max_bytes = 16u << 20;  // encoded size
  int max_width = 8192;
  int max_height = 8192;
  int64_t max_pixels = 33'177'600;  // 7680x4320
};

enum class ImageFormat { kJpeg, kPng };
std::string_view ImageFormatName(ImageFormat f);  // "jpeg" | "png"

struct ImageHeader {
  ImageFormat format = ImageFormat::kJpeg;
  int width = 0;
  int height = 0;
  int channels = 0;
};

// Parses only the header. InvalidArgument for empty input, unknown format, a truncated or
// malformed header, or zero dimensions.
Result<ImageHeader> ProbeImageHeader(std::span<const uint8_t> bytes);

// Checks the header against `limits` (InvalidArgument "image 20000x20000 exceeds the limit
// 8192x8192"), then decodes to 8-bit BGR. Corrupt data → InvalidArgument.
Result<cv::Mat> DecodeImage(std::span<const uint8_t> bytes, const ImageLimits& limits);
// Like DecodeImage but accepts only JPEG (what travels between Strata services).
Result<cv::Mat> DecodeJpeg(std::span<const uint8_t> bytes, const ImageLimits& limits);
// Encodes BGR/grey to JPEG; quality 1..100. InvalidArgument for an empty image or bad quality.
Result<std::vector<uint8_t>> EncodeJpeg(const cv::Mat& image, int quality = 85);

}  // namespace strata::vision
