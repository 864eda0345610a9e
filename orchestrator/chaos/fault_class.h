// The fault classes of `strata chaos` beyond kill -9 (docs/chaos.md): a trial of each class runs
// real binaries, injects one fault and measures what happened to the messages that were
// acknowledged. A FaultTrial is a bag of named counts (summed in the report) and durations
// (p50/p99/max in the report) plus the failures that fail it:
//   broker     (broker_trial.cc)    SIGTERM / SIGKILL mosquitto while strata-segment ingests MQTT
//   partition  (partition_trial.cc) blackhole / reset the identify → notify link while crops flow
//   link       (link_trial.cc)      crops through latency, bandwidth cap, 1-byte slicing, resets
//                                   and a half-open link
// Every trial's parameters derive from TrialSeed(seed, class, trial), so `--class C --seed S
// --trial N` reruns one. Thread-safety: RunFaultTrial is called from one thread at a time.
//
//   FaultSummary s = RunFaultClass("broker", options, progress);
//   if (s.Failed() > 0) ...;  report["broker"] = s.Json();
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "strata/core/status.h"

namespace strata::testing {
class Subprocess;
}

namespace strata::chaos {

struct ChaosOptions;  // chaos.h (which includes this header)

struct FaultTrial {
  std::string fault_class;  // "broker", "partition", "link"
  std::string variant;      // e.g. "sigterm", "sigkill", "blackhole", "reset", "slice1"
  int trial = 0;
  uint64_t trial_seed = 0;
  std::map<std::string, int64_t> counts;   // sent, acked, lost, duplicates, ...
  std::map<std::string, double> times_ms;  // resubscribe_ms, heal_to_last_ms, ...
  std::vector<std::string> failures;       // each one fails the trial
  std::string error;                       // harness failure (a binary did not start, ...)
  std::string note;                        // context for the report (e.g. the broker's settings)
  std::string data_dir;
  bool ok() const { return error.empty() && failures.empty(); }
  std::string Reason() const;  // "" when ok
};

struct FaultSummary {
  std::string fault_class;
  std::vector<FaultTrial> trials;
  int Failed() const;
  // {"trials", "failed_trials", "totals": {count: sum}, "times_ms": {name: {p50, p99, max}},
  //  "variants": {variant: {trials, totals, times_ms}}, "failures": [{trial, trial_seed, variant,
  //  reason, data_dir}]}
  nlohmann::json Json() const;
};

// "broker", "partition" and "link" (when their binaries are part of this build).
std::vector<std::string> FaultClasses();

// Runs trials [first, last) of one class (see ChaosOptions::*_trials and only_trial).
FaultSummary RunFaultClass(const std::string& fault_class, const ChaosOptions& options,
                           const std::function<void(const std::string&)>& progress = {});
FaultTrial RunFaultTrial(const std::string& fault_class, int trial, const ChaosOptions& options);

FaultTrial RunBrokerTrial(int trial, const ChaosOptions& options);
FaultTrial RunPartitionTrial(int trial, const ChaosOptions& options);
FaultTrial RunLinkTrial(int trial, const ChaosOptions& options);

// A service binary started for a fault trial: build/bin/strata-<name> --port 0 --port-file
// --data-dir [--config <data_dir>/../<name>.yaml], ready once /readyz answers 200 (bounded 20 s).
struct RunningService {
  std::unique_ptr<testing::Subprocess> process;
  int port = 0;
  std::string stderr_file;  // Stop() saves the process's stderr here (kept with a failed trial)
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
  // SIGTERM, then SIGKILL after 10 s; false when SIGKILL was needed.
  bool Stop();
  // False once the process has exited (crashed, when the trial did not stop it).
  bool Alive() const;
  ~RunningService();
};
Result<std::unique_ptr<RunningService>> StartService(const ChaosOptions& o, const std::string& name,
                                                     const std::string& data_dir,
                                                     const std::string& config_yaml);

// A fresh directory for one trial: <work_dir>/<class>-<trial> (removed first).
std::string FreshTrialDir(const ChaosOptions& o, const std::string& fault_class, int trial);

}  // namespace strata::chaos
