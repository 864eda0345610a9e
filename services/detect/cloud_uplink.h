// CloudUplink: sends the fog's person and face crops to the cloud (strata-identify), and only
// those — never whole frames (docs/surveillance.md).
//
// Per confirmed track it sends one crop the first time the track is seen (the face when one was
// found, else the person), then a face crop again only when the face score improves by
// `min_face_gain` or `resend_interval` has passed, at most `max_faces_per_track` faces and no more
// often than `min_interval`. So
// one person walking through a scene costs a handful of crops, not one per frame. Every crop
// carries a fresh `X-Strata-Message-Id` (ULID) and is POSTed to <url>/api/v1/faces by one worker
// thread, metered as the LinkMeter link ("fog", "cloud").
// Without `spool_dir` crops wait in a bounded memory queue (oldest dropped and counted when the
// cloud is slow; one try each — best effort, lost on restart). With `spool_dir` they are
// stored-and-forwarded: written to <spool_dir>/cloud-uplink.db (store::DiskQueue, durable before
// Enqueue returns, bounded by spool_max_items/spool_max_bytes with the oldest evicted and counted
// as dropped) and sent oldest first, retried forever with capped backoff while the cloud is
// unreachable or busy, deleted only after a 2xx (a 4xx other than 408/429 is dropped as poison);
// spooled crops are sent after a restart. identify drops repeats of a message id.
// Thread-safety: Decide()/Enqueue() may be called from any thread; the worker owns the client.
//
//   STRATA_ASSIGN_OR_RETURN(auto up, CloudUplink::Create({.url = "http://127.0.0.1:8082"}));
//   up->Offer(item);  // from the request handler, after tracking
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "strata/core/status.h"
#include "strata/core/ulid.h"
#include "strata/store/disk_queue_sender.h"
#include "strata/transport/http_client.h"

namespace strata::detect_service {

struct CloudUplinkConfig {
  std::string url;  // strata-identify base URL; "" = no uplink
  int max_faces_per_track = 3;
  double min_face_gain = 0.1;  // a new face crop must beat the best sent score by this much
  std::chrono::milliseconds min_interval{1000};
  // Another look at the same face after this long even without a better score (YuNet scores
  // saturate at 1.0), so the cloud's identity decision gets up to max_faces_per_track looks.
  std::chrono::milliseconds resend_interval{2000};
  int queue = 32;                // crops waiting; the oldest is dropped beyond this
  int max_tracks = 4096;         // per-track send state kept (least recently seen evicted)
  std::chrono::milliseconds timeout{5000};
  std::string token;             // bearer token for the cloud; never logged
  http::ClientConfig auth;       // token_file / token_env / ca_file (ParseHttpClientAuth)
  std::string spool_dir;         // "" = memory queue (best effort); else store-and-forward
  int64_t spool_max_items = 10000;
  int64_t spool_max_bytes = 256ll << 20;
  std::chrono::milliseconds backoff_min{100}, backoff_max{5000};  // spool retries
};

// One crop candidate, as seen in one frame.
struct UplinkItem {
  std::string camera, frame_id, captured_at, traceparent;
  int track_id = 0;
  bool has_face = false;
  float face_score = 0;
  float person_score = 0;
  std::array<double, 4> box{};  // person box normalised to the frame
  std::string face_jpeg, person_jpeg;  // filled lazily by the caller when Wants() says so
  std::string hops;                    // incoming X-Strata-Hops
  double processing_ms = 0;            // this node's time for the frame
};

class CloudUplink {
 public:
  using Config = CloudUplinkConfig;
  // InvalidArgument for a bad URL or setting.
  static Result<std::unique_ptr<CloudUplink>> Create(const Config& config);
  ~CloudUplink();  // stops the worker; memory-queued crops are dropped, spooled ones kept

  enum class Want { kNothing, kFace, kPerson };
  // Decides (and records) whether this sighting of a track should go up, and as what.
  Want Decide(const std::string& camera, int track_id, bool has_face, float face_score);
  // Queues a crop chosen by Decide(); drops the oldest beyond `queue`.
  void Enqueue(UplinkItem item, Want what);
  // Waits until the queue is empty and nothing is in flight (tests, shutdown); false on timeout.
  bool WaitIdle(std::chrono::milliseconds timeout);

  // failed: memory mode, a try that failed (the crop is gone); spool mode, a try that will be
  // retried. dropped: evicted from a full queue/spool, or rejected as poison.
  struct Stats {
    uint64_t sent = 0, failed = 0, dropped = 0, bytes = 0;
  };
  Stats stats() const;
  int64_t spooled() const;  // crops waiting in the spool (0 without one)

 private:
  struct TrackState {
    int faces_sent = 0;
    float best_face = 0;
    bool person_sent = false;
    std::chrono::steady_clock::time_point last_sent{};
    uint64_t last_seen = 0;
  };
  struct Job {
    UplinkItem item;
    bool face = false;
  };
  explicit CloudUplink(Config c) : config_(std::move(c)) {}
  void Loop();
  void Send(Job& job);
  http::HeaderList Headers(const Job& job) const;
  void OnSpoolResult(const store::QueueItem& item, store::SendOutcome outcome);

  Config config_;
  std::unique_ptr<http::HttpClient> client_;       // memory mode
  std::unique_ptr<store::DiskQueueSender> spool_;  // spool mode
  UlidGenerator ids_;
  std::mutex push_mu_;  // spool mode: one Enqueue at a time (the DiskQueue serialises anyway)
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::pair<std::string, int>, TrackState> tracks_;
  uint64_t tick_ = 0;
  std::deque<Job> queue_;
  bool busy_ = false;
  bool stop_ = false;
  Stats stats_;
  std::thread worker_;
};

}  // namespace strata::detect_service
