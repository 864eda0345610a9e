// strata status [--run-dir DIR] [--json]: the units of a running `strata up` with live health
// (/readyz, broker TCP), restarts, ports and link byte counters; exit 0 when all are healthy.
// strata down [--run-dir DIR]: SIGTERM to `strata up`, which stops its children in order.
#include <chrono>
#include <cstdio>
#include <memory>

#include "topology/run_control.h"
#include "verbs.h"

namespace strata::cli {
namespace {

struct StatusArgs {
  std::string run_dir = "var/up";
  bool json = false;
  int timeout_s = 30;
};

std::string Str(const nlohmann::json& j, const char* key) {
  if (!j.contains(key)) return "-";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

int RunStatus(const StatusArgs& a) {
  auto st = topology::ProbeRun(a.run_dir);
  if (!st.ok()) return Fail(st.status().message(), 1);
  const nlohmann::json& j = *st;
  if (a.json) {
    std::printf("%s\n", j.dump(2).c_str());
    return j.value("healthy", false) ? 0 : 1;
  }
  std::printf("topology %s: %s (strata up pid %d %s)\n", Str(j, "topology").c_str(),
              Str(j, "phase").c_str(), j.value("pid", 0),
              j.value("up_running", false) ? "running" : "not running");
  std::printf("%-28s %-8s %-6s %-10s %-10s %-8s %8s %6s  %s\n", "UNIT", "KIND", "TIER", "NODE",
              "STATE", "HEALTH", "RESTARTS", "PORT", "URL / LINK BYTES");
  for (const auto& u : j["units"]) {
    std::string where = Str(u, "url");
    if (u.value("kind", "") == "link")
      where = Str(u, "from") + "<->" + Str(u, "to") + " to " + Str(u, "target") + ", " +
              (u.contains("bytes_total")
                   ? std::to_string(static_cast<long long>(u["bytes_total"].get<double>()))
                   : "?") +
              " bytes";
    std::string health = Str(u, "health");
    if (health.size() > 8) health = health.substr(0, 8);
    std::printf("%-28s %-8s %-6s %-10s %-10s %-8s %8d %6d  %s\n", Str(u, "name").c_str(),
                Str(u, "kind").c_str(), Str(u, "tier").c_str(), Str(u, "node").c_str(),
                Str(u, "state").c_str(), health.c_str(), u.value("restarts", 0), u.value("port", 0),
                where.c_str());
  }
  return j.value("healthy", false) ? 0 : 1;
}

int RunDown(const StatusArgs& a) {
  Status s = topology::StopRun(a.run_dir, std::chrono::seconds(a.timeout_s));
  if (s.code() == StatusCode::kFailedPrecondition) {
    std::fprintf(stderr, "strata down: %s\n", s.message().c_str());
    return 0;  // nothing to stop: down is idempotent
  }
  if (!s.ok()) return Fail(s.message(), 1);
  std::fprintf(stderr, "strata down: stopped (%s)\n", a.run_dir.c_str());
  return 0;
}

}  // namespace

void RegisterStatus(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<StatusArgs>();
  auto* cmd = app.add_subcommand("status", "Show the services of a running `strata up`");
  cmd->add_option("--run-dir", a->run_dir, "Run directory of `strata up`")->capture_default_str();
  cmd->add_flag("--json", a->json, "Machine-readable output");
  cmd->callback([&ctx, a] { ctx.action = [a] { return RunStatus(*a); }; });
}

void RegisterDown(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<StatusArgs>();
  auto* cmd = app.add_subcommand("down", "Stop a running `strata up` and all its services");
  cmd->add_option("--run-dir", a->run_dir, "Run directory of `strata up`")->capture_default_str();
  cmd->add_option("--timeout", a->timeout_s, "Seconds to wait before killing")
      ->check(CLI::Range(1, 600))
      ->capture_default_str();
  cmd->callback([&ctx, a] { ctx.action = [a] { return RunDown(*a); }; });
}

}  // namespace strata::cli
