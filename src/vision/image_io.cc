#include "strata/vision/image_io.h"

#include <opencv2/imgcodecs.hpp>

namespace strata::vision {
namespace {

int Be16(const uint8_t* p) { return (p[0] << 8) | p[1]; }
uint32_t Be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

bool IsSof(uint8_t m) {
  // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
  return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

// Sequential, progressive and lossless Huffman-coded frames; arithmetic coding (C9..CF) can spend
// less than a bit per block.
bool IsHuffmanSof(uint8_t m) { return IsSof(m) && m < 0xC8; }

Result<ImageHeader> ProbeJpeg(std::span<const uint8_t> b, uint8_t* sof_marker = nullptr) {
  size_t i = 2;
  while (true) {
    if (i >= b.size()) return InvalidArgumentError("JPEG truncated before the frame header (SOF)");
    if (b[i] != 0xFF) {
      return InvalidArgumentError("JPEG malformed: expected a marker at byte " + std::to_string(i));
    }
    while (i < b.size() && b[i] == 0xFF) ++i;  // fill bytes
    if (i >= b.size()) return InvalidArgumentError("JPEG truncated in a marker");
    uint8_t m = b[i++];
    if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) continue;  // no length
    if (m == 0xD9 || m == 0xDA) {
      return InvalidArgumentError("JPEG malformed: no frame header (SOF) before scan data");
    }
    if (i + 2 > b.size()) return InvalidArgumentError("JPEG truncated in a segment length");
    int len = Be16(&b[i]);
    if (len < 2) return InvalidArgumentError("JPEG malformed: segment length < 2");
    if (IsSof(m)) {
      if (i + 8 > b.size()) return InvalidArgumentError("JPEG truncated in the frame header");
      const int height = Be16(&b[i + 3]);
      const int width = Be16(&b[i + 5]);
      if (width == 0 || height == 0) {
        return InvalidArgumentError("JPEG frame header has a zero dimension (" +
                                    std::to_string(width) + "x" + std::to_string(height) + ")");
      }
      if (sof_marker) *sof_marker = m;
      return ImageHeader{ImageFormat::kJpeg, width, height, static_cast<int>(b[i + 7])};
    }
    i += static_cast<size_t>(len);
  }
}

Result<ImageHeader> ProbePng(std::span<const uint8_t> b) {
  // 8-byte signature, then the IHDR chunk: length(4) "IHDR" width(4) height(4) depth color ...
  if (b.size() < 8 + 8 + 13) return InvalidArgumentError("PNG truncated before the IHDR chunk");
  if (Be32(&b[8]) != 13 || std::string(reinterpret_cast<const char*>(&b[12]), 4) != "IHDR") {
    return InvalidArgumentError("PNG malformed: first chunk is not IHDR");
  }
  uint32_t w = Be32(&b[16]), hh = Be32(&b[20]);
  if (w == 0 || hh == 0 || w > 0x7fffffffu || hh > 0x7fffffffu) {
    return InvalidArgumentError("PNG header has an invalid size " + std::to_string(w) + "x" +
                                std::to_string(hh));
  }
  static const int kChannels[] = {1, 0, 3, 1, 2, 0, 4};
  return ImageHeader{ImageFormat::kPng, static_cast<int>(w), static_cast<int>(hh),
                     b[25] <= 6 ? kChannels[b[25]] : 0};
}

Status CheckLimits(const ImageHeader& h, const ImageLimits& limits) {
  if (h.width > limits.max_width || h.height > limits.max_height ||
      static_cast<int64_t>(h.width) * h.height > limits.max_pixels) {
    return InvalidArgumentError(
        "image " + std::to_string(h.width) + "x" + std::to_string(h.height) +
        " exceeds the limit " + std::to_string(limits.max_width) + "x" +
        std::to_string(limits.max_height) + " (" + std::to_string(limits.max_pixels) + " pixels)");
  }
  return Status::Ok();
}

Result<cv::Mat> Decode(std::span<const uint8_t> bytes, const ImageLimits& limits, bool jpeg_only) {
  if (bytes.size() > limits.max_bytes) {
    return InvalidArgumentError("image body of " + std::to_string(bytes.size()) +
                                " bytes exceeds the limit of " + std::to_string(limits.max_bytes));
  }
  STRATA_ASSIGN_OR_RETURN(ImageHeader h, ProbeImageHeader(bytes));
  const std::string name(ImageFormatName(h.format));
  if (jpeg_only && h.format != ImageFormat::kJpeg) {
    return InvalidArgumentError("expected a JPEG image, got " + name);
  }
  STRATA_RETURN_IF_ERROR(CheckLimits(h, limits));
  if (h.format == ImageFormat::kJpeg) {
    // libjpeg "decodes" truncated files by padding them with grey; require the EOI marker.
    size_t n = bytes.size();
    size_t tail = n > 1024 ? n - 1024 : 0;  // tolerate up to 1 KiB of trailing padding
    bool eoi = false;
    for (size_t i = n - 1; i > tail; --i) {
      if (bytes[i - 1] == 0xFF && bytes[i] == 0xD9) {
        eoi = true;
        break;
      }
    }
    if (!eoi) return InvalidArgumentError("JPEG truncated or corrupt: no end-of-image marker");
    // A Huffman-coded scan spends at least one bit on every 8x8 luma block (the DC code), so a
    // file smaller than that cannot hold the frame it claims: libjpeg would pad it with grey and
    // turn a few KB into a frame of up to max_pixels (a decompression bomb).
    uint8_t sof = 0;
    STRATA_RETURN_IF_ERROR(ProbeJpeg(bytes, &sof).status());
    const uint64_t blocks = ((static_cast<uint64_t>(h.width) + 7) / 8) *
                            ((static_cast<uint64_t>(h.height) + 7) / 8);
    if (IsHuffmanSof(sof) && static_cast<uint64_t>(n) * 8 < blocks) {
      return InvalidArgumentError("JPEG of " + std::to_string(n) + " bytes is too small for its " +
                                  std::to_string(h.width) + "x" + std::to_string(h.height) +
                                  " frame header (at least " + std::to_string((blocks + 7) / 8) +
                                  " bytes needed)");
    }
  }
  cv::Mat out;
  try {
    cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8U, const_cast<uint8_t*>(bytes.data()));
    out = cv::imdecode(raw, cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    return InvalidArgumentError(name + " corrupt: " + e.err);
  }
  if (out.empty()) return InvalidArgumentError(name + " corrupt: the decoder rejected the data");
  if (out.cols != h.width || out.rows != h.height) {
    return InvalidArgumentError(name + " corrupt: decoded size differs from the header");
  }
  return out;
}

}  // namespace

std::string_view ImageFormatName(ImageFormat f) { return f == ImageFormat::kPng ? "png" : "jpeg"; }

Result<ImageHeader> ProbeImageHeader(std::span<const uint8_t> b) {
  if (b.empty()) return InvalidArgumentError("empty image body");
  static const uint8_t kPng[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  if (b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return ProbeJpeg(b);
  if (b.size() >= 8 && std::equal(kPng, kPng + 8, b.begin())) return ProbePng(b);
  return InvalidArgumentError("not a JPEG or PNG image (" + std::to_string(b.size()) +
                              " bytes, unknown signature)");
}

Result<cv::Mat> DecodeImage(std::span<const uint8_t> bytes, const ImageLimits& limits) {
  return Decode(bytes, limits, /*jpeg_only=*/false);
}

Result<cv::Mat> DecodeJpeg(std::span<const uint8_t> bytes, const ImageLimits& limits) {
  return Decode(bytes, limits, /*jpeg_only=*/true);
}

Result<std::vector<uint8_t>> EncodeJpeg(const cv::Mat& image, int quality) {
  if (image.empty()) return InvalidArgumentError("EncodeJpeg: empty image");
  if (quality < 1 || quality > 100) {
    return InvalidArgumentError("EncodeJpeg: quality must be 1..100, got " +
                                std::to_string(quality));
  }
  std::vector<uint8_t> out;
  try {
    if (!cv::imencode(".jpg", image, out, {cv::IMWRITE_JPEG_QUALITY, quality})) {
      return InternalError("EncodeJpeg: the encoder failed");
    }
  } catch (const cv::Exception& e) {
    return InvalidArgumentError(std::string("EncodeJpeg: ") + e.err);
  }
  return out;
}

}  // namespace strata::vision
