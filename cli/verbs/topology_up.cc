// strata up FILE [--run-dir DIR]: runs a topology on this machine (orchestrator/topology):
// brokers, link proxies and services as supervised child processes in dependency order, with
// prefixed logs and a state file; Ctrl-C / SIGTERM (or `strata down`) stops everything.
// `--check` only validates the file and prints the start order. With the topology's
// `security.auth` on, it first issues a signing key, service tokens and MQTT passwords into the
// run dir and wires them into every generated config (docs/topology.md "Security").
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>

#include "topology/launcher.h"
#include "topology/run_control.h"
#include "topology/topology.h"
#include "verbs.h"

namespace strata::cli {
namespace {

struct UpArgs {
  std::string file;
  std::string run_dir = "var/up";
  std::string bin_dir;
  std::string service_log_level = "info";
  bool check = false;
  bool quiet = false;
};

int Check(const topology::Topology& t) {
  std::printf("%s: topology '%s' is valid: %zu nodes, %zu links, %zu brokers, %zu services\n",
              t.source.c_str(), t.name.c_str(), t.nodes.size(), t.links.size(), t.brokers.size(),
              t.services.size());
  std::printf("start order:");
  for (const std::string& u : t.start_order) std::printf(" %s", u.c_str());
  std::printf("\n");
  return 0;
}

int RunUp(const UpArgs& a, const Context& ctx) {
  auto t = topology::LoadTopology(a.file);
  if (!t.ok()) return Fail(t.status().message(), 2);
  if (a.check) return Check(*t);
  if (auto st = topology::ReadState(a.run_dir); st.ok()) {
    const int pid = st->value("pid", 0);
    if (topology::LauncherAlive(*st))
      return Fail("a topology is already running in " + a.run_dir + " (pid " + std::to_string(pid) +
                  "); run 'strata down --run-dir " + a.run_dir + "' first");
  }
  // Signals are taken by one watcher thread; children get the default mask back (process.cc).
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  static std::atomic<bool> stop{false};
  std::thread([set] {
    while (true) {
      int sig = 0;
      if (sigwait(&set, &sig) == 0) {
        if (!stop)
          topology::WriteStderrLine("strata up: signal " + std::to_string(sig) + ", stopping");
        stop = true;
      }
    }
  }).detach();
  topology::Launcher launcher(std::move(t).value(), {.run_dir = a.run_dir,
                                                     .topology_file = a.file,
                                                     .bin_dir = a.bin_dir,
                                                     .log_level = a.service_log_level,
                                                     .log_format = ctx.log_format,
                                                     .echo_logs = !a.quiet});
  return launcher.Run(stop);
}

}  // namespace

void RegisterUp(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<UpArgs>();
  auto* cmd = app.add_subcommand(
      "up", "Run a topology here: brokers, link proxies and services, supervised (Ctrl-C stops)");
  cmd->add_option("file", a->file, "Topology file, e.g. configs/topologies/surveillance.yaml")
      ->required();
  cmd->add_option("--run-dir", a->run_dir, "State, generated configs, data and logs")
      ->capture_default_str();
  cmd->add_option("--bin-dir", a->bin_dir,
                  "Directory of the strata-<service> binaries (default: beside strata)");
  cmd->add_option("--service-log-level", a->service_log_level, "--log-level for every service")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();
  cmd->add_flag("--check", a->check, "Only validate the file and print the start order");
  cmd->add_flag("-q,--quiet", a->quiet, "Do not echo service logs (they stay in <run-dir>/logs)");
  cmd->callback([&ctx, a] { ctx.action = [&ctx, a] { return RunUp(*a, ctx); }; });
}

}  // namespace strata::cli
