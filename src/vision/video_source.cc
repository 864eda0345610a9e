#include "strata/vision/video_source.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <opencv2/videoio.hpp>

namespace strata::vision {

VideoSource::VideoSource(VideoSource&&) noexcept = default;
VideoSource& VideoSource::operator=(VideoSource&&) noexcept = default;
VideoSource::~VideoSource() = default;

namespace {

bool IsCameraIndex(const std::string& s) {
  return !s.empty() && s.size() <= 3 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool IsUrl(const std::string& s) { return s.find("://") != std::string::npos; }

// The uri as errors and logs may show it: a camera login (rtsp://user:pw@host) becomes "***@".
std::string Shown(const std::string& uri) {
  size_t sep = uri.find("://");
  if (sep == std::string::npos) return uri;
  size_t end = uri.find_first_of("/?#", sep + 3);
  size_t at = uri.rfind('@', end == std::string::npos ? uri.size() : end);
  if (at == std::string::npos || at < sep + 3) return uri;
  return uri.substr(0, sep + 3) + "***" + uri.substr(at);
}

}  // namespace

Result<VideoSource> VideoSource::Open(const Config& config) {
  const std::string& uri = config.uri;
  if (uri.empty()) return InvalidArgumentError("video source: empty uri");
  if (config.open_timeout.count() <= 0 || config.read_timeout.count() <= 0) {
    return InvalidArgumentError("video source: open_timeout and read_timeout must be > 0");
  }
  VideoSource src;
  src.config_ = config;
  src.is_file_ = !IsCameraIndex(uri) && !IsUrl(uri);
  if (src.is_file_) {
    std::error_code ec;
    if (!std::filesystem::exists(uri, ec)) {
      return NotFoundError("video file '" + uri + "' does not exist");
    }
    if (!std::filesystem::is_regular_file(uri, ec)) {
      return InvalidArgumentError("video file '" + uri + "' is not a regular file");
    }
  }
  std::vector<int> params = {
      cv::CAP_PROP_OPEN_TIMEOUT_MSEC, static_cast<int>(config.open_timeout.count()),
      cv::CAP_PROP_READ_TIMEOUT_MSEC, static_cast<int>(config.read_timeout.count())};
  src.cap_ = std::make_unique<cv::VideoCapture>();
  bool opened = false;
  try {
    if (IsCameraIndex(uri)) {
      opened = src.cap_->open(std::stoi(uri), cv::CAP_V4L2, params);
    } else {
      opened = src.cap_->open(uri, cv::CAP_FFMPEG, params);
    }
    // The first frame, skipping undecodable ones like Read does.
    const auto start = std::chrono::steady_clock::now();
    for (int bad = 0; opened && bad < kMaxBadFrames; ++bad) {
      if (src.cap_->read(src.pending_) && !src.pending_.empty()) {
        src.frames_skipped_ = bad;
        break;
      }
      src.pending_.release();
      if (std::chrono::steady_clock::now() - start >= config.read_timeout) break;
    }
  } catch (const cv::Exception&) {
    opened = false;
  }
  if (!opened || src.pending_.empty()) {
    std::string what =
        src.is_file_ ? "video file '" + uri + "'" : "video source '" + Shown(uri) + "'";
    std::string why =
        !opened ? " cannot be opened with " + std::string(IsCameraIndex(uri) ? "V4L2" : "FFmpeg")
                : " gave no frame";
    if (src.is_file_) {
      return InvalidArgumentError(what + why + " (not a video, or corrupt/unsupported codec)");
    }
    return UnavailableError(what + why + " within " + std::to_string(config.open_timeout.count()) +
                            " ms");
  }
  src.fps_ = src.cap_->get(cv::CAP_PROP_FPS);
  src.size_ = src.pending_.size();
  return src;
}

Result<bool> VideoSource::Read(cv::Mat* frame) {
  if (!cap_) return FailedPreconditionError("video source: not open");
  if (!pending_.empty()) {
    *frame = pending_;
    pending_.release();
    ++frames_read_;
    return true;
  }
  // A failed read is either the end (file end, closed connection, read timeout) or one frame the
  // decoder rejected; OpenCV's FFmpeg capture carries on with the next packet after the latter, so
  // retry a bounded number of times within read_timeout and count what was skipped.
  const auto start = std::chrono::steady_clock::now();
  for (int failures = 0;; ++failures) {
    bool ok = false;
    try {
      ok = cap_->read(*frame);
    } catch (const cv::Exception& e) {
      return UnavailableError("video source '" + Shown(config_.uri) + "': " + e.err);
    }
    if (ok && !frame->empty()) {
      frames_skipped_ += failures;
      break;
    }
    const bool timed_out = std::chrono::steady_clock::now() - start >= config_.read_timeout;
    if (failures + 1 >= kMaxBadFrames || timed_out) {
      if (is_file_) return false;
      if (!timed_out) {
        return UnavailableError("video source '" + Shown(config_.uri) +
                                "' stopped giving frames (stream closed, or " +
                                std::to_string(kMaxBadFrames) + " undecodable frames in a row)");
      }
      return UnavailableError("video source '" + Shown(config_.uri) + "' gave no frame within " +
                              std::to_string(config_.read_timeout.count()) + " ms");
    }
  }
  ++frames_read_;
  return true;
}

}  // namespace strata::vision
