// strata soak: a whole topology under nominal load for --duration, every process (services,
// brokers, link proxies, the launcher) sampled from /proc (VmRSS, threads, fds) every --interval,
// then judged after --warmup (orchestrator/chaos/soak.h has the exact definitions). Writes
// <out>/soak-report.json and <out>/soak-rss.svg, prints a table; exit 1 when a process failed
// (RSS growth > 5 %, threads or fds not flat, restarted), 2 when the topology did not start.
//
//   strata soak --duration 30m --warmup 5m --interval 10s      # issue 8's deep soak
//   strata soak --duration 12s --warmup 4s --interval 1s --topology small.yaml   # (soak_test)
//   strata soak --from-report out/soak/soak-report.json --warmup 15m --out out/soak-15m  # re-judge
#include "chaos/soak.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "verbs.h"
#include "verbs/svg.h"

namespace strata::cli {
namespace {

std::atomic<bool> g_stop{false};
extern "C" void OnSoakSignal(int) { g_stop = true; }

struct SoakCliOptions {
  chaos::SoakOptions run;
  std::string duration = "30m", warmup = "5m", interval = "5s";
  std::string from_report;  // re-judge this soak-report.json instead of running
  bool json = false;
};

// "90", "90s", "500ms", "30m", "1h" → milliseconds; -1 when malformed.
int64_t ParseDurationMs(const std::string& s) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || v < 0) return -1;
  const std::string unit(end);
  const double scale = unit.empty() || unit == "s" ? 1000
                       : unit == "ms"              ? 1
                       : unit == "m"               ? 60000
                       : unit == "h"               ? 3600000
                                                   : -1;
  return scale < 0 ? -1 : static_cast<int64_t>(v * scale);
}

// RSS per process over time (MB), and its change from the post-warm-up baseline (%), with the
// ±limit band and the warm-up boundary.
std::string RssSvg(const chaos::SoakReport& r) {
  svg::LineChart abs{
      .title = "VmRSS per process (MB)", .x_label = "seconds since load start", .y_label = "MB"};
  svg::LineChart rel{.title = "VmRSS change from the median right after warm-up (%)",
                     .x_label = "seconds since load start",
                     .y_label = "% change"};
  std::vector<svg::LegendItem> legend;
  const double warm = static_cast<double>(r.options.warmup.count()) / 1000;
  double t_max = 0;
  int i = 0;
  for (size_t k = 0; k < r.series.size(); ++k) {
    const auto& s = r.series[k];
    const auto& v = r.verdicts[k];
    const std::string colour = svg::Palette(i++);
    svg::Series a{.name = s.name, .colour = colour, .points = {}};
    svg::Series b{.name = s.name, .colour = colour, .points = {}};
    // At most ~60 plotted points per process (each gets a marker); the report has every sample.
    const size_t step = std::max<size_t>(1, (s.samples.size() + 59) / 60);
    for (size_t n = 0; n < s.samples.size(); ++n) {
      if (n % step != 0 && n + 1 != s.samples.size()) continue;
      const auto& x = s.samples[n];
      a.points.emplace_back(x.t_s, static_cast<double>(x.rss_kb) / 1024);
      if (x.t_s >= warm && v.rss_baseline_kb > 0)
        b.points.emplace_back(
            x.t_s,
            100.0 * static_cast<double>(x.rss_kb) / static_cast<double>(v.rss_baseline_kb) - 100.0);
      t_max = std::max(t_max, x.t_s);
    }
    abs.series.push_back(std::move(a));
    rel.series.push_back(std::move(b));
    char label[160];
    std::snprintf(label, sizeof label, "%s %+.1f%%%s", s.name.c_str(), v.rss_growth_pct,
                  v.pass ? "" : " FAIL");
    legend.push_back({label, colour});
  }
  const double lim = r.options.limits.max_rss_growth_pct;
  rel.series.push_back(
      {.name = "+limit", .colour = "#d62728", .points = {{warm, lim}, {t_max, lim}}});
  rel.series.push_back(
      {.name = "-limit", .colour = "#d62728", .points = {{warm, -lim}, {t_max, -lim}}});
  const double h = std::max(760.0, 40.0 + 18.0 * static_cast<double>(legend.size()));
  svg::Svg out(1180, static_cast<int>(h) + 40);
  svg::DrawLineChart(out, {70, 40, 760, 300}, abs);
  svg::DrawLineChart(out, {70, 420, 760, 300}, rel);
  svg::DrawLegend(out, 870, 40, "process, RSS growth", legend);
  char foot[240];
  std::snprintf(foot, sizeof foot,
                "%s: %.0f s under load, warm-up %.0f s, sample every %.0f s; limit %.0f%% "
                "(red lines); verdict %s",
                r.started_at.c_str(), r.elapsed_s, warm,
                static_cast<double>(r.options.interval.count()) / 1000, lim,
                r.ok() ? "pass" : "FAIL");
  out.Text(70, h + 25, foot, 12);
  return out.Finish();
}

void PrintTable(const chaos::SoakReport& r) {
  std::printf("%-30s %-8s %9s %9s %7s %13s %13s %13s %s\n", "process", "kind", "RSS base",
              "RSS end", "growth", "anon MB", "threads", "fds", "verdict");
  for (const auto& v : r.verdicts) {
    char th[32], fd[32], anon[32];
    if (v.anon_baseline_kb > 0 || v.anon_end_kb > 0)
      std::snprintf(anon, sizeof anon, "%.1f->%.1f", static_cast<double>(v.anon_baseline_kb) / 1024,
                    static_cast<double>(v.anon_end_kb) / 1024);
    else
      std::snprintf(anon, sizeof anon, "n/a");  // a report from before RssAnon was sampled
    // floor after warm-up -> floor at the end (peak)
    std::snprintf(th, sizeof th, "%d->%d (%d)", v.threads_floor_base, v.threads_floor_end,
                  v.threads_max);
    std::snprintf(fd, sizeof fd, "%d->%d (%d)", v.fds_floor_base, v.fds_floor_end, v.fds_max);
    std::printf("%-30s %-8s %7.1fMB %7.1fMB %+6.1f%% %13s %13s %13s %s\n", v.name.c_str(),
                v.kind.c_str(), static_cast<double>(v.rss_baseline_kb) / 1024,
                static_cast<double>(v.rss_end_kb) / 1024, v.rss_growth_pct, anon, th, fd,
                v.pass ? "pass" : ("FAIL: " + (v.reasons.empty() ? "" : v.reasons[0])).c_str());
  }
  const auto& l = r.load;
  std::printf("load: %lld events posted, %lld accepted, %lld post errors (%s)\n",
              static_cast<long long>(l.events_posted), static_cast<long long>(l.events_accepted),
              static_cast<long long>(l.post_errors), l.events_source.c_str());
  for (const auto& [key, end] : l.counters_end) {
    auto w = l.counters_warm.find(key);
    const double delta = end - (w == l.counters_warm.end() ? 0 : w->second);
    if (key.find("http_requests") == std::string::npos || delta > 0)
      std::printf("  %-55s %10.0f  (%.2f/s after warm-up)\n", key.c_str(), end,
                  l.measured_s > 0 ? delta / l.measured_s : 0);
  }
}

std::string DefaultBinDir() {
  if (const char* env = std::getenv("STRATA_BIN_DIR"); env && *env) return env;
  std::error_code ec;
  return std::filesystem::read_symlink("/proc/self/exe", ec).parent_path().string();
}

int RunSoakVerb(SoakCliOptions o) {
  const int64_t d = ParseDurationMs(o.duration), w = ParseDurationMs(o.warmup),
                i = ParseDurationMs(o.interval);
  if (d <= 0 || w < 0 || i <= 0)
    return Fail("--duration, --warmup and --interval take e.g. 30m, 90s, 500ms", 2);
  if (w >= d && o.from_report.empty()) return Fail("--warmup must be shorter than --duration", 2);
  o.run.duration = std::chrono::milliseconds(d);
  o.run.warmup = std::chrono::milliseconds(w);
  o.run.interval = std::chrono::milliseconds(i);
  if (o.run.bin_dir.empty()) o.run.bin_dir = DefaultBinDir();
  Result<chaos::SoakReport> r = UnavailableError("not run");
  if (!o.from_report.empty()) {
    std::ifstream in(o.from_report);
    nlohmann::json saved = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!in || saved.is_discarded()) return Fail("cannot read JSON from " + o.from_report, 2);
    r = chaos::SoakReportFromJson(saved);
    if (!r.ok()) return Fail(o.from_report + ": " + r.status().message(), 2);
    r->options.warmup = o.run.warmup;  // the new judgement; the samples stay as measured
    r->options.limits = o.run.limits;
    chaos::JudgeSoak(*r);
    std::error_code ec;
    std::filesystem::create_directories(o.run.out, ec);
  } else {
    std::signal(SIGINT, OnSoakSignal);
    std::signal(SIGTERM, OnSoakSignal);
    const bool tty = isatty(STDERR_FILENO);
    r = chaos::RunSoak(
        o.run,
        [tty](const std::string& line) {
          if (!tty && !line.empty() && line.back() == '\r') return;  // progress only on a tty
          std::fputs(line.c_str(), stderr);
        },
        &g_stop);
    if (!r.ok()) return Fail("soak: " + r.status().message(), 2);
  }
  const std::string json_path = o.run.out + "/soak-report.json";
  const std::string svg_path = o.run.out + "/soak-rss.svg";
  nlohmann::json j = chaos::SoakReportJson(*r);
  if (Status s = WriteText(json_path, j.dump(1) + "\n"); !s.ok()) return Fail(s.message());
  if (Status s = WriteText(svg_path, RssSvg(*r)); !s.ok()) return Fail(s.message());
  if (o.json) {
    j.erase("series");  // the samples stay in the file
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    PrintTable(*r);
    std::printf("verdict: %s; report: %s, %s\n", r->ok() ? "pass" : "FAIL", json_path.c_str(),
                svg_path.c_str());
  }
  return r->ok() ? 0 : 1;
}

}  // namespace

void RegisterSoak(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<SoakCliOptions>();
  auto* cmd = app.add_subcommand(
      "soak", "A whole topology under nominal load; RSS, threads and fds of every process");
  cmd->option_defaults()->always_capture_default();
  cmd->add_option("--duration", o->duration, "Load time including warm-up (e.g. 30m, 90s)");
  cmd->add_option("--warmup", o->warmup, "Warm-up not judged (e.g. 5m)");
  cmd->add_option("--interval", o->interval, "Sampling interval (e.g. 5s)");
  cmd->add_option("--seed", o->run.seed, "Seed of the event order, ids and federated points");
  cmd->add_option("--topology", o->run.topology,
                  "Topology file (default: the built-in full topology, see soak_topology.cc)");
  cmd->add_option("--events-per-s", o->run.events_per_s, "Customer events/s per segment service")
      ->check(CLI::Range(0.0, 100000.0));
  cmd->add_option("--customers", o->run.customers, "Distinct customers of the events")
      ->check(CLI::Range(1, 10000000));
  cmd->add_option("--max-rss-growth", o->run.limits.max_rss_growth_pct, "Limit in percent");
  cmd->add_option("--thread-slack", o->run.limits.thread_slack,
                  "Threads allowed above warm-up end");
  cmd->add_option("--fd-slack", o->run.limits.fd_slack, "fds allowed above warm-up end");
  cmd->add_option("--out", o->run.out, "Directory for soak-report.json, soak-rss.svg and the run");
  cmd->add_option("--bin-dir", o->run.bin_dir,
                  "Where strata-<service> live (default: $STRATA_BIN_DIR, else beside strata)");
  cmd->add_option("--assets", o->run.assets,
                  "Test assets (default: $STRATA_ASSETS, ../shared/assets)");
  cmd->add_option("--from-report", o->from_report,
                  "Re-judge a saved soak-report.json with --warmup and the limits (no run)");
  cmd->add_flag("--json", o->json, "Print the report (without the samples) as JSON");
  cmd->callback([&ctx, o] { ctx.action = [o] { return RunSoakVerb(*o); }; });
}

}  // namespace strata::cli
