// RunSoak (soak.h): `strata up` as a child, the segment load threads, the /proc sampler and the
// /metrics counters at the end of the warm-up and of the run.
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "chaos/soak.h"
#include "chaos/soak_load.h"
#include "strata/core/clock.h"
#include "strata/testing/fixtures.h"
#include "strata/transport/http_client.h"
#include "topology/run_control.h"

namespace strata::chaos {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

struct UnitInfo {
  std::string name, kind, type, url;
};

// Counters that show the load moving, per service type (all: requests served over HTTP).
const std::map<std::string, std::vector<std::string>>& LoadMetrics() {
  static const std::map<std::string, std::vector<std::string>> m = {
      {"roof", {"strata_roof_frames_forwarded_total"}},
      {"detect", {"strata_detect_frames_total", "strata_detect_uplink_crops_total"}},
      {"identify", {"strata_identify_results_total"}},
      {"notify", {"strata_notify_sightings_total", "strata_notify_alerts_total"}},
  };
  return m;
}

void ScrapeCounters(const std::vector<UnitInfo>& units, std::map<std::string, double>* out) {
  for (const auto& u : units) {
    if (u.kind != "service" || u.url.rfind("http://", 0) != 0) continue;
    auto client = http::HttpClient::Create(
        {.base_url = u.url, .read_timeout = std::chrono::seconds(5), .max_retries = 1});
    if (!client.ok()) continue;
    auto r = (*client)->Get("/metrics");
    if (!r.ok() || r->status != 200) continue;
    (*out)[u.name + "/strata_http_requests_total"] =
        topology::SumMetric(r->body, "strata_http_requests_total");
    auto it = LoadMetrics().find(u.type);
    if (it == LoadMetrics().end()) continue;
    for (const auto& metric : it->second)
      (*out)[u.name + "/" + metric] = topology::SumMetric(r->body, metric);
  }
}

// Three clusters of 2-d customers per shop for the federated clients.
Status WritePoints(const std::string& path, uint64_t seed, double shift) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, 1);
  const double centres[3][2] = {{0, 0}, {5, 5}, {10, shift}};
  std::ofstream out(path);
  for (int i = 0; i < 300; ++i)
    out << centres[i % 3][0] + noise(rng) << "," << centres[i % 3][1] + noise(rng) << "\n";
  out.close();
  if (!out) return UnavailableError("cannot write " + path);
  return Status::Ok();
}

std::string Tail(const std::string& text, size_t lines) {
  size_t at = text.size();
  for (size_t n = 0; n <= lines && at > 0; ++n) {
    at = text.rfind('\n', at - 1);
    if (at == std::string::npos) return text;
  }
  return text.substr(at + 1);
}

// Waits until the run is "running" with every unit ready; the unit list, or why not.
Result<std::vector<UnitInfo>> WaitReady(const std::string& run_dir, testing::Subprocess& up,
                                        std::chrono::milliseconds timeout,
                                        const std::atomic<bool>* stop) {
  const auto deadline = SteadyClock::now() + timeout;
  std::string last = "no state file yet";
  while (SteadyClock::now() < deadline && !(stop && stop->load())) {
    if (auto code = up.Wait(std::chrono::milliseconds(0)); code.ok())
      return UnavailableError("strata up exited " + std::to_string(*code) + ":\n" +
                              Tail(up.Stderr(), 15));
    if (auto st = topology::ReadState(run_dir); st.ok()) {
      bool all = (*st)["phase"] == "running";
      std::string waiting;
      std::vector<UnitInfo> units;
      for (const auto& u : (*st)["units"]) {
        if (u.value("state", "") != "ready") {
          all = false;
          waiting += " " + u.value("name", "") + "(" + u.value("state", "") + ")";
        }
        units.push_back(
            {u.value("name", ""), u.value("kind", ""), u.value("type", ""), u.value("url", "")});
      }
      if (all && !units.empty()) return units;
      last = "phase " + (*st)["phase"].get<std::string>() + ", waiting for" + waiting;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return DeadlineExceededError("the topology was not ready within " +
                               std::to_string(timeout.count() / 1000) + " s (" + last + ")");
}

std::map<std::string, pid_t> CurrentPids(const std::string& run_dir) {
  std::map<std::string, pid_t> pids;
  if (auto st = topology::ReadState(run_dir); st.ok())
    for (const auto& u : (*st)["units"]) pids[u.value("name", "")] = u.value("pid", 0);
  return pids;
}

}  // namespace

Result<SoakReport> RunSoak(const SoakOptions& o, const SoakProgress& progress,
                           const std::atomic<bool>* stop) {
  SoakReport r;
  r.options = o;
  r.started_at = FormatRfc3339(strata::Clock::Real()->Now());
  std::error_code ec;
  fs::create_directories(o.out, ec);
  r.topology_file = o.topology;
  if (r.topology_file.empty()) {
    const std::string p1 = fs::absolute(o.out + "/points-shop-1.csv").string();
    const std::string p2 = fs::absolute(o.out + "/points-shop-2.csv").string();
    STRATA_RETURN_IF_ERROR(WritePoints(p1, o.seed, 0));
    STRATA_RETURN_IF_ERROR(WritePoints(p2, o.seed + 1, 1));
    r.topology_file = o.out + "/topology.yaml";
    std::ofstream t(r.topology_file);
    t << FullSoakTopology(p1, p2);
    if (!t) return UnavailableError("cannot write " + r.topology_file);
  }
  const std::string run_dir = o.out + "/run";
  if (auto st = topology::ReadState(run_dir); st.ok() && topology::LauncherAlive(*st))
    return FailedPreconditionError("a run is still going in " + run_dir +
                                   " (strata down --run-dir " + run_dir + ")");
  fs::remove_all(run_dir, ec);  // fresh data dirs: nothing carried over from an earlier soak
  const std::string strata_bin = o.bin_dir + "/strata";
  if (access(strata_bin.c_str(), X_OK) != 0) return NotFoundError(strata_bin + " is missing");

  progress("strata soak: starting " + r.topology_file + " (run dir " + run_dir + ")\n");
  STRATA_ASSIGN_OR_RETURN(
      auto up, testing::Subprocess::Start({strata_bin, "up", r.topology_file, "--run-dir", run_dir,
                                           "--bin-dir", o.bin_dir, "-q"}));
  auto stop_up = [&] {
    up->Signal(SIGTERM);
    if (!up->Wait(std::chrono::seconds(60)).ok()) {
      up->Signal(SIGKILL);
      (void)up->Wait(std::chrono::seconds(10));
    }
  };
  auto units = WaitReady(run_dir, *up, o.ready_timeout, stop);
  if (!units.ok()) {
    stop_up();
    return units.status();
  }
  progress("strata soak: " + std::to_string(units->size()) + " units ready; load for " +
           std::to_string(o.duration.count() / 1000) + " s (warm-up " +
           std::to_string(o.warmup.count() / 1000) + " s), sampling every " +
           std::to_string(o.interval.count()) + " ms\n");

  // Load: the roof already loops its video; one event driver per segment service.
  EventPool pool = LoadEventPool(o.assets, o.customers, o.seed);
  r.load.events_source = pool.source;
  LoadCounters counters;
  std::atomic<bool> stop_load{false};
  std::vector<std::thread> drivers;
  int k = 0;
  for (const auto& u : *units)
    if (u.type == "segment" && !u.url.empty())
      drivers.emplace_back([&, u, k] {
        DriveSegment(u.url, u.name, pool, o.events_per_s, o.seed * 31 + k, stop_load, counters);
      }),
          ++k;

  std::vector<ProcSeries> series;
  series.push_back({.name = "launcher", .kind = "launcher", .type = "strata up"});
  for (const auto& u : *units) series.push_back({.name = u.name, .kind = u.kind, .type = u.type});
  const double warmup_s = static_cast<double>(o.warmup.count()) / 1000;
  const auto t0 = SteadyClock::now();
  const auto end = t0 + o.duration;
  bool warm_scraped = false, up_exited = false;
  for (auto next = t0;; next += o.interval) {
    while (SteadyClock::now() < next && !(stop && stop->load()))
      std::this_thread::sleep_for(std::min<SteadyClock::duration>(next - SteadyClock::now(),
                                                                  std::chrono::milliseconds(200)));
    const double t = std::chrono::duration<double>(SteadyClock::now() - t0).count();
    auto pids = CurrentPids(run_dir);
    pids["launcher"] = up->pid();
    int64_t total_kb = 0;
    for (auto& s : series) {
      auto sample = pids[s.name] > 0 ? SampleProc(pids[s.name]) : NotFoundError("no pid");
      if (!sample.ok()) {
        if (t >= warmup_s) ++s.missed;
        continue;
      }
      sample->t_s = t;
      total_kb += sample->rss_kb;
      s.samples.push_back(*sample);
    }
    if (!warm_scraped && t >= warmup_s) {
      ScrapeCounters(*units, &r.load.counters_warm);
      warm_scraped = true;
    }
    {
      char line[200];
      std::snprintf(line, sizeof line, "soak %5.0f/%.0f s  %s  total RSS %.1f MB  events %lld\r", t,
                    static_cast<double>(o.duration.count()) / 1000,
                    t < warmup_s ? "warm-up " : "measured", static_cast<double>(total_kb) / 1024,
                    static_cast<long long>(counters.accepted.load()));
      progress(line);
    }
    if (up->Wait(std::chrono::milliseconds(0)).ok()) {
      up_exited = true;
      break;
    }
    if (SteadyClock::now() >= end || (stop && stop->load())) break;
  }
  ScrapeCounters(*units, &r.load.counters_end);
  r.elapsed_s = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  r.load.measured_s = std::max(0.0, r.elapsed_s - warmup_s);
  stop_load = true;
  for (auto& d : drivers) d.join();
  r.load.events_posted = counters.posted;
  r.load.events_accepted = counters.accepted;
  r.load.post_errors = counters.errors;
  progress("\nstrata soak: stopping the topology\n");
  if (up_exited) progress("strata soak: strata up exited early:\n" + Tail(up->Stderr(), 15) + "\n");
  stop_up();
  r.series = std::move(series);
  for (const auto& s : r.series) r.verdicts.push_back(AnalyzeSeries(s, warmup_s, o.limits));
  return r;
}

}  // namespace strata::chaos
