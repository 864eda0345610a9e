// Soak test (issue 8, `strata soak`, docs/reliability.md "Soak"): runs a whole topology with
// `strata up` under nominal load (the roof loops its video through detect → identify → notify,
// the soak posts customer events into every segment service, the federated clients run rounds)
// and samples every process of the run (/proc/<pid>/status VmRSS and Threads, /proc/<pid>/fd)
// every `interval`. AnalyzeSoak then judges each process after the warm-up:
//
//   T        = the measured span, from `warmup` to the last sample
//   baseline = median VmRSS of the samples in [warmup, warmup + 20% T]  (right after warm-up)
//   end      = median VmRSS of the samples in [last - 20% T, last]      (the last 20%)
//   growth % = 100 * (end - baseline) / baseline;   pass when growth <= max_rss_growth_pct (5)
//   threads and fds are "flat" when their floor does not rise: the minimum over the last 20% is
//   <= the minimum over the first 20% after warm-up + thread_slack (2) / fd_slack (8); and the
//   process kept one pid (a restart after warm-up fails it: it would also hide a leak).
//
// Medians (not single samples) make the RSS figure robust to one allocation burst. Floors, not
// maxima, for threads and fds: a leaked fd or thread is never released, so it raises every later
// sample including the minimum, while transient ones (the console probes each upstream on its own
// short-lived thread every second; keep-alive sockets come and go) only raise some samples. The
// peaks are reported (max, max - min) but not judged. The slack allows one late long-lived
// connection or reconnect thread; a leak of one per request (>= 1 request/s here) crosses it in
// seconds.
// Thread-safety: RunSoak from one thread (it starts a load thread per segment service itself).
//
//   SoakOptions o{.duration = std::chrono::minutes(30), .warmup = std::chrono::minutes(5)};
//   STRATA_ASSIGN_OR_RETURN(SoakReport r, RunSoak(o, [](const std::string& s) { fputs(...); }));
//   nlohmann::json j = SoakReportJson(r);  // soak-report.json; r.ok() is the verdict
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "strata/core/status.h"

namespace strata::chaos {

// One reading of one process.
struct ProcSample {
  double t_s = 0;  // seconds since the load started
  pid_t pid = 0;
  int64_t rss_kb = 0;       // VmRSS
  int64_t rss_anon_kb = 0;  // RssAnon: heap and other private memory (a leak shows here)
  int threads = 0;          // Threads
  int fds = 0;              // entries of /proc/<pid>/fd
};

// Reads /proc/<pid>/status and /proc/<pid>/fd. NotFound when the process is gone.
Result<ProcSample> SampleProc(pid_t pid);

// Every sample of one unit of the run (a service, broker, link proxy, or the launcher itself).
struct ProcSeries {
  std::string name, kind, type;  // kind: service | broker | link | launcher
  std::vector<ProcSample> samples;
  int missed = 0;  // sampling times at which the unit had no live process
};

struct SoakLimits {
  double max_rss_growth_pct = 5.0;
  int thread_slack = 2;
  int fd_slack = 8;
};

// The verdict on one process (see the header comment for the definitions).
struct ProcVerdict {
  std::string name, kind, type;
  size_t samples = 0, measured = 0;  // all samples, samples at t >= warmup
  int64_t rss_start_kb = 0;          // first sample
  int64_t rss_baseline_kb = 0, rss_end_kb = 0, rss_max_kb = 0;
  double rss_growth_pct = 0;
  int64_t anon_baseline_kb = 0, anon_end_kb = 0;  // RssAnon medians, same windows (not judged)
  // *_warm: value at the end of the warm-up (first sample at t >= warmup); *_floor_base / _end:
  // minimum over the first / last 20% after warm-up; min and max over everything after warm-up.
  int threads_warm = 0, threads_min = 0, threads_max = 0, threads_end = 0;
  int threads_floor_base = 0, threads_floor_end = 0;
  int fds_warm = 0, fds_min = 0, fds_max = 0, fds_end = 0;
  int fds_floor_base = 0, fds_floor_end = 0;
  int pids = 0;  // distinct pids after warm-up (1 = no restart)
  bool pass = false;
  std::vector<std::string> reasons;  // why it failed; empty when it passed
  nlohmann::json Json() const;
};

// Judges one series; `warmup_s` is the warm-up in seconds since the load started. A series with
// fewer than 2 samples after the warm-up fails ("too few samples").
ProcVerdict AnalyzeSeries(const ProcSeries& s, double warmup_s, const SoakLimits& limits);

// Median of `v` (the mean of the two middle values for an even count); 0 when empty.
double Median(std::vector<double> v);

struct SoakOptions {
  std::chrono::milliseconds duration{std::chrono::minutes(30)};  // load time, warm-up included
  std::chrono::milliseconds warmup{std::chrono::minutes(5)};
  std::chrono::milliseconds interval{std::chrono::seconds(5)};
  uint64_t seed = 1;
  // A topology file; "" = the built-in full topology (every service type, both applications,
  // links and brokers, written to <out>/topology.yaml).
  std::string topology;
  std::string out = "out/soak";  // topology, run dir (<out>/run) and the load's inputs
  std::string bin_dir;           // where strata and strata-<type> live
  std::string assets;            // ../shared/assets (CDNOW events); "" = $STRATA_ASSETS, built-in
  double events_per_s = 20;      // per segment service
  int customers = 1000;          // distinct customers the events are mapped onto
  std::chrono::milliseconds ready_timeout{std::chrono::minutes(3)};
  SoakLimits limits;
};

// What the load achieved over the measured window (after warm-up), from the services' /metrics
// and the soak's own event driver.
struct SoakLoad {
  std::string events_source;  // the CDNOW file, or "synthetic"
  int64_t events_posted = 0, events_accepted = 0, post_errors = 0;
  std::map<std::string, double> counters_warm, counters_end;  // "unit/metric" → value
  double measured_s = 0;
  nlohmann::json Json() const;
};

struct SoakReport {
  SoakOptions options;
  std::string topology_file, started_at;
  double elapsed_s = 0;
  std::vector<ProcSeries> series;
  std::vector<ProcVerdict> verdicts;
  SoakLoad load;
  bool ok() const;  // every process passed (and there was at least one)
};

// Progress lines; a line ending in '\r' is a transient status line (for terminals).
using SoakProgress = std::function<void(const std::string&)>;

// Writes the topology (when built-in) and the load inputs under options.out, runs `strata up`,
// waits until every unit is ready (Unavailable with the launcher's last lines otherwise), runs
// the load and the sampler for options.duration, stops the run and analyses it. `stop` (may be
// null) ends the load early (Ctrl-C); the report then covers what was sampled.
Result<SoakReport> RunSoak(const SoakOptions& options, const SoakProgress& progress,
                           const std::atomic<bool>* stop = nullptr);

nlohmann::json SoakReportJson(const SoakReport& r);
// The report back from SoakReportJson's output (options, series, load; verdicts are not read):
// re-judge a finished run with another warm-up or limits (`strata soak --from-report`). The load
// rates stay those of the original warm-up. InvalidArgument when a field is missing.
Result<SoakReport> SoakReportFromJson(const nlohmann::json& j);
// Recomputes r.verdicts from r.series with r.options.warmup and r.options.limits.
void JudgeSoak(SoakReport& r);

// The built-in full topology (see soak_topology.cc); @POINTS_SHOP_1@/@POINTS_SHOP_2@ are replaced
// by the points files' paths.
std::string FullSoakTopology(const std::string& points_shop_1, const std::string& points_shop_2);

}  // namespace strata::chaos
