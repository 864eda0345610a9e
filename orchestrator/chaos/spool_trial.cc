// The `spool` chaos class (kill_classes.h): kill -9 of a store-and-forward SENDER. A real
// strata-notify (alert on every person) ← an in-process strata link proxy ← a real
// strata-identify with `notify_spool_dir: spool` (its DiskQueue <data>/spool/notify-forward.db).
// A sender thread posts numbered person crops (track i, X-Strata-Message-Id chaos-<i>) to
// identify's POST /api/v1/faces; a crop is *acked* when identify answers 200 (it is then on disk
// in the spool). The trial SIGKILLs identify twice at random points (after a random crop count
// plus 0–15 ms, so kills land mid-request and mid-forward), checks the spool file the crash left
// (read-only PRAGMA integrity_check) and restarts identify on the same data dir (restart_ms =
// spawn → /readyz 200). Crops that got no answer are not resent (identify's message-id window is
// in memory; they may or may not arrive — counted as unacked_delivered, allowed).
// Variants: "live" (even trials: the link is up, kills hit a spool that forwards as it fills) and
// "backlog" (odd trials: the link is blackholed for the whole load, so both kills hit a growing
// backlog; it is healed once the load is done).
// Checks: every acked crop is exactly one alert at notify (lost, duplicates), notify remembered no
// more message ids than crops identify spooled (a restarted sender re-sending under a fresh id
// would show here), the spool drains to 0 rows and passes integrity_check after each crash and
// at the end. A trial fails on any of these, or on a harness error.
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include "chaos.h"
#include "crop_chain.h"
#include "kill_classes.h"
#include "link_proxy.h"
#include "strata/core/rng.h"
#include "strata/store/sqlite.h"
#include "strata/testing/fixtures.h"
#include "strata/transport/http_client.h"
#include "target.h"

#if STRATA_CHAOS_VISION
#include <opencv2/core.hpp>

#include "strata/vision/image_io.h"
#endif

namespace strata::chaos {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string CropJpeg() {
#if STRATA_CHAOS_VISION
  cv::Mat img(48, 64, CV_8UC3);
  for (int y = 0; y < img.rows; ++y) img.row(y).setTo(cv::Scalar(y * 4, 200, 255 - y * 4));
  auto jpeg = vision::EncodeJpeg(img, 90);
  return jpeg.ok() ? std::string(jpeg->begin(), jpeg->end()) : "";
#else
  return "";
#endif
}

// One integer from a read-only SQLite file; -1 when it cannot be read.
int64_t QueryInt(const std::string& file, const std::string& sql, bool* integrity_ok = nullptr) {
  auto db = store::Database::Open(file, {.create = false, .read_only = true});
  if (!db.ok()) return -1;
  if (integrity_ok) *integrity_ok = (*db)->IntegrityCheck().ok();
  auto st = (*db)->Prepare(sql);
  if (!st.ok()) return -1;
  auto row = st->Step();
  return row.ok() && *row ? st->ColumnInt(0) : -1;
}


// The crop sender: posts crops 1..n to whatever identify URL is current, waiting (bounded) while
// identify is down. state[i-1]: 1 acked, 2 rejected, 3 no answer.
struct Sender {
  std::mutex mu;
  std::string url;  // "" while identify is down
  std::vector<int> state;
  std::atomic<int> answered{0};
  std::atomic<bool> stop{false};

  void Run(const std::string& jpeg, int n) {
    std::string client_url;
    std::unique_ptr<http::HttpClient> client;
    for (int i = 1; i <= n && !stop; ++i) {
      for (int w = 0; w < 2000 && !stop; ++w) {  // <= 20 s for a restart
        {
          std::lock_guard lock(mu);
          if (!url.empty()) break;
        }
        std::this_thread::sleep_for(milliseconds(10));
      }
      {
        std::lock_guard lock(mu);
        if (url != client_url || !client) {
          client_url = url;
          auto c = http::HttpClient::Create({.base_url = url,
                                             .connect_timeout = milliseconds(2000),
                                             .read_timeout = milliseconds(10000),
                                             .max_retries = 0});
          client = c.ok() ? std::move(c).value() : nullptr;
        }
      }
      int outcome = 3;
      if (client) {
        auto r = client->Post("/api/v1/faces", jpeg, "image/jpeg",
                              {{"X-Strata-Camera", "chaos"},
                               {"X-Strata-Track-Id", std::to_string(i)},
                               {"X-Strata-Kind", "person"},
                               {"X-Strata-Frame-Id", "f" + std::to_string(i)},
                               {"X-Strata-Message-Id", MessageId(i)}});
        if (r.ok()) outcome = r->status == 200 ? 1 : 2;
      }
      {
        std::lock_guard lock(mu);
        state[i - 1] = outcome;
      }
      answered = i;
      std::this_thread::sleep_for(milliseconds(15));
    }
  }
};

}  // namespace

FaultTrial RunSpoolTrial(int trial, const ChaosOptions& o) {
  using namespace std::chrono_literals;
  FaultTrial t;
  t.fault_class = "spool";
  t.trial = trial;
  t.trial_seed = TrialSeed(o.seed, "spool", trial);
  const bool backlog = trial % 2 == 1;
  t.variant = backlog ? "backlog" : "live";
  t.note =
      "identify (notify_spool_dir, backoff 50 ms doubling to 1 s) -> strata link -> notify; "
      "2 SIGKILLs of identify per trial";
  Rng rng(t.trial_seed);
  constexpr int kCrops = 60;
  const int kill_at[2] = {static_cast<int>(rng.UniformInt(5, 25)),
                          static_cast<int>(rng.UniformInt(32, 52))};
  const std::string dir = FreshTrialDir(o, "spool", trial);
  t.data_dir = dir;
  const std::string jpeg = CropJpeg();
  if (jpeg.empty()) {
    t.error = "the spool class needs strata_vision (JPEG crops)";
    return t;
  }
  const std::string notify_db = dir + "/notify/notify.db";
  const std::string spool_db = dir + "/identify/spool/notify-forward.db";
  auto notify = StartService(o, "notify", dir + "/notify", "notify:\n  alert_on_person: true\n");
  if (!notify.ok()) {
    t.error = notify.status().message();
    return t;
  }
  auto proxy = link::LinkProxy::Start({.name = "identify_notify",
                                       .upstream_host = "127.0.0.1",
                                       .upstream_port = (*notify)->port,
                                       .seed = t.trial_seed});
  if (!proxy.ok()) {
    t.error = proxy.status().message();
    return t;
  }
  const std::string identify_yaml =
      "identify:\n  encoder: lbph\n  faces: off\n  notify_url: http://127.0.0.1:" +
      std::to_string((*proxy)->port()) +
      "\n  notify_spool_dir: spool\n  notify_backoff: 50ms\n  notify_backoff_max: 1s\n";
  if (backlog) (*proxy)->Partition(link::PartitionMode::kBlackhole);
  auto identify = StartService(o, "identify", dir + "/identify", identify_yaml);
  if (!identify.ok()) {
    t.error = identify.status().message();
    return t;
  }
  Sender sender;
  sender.state.assign(kCrops, 0);
  sender.url = (*identify)->url();
  std::thread send([&] { sender.Run(jpeg, kCrops); });

  int64_t crash_integrity_failures = 0, spooled_at_kill = 0;
  std::vector<double> restarts;
  for (int k : kill_at) {
    for (int w = 0; w < 2000 && sender.answered < k; ++w) std::this_thread::sleep_for(10ms);
    std::this_thread::sleep_for(milliseconds(rng.UniformInt(0, 15)));
    {
      std::lock_guard lock(sender.mu);
      sender.url.clear();
    }
    (*identify)->process->Signal(SIGKILL);
    (void)(*identify)->process->Wait(5s);
    (*identify)->process.reset();
    bool integrity = false;
    const int64_t rows = QueryInt(spool_db, "SELECT COUNT(*) FROM queue", &integrity);
    crash_integrity_failures += !integrity;
    spooled_at_kill += std::max<int64_t>(rows, 0);
    const auto spawn = Clock::now();
    identify = StartService(o, "identify", dir + "/identify", identify_yaml);
    if (!identify.ok()) {
      t.error = "restart after SIGKILL: " + identify.status().message();
      break;
    }
    restarts.push_back(Ms(Clock::now() - spawn));
    std::lock_guard lock(sender.mu);
    sender.url = (*identify)->url();
  }
  if (!t.error.empty()) sender.stop = true;
  send.join();
  (*proxy)->Heal();
  const auto heal_at = Clock::now();

  std::vector<int> acked;
  int64_t rejected = 0, no_answer = 0;
  for (int i = 1; i <= kCrops; ++i) {
    const int s = sender.state[i - 1];
    if (s == 1) acked.push_back(i);
    rejected += s == 2;
    no_answer += s == 3;
  }
  double delivered_ms = -1;
  for (int w = 0; w < 1200 && t.error.empty(); ++w) {  // <= 30 s
    auto alerts = ChaosAlertsPerTrack(notify_db);
    bool all = true;
    for (int i : acked) all = all && alerts.count(i);
    if (all && QueryInt(spool_db, "SELECT COUNT(*) FROM queue") == 0) {
      delivered_ms = Ms(Clock::now() - heal_at);
      break;
    }
    std::this_thread::sleep_for(25ms);
  }
  const bool identify_alive = identify.ok() && (*identify)->Alive();
  const bool identify_clean = !identify.ok() || (*identify)->Stop();
  bool final_integrity = false;
  const int64_t spool_left = QueryInt(spool_db, "SELECT COUNT(*) FROM queue", &final_integrity);
  const bool notify_clean = (*notify)->Stop();
  (*proxy)->Stop();
  auto alerts = ChaosAlertsPerTrack(notify_db);
  const int64_t notify_messages = QueryInt(notify_db, "SELECT COUNT(*) FROM messages");

  int64_t lost = 0, duplicates = 0, unacked_delivered = 0;
  std::string lost_ids;
  for (int i = 1; i <= kCrops; ++i) {
    auto it = alerts.find(i);
    const int64_t copies = it == alerts.end() ? 0 : it->second;
    duplicates += std::max<int64_t>(copies - 1, 0);
    if (sender.state[i - 1] == 1 && copies == 0) {
      ++lost;
      if (lost <= 8)
        lost_ids += (lost_ids.empty() ? "" : ", ") + std::string("track ") + std::to_string(i);
    }
    if (sender.state[i - 1] != 1) unacked_delivered += copies > 0;
  }
  const int64_t spooled_max = static_cast<int64_t>(acked.size()) + no_answer;
  t.counts = {{"crops", kCrops},
              {"kills", static_cast<int64_t>(restarts.size())},
              {"acked", static_cast<int64_t>(acked.size())},
              {"rejected", rejected},
              {"no_answer", no_answer},
              {"spooled_at_kill", spooled_at_kill},
              {"alerts", static_cast<int64_t>(alerts.size())},
              {"lost", lost},
              {"duplicates", duplicates},
              {"unacked_delivered", unacked_delivered},
              {"notify_message_ids", notify_messages},
              {"spool_left", spool_left},
              {"integrity_failures", crash_integrity_failures + !final_integrity}};
  t.times_ms = {{"restart_ms", restarts.empty() ? -1 : restarts.front()},
                {"restart2_ms", restarts.size() < 2 ? -1 : restarts[1]},
                {"end_to_delivered_ms", delivered_ms}};
  if (!t.error.empty()) return t;
  if (!identify_alive) t.failures.push_back("strata-identify exited during the trial");
  if (!identify_clean) t.failures.push_back("strata-identify did not stop on SIGTERM in 10 s");
  if (!notify_clean) t.failures.push_back("strata-notify did not stop on SIGTERM in 10 s");
  if (lost > 0)
    t.failures.push_back(std::to_string(lost) + " acknowledged crop(s) without an alert [" +
                         lost_ids + "]");
  if (duplicates > 0) t.failures.push_back(std::to_string(duplicates) + " crop(s) alerted twice");
  if (notify_messages > spooled_max)
    t.failures.push_back("notify saw " + std::to_string(notify_messages) +
                         " message ids for at most " + std::to_string(spooled_max) +
                         " spooled crops (a crop re-sent under a new id)");
  if (crash_integrity_failures > 0)
    t.failures.push_back("spool integrity_check failed after a kill");
  if (!final_integrity) t.failures.push_back("spool integrity_check failed at the end");
  if (spool_left != 0)
    t.failures.push_back("spool not drained: " + std::to_string(spool_left) + " row(s) left");
  if (delivered_ms < 0) t.failures.push_back("acked crops not all delivered within 30 s");
  if (acked.empty()) t.failures.push_back("identify acknowledged no crop");
  std::error_code ec;
  if (t.ok() && !o.keep_dirs) std::filesystem::remove_all(dir, ec);
  return t;
}

}  // namespace strata::chaos
