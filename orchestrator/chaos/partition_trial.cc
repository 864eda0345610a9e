// The `partition` chaos class (fault_class.h): crops flow through the real identify → notify hop
// (crop_chain.h, identify's store-and-forward spool on) while the link between them is
// partitioned — blackhole (even trials: connections stall, new ones are held) or reset (odd
// trials: RST, new connections refused) — for a random 1–3 s starting after a random 5–15 crops;
// crops keep coming during the partition and for 0.4 s after the heal. Measured: every crop
// identify acknowledged (200) must become exactly one alert at notify (`lost`, `duplicates`),
// `heal_to_backlog_ms` = heal → every crop acked before the heal has its alert, and
// `heal_to_last_ms` = heal → every acked crop has its alert (the goal: ≤ 10 s).
// A trial fails on a lost or duplicated crop, a harness error, or a backlog not delivered 30 s
// after the heal.
#include <filesystem>
#include <thread>

#include "chaos.h"
#include "crop_chain.h"
#include "fault_class.h"
#include "strata/core/rng.h"

namespace strata::chaos {

namespace {
double Ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}
}  // namespace

FaultTrial RunPartitionTrial(int trial, const ChaosOptions& o) {
  using namespace std::chrono_literals;
  FaultTrial t;
  t.fault_class = "partition";
  t.trial = trial;
  t.trial_seed = TrialSeed(o.seed, "partition", trial);
  const bool reset = trial % 2 == 1;
  t.variant = reset ? "reset" : "blackhole";
  Rng rng(t.trial_seed);
  const int start_crop = static_cast<int>(rng.UniformInt(5, 15));
  const int partition_ms = static_cast<int>(rng.UniformInt(1000, 3000));
  constexpr int kPaceMs = 20;
  const int crops = start_crop + partition_ms / kPaceMs + 20;
  const std::string dir = FreshTrialDir(o, "partition", trial);
  t.data_dir = dir;
  t.note =
      "identify -> notify through strata link; identify notify_spool_dir on, default "
      "backoff 200 ms doubling to 5 s";

  auto chain = CropChain::Start(o, dir, t.trial_seed);
  if (!chain.ok()) {
    t.error = chain.status().message();
    return t;
  }
  CropChain& c = **chain;
  c.StartSending(crops, std::chrono::milliseconds(kPaceMs));
  c.WaitAnswered(start_crop, 20s);
  c.proxy().Partition(reset ? link::PartitionMode::kReset : link::PartitionMode::kBlackhole);
  std::this_thread::sleep_for(std::chrono::milliseconds(partition_ms));
  const int acked_before_heal = c.answered();
  c.proxy().Heal();
  const auto heal_at = std::chrono::steady_clock::now();
  auto backlog = c.WaitDelivered(acked_before_heal, 30s);
  c.WaitAnswered(crops, 30s);
  auto last = c.WaitDelivered(crops, 30s);
  CropChain::Tally tally = c.Finish();

  t.counts = {{"crops", tally.crops},
              {"acked", tally.acked},
              {"acked_before_heal", acked_before_heal},
              {"rejected", tally.rejected},
              {"no_answer", tally.no_answer},
              {"alerts", tally.delivered},
              {"lost", tally.lost},
              {"duplicates", tally.duplicates},
              {"unacked_delivered", tally.unacked_delivered},
              {"heal_to_last_over_10s", last && Ms(*last - heal_at) > 10000}};
  t.times_ms = {{"partition_ms", partition_ms},
                {"heal_to_backlog_ms", backlog ? Ms(*backlog - heal_at) : -1},
                {"heal_to_last_ms", last ? Ms(*last - heal_at) : -1}};
  CropChain::AddFailures(tally, &t);
  if (!backlog) t.failures.push_back("backlog not delivered within 30 s of the heal");
  std::error_code ec;
  if (t.ok() && !o.keep_dirs) std::filesystem::remove_all(dir, ec);
  return t;
}

}  // namespace strata::chaos
