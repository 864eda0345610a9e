// strata_chaos: randomised kill -9 trials against the real service binaries (`strata chaos`).
//
// A trial starts build/bin/strata-<service> on a fresh data dir, runs a load generator that sends
// numbered messages (each with its own id), SIGKILLs the process after a random 0..max_kill_ms,
// then checks the SQLite file as the crash left it (read-only: PRAGMA integrity_check, every
// acknowledged id stored), restarts the binary on the same data dir (time to /readyz), resends the
// messages that were in flight with the same ids, reads them back through the service's API, stops
// it and checks the file again (acked ⊆ stored, duplicates, integrity). Every trial's parameters
// derive from (seed, service, trial number), so `--seed S --trial N` reruns one trial.
// The other fault classes (broker, partition, link; ChaosOptions::classes) are in fault_class.h,
// spool, federate and uplink in kill_classes.h;
// their summaries land in ChaosReport::faults and chaos-report.json's "faults".
// Thread-safety: RunChaos is called from one thread; it runs sender threads of its own.
//
//   ChaosOptions o{.services = {"segment"}, .trials = 20, .seed = 7, .bin_dir = "build/bin"};
//   ChaosReport r = RunChaos(o, [](const std::string& line) { fputs(line.c_str(), stderr); });
//   if (!r.ok()) ...;  WriteText("chaos-report.json", ReportJson(r).dump(2));
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fault_class.h"

namespace strata::chaos {

struct ChaosOptions {
  std::vector<std::string> services;  // empty = every target built in (AvailableTargets())
  int trials = 20;                    // per service
  int only_trial = -1;                // >= 0: run just this trial number (to reproduce a failure)
  uint64_t seed = 1;
  int messages = 60;                  // per trial, shared by the senders (segment: x4, batched)
  int senders = 2;                    // concurrent load-generator connections
  int min_kill_ms = 0;                // SIGKILL after uniform [min_kill_ms, max_kill_ms] ms of load
  int max_kill_ms = 300;
  std::string bin_dir;                // where strata-<service> lives
  std::string work_dir;               // data dirs go here (one per trial, removed when it passes)
  bool keep_dirs = false;             // keep every trial's data dir
  // Fault classes to run (fault_class.h): "kill" (the trials above), "broker", "partition",
  // "link"; empty = {"kill"}. Each other class has its own trial count.
  std::vector<std::string> classes;
  int broker_trials = 3;     // alternating SIGTERM / SIGKILL of mosquitto
  int partition_trials = 2;  // alternating blackhole / reset partitions of identify → notify
  int link_trials = 1;       // rounds of the link faults (one trial per fault and round)
  int spool_trials = 2;      // kill_classes.h: 2 SIGKILLs of identify (spool sender) per trial
  int federate_trials = 2;   // kill_classes.h: 1 SIGKILL of the federate cloud per trial
  int uplink_trials = 2;     // kill_classes.h: blackhole / reset of detect -> identify
  int broker_autosave_changes = 1;  // mosquitto autosave_on_changes threshold; 0 = its default
};

// One trial's outcome. "Acked" = the service answered 2xx for that message before the kill.
struct TrialResult {
  std::string service;
  int trial = 0;
  uint64_t trial_seed = 0;
  int kill_after_ms = 0;
  int64_t sent = 0, acked = 0, in_flight = 0;  // in_flight: sent, no answer when it was killed
  int64_t stored_after_crash = 0;               // distinct ids in the file the crash left
  int64_t stored = 0;                           // distinct ids after restart + resend
  int64_t lost = 0;        // acked ids missing after the crash or at the end (must be 0)
  int64_t duplicates = 0;  // extra stored copies of an id (or a resend answered as new)
  int64_t api_missing = 0; // acked ids the restarted service's read API does not return
  int64_t resent = 0;
  int integrity_failures = 0;  // PRAGMA integrity_check != ok (after the crash, at the end)
  double restart_ms = -1;      // spawn → /readyz 200 on the crashed data dir
  std::vector<std::string> lost_ids;  // the first few, for the failure message
  std::string error;  // harness or service failure (did not start, did not restart, ...)
  std::string data_dir;
  bool dedupe_promised = true;  // duplicates fail the trial only when the service promises dedupe
  bool ok() const;
  std::string Reason() const;  // "" when ok
};

struct ServiceSummary {
  std::string service;
  bool dedupe_promised = true;
  std::vector<TrialResult> trials;
  int Failed() const;
  nlohmann::json Json() const;
};

struct ChaosReport {
  ChaosOptions options;
  std::vector<ServiceSummary> services;  // the kill class
  std::vector<FaultSummary> faults;      // the other classes, in the order run
  double wall_s = 0;
  bool ok() const;
};

// The services a trial can target in this build: "segment", and "notify" and "identify" (gallery
// enrolment) when strata_vision is built (their messages are real JPEGs).
std::vector<std::string> AvailableTargets();

// Progress and failure lines (each ends with '\n', or '\r' for the running progress line).
using ProgressFn = std::function<void(const std::string& line)>;

// Runs options.trials trials per service. Unknown service names are a trial error.
ChaosReport RunChaos(const ChaosOptions& options, const ProgressFn& progress = {});

// Runs one trial (trial_seed derives from options.seed, the service and the trial number).
TrialResult RunTrial(const std::string& service, int trial, const ChaosOptions& options);

// The deterministic per-trial seed.
uint64_t TrialSeed(uint64_t seed, const std::string& service, int trial);

// chaos-report.json: options, per service totals (trials, acked, stored, lost, duplicates,
// integrity failures, restart p50/p99) and each failed trial with its seed.
nlohmann::json ReportJson(const ChaosReport& report);

// The q-quantile (0..1, nearest rank) of `values`; -1 when empty.
double Percentile(std::vector<double> values, double q);

}  // namespace strata::chaos
