// The `uplink` chaos class (kill_classes.h): the detect → identify uplink partitioned — the
// tier-crossing hop ChainSpoolTest covers as a test, here measured in the report. strata-detect's
// CloudUplink (in-process, store-and-forward spool <dir>/detect/spool, backoff 20 ms → 500 ms,
// 1 s timeout) → strata link proxy "fog_cloud" → real strata-identify (notify spool on) → real
// strata-notify (alert on every person). Numbered person crops (track i) are queued 20 ms apart;
// after a random 5–15 crops the fog → cloud link is partitioned — blackhole (even trials) or
// reset (odd) — for a random 1–3 s, crops keep coming, then it heals. Every queued crop is in
// detect's spool when Enqueue returns (that is the ack here). Measured: each crop exactly one
// alert (`lost`, `duplicates`), both spools drained, heal → last alert (`heal_to_last_ms`).
// Needs strata_detect_service (STRATA_CHAOS_UPLINK); without it a trial is an error naming that.
#include <filesystem>
#include <thread>

#include "chaos.h"
#include "crop_chain.h"
#include "kill_classes.h"
#include "strata/core/rng.h"
#include "strata/store/sqlite.h"

#if STRATA_CHAOS_UPLINK
#include <opencv2/core.hpp>

#include "../../services/detect/cloud_uplink.h"
#include "link_proxy.h"
#include "strata/vision/image_io.h"
#endif

namespace strata::chaos {

#if STRATA_CHAOS_UPLINK
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }


}  // namespace

FaultTrial RunUplinkTrial(int trial, const ChaosOptions& o) {
  using namespace std::chrono_literals;
  FaultTrial t;
  t.fault_class = "uplink";
  t.trial = trial;
  t.trial_seed = TrialSeed(o.seed, "uplink", trial);
  const bool reset = trial % 2 == 1;
  t.variant = reset ? "reset" : "blackhole";
  t.note =
      "detect CloudUplink (spool, backoff 20 ms -> 500 ms) -> strata link -> identify "
      "(notify spool) -> notify";
  Rng rng(t.trial_seed);
  const int start_crop = static_cast<int>(rng.UniformInt(5, 15));
  const int partition_ms = static_cast<int>(rng.UniformInt(1000, 3000));
  const int crops = start_crop + partition_ms / 20 + 20;
  const std::string dir = FreshTrialDir(o, "uplink", trial);
  t.data_dir = dir;
  const std::string notify_db = dir + "/notify/notify.db";
  auto notify = StartService(o, "notify", dir + "/notify", "notify:\n  alert_on_person: true\n");
  if (!notify.ok()) {
    t.error = notify.status().message();
    return t;
  }
  auto identify =
      StartService(o, "identify", dir + "/identify",
                   "identify:\n  encoder: lbph\n  faces: off\n  notify_url: " + (*notify)->url() +
                       "\n  notify_spool_dir: spool\n  notify_backoff: 50ms\n"
                       "  notify_backoff_max: 1s\n");
  if (!identify.ok()) {
    t.error = identify.status().message();
    return t;
  }
  auto proxy = link::LinkProxy::Start({.name = "fog_cloud",
                                       .upstream_host = "127.0.0.1",
                                       .upstream_port = (*identify)->port,
                                       .seed = t.trial_seed});
  if (!proxy.ok()) {
    t.error = proxy.status().message();
    return t;
  }
  auto up = detect_service::CloudUplink::Create(
      {.url = "http://127.0.0.1:" + std::to_string((*proxy)->port()),
       .timeout = 1000ms,
       .spool_dir = dir + "/detect/spool",
       .backoff_min = 20ms,
       .backoff_max = 500ms});
  if (!up.ok()) {
    t.error = up.status().message();
    return t;
  }
  std::optional<Clock::time_point> heal_at;
  int64_t spool_max = 0;  // detect spool rows, sampled after each crop
  for (int i = 1; i <= crops; ++i) {
    if (i == start_crop + 1)
      (*proxy)->Partition(reset ? link::PartitionMode::kReset : link::PartitionMode::kBlackhole);
    cv::Mat img(48, 64, CV_8UC3, cv::Scalar(20, 128, i % 256));
    auto jpeg = vision::EncodeJpeg(img, 90);
    detect_service::UplinkItem item{
        .camera = "chaos", .frame_id = "f" + std::to_string(i), .track_id = i};
    if (jpeg.ok()) item.person_jpeg.assign(jpeg->begin(), jpeg->end());
    item.box = {0.1, 0.1, 0.5, 0.9};
    (*up)->Enqueue(std::move(item), detect_service::CloudUplink::Want::kPerson);
    spool_max = std::max(spool_max, (*up)->spooled());
    std::this_thread::sleep_for(20ms);
    if (!heal_at && i > start_crop && (i - start_crop) * 20 >= partition_ms) {
      (*proxy)->Heal();
      heal_at = Clock::now();
    }
  }
  if (!heal_at) {
    (*proxy)->Heal();
    heal_at = Clock::now();
  }
  double last_ms = -1;
  for (int w = 0; w < 1200; ++w) {  // <= 30 s
    auto alerts = ChaosAlertsPerTrack(notify_db);
    if (static_cast<int>(alerts.size()) >= crops) {
      last_ms = Ms(Clock::now() - *heal_at);
      break;
    }
    std::this_thread::sleep_for(25ms);
  }
  const bool up_idle = (*up)->WaitIdle(10s);
  const int64_t detect_left = (*up)->spooled();
  const auto st = (*up)->stats();
  up->reset();
  const bool identify_alive = (*identify)->Alive();
  const bool identify_clean = (*identify)->Stop();
  (*proxy)->Stop();
  const bool notify_clean = (*notify)->Stop();
  auto alerts = ChaosAlertsPerTrack(notify_db);
  int64_t lost = 0, duplicates = 0;
  std::string lost_ids;
  for (int i = 1; i <= crops; ++i) {
    auto it = alerts.find(i);
    const int64_t copies = it == alerts.end() ? 0 : it->second;
    duplicates += std::max<int64_t>(copies - 1, 0);
    if (copies == 0 && ++lost <= 8)
      lost_ids += (lost_ids.empty() ? "" : ", ") + std::string("track ") + std::to_string(i);
  }
  t.counts = {{"crops", crops},
              {"detect_spool_max", spool_max},
              {"uplink_sent", static_cast<int64_t>(st.sent)},
              {"uplink_failed_tries", static_cast<int64_t>(st.failed)},
              {"uplink_dropped", static_cast<int64_t>(st.dropped)},
              {"alerts", static_cast<int64_t>(alerts.size())},
              {"lost", lost},
              {"duplicates", duplicates},
              {"detect_spool_left", detect_left}};
  t.times_ms = {{"partition_ms", partition_ms}, {"heal_to_last_ms", last_ms}};
  if (!identify_alive) t.failures.push_back("strata-identify exited during the trial");
  if (!identify_clean || !notify_clean) t.failures.push_back("a service did not stop on SIGTERM");
  if (lost > 0)
    t.failures.push_back(std::to_string(lost) + " spooled crop(s) without an alert [" + lost_ids +
                         "]");
  if (duplicates > 0) t.failures.push_back(std::to_string(duplicates) + " crop(s) alerted twice");
  if (!up_idle || detect_left != 0) t.failures.push_back("detect's uplink spool not drained");
  if (st.dropped > 0) t.failures.push_back("detect's uplink dropped crops");
  if (last_ms < 0) t.failures.push_back("not every crop alerted within 30 s of the heal");
  std::error_code ec;
  if (t.ok() && !o.keep_dirs) std::filesystem::remove_all(dir, ec);
  return t;
}

#else

FaultTrial RunUplinkTrial(int trial, const ChaosOptions& o) {
  FaultTrial t;
  t.fault_class = "uplink";
  t.trial = trial;
  t.trial_seed = TrialSeed(o.seed, "uplink", trial);
  t.error = "the uplink class needs strata_detect_service (strata_vision), not built";
  return t;
}

#endif

}  // namespace strata::chaos
