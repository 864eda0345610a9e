// The `link` chaos class (fault_class.h): 40 numbered crops through the real identify → notify hop
// (crop_chain.h, identify's spool on) while the strata link proxy between them misbehaves. Trial
// N runs fault N % 5 (round N / 5):
//   latency    100 ms one-way ± 30 ms jitter, both directions (identify forwards one crop at a
//              time, so 40 crops take ≥ 40 round trips of ≥ 140 ms)
//   bandwidth  256 kbit/s each way (a crop is ~2 KB: the link, not identify, sets the pace)
//   slice1     every byte forwarded in its own send() (slice_bytes 1), both directions
//   reset      three 300 ms reset partitions, 400 ms apart, while crops flow
//   halfopen   after 8 crops every open connection goes half-open (no FIN, no RST, nothing
//              forwarded): identify must time out and reconnect
// Checked: no service exits, every crop identify acknowledged is exactly one alert at notify;
// `drain_ms` = last crop answered → every acked crop alerted (bounded 60 s).
#include <filesystem>
#include <thread>

#include "chaos.h"
#include "crop_chain.h"
#include "fault_class.h"

namespace strata::chaos {

FaultTrial RunLinkTrial(int trial, const ChaosOptions& o) {
  using namespace std::chrono_literals;
  static const char* kFaults[] = {"latency", "bandwidth", "slice1", "reset", "halfopen"};
  FaultTrial t;
  t.fault_class = "link";
  t.trial = trial;
  t.trial_seed = TrialSeed(o.seed, "link", trial);
  const std::string fault = kFaults[trial % 5];
  t.variant = fault;
  constexpr int kCrops = 40;
  const std::string dir = FreshTrialDir(o, "link", trial);
  t.data_dir = dir;
  auto chain = CropChain::Start(o, dir, t.trial_seed);
  if (!chain.ok()) {
    t.error = chain.status().message();
    return t;
  }
  CropChain& c = **chain;
  link::LinkSettings s;
  if (fault == "latency") {
    s.upstream.latency_ms = s.downstream.latency_ms = 100;
    s.upstream.jitter_ms = s.downstream.jitter_ms = 30;
  } else if (fault == "bandwidth") {
    s.upstream.bandwidth_bps = s.downstream.bandwidth_bps = 256'000;
  } else if (fault == "slice1") {
    s.upstream.slice_bytes = s.downstream.slice_bytes = 1;
  }
  if (Status st = c.proxy().SetSettings(s); !st.ok()) {
    t.error = st.message();
    return t;
  }
  c.StartSending(kCrops, 20ms);
  int64_t half_opened = 0;
  if (fault == "reset") {
    for (int i = 0; i < 3; ++i) {
      c.WaitAnswered(5 + i * 10, 20s);
      c.proxy().Partition(link::PartitionMode::kReset);
      std::this_thread::sleep_for(300ms);
      c.proxy().Heal();
      std::this_thread::sleep_for(100ms);
    }
  } else if (fault == "halfopen") {
    c.WaitAnswered(8, 20s);
    std::this_thread::sleep_for(50ms);  // let identify's connection to notify exist
    half_opened = c.proxy().HalfOpen();
  }
  c.WaitAnswered(kCrops, 60s);
  const auto sent_at = std::chrono::steady_clock::now();
  auto done = c.WaitDelivered(kCrops, 60s);
  const link::LinkStats stats = c.proxy().stats();
  CropChain::Tally tally = c.Finish();
  t.counts = {{"crops", tally.crops},
              {"acked", tally.acked},
              {"rejected", tally.rejected},
              {"no_answer", tally.no_answer},
              {"alerts", tally.delivered},
              {"lost", tally.lost},
              {"duplicates", tally.duplicates},
              {"unacked_delivered", tally.unacked_delivered},
              {"connections", static_cast<int64_t>(stats.connections_total)},
              {"half_opened", half_opened}};
  t.times_ms = {
      {"drain_ms", done ? std::chrono::duration<double, std::milli>(*done - sent_at).count() : -1}};
  CropChain::AddFailures(tally, &t);
  if (!done) t.failures.push_back("not every acked crop alerted within 60 s");
  std::error_code ec;
  if (t.ok() && !o.keep_dirs) std::filesystem::remove_all(dir, ec);
  return t;
}

}  // namespace strata::chaos
