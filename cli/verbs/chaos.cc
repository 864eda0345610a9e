// strata chaos: randomised fault trials against the real services (orchestrator/chaos,
// docs/chaos.md): kill -9 of the stateful services, broker SIGTERM/SIGKILL under MQTT ingest,
// partitions of the identify → notify link and link faults, kill -9 of the identify spool sender
// and the federate coordinator, detect → identify partitions (--class). Writes
// <out>/chaos-report.json and <out>/chaos-report.svg, prints a progress line and, for every
// failed trial, its seed and trial number; exit 1 when any trial lost an acknowledged message,
// failed integrity_check, duplicated a deduped id or did not restart.
//
//   strata chaos --class kill --trials 20 --seed 7   # Tier A kill -9 (ctest chaos_tier_a)
//   strata chaos --class broker --class partition    # the other classes, Tier A sizes
//   strata chaos --deep                          # every class, deep sizes
//   strata chaos --service notify --seed 7 --trial 12 --keep   # rerun one failed trial
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
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
  std::vector<std::string> classes;  // empty or "all" = every class
  int broker_trials = -1, partition_trials = -1, link_rounds = -1;  // -1 = Tier A / --deep size
  int spool_trials = -1, federate_trials = -1, uplink_trials = -1;
};

// The fault classes as bars (acked, lost, duplicates per class and variant) and their timings.
void DrawFaults(svg::Svg& out, double y, const chaos::ChaosReport& r) {
  svg::BarChart counts{.title = "fault classes: acknowledged, lost, duplicates", .x_label = "",
                       .y_label = "messages"};
  svg::BarChart times{.title = "fault classes: recovery times (ms, p50 / max)", .x_label = "",
                      .y_label = "ms"};
  for (const auto& f : r.faults) {
    nlohmann::json j = f.Json();
    for (auto& [variant, v] : j["variants"].items()) {
      const std::string label = f.fault_class + " " + variant;
      auto bar = [&](const std::string& what, int colour) {
        counts.labels.push_back(label + " " + what);
        counts.values.push_back(v["totals"].value(what, 0.0));
        counts.colours.push_back(svg::Palette(colour));
      };
      bar("acked", 0);
      bar("lost", 2);
      bar("duplicates", 1);
      for (auto& [name, q] : v["times_ms"].items()) {
        if (name == "down_ms" || name == "partition_ms") continue;  // inputs, not outcomes
        for (const char* k : {"p50", "max"}) {
          times.labels.push_back(label + " " + name + " " + k);
          times.values.push_back(std::max(0.0, q[k].get<double>()));
          times.colours.push_back(svg::Palette(k[0] == 'p' ? 0 : 9));
        }
      }
    }
  }
  const double w = std::max(600.0, 60.0 * static_cast<double>(counts.values.size()));
  svg::DrawBarChart(out, {80, y, w, 280}, counts);
  svg::DrawBarChart(out, {80, y + 400, std::max(300.0, 60.0 * times.values.size()), 240}, times);
}

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
  double w = std::max(600.0, 80.0 * static_cast<double>(counts.values.size()));
  if (!r.faults.empty()) w = std::max(w, 60.0 * 3 * 6);
  svg::Svg out(static_cast<int>(w + 110), r.faults.empty() ? 790 : 1590);
  if (!r.faults.empty()) DrawFaults(out, 850, r);
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
  auto size = [&](int given, int tier_a, int deep) {
    return given >= 0 ? given : o.deep ? deep : tier_a;
  };
  run.broker_trials = size(o.broker_trials, 3, 20);
  run.partition_trials = size(o.partition_trials, 2, 10);
  run.link_trials = size(o.link_rounds, 1, 3);
  run.spool_trials = size(o.spool_trials, 2, 10);
  run.federate_trials = size(o.federate_trials, 2, 10);
  run.uplink_trials = size(o.uplink_trials, 2, 10);
  run.classes.clear();
  for (const auto& c : o.classes) {
    if (c == "all") {
      run.classes.clear();
      break;
    }
    if (std::find(run.classes.begin(), run.classes.end(), c) == run.classes.end())
      run.classes.push_back(c);
  }
  if (run.classes.empty() && o.classes.empty() && !run.services.empty()) {
    run.classes = {"kill"};  // --service without --class: the kill -9 trials of that service
  } else if (run.classes.empty()) {
    run.classes = {"kill"};
    for (const auto& c : chaos::FaultClasses()) run.classes.push_back(c);
  }
  const bool kill = std::find(run.classes.begin(), run.classes.end(), "kill") != run.classes.end();
  if (!kill) run.services.clear();
  std::vector<std::string> bins = kill ? run.services : std::vector<std::string>{};
  for (const auto& c : run.classes) {
    if (c == "broker") bins.push_back("segment");
    if (c == "partition" || c == "link" || c == "spool" ||
        c == "uplink") bins.insert(bins.end(), {"identify", "notify"});
    if (c == "federate") bins.push_back("federate");
  }
  run.seed = o.seed != 0 ? o.seed
                         : static_cast<uint64_t>(
                               std::chrono::system_clock::now().time_since_epoch().count()) %
                               1000000007ull;
  if (run.bin_dir.empty()) run.bin_dir = DefaultBinDir();
  for (const auto& s : bins)
    if (access((run.bin_dir + "/strata-" + s).c_str(), X_OK) != 0)
      return Fail(run.bin_dir + "/strata-" + s + " is missing (build it, or set --bin-dir)", 2);
  std::error_code ec;
  std::filesystem::create_directories(o.out, ec);
  if (run.work_dir.empty()) run.work_dir = o.out + "/work";
  std::string classes;
  for (const auto& c : run.classes) classes += (classes.empty() ? "" : ",") + c;
  std::fprintf(stderr, "strata chaos: seed %llu, classes %s, bin %s\n",
               static_cast<unsigned long long>(run.seed), classes.c_str(), run.bin_dir.c_str());
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
  for (const auto& f : r.faults) {
    nlohmann::json fj = f.Json();
    for (auto& [variant, v] : fj["variants"].items()) {
      std::string line = f.fault_class + " " + variant + ": trials " +
                         std::to_string(v["trials"].get<int>());
      for (auto& [k, n] : v["totals"].items())
        if (!k.ends_with("_ms")) line += "  " + k + " " + std::to_string(n.get<long long>());
      for (auto& [k, q] : v["times_ms"].items())
        line += "  " + k + " p50 " + std::to_string(std::lround(q["p50"].get<double>())) +
                " max " + std::to_string(std::lround(q["max"].get<double>()));
      line += "  failed " + std::to_string(v["failed_trials"].get<int>());
      std::fprintf(stdout, "%s\n", line.c_str());
    }
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
      "chaos",
      "kill -9, broker, partition and link-fault trials against the real services; "
      "chaos-report.json + SVG");
  cmd->option_defaults()->always_capture_default();
  cmd->add_option("--trials", o->run.trials, "kill -9 trials per service")->check(CLI::Range(1, 100000));
  cmd->add_flag("--deep", o->deep,
                "Deep sizes: 100 kill trials per service, 20 broker, 10 partition, 10 spool, "
                "10 federate, 10 uplink trials, "
                "3 link rounds (unless given)");
  cmd->add_option("--seed", o->seed, "Random seed (0 = from the clock; printed either way)");
  cmd->add_option("--class", o->classes,
                  "Fault class(es): kill, broker, partition, link, spool, federate, uplink, all "
                  "(default: all)")
      ->check(CLI::IsMember({"kill", "broker", "partition", "link", "spool", "federate", "uplink",
                                 "all"}));
  cmd->add_option("--broker-trials", o->broker_trials,
                  "Broker trials (alternating SIGTERM/SIGKILL; default 3, --deep 20)")
      ->check(CLI::Range(0, 10000));
  cmd->add_option("--partition-trials", o->partition_trials,
                  "Partition trials (alternating blackhole/reset; default 2, --deep 10)")
      ->check(CLI::Range(0, 10000));
  cmd->add_option("--spool-trials", o->spool_trials,
                  "Spool trials: 2 SIGKILLs of the identify spool sender each (default 2, --deep 10)")
      ->check(CLI::Range(0, 10000));
  cmd->add_option("--federate-trials", o->federate_trials,
                  "Federate trials: SIGKILL of the cloud coordinator mid-rounds (default 2, --deep 10)")
      ->check(CLI::Range(0, 10000));
  cmd->add_option("--uplink-trials", o->uplink_trials,
                  "Uplink trials: detect -> identify blackhole/reset partitions (default 2, --deep 10)")
      ->check(CLI::Range(0, 10000));
  cmd->add_option("--link-rounds", o->link_rounds,
                  "Rounds of the 5 link faults (default 1, --deep 3)")
      ->check(CLI::Range(0, 10000));
  cmd->add_option("--broker-autosave", o->run.broker_autosave_changes,
                  "mosquitto autosave_on_changes threshold (0 = its default: every 1800 s)")
      ->check(CLI::Range(0, 1000000));
  cmd->add_option("--service", o->run.services,
                  "Service(s) for the kill class (default: all built; alone implies --class kill)")
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
