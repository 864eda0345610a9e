#include "roof_service.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "strata/core/clock.h"
#include "strata/metrics/metrics.h"
#include "strata/transport/client_config.h"
#include "strata/transport/link_meter.h"
#include "strata/vision/image_io.h"

namespace strata::embedded {
extern const std::string_view roof_openapi;
}

namespace strata::roof_service {

using nlohmann::json;

std::string_view OpenApi() { return embedded::roof_openapi; }

namespace {

using Seconds = std::chrono::duration<double>;

void Count(const std::string& camera, const std::string& name, const std::string& help,
           double v = 1) {
  metrics::GetCounter("strata_roof_" + name, help, {{"camera", camera}}).Inc(v);
}

}  // namespace

namespace {
vision::VideoSourceConfig SourceConfig(const RoofConfig& c) {
  return {.uri = c.source, .open_timeout = c.open_timeout, .read_timeout = c.read_timeout};
}
int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

Result<std::unique_ptr<RoofService>> RoofService::Create(const Config& config) {
  if (config.capture_fps <= 0 || config.forward_fps <= 0)
    return InvalidArgumentError("roof.capture_fps and roof.forward_fps must be > 0");
  if (config.queue_frames < 1) return InvalidArgumentError("roof.queue_frames: must be >= 1");
  if (config.jpeg_quality < 1 || config.jpeg_quality > 100)
    return InvalidArgumentError("roof.jpeg_quality: must be in [1, 100]");
  if (config.motion_window < 1 || config.motion_window > 100000)
    return InvalidArgumentError("roof.motion_window: must be in [1, 100000]");
  std::unique_ptr<RoofService> s(new RoofService());
  s->config_ = config;
  RateControllerConfig rc = config.adaptive;
  rc.max_fps = config.forward_fps;
  if (rc.target_p99.count() > 0 && (rc.min_fps <= 0 || rc.min_fps > rc.max_fps || rc.window < 2))
    return InvalidArgumentError(
        "roof.adaptive: min_fps must be in (0, forward_fps] and window >= 2");
  s->controller_.emplace(rc);
  s->forward_fps_now_ = config.forward_fps;
  s->stats_.forward_fps_now = config.forward_fps;
  s->stats_.motion_window_frames = static_cast<uint64_t>(config.motion_window);
  s->start_wall_ = Clock::Real()->Now();
  STRATA_ASSIGN_OR_RETURN(vision::FrameChange gate,
                          vision::FrameChange::Create(config.frame_change));
  s->gate_.emplace(std::move(gate));
  STRATA_ASSIGN_OR_RETURN(vision::VideoSource src,
                          vision::VideoSource::Open(SourceConfig(config)));
  s->live_source_ = !src.is_file();
  s->source_.emplace(std::move(src));
  s->source_open_ = true;
  http::ClientConfig fog{.base_url = config.fog_url,
                         .connect_timeout = config.fog_timeout,
                         .read_timeout = config.fog_timeout,
                         .write_timeout = config.fog_timeout,
                         .max_retries = 0,
                         .link_src = "roof",
                         .link_dst = "fog"};
  CopyHttpClientAuth(config.fog_auth, &fog);
  STRATA_ASSIGN_OR_RETURN(s->fog_, http::HttpClient::Create(fog));
  return s;
}

RoofService::~RoofService() { Stop(); }

void RoofService::RegisterRoutes(http::HttpServer& server) {
  server.Route("GET", "/api/v1/stats", [this](const http::Request&) -> Result<http::Response> {
    return http::Response::Json(StatsJson());
  });
  server.Route("GET", "/api/v1/snapshot.jpg",
               [this](const http::Request&) { return GetSnapshot(); });
  server.AddReadinessCheck("source", [this]() -> Status {
    if (!source_open_) return UnavailableError("video source is not open");
    int64_t last = last_frame_ns_.load();
    double idle_s = (SteadyNs() - last) / 1e9;
    if (last > 0 && live_source_ &&
        idle_s > 2 * std::chrono::duration<double>(config_.read_timeout).count())
      return UnavailableError("no frame from the source for " + std::to_string(int(idle_s)) + " s");
    return Status::Ok();
  });
  server.SetOpenApi(std::string(OpenApi()));
}

void RoofService::Start() {
  std::lock_guard lock(mu_);
  if (started_ || stop_) return;
  started_ = true;
  capture_ = std::thread([this] { CaptureLoop(); });
  sender_ = std::thread([this] { SenderLoop(); });
}

void RoofService::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (capture_.joinable()) capture_.join();
  if (sender_.joinable()) sender_.join();
}

bool RoofService::SleepFor(std::chrono::nanoseconds d) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, d, [this] { return stop_; });
}

void RoofService::Reopen() {
  source_open_ = false;
  auto backoff = std::chrono::milliseconds(500);
  for (int attempt = 0;; ++attempt) {  // bounded by Stop()
    auto src = vision::VideoSource::Open(SourceConfig(config_));
    if (src.ok()) {
      source_.emplace(std::move(src).value());
      source_open_ = true;
      return;
    }
    if (attempt == 0) Count(config_.camera, "source_errors_total", "Source open/read failures");
    if (!SleepFor(backoff)) return;
    // Capped at 2 s so frames resume within ~2 s of a camera's return (issue 8: <= 5 s); a
    // refused connection costs the camera nothing (roof_stall_test measures it).
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
}

bool RoofService::NextFrame(cv::Mat* frame, WallTime* ts) {
  const double period = 1.0 / config_.capture_fps;
  for (int64_t reads = 0;; ++reads) {  // bounded: each pass reads a frame, ends or stops
    {
      std::lock_guard lock(mu_);
      if (stop_) return false;
    }
    Result<bool> got = source_open_ ? source_->Read(frame) : Result<bool>(false);
    if (!got.ok() || (!*got && !source_->is_file())) {  // live stream lost: reconnect
      Reopen();
      continue;
    }
    if (!*got) {
      if (!config_.loop) return false;
      media_offset_ += source_->frames_read() / SourceFps();
      Reopen();
      continue;
    }
    if (!source_->is_file()) {  // live: sample on wall time
      auto now = Clock::Real()->MonotonicNow();
      if (now < next_due_) continue;
      next_due_ = std::max(
          next_due_ + std::chrono::duration_cast<std::chrono::nanoseconds>(Seconds(period)), now);
      *ts = Clock::Real()->Now();
      return true;
    }
    double t = media_offset_ + (source_->frames_read() - 1) / SourceFps();
    if (t + 1e-6 < next_media_) continue;
    next_media_ = std::max(next_media_ + period, t);
    *ts = start_wall_ + std::chrono::duration_cast<std::chrono::nanoseconds>(Seconds(t));
    if (config_.realtime) {
      if (!started_at_) started_at_ = Clock::Real()->MonotonicNow();
      auto due = *started_at_ + std::chrono::duration_cast<std::chrono::nanoseconds>(Seconds(t));
      auto wait = due - Clock::Real()->MonotonicNow();
      if (wait.count() > 0 && !SleepFor(wait)) return false;
    }
    return true;
  }
}

double RoofService::SourceFps() const {
  double fps = source_->fps();
  return fps > 0 && fps < 1000 ? fps : config_.capture_fps;
}

void RoofService::CaptureLoop() {
  cv::Mat frame;
  WallTime ts;
  std::optional<WallTime> last_forward;
  const std::string& cam = config_.camera;
  for (int64_t n = 0; config_.max_frames == 0 || n < config_.max_frames; ++n) {
    if (!NextFrame(&frame, &ts)) break;
    last_frame_ns_ = SteadyNs();
    // X-Strata-Captured-At is when the frame was read, so latencies downstream are real even when
    // a file is read faster than real time (ts is then media time, used for pacing and the cap).
    const WallTime read_at = config_.realtime || live_source_ ? ts : Clock::Real()->Now();
    auto r = gate_->Process(frame, ts);
    {
      std::lock_guard lock(mu_);
      ++stats_.frames_captured;
      stats_.raw_bytes_equivalent += static_cast<uint64_t>(frame.total()) * 3;
      latest_ = frame.clone();
      if (r.ok() && r->changed) ++stats_.frames_changed;
      NoteMotionLocked(r.ok() && r->changed);
    }
    Count(cam, "frames_captured_total", "Frames captured");
    Count(cam, "raw_bytes_equivalent_total", "Raw BGR bytes of the captured frames",
          static_cast<double>(frame.total()) * 3);
    if (!r.ok() || !r->forward) {
      if (!r.ok()) gate_->Reset();  // e.g. the stream changed size
      std::lock_guard lock(mu_);
      ++stats_.frames_skipped_unchanged;
      continue;
    }
    if (r->changed) Count(cam, "frames_changed_total", "Frames the change gate found changed");
    // The gap follows the adaptive controller's rate (forward_fps when it is off).
    const auto min_gap = std::chrono::duration_cast<std::chrono::nanoseconds>(
        Seconds(1.0 / forward_fps_now_.load() - 1e-6));
    if (last_forward && ts - *last_forward < min_gap) {
      std::lock_guard lock(mu_);
      ++stats_.frames_skipped_rate_cap;
      continue;
    }
    last_forward = ts;
    Enqueue(frame, read_at);
  }
  {
    std::lock_guard lock(mu_);
    capture_done_ = true;
    stats_.eof = true;
  }
  cv_.notify_all();
}

void RoofService::Enqueue(const cv::Mat& frame, WallTime ts) {
  const auto enqueued_at = std::chrono::steady_clock::now();
  auto jpeg = vision::EncodeJpeg(frame, config_.jpeg_quality);
  if (!jpeg.ok()) return;
  bool dropped = false;
  {
    std::unique_lock lock(mu_);
    if (config_.block_when_full && !live_source_)  // batch: wait for the fog instead of dropping
      cv_.wait(lock, [this] {
        return stop_ || static_cast<int>(queue_.size()) < config_.queue_frames;
      });
    if (static_cast<int>(queue_.size()) >= config_.queue_frames) {
      queue_.pop_front();
      ++stats_.frames_dropped_queue_full;
      dropped = true;
    }
    queue_.push_back({std::string(jpeg->begin(), jpeg->end()),
                      static_cast<int64_t>(stats_.frames_captured), ts, enqueued_at});
    stats_.queue_high_water = std::max<uint64_t>(stats_.queue_high_water, queue_.size());
  }
  if (dropped)
    Count(config_.camera, "frames_dropped_queue_full_total", "Frames dropped: fog too slow");
  cv_.notify_all();
}

// This hop's entry of X-Strata-Hops (docs/surveillance.md): JPEG bytes sent and the time from
// the change gate's decision to the send (encode + queue).
std::string RoofService::RoofHop(const Item& item) {
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                        item.enqueued_at)
                  .count();
  char buf[96];
  std::snprintf(buf, sizeof buf, "roof;bytes=%zu;ms=%.2f", item.jpeg.size(), ms);
  return buf;
}

void RoofService::SenderLoop() {
  for (;;) {  // bounded by Stop()
    Item item;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      item = std::move(queue_.front());
      queue_.pop_front();
      sending_ = true;
    }
    cv_.notify_all();  // a capture thread blocked on a full queue (block_when_full) may go on
    http::HeaderList h = {{"X-Strata-Camera", config_.camera},
                          {"X-Strata-Frame-Id", std::to_string(item.frame_id)},
                          {"X-Strata-Captured-At", FormatRfc3339(item.captured_at)},
                          {"X-Strata-Hops", RoofHop(item)}};
    auto r = fog_->Post("/api/v1/frames", item.jpeg, "image/jpeg", h);
    bool ok = r.ok() && r->status / 100 == 2;
    // The controlled latency is the frame's age when its detections are back: the wait in this
    // queue plus the fog round trip. Only the forwarding rate can keep the queue short when the
    // fog slows down. A failed send counts as the timeout: an unreachable fog means "send less".
    const double age_ms = std::chrono::duration<double, std::milli>(
                              std::chrono::steady_clock::now() - item.enqueued_at)
                              .count();
    const std::optional<int64_t> persons = ok ? PersonsInFogAnswer(r->body) : std::nullopt;
    const double fps = controller_->Observe(
        ok ? age_ms : std::max(age_ms, static_cast<double>(config_.fog_timeout.count())));
    forward_fps_now_ = fps;
    {
      std::lock_guard lock(mu_);
      sending_ = false;
      stats_.forward_fps_now = fps;
      stats_.recent_p99_ms = controller_->recent_p99();
      if (ok) {
        ++stats_.frames_forwarded;
        stats_.bytes_forwarded += item.jpeg.size();
        NoteFogAnswerLocked(persons);
      } else {
        ++stats_.fog_errors;
      }
    }
    cv_.notify_all();
    if (ok) {
      Count(config_.camera, "frames_forwarded_total", "Frames sent to the fog");
      Count(config_.camera, "forwarded_bytes_total", "JPEG bytes sent to the fog",
            static_cast<double>(item.jpeg.size()));
    } else {
      Count(config_.camera, "fog_errors_total", "Failed sends to the fog");
    }
  }
}

RoofStats RoofService::Stats() const {
  std::lock_guard lock(mu_);
  RoofStats s = stats_;
  s.queue_depth = queue_.size();
  s.drained = capture_done_ && queue_.empty() && !sending_;
  return s;
}

bool RoofService::WaitDrained(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout,
                      [this] { return stop_ || (capture_done_ && queue_.empty() && !sending_); });
}

Result<http::Response> RoofService::GetSnapshot() {
  cv::Mat frame;
  {
    std::lock_guard lock(mu_);
    frame = latest_;  // shares the buffer; the capture thread replaces, never writes, latest_
  }
  if (frame.empty()) return NotFoundError("no frame captured yet");
  STRATA_ASSIGN_OR_RETURN(auto jpeg, vision::EncodeJpeg(frame, config_.jpeg_quality));
  return http::Response::Bytes(std::string(jpeg.begin(), jpeg.end()), "image/jpeg");
}

}  // namespace strata::roof_service
