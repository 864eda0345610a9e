// strata chaos: randomised kill -9 trials against the real stateful services (orchestrator/chaos,
// docs/chaos.md). Writes <out>/chaos-report.json and <out>/chaos-report.svg, prints a progress
// line and, for every failed trial, its seed and trial number; exit 1 when any trial lost an
// acknowledged message, failed integrity_check, duplicated a deduped id or did not restart.
//
//   strata chaos --trials 20 --seed 7            # Tier A (also a ctest: chaos_tier_a)
//   strata chaos --deep                          # 100 trials per service
//   strata chaos --service notify --seed 7 --trial 12 --keep   # rerun one failed trial
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "chaos/chaos.h"
#include "verbs.h"
#include "verbs/svg.h"

namespace strata::cli {
namespace {

struct ChaosCliOptions {
  chaos::ChaosOptions run;
  bool deep = false;
  std::string out = "out/chaos";
  uint64_t seed = 0;  // 0 = pick one from the clock (printed)
};

std::string SummarySvg(const chaos::ChaosReport& r) {
  svg::BarChart counts{.title = "kill -9 trials: acknowledged vs stored, lost, duplicates",
                       .x_label = "", .y_label = "messages"};
  svg::BarChart restart{.title = "time to ready after SIGKILL (ms)", .x_label = "",
                        .y_label = "ms"};
  for (const auto& s : r.services) {
    nlohmann::json j = s.Json();
    auto bar = [&](const std::string& what, double v, int colour) {
      counts.labels.push_back(s.service + " " + what);
      counts.values.push_back(v);
      counts.colours.push_back(svg::Palette(colour));
    };
    bar("acked", j["acked"].get<double>(), 0);
    bar("stored", j["stored"].get<double>(), 4);
    bar("lost", j["lost"].get<double>() + j["api_missing"].get<double>(), 2);
    bar("dups", j["duplicates"].get<double>(), 1);
    for (const char* q : {"p50", "p99"}) {
      restart.labels.push_back(s.service + " " + q);
      restart.values.push_back(std::max(0.0, j["restart_ms"][q].get<double>()));
      restart.colours.push_back(svg::Palette(q[1] == '5' ? 0 : 9));
    }
  }
  // Two rows: message counts (acked, stored, lost incl. missing from the API, duplicates), then
  // restart times.
  const double w = std::max(600.0, 80.0 * static_cast<double>(counts.values.size()));
  svg::Svg out(static_cast<int>(w + 110), 790);
  svg::DrawBarChart(out, {80, 50, w, 280}, counts);
  svg::DrawBarChart(out, {80, 450, std::max(300.0, 80.0 * restart.values.size()), 240}, restart);
  const chaos::ChaosOptions& o = r.options;
  out.Text(80, 775,
           "seed " + std::to_string(o.seed) + ", " + std::to_string(o.trials) +
               " trials per service, " + std::to_string(o.messages) + " messages per trial, kill after " +
               std::to_string(o.min_kill_ms) + "-" + std::to_string(o.max_kill_ms) + " ms; " +
               (r.ok() ? "0 lost" : "FAILED: see chaos-report.json"),
           12);
  return out.Finish();
}

std::string DefaultBinDir() {
  if (const char* env = std::getenv("STRATA_BIN_DIR"); env && *env) return env;
  std::error_code ec;
  return std::filesystem::read_symlink("/proc/self/exe", ec).parent_path().string();
}

int RunChaosVerb(ChaosCliOptions o) {
  chaos::ChaosOptions& run = o.run;
  if (o.deep && run.trials == 20) run.trials = 100;
  run.seed = o.seed != 0 ? o.seed
                         : static_cast<uint64_t>(
                               std::chrono::system_clock::now().time_since_epoch().count()) %
                               1000000007ull;
  if (run.bin_dir.empty()) run.bin_dir = DefaultBinDir();
  for (const auto& s : run.services)
    if (access((run.bin_dir + "/strata-" + s).c_str(), X_OK) != 0)
      return Fail(run.bin_dir + "/strata-" + s + " is missing (build it, or set --bin-dir)", 2);
  std::error_code ec;
  std::filesystem::create_directories(o.out, ec);
  if (run.work_dir.empty()) run.work_dir = o.out + "/work";
  std::fprintf(stderr, "strata chaos: seed %llu, %d trial(s) per service, bin %s\n",
               static_cast<unsigned long long>(run.seed), run.only_trial >= 0 ? 1 : run.trials,
               run.bin_dir.c_str());
  const bool tty = isatty(STDERR_FILENO);
  chaos::ChaosReport r = chaos::RunChaos(run, [tty](const std::string& line) {
    if (!tty && !line.empty() && line.back() == '\r') return;  // progress only on a terminal
    std::fputs(line.c_str(), stderr);
  });
  nlohmann::json j = chaos::ReportJson(r);
  const std::string json_path = o.out + "/chaos-report.json", svg_path = o.out + "/chaos-report.svg";
  if (Status s = WriteText(json_path, j.dump(2) + "\n"); !s.ok()) return Fail(s.message());
  if (Status s = WriteText(svg_path, SummarySvg(r)); !s.ok()) return Fail(s.message());
  for (const auto& s : r.services) {
    nlohmann::json sj = s.Json();
    std::fprintf(stdout,
                 "%-8s trials %3d  acked %6lld  stored %6lld  lost %lld  dups %lld%s  "
                 "integrity failures %lld  restart p50 %.0f ms p99 %.0f ms  failed %d\n",
                 s.service.c_str(), static_cast<int>(s.trials.size()),
                 sj["acked"].get<long long>(), sj["stored"].get<long long>(),
                 sj["lost"].get<long long>(), sj["duplicates"].get<long long>(),
                 s.dedupe_promised ? "" : " (not deduped)", sj["integrity_failures"].get<long long>(),
                 sj["restart_ms"]["p50"].get<double>(), sj["restart_ms"]["p99"].get<double>(),
                 s.Failed());
  }
  std::fprintf(stdout, "report: %s, %s (seed %llu)\n", json_path.c_str(), svg_path.c_str(),
               static_cast<unsigned long long>(run.seed));
  if (!r.ok()) return Fail("chaos: failed trials (seed " + std::to_string(run.seed) + ")");
  return 0;
}

}  // namespace

void RegisterChaos(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<ChaosCliOptions>();
  auto* cmd = app.add_subcommand(
      "chaos", "kill -9 trials against the real stateful services; chaos-report.json + SVG");
  cmd->option_defaults()->always_capture_default();
  cmd->add_option("--trials", o->run.trials, "Trials per service")->check(CLI::Range(1, 100000));
  cmd->add_flag("--deep", o->deep, "100 trials per service (unless --trials says otherwise)");
  cmd->add_option("--seed", o->seed, "Random seed (0 = from the clock; printed either way)");
  cmd->add_option("--service", o->run.services, "Service(s) to test (default: all built)")
      ->check(CLI::IsMember(chaos::AvailableTargets()));
  cmd->add_option("--trial", o->run.only_trial, "Run only this trial number (reproduce a failure)")
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--messages", o->run.messages, "Numbered messages per trial")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--senders", o->run.senders, "Concurrent load connections")->check(CLI::Range(1, 64));
  cmd->add_option("--max-kill-ms", o->run.max_kill_ms, "SIGKILL after 0..N ms of load")
      ->check(CLI::Range(0, 600000));
  cmd->add_option("--out", o->out, "Directory for chaos-report.json and chaos-report.svg");
  cmd->add_option("--bin-dir", o->run.bin_dir,
                  "Where strata-<service> live (default: $STRATA_BIN_DIR, else beside strata)");
  cmd->add_flag("--keep", o->run.keep_dirs, "Keep every trial's data dir under <out>/work");
  cmd->callback([&ctx, o] { ctx.action = [o] { return RunChaosVerb(*o); }; });
}

}  // namespace strata::cli
