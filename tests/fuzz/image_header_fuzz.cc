// Fuzz target: images arriving over HTTP (frames, crops, gallery photos). The header pre-check
// must reject anything over the limits before a pixel buffer is allocated, and a decoded image
// must have the dimensions the header promised.
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "fuzz.h"
#include "strata/vision/image_io.h"

std::vector<std::string> strata::fuzz::Seeds() {
  std::vector<std::string> seeds;
  cv::Mat img(24, 32, CV_8UC3);
  cv::randu(img, cv::Scalar::all(0), cv::Scalar::all(255));
  for (const char* ext : {".jpg", ".png"}) {
    std::vector<uint8_t> buf;
    cv::imencode(ext, img, buf);
    seeds.emplace_back(buf.begin(), buf.end());
  }
  return seeds;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  auto header = strata::vision::ProbeImageHeader(bytes);
  strata::vision::ImageLimits limits{.max_bytes = 1 << 20, .max_width = 256, .max_height = 256,
                                     .max_pixels = 256 * 256};
  auto img = strata::vision::DecodeImage(bytes, limits);
  if (img.ok()) {
    STRATA_FUZZ_CHECK(header.ok());
    STRATA_FUZZ_CHECK(img->cols <= 256 && img->rows <= 256);
    STRATA_FUZZ_CHECK(img->cols == header->width && img->rows == header->height);
  }
  return 0;
}
