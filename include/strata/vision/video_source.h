// VideoSource: frames from a video file, a camera index ("0") or an RTSP/HTTP URL, opened with an
// explicit backend (FFmpeg for files and URLs, V4L2 for camera indices) and open/read timeouts so
// a dead stream cannot hang the roof service. Open() reads the first frame, so a file that exists
// but cannot be decoded fails at Open with one readable line. Reconnect/watchdog policy belongs to
// the service; this class only reports Unavailable / DeadlineExceeded. A frame the decoder rejects
// (a corrupt JPEG in an MJPEG stream, a damaged H.264 slice) is skipped and counted in
// frames_skipped(), as long as a good frame follows within read_timeout and kMaxBadFrames reads.
// Thread-safety: NOT thread-safe; one reader thread per source.
//
//   STRATA_ASSIGN_OR_RETURN(VideoSource src, VideoSource::Open({.uri = "vtest.avi"}));
//   cv::Mat frame;
//   while (true) { STRATA_ASSIGN_OR_RETURN(bool got, src.Read(&frame)); if (!got) break; ... }
#pragma once

#include <chrono>
#include <memory>
#include <opencv2/core.hpp>
#include <string>

#include "strata/core/status.h"

namespace cv {
class VideoCapture;
}

namespace strata::vision {

struct VideoSourceConfig {
  std::string uri;  // file path, camera index, rtsp:// http(s)://
  std::chrono::milliseconds open_timeout{10000};
  std::chrono::milliseconds read_timeout{5000};
};

class VideoSource {
 public:
  using Config = VideoSourceConfig;
  // NotFound: the file does not exist. InvalidArgument: it exists but is not a decodable video (or
  // the uri is empty). Unavailable: a camera/URL that cannot be opened or gives no first frame.
  static Result<VideoSource> Open(const Config& config);
  VideoSource(VideoSource&&) noexcept;
  VideoSource& operator=(VideoSource&&) noexcept;
  ~VideoSource();

  // Consecutive undecodable frames skipped before a read gives up (live: Unavailable; file: end).
  static constexpr int kMaxBadFrames = 25;

  // true with a frame; false at the end of a file. Unavailable when a live stream stops giving
  // frames (read timeout, closed connection, or kMaxBadFrames undecodable frames in a row).
  Result<bool> Read(cv::Mat* frame);
  double fps() const { return fps_; }
  cv::Size size() const { return size_; }
  int64_t frames_read() const { return frames_read_; }
  // Undecodable frames skipped by Read (each followed by a good frame).
  int64_t frames_skipped() const { return frames_skipped_; }
  bool is_file() const { return is_file_; }
  const std::string& uri() const { return config_.uri; }

 private:
  VideoSource() = default;
  Config config_;
  std::unique_ptr<cv::VideoCapture> cap_;
  cv::Mat pending_;  // first frame, read by Open
  double fps_ = 0;
  cv::Size size_;
  int64_t frames_read_ = 0;
  int64_t frames_skipped_ = 0;
  bool is_file_ = false;
};

}  // namespace strata::vision
