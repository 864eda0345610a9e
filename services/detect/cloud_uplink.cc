#include "cloud_uplink.h"

#include <array>
#include <cstdio>
#include <optional>

#include <spdlog/spdlog.h>

#include "strata/core/logging.h"
#include "strata/metrics/metrics.h"
#include "strata/transport/client_config.h"

namespace strata::detect_service {
namespace {

void CountUplink(const std::string& result, bool face, double bytes = 0) {
  metrics::GetCounter("strata_detect_uplink_crops_total", "Crops for the cloud, by result and kind",
                      {{"result", result}, {"kind", face ? "face" : "person"}})
      .Inc();
  if (bytes > 0)
    metrics::GetCounter("strata_detect_uplink_bytes_total", "JPEG crop bytes sent to the cloud")
        .Inc(bytes);
}

std::string FormatBox(const std::array<double, 4>& b) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4f,%.4f,%.4f,%.4f", b[0], b[1], b[2], b[3]);
  return buf;
}

std::string AppendHop(const std::string& hops, size_t bytes, double ms) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "detect;bytes=%zu;ms=%.2f", bytes, ms);
  return hops.empty() ? std::string(buf) : hops + ", " + buf;
}

}  // namespace

Result<std::unique_ptr<CloudUplink>> CloudUplink::Create(const Config& config) {
  if (config.max_faces_per_track < 0 || config.queue < 1 || config.max_tracks < 1)
    return InvalidArgumentError(
        "detect.cloud: max_faces_per_track must be >= 0, queue and max_tracks >= 1");
  std::unique_ptr<CloudUplink> u(new CloudUplink(config));
  http::ClientConfig cc{.base_url = config.url,
                        .connect_timeout = config.timeout,
                        .read_timeout = config.timeout,
                        .write_timeout = config.timeout,
                        .max_retries = 0,
                        .token = config.token,
                        .link_src = "fog",
                        .link_dst = "cloud"};
  CopyHttpClientAuth(config.auth, &cc);
  STRATA_ASSIGN_OR_RETURN(auto client, http::HttpClient::Create(cc));
  if (config.spool_dir.empty()) {
    u->client_ = std::move(client);
    u->worker_ = std::thread([p = u.get()] { p->Loop(); });
    return u;
  }
  STRATA_ASSIGN_OR_RETURN(auto queue,
                          store::DiskQueue::Open({.path = config.spool_dir + "/cloud-uplink.db",
                                                  .name = "detect_cloud_uplink",
                                                  .max_items = config.spool_max_items,
                                                  .max_bytes = config.spool_max_bytes}));
  if (queue->size() > 0)
    spdlog::info("cloud uplink: {} crops spooled in {} from before, sending them", queue->size(),
                 config.spool_dir);
  STRATA_ASSIGN_OR_RETURN(
      u->spool_, store::DiskQueueSender::Create(
                     std::move(queue), std::move(client),
                     {.path = "/api/v1/faces",
                      .backoff_min = config.backoff_min,
                      .backoff_max = config.backoff_max},
                     [p = u.get()](const store::QueueItem& item, store::SendOutcome outcome, int) {
                       p->OnSpoolResult(item, outcome);
                     }));
  return u;
}

CloudUplink::~CloudUplink() {
  if (spool_) spool_->Stop();  // before the members its observer touches go away
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

CloudUplink::Want CloudUplink::Decide(const std::string& camera, int track_id, bool has_face,
                                      float face_score) {
  if (track_id <= 0) return Want::kNothing;
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  auto [it, inserted] = tracks_.try_emplace({camera, track_id});
  TrackState& t = it->second;
  t.last_seen = ++tick_;
  if (static_cast<int>(tracks_.size()) > config_.max_tracks) {
    auto oldest = tracks_.begin();
    for (auto j = tracks_.begin(); j != tracks_.end(); ++j)
      if (j->second.last_seen < oldest->second.last_seen) oldest = j;
    tracks_.erase(oldest);
    it = tracks_.find({camera, track_id});
    if (it == tracks_.end()) return Want::kNothing;
  }
  TrackState& s = it->second;
  bool first = s.faces_sent == 0 && !s.person_sent;
  if (has_face && s.faces_sent < config_.max_faces_per_track &&
      (s.faces_sent == 0 || face_score >= s.best_face + config_.min_face_gain ||
       now - s.last_sent >= config_.resend_interval) &&
      (first || now - s.last_sent >= config_.min_interval)) {
    ++s.faces_sent;
    s.best_face = std::max(s.best_face, face_score);
    s.last_sent = now;
    return Want::kFace;
  }
  if (first && !has_face) {
    s.person_sent = true;
    s.last_sent = now;
    return Want::kPerson;
  }
  return Want::kNothing;
}

void CloudUplink::Enqueue(UplinkItem item, Want what) {
  if (what == Want::kNothing) return;
  if (spool_) {
    Job job{std::move(item), what == Want::kFace};
    const std::string& body = job.face ? job.item.face_jpeg : job.item.person_jpeg;
    std::unique_lock push_lock(push_mu_);  // so the eviction delta is this push's own
    uint64_t evicted_before = spool_->queue().evicted();
    auto id = spool_->Push(body, Headers(job));
    uint64_t evicted = spool_->queue().evicted() - evicted_before;
    push_lock.unlock();
    if (!id.ok()) spdlog::warn("cloud uplink: crop not spooled: {}", id.status().ToString());
    uint64_t lost = evicted + (id.ok() ? 0 : 1);
    if (lost == 0) return;
    {
      std::lock_guard lock(mu_);
      stats_.dropped += lost;
    }
    for (uint64_t i = 0; i < lost; ++i) CountUplink("dropped", job.face);  // kind: approximate
    return;
  }
  std::optional<bool> dropped;  // the dropped crop's kind
  {
    std::lock_guard lock(mu_);
    if (static_cast<int>(queue_.size()) >= config_.queue) {
      dropped = queue_.front().face;
      queue_.pop_front();
      ++stats_.dropped;
    }
    queue_.push_back({std::move(item), what == Want::kFace});
  }
  if (dropped) CountUplink("dropped", *dropped);
  cv_.notify_all();
}

void CloudUplink::Loop() {
  for (;;) {  // bounded by the destructor
    Job job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
    }
    Send(job);
    {
      std::lock_guard lock(mu_);
      busy_ = false;
    }
    cv_.notify_all();
  }
}

http::HeaderList CloudUplink::Headers(const Job& job) const {
  const UplinkItem& it = job.item;
  const std::string& body = job.face ? it.face_jpeg : it.person_jpeg;
  http::HeaderList h = {{"X-Strata-Camera", it.camera},
                        {"X-Strata-Track-Id", std::to_string(it.track_id)},
                        {"X-Strata-Kind", job.face ? "face" : "person"},
                        {"X-Strata-Box", FormatBox(it.box)},
                        {"X-Strata-Score", std::to_string(it.person_score)},
                        {"X-Strata-Hops", AppendHop(it.hops, body.size(), it.processing_ms)}};
  if (!it.frame_id.empty()) h.emplace_back("X-Strata-Frame-Id", it.frame_id);
  if (!it.captured_at.empty()) h.emplace_back("X-Strata-Captured-At", it.captured_at);
  if (!it.traceparent.empty()) h.emplace_back("traceparent", it.traceparent);
  return h;
}

void CloudUplink::OnSpoolResult(const store::QueueItem& item, store::SendOutcome outcome) {
  bool face = false;
  for (const auto& [k, v] : store::DecodeMeta(item.meta))
    if (k == "X-Strata-Kind") face = v == "face";
  {
    std::lock_guard lock(mu_);
    if (outcome == store::SendOutcome::kSent) {
      ++stats_.sent;
      stats_.bytes += item.body.size();
    } else if (outcome == store::SendOutcome::kPoison) {
      ++stats_.dropped;
    } else {
      ++stats_.failed;
    }
  }
  if (outcome == store::SendOutcome::kSent)
    CountUplink("sent", face, static_cast<double>(item.body.size()));
  else
    CountUplink(outcome == store::SendOutcome::kPoison ? "dropped" : "failed", face);
}

void CloudUplink::Send(Job& job) {
  const std::string& body = job.face ? job.item.face_jpeg : job.item.person_jpeg;
  http::HeaderList h = Headers(job);
  h.emplace_back("X-Strata-Message-Id", ids_.Next(Clock::Real()->Now()));
  auto r = client_->Post("/api/v1/faces", body, "image/jpeg", h);
  bool ok = r.ok() && r->status / 100 == 2;
  {
    std::lock_guard lock(mu_);
    if (ok) {
      ++stats_.sent;
      stats_.bytes += body.size();
    } else {
      ++stats_.failed;
    }
  }
  if (ok) {
    CountUplink("sent", job.face, static_cast<double>(body.size()));
  } else {
    CountUplink("failed", job.face);
    spdlog::warn("cloud uplink: {}", r.ok() ? r->ToStatus().ToString() : r.status().ToString());
  }
}

bool CloudUplink::WaitIdle(std::chrono::milliseconds timeout) {
  if (spool_) return spool_->WaitIdle(timeout);
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return stop_ || (queue_.empty() && !busy_); });
}

int64_t CloudUplink::spooled() const { return spool_ ? spool_->queue().size() : 0; }

CloudUplink::Stats CloudUplink::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace strata::detect_service
