// RoofService: the roof tier. Captures frames from a VideoSource, gates them with FrameChange,
// caps the forwarding rate at forward_fps, and POSTs changed frames as JPEG to the fog's
// strata-detect (`<fog_url>/api/v1/frames`, metered as link roof -> fog).
//
// Two threads: the capture thread reads, paces (capture_fps; files are sampled on their own
// timestamps so the rate holds with or without `realtime`), runs the change gate and enqueues;
// the sender thread drains a bounded queue (`queue_frames`; when full the OLDEST frame is dropped
// and counted). An unreachable fog is counted in fog_errors; capture carries on.
// Routes: GET /api/v1/stats (roof_stats.cc: counters, forwarded ratio, motion state, the last
// persons count from the fog's answer), GET /api/v1/snapshot.jpg; readiness check "source".
// Thread-safety: public methods are safe from any thread; the destructor stops and joins both
// threads.
//
//   STRATA_ASSIGN_OR_RETURN(auto roof, RoofService::Create({.source = "vtest.avi"}));
//   roof->RegisterRoutes(*server);
//   roof->Start();
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "rate_controller.h"
#include "strata/transport/http.h"
#include "strata/transport/http_client.h"
#include "strata/vision/frame_change.h"
#include "strata/vision/video_source.h"

namespace strata::roof_service {

struct RoofConfig {
  std::string camera = "camera";  // [a-z0-9_-]{1,64}
  std::string source;             // file path, camera index, rtsp:// or http(s):// URL
  double capture_fps = 10;        // x
  double forward_fps = 5;         // y: cap on forwarded frames per second (of capture time)
  int jpeg_quality = 80;
  vision::FrameChangeConfig frame_change;
  std::string fog_url = "http://127.0.0.1:8081";  // strata-detect base URL
  int queue_frames = 8;                           // bounded send queue; oldest dropped when full
  bool block_when_full = false;  // files only: wait for the fog instead of dropping (batch runs)
  bool loop = false;                              // replay a file forever
  bool realtime = true;    // false: read files as fast as possible (tests, batch)
  int64_t max_frames = 0;  // stop capturing after this many frames; 0 = unlimited
  std::chrono::milliseconds fog_timeout{5000};
  http::ClientConfig fog_auth;  // token_file / token_env / ca_file for fog_url
  // Live sources: a read that gives no frame within read_timeout reconnects (with backoff, for
  // ever); readiness fails while no frame has arrived for 2 x read_timeout (the watchdog).
  std::chrono::milliseconds open_timeout{10000};
  std::chrono::milliseconds read_timeout{5000};
  // Adaptive forwarding (rate_controller.h): hold the p99 of a forwarded frame's age when its
  // detections come back (queue wait + fog round trip) under target_p99 by lowering the
  // forwarding rate below forward_fps when the fog slows down. 0 = off.
  RateControllerConfig adaptive;
  int motion_window = 10;  // frames: "motion" = the gate found a change in the last N frames
};

struct RoofStats {
  uint64_t frames_captured = 0, frames_changed = 0, frames_forwarded = 0;
  uint64_t frames_dropped_queue_full = 0, frames_skipped_unchanged = 0;
  uint64_t frames_skipped_rate_cap = 0, bytes_forwarded = 0, raw_bytes_equivalent = 0;
  uint64_t fog_errors = 0, queue_depth = 0, queue_high_water = 0;
  bool eof = false;
  bool drained = false;  // capture ended and every queued frame was sent (or failed)
  double forward_fps_now = 0;  // the adaptive controller's current rate (= forward_fps when off)
  double recent_p99_ms = 0;    // p99 frame age (queue + fog round trip), last adaptive.window frames
  // Motion: frames the change gate found changed among the last `motion_window` captured ones.
  uint64_t motion_window_frames = 0, motion_changed_in_window = 0;
  std::optional<uint64_t> last_changed_frame;  // frames_captured count at the last change
  // Persons in the fog's answer (detections labelled "person") to the last forwarded frame.
  std::optional<int64_t> last_persons;
  int64_t last_persons_at_ms = 0;  // Unix ms when that answer came back
};

class RoofService {
 public:
  using Config = RoofConfig;
  // Opens the source (reads its first frame) and validates the change gate. NotFound naming the
  // path for a missing file, InvalidArgument for a corrupt one or a bad setting.
  static Result<std::unique_ptr<RoofService>> Create(const Config& config);
  ~RoofService();

  // Adds the routes, the readiness check "source" and the OpenAPI document.
  void RegisterRoutes(http::HttpServer& server);
  // Starts the capture and sender threads (once).
  void Start();
  // Stops both threads and joins them. Idempotent.
  void Stop();
  RoofStats Stats() const;
  // Blocks until capture ended (eof / max_frames) and the queue is sent, or `timeout`; returns
  // whether that happened.
  bool WaitDrained(std::chrono::milliseconds timeout);

 private:
  struct Item {
    std::string jpeg;
    int64_t frame_id = 0;
    WallTime captured_at;
    std::chrono::steady_clock::time_point enqueued_at;  // before JPEG encoding
  };

  RoofService() = default;
  static std::string RoofHop(const Item& item);
  void CaptureLoop();
  void SenderLoop();
  // Reads the next frame to process (after rate sampling); false at the end of input or on stop.
  bool NextFrame(cv::Mat* frame, WallTime* ts);
  void Reopen();
  double SourceFps() const;  // the file's frame rate, or capture_fps when unknown
  void Enqueue(const cv::Mat& frame, WallTime ts);
  // Waits up to `d` or until Stop(); returns false when stopping.
  bool SleepFor(std::chrono::nanoseconds d);
  nlohmann::json StatsJson() const;  // roof_stats.cc
  // Records the change gate's verdict for the motion window (caller holds mu_).
  void NoteMotionLocked(bool changed);
  // Records the persons count of the fog's answer to a forwarded frame (caller holds mu_).
  void NoteFogAnswerLocked(std::optional<int64_t> persons);
  Result<http::Response> GetSnapshot();

  Config config_;
  std::optional<vision::VideoSource> source_;  // capture thread only
  std::optional<vision::FrameChange> gate_;    // capture thread only
  std::unique_ptr<http::HttpClient> fog_;      // sender thread only
  std::atomic<bool> source_open_{false};
  std::atomic<int64_t> last_frame_ns_{0};  // steady clock, of the last frame read
  bool live_source_ = false;               // set in Create, read-only after
  // Capture-thread pacing state.
  WallTime start_wall_;      // file media time 0 maps to this wall time
  double media_offset_ = 0;  // seconds of file played before the current loop
  double next_media_ = 0;    // media time of the next frame to take
  std::chrono::steady_clock::time_point next_due_{};
  std::optional<std::chrono::steady_clock::time_point> started_at_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  bool stop_ = false, started_ = false, capture_done_ = false, sending_ = false;
  RoofStats stats_;
  std::optional<RateController> controller_;  // sender thread; its outputs go to stats_
  std::atomic<double> forward_fps_now_{0};
  std::deque<bool> motion_;  // changed? of the last motion_window captured frames (under mu_)
  cv::Mat latest_;  // latest captured frame, for the snapshot
  std::thread capture_, sender_;
};

// Persons in strata-detect's answer to POST /api/v1/frames (detections labelled "person"), or
// nullopt when the body has no "detections" array (e.g. another fog service).
std::optional<int64_t> PersonsInFogAnswer(std::string_view body);

// The hand-written OpenAPI 3.1 document (services/roof/openapi.json, embedded at build time).
std::string_view OpenApi();

}  // namespace strata::roof_service
