// Soak sampling and verdicts: SampleProc (/proc), AnalyzeSeries, Median and the report JSON
// (definitions in soak.h).
#include <dirent.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "chaos/soak.h"

namespace strata::chaos {

Result<ProcSample> SampleProc(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid);
  std::ifstream status(dir + "/status");
  if (!status) return NotFoundError("no process " + std::to_string(pid));
  ProcSample s;
  s.pid = pid;
  bool zombie = false;
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0)
      s.rss_kb = std::atoll(line.c_str() + 6);
    else if (line.rfind("RssAnon:", 0) == 0)
      s.rss_anon_kb = std::atoll(line.c_str() + 8);
    else if (line.rfind("Threads:", 0) == 0)
      s.threads = std::atoi(line.c_str() + 8);
    else if (line.rfind("State:", 0) == 0)
      zombie = line.find('Z') != std::string::npos;
  }
  if (zombie || s.threads == 0) return NotFoundError("process " + std::to_string(pid) + " exited");
  DIR* d = opendir((dir + "/fd").c_str());
  if (!d) return NotFoundError("cannot list " + dir + "/fd");
  while (const dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++s.fds;
  closedir(d);
  return s;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

ProcVerdict AnalyzeSeries(const ProcSeries& s, double warmup_s, const SoakLimits& limits) {
  ProcVerdict v{.name = s.name, .kind = s.kind, .type = s.type};
  v.samples = s.samples.size();
  if (!s.samples.empty()) v.rss_start_kb = s.samples.front().rss_kb;
  std::vector<const ProcSample*> m;
  for (const auto& x : s.samples)
    if (x.t_s >= warmup_s) m.push_back(&x);
  v.measured = m.size();
  if (m.size() < 2) {
    v.reasons.push_back("too few samples after warm-up (" + std::to_string(m.size()) + ")");
    return v;
  }
  const double t0 = m.front()->t_s, t1 = m.back()->t_s, window = 0.2 * (t1 - t0);
  std::vector<double> base, end, anon_base, anon_end;
  std::set<pid_t> pids;
  v.threads_warm = v.threads_min = v.threads_max = m.front()->threads;
  v.fds_warm = v.fds_min = v.fds_max = m.front()->fds;
  v.threads_floor_base = v.threads_floor_end = INT32_MAX;
  v.fds_floor_base = v.fds_floor_end = INT32_MAX;
  for (const ProcSample* x : m) {
    if (x->t_s <= t0 + window) {
      base.push_back(static_cast<double>(x->rss_kb));
      anon_base.push_back(static_cast<double>(x->rss_anon_kb));
      v.threads_floor_base = std::min(v.threads_floor_base, x->threads);
      v.fds_floor_base = std::min(v.fds_floor_base, x->fds);
    }
    if (x->t_s >= t1 - window) {
      end.push_back(static_cast<double>(x->rss_kb));
      anon_end.push_back(static_cast<double>(x->rss_anon_kb));
      v.threads_floor_end = std::min(v.threads_floor_end, x->threads);
      v.fds_floor_end = std::min(v.fds_floor_end, x->fds);
    }
    v.rss_max_kb = std::max(v.rss_max_kb, x->rss_kb);
    v.threads_min = std::min(v.threads_min, x->threads);
    v.threads_max = std::max(v.threads_max, x->threads);
    v.fds_min = std::min(v.fds_min, x->fds);
    v.fds_max = std::max(v.fds_max, x->fds);
    pids.insert(x->pid);
  }
  v.threads_end = m.back()->threads;
  v.fds_end = m.back()->fds;
  v.pids = static_cast<int>(pids.size());
  v.rss_baseline_kb = std::llround(Median(base));
  v.rss_end_kb = std::llround(Median(end));
  v.anon_baseline_kb = std::llround(Median(anon_base));
  v.anon_end_kb = std::llround(Median(anon_end));
  v.rss_growth_pct = v.rss_baseline_kb > 0
                         ? 100.0 * static_cast<double>(v.rss_end_kb - v.rss_baseline_kb) /
                               static_cast<double>(v.rss_baseline_kb)
                         : 0;
  char buf[160];
  if (v.rss_growth_pct > limits.max_rss_growth_pct) {
    std::snprintf(buf, sizeof buf, "RSS grew %.1f%% (> %.1f%%): %lld → %lld kB", v.rss_growth_pct,
                  limits.max_rss_growth_pct, static_cast<long long>(v.rss_baseline_kb),
                  static_cast<long long>(v.rss_end_kb));
    v.reasons.push_back(buf);
  }
  if (v.threads_floor_end > v.threads_floor_base + limits.thread_slack)
    v.reasons.push_back("thread floor rose from " + std::to_string(v.threads_floor_base) + " to " +
                        std::to_string(v.threads_floor_end) + " (slack " +
                        std::to_string(limits.thread_slack) + ")");
  if (v.fds_floor_end > v.fds_floor_base + limits.fd_slack)
    v.reasons.push_back("fd floor rose from " + std::to_string(v.fds_floor_base) + " to " +
                        std::to_string(v.fds_floor_end) + " (slack " +
                        std::to_string(limits.fd_slack) + ")");
  if (v.pids > 1)
    v.reasons.push_back("restarted after warm-up (" + std::to_string(v.pids) + " pids)");
  if (s.missed > 0)
    v.reasons.push_back("not running at " + std::to_string(s.missed) + " sampling time(s)");
  v.pass = v.reasons.empty();
  return v;
}

nlohmann::json ProcVerdict::Json() const {
  return {{"name", name},
          {"kind", kind},
          {"type", type},
          {"samples", samples},
          {"samples_after_warmup", measured},
          {"rss_kb",
           {{"first", rss_start_kb},
            {"baseline", rss_baseline_kb},
            {"end", rss_end_kb},
            {"max", rss_max_kb},
            {"growth_pct", std::round(rss_growth_pct * 100) / 100},
            {"anon_baseline", anon_baseline_kb},
            {"anon_end", anon_end_kb}}},
          {"threads",
           {{"warm", threads_warm},
            {"min", threads_min},
            {"max", threads_max},
            {"end", threads_end},
            {"max_minus_min", threads_max - threads_min},
            {"floor_base", threads_floor_base},
            {"floor_end", threads_floor_end}}},
          {"fds",
           {{"warm", fds_warm},
            {"min", fds_min},
            {"max", fds_max},
            {"end", fds_end},
            {"max_minus_min", fds_max - fds_min},
            {"floor_base", fds_floor_base},
            {"floor_end", fds_floor_end}}},
          {"pids_after_warmup", pids},
          {"pass", pass},
          {"reasons", reasons}};
}

nlohmann::json SoakLoad::Json() const {
  nlohmann::json counters = nlohmann::json::object();
  for (const auto& [key, end] : counters_end) {
    auto w = counters_warm.find(key);
    const double delta = end - (w == counters_warm.end() ? 0 : w->second);
    counters[key] = {{"at_warmup", w == counters_warm.end() ? 0 : w->second},
                     {"end", end},
                     {"per_s", measured_s > 0 ? std::round(100 * delta / measured_s) / 100 : 0}};
  }
  return {{"events_source", events_source},     {"events_posted", events_posted},
          {"events_accepted", events_accepted}, {"post_errors", post_errors},
          {"measured_s", measured_s},           {"counters", counters}};
}

bool SoakReport::ok() const {
  if (verdicts.empty()) return false;
  for (const auto& v : verdicts)
    if (!v.pass) return false;
  return true;
}

nlohmann::json SoakReportJson(const SoakReport& r) {
  const SoakOptions& o = r.options;
  auto secs = [](std::chrono::milliseconds d) { return static_cast<double>(d.count()) / 1000; };
  nlohmann::json j = {
      {"verdict", r.ok() ? "pass" : "fail"},
      {"started_at", r.started_at},
      {"topology", r.topology_file},
      {"options",
       {{"duration_s", secs(o.duration)},
        {"warmup_s", secs(o.warmup)},
        {"interval_s", secs(o.interval)},
        {"seed", o.seed},
        {"events_per_s_per_segment", o.events_per_s},
        {"customers", o.customers}}},
      {"limits",
       {{"max_rss_growth_pct", o.limits.max_rss_growth_pct},
        {"thread_slack", o.limits.thread_slack},
        {"fd_slack", o.limits.fd_slack}}},
      {"definitions",
       "baseline = median VmRSS over [warmup, warmup+20% of T], end = median over the last 20% of "
       "T (T = warmup..last sample); growth = (end-baseline)/baseline; threads/fds flat when their "
       "minimum over the last 20% <= their minimum over the first 20% after warm-up + slack; a "
       "restart after warm-up fails"},
      {"elapsed_s", r.elapsed_s},
      {"load", r.load.Json()},
      {"processes", nlohmann::json::array()},
      {"series", nlohmann::json::array()}};
  for (const auto& v : r.verdicts) j["processes"].push_back(v.Json());
  for (const auto& s : r.series) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& x : s.samples)
      rows.push_back(
          {std::round(x.t_s * 10) / 10, x.pid, x.rss_kb, x.threads, x.fds, x.rss_anon_kb});
    j["series"].push_back({{"name", s.name},
                           {"kind", s.kind},
                           {"type", s.type},
                           {"missed", s.missed},
                           {"columns", {"t_s", "pid", "rss_kb", "threads", "fds", "rss_anon_kb"}},
                           {"samples", rows}});
  }
  return j;
}

void JudgeSoak(SoakReport& r) {
  r.verdicts.clear();
  const double warmup_s = static_cast<double>(r.options.warmup.count()) / 1000;
  for (const auto& s : r.series) r.verdicts.push_back(AnalyzeSeries(s, warmup_s, r.options.limits));
}

Result<SoakReport> SoakReportFromJson(const nlohmann::json& j) {
  try {
    SoakReport r;
    auto ms = [](double s) { return std::chrono::milliseconds(std::llround(s * 1000)); };
    const auto& o = j.at("options");
    r.options.duration = ms(o.at("duration_s").get<double>());
    r.options.warmup = ms(o.at("warmup_s").get<double>());
    r.options.interval = ms(o.at("interval_s").get<double>());
    r.options.seed = o.at("seed").get<uint64_t>();
    r.options.events_per_s = o.at("events_per_s_per_segment").get<double>();
    r.options.customers = o.at("customers").get<int>();
    const auto& l = j.at("limits");
    r.options.limits = {l.at("max_rss_growth_pct").get<double>(), l.at("thread_slack").get<int>(),
                        l.at("fd_slack").get<int>()};
    r.started_at = j.at("started_at").get<std::string>();
    r.topology_file = j.at("topology").get<std::string>();
    r.elapsed_s = j.at("elapsed_s").get<double>();
    const auto& load = j.at("load");
    r.load.events_source = load.at("events_source").get<std::string>();
    r.load.events_posted = load.at("events_posted").get<int64_t>();
    r.load.events_accepted = load.at("events_accepted").get<int64_t>();
    r.load.post_errors = load.at("post_errors").get<int64_t>();
    r.load.measured_s = load.at("measured_s").get<double>();
    for (const auto& [key, c] : load.at("counters").items()) {
      r.load.counters_warm[key] = c.at("at_warmup").get<double>();
      r.load.counters_end[key] = c.at("end").get<double>();
    }
    for (const auto& s : j.at("series")) {
      ProcSeries ps{.name = s.at("name").get<std::string>(),
                    .kind = s.at("kind").get<std::string>(),
                    .type = s.at("type").get<std::string>(),
                    .samples = {},
                    .missed = s.at("missed").get<int>()};
      for (const auto& x : s.at("samples")) {
        ProcSample p{.t_s = x.at(0).get<double>(),
                     .pid = x.at(1).get<pid_t>(),
                     .rss_kb = x.at(2).get<int64_t>(),
                     .rss_anon_kb = 0,
                     .threads = x.at(3).get<int>(),
                     .fds = x.at(4).get<int>()};
        if (x.size() > 5) p.rss_anon_kb = x.at(5).get<int64_t>();
        ps.samples.push_back(p);
      }
      r.series.push_back(std::move(ps));
    }
    return r;
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgumentError(std::string("not a soak report: ") + e.what());
  }
}

}  // namespace strata::chaos
