// Reading and controlling a run of `strata up` from another process: `strata status` (state file
// + live probes: /readyz of services, TCP of brokers, link byte counters from each proxy's
// /metrics) and `strata down` (SIGTERM to the `up` process, which stops its children).
// Thread-safety: stateless functions.
//
//   STRATA_ASSIGN_OR_RETURN(nlohmann::json st, ProbeRun("var/up"));
//   bool ok = st["healthy"];
#pragma once

#include <sys/types.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "strata/core/status.h"

namespace strata::topology {

// The state file as JSON. NotFound when no run has written one in `run_dir`.
Result<nlohmann::json> ReadState(const std::string& run_dir);

// True when `pid` exists and is not a zombie.
bool ProcessAlive(pid_t pid);
// True when the state's launcher pid is alive and still a `strata up` (its command line has an
// `up` argument), so a recycled pid is never mistaken for it.
bool LauncherAlive(const nlohmann::json& state);

// State plus, per unit, "health" (ready | not ready: ... | down) and, for link proxies, from the
// proxy's admin /metrics: "bytes_upstream", "bytes_downstream", "bytes_total"
// (strata_link_proxy_bytes_total{direction}; strata_link_bytes_total as a fallback) and
// "partitioned"; top level "up_running" and "healthy" (the launcher runs and every unit is
// healthy).
Result<nlohmann::json> ProbeRun(const std::string& run_dir,
                                std::chrono::milliseconds timeout = std::chrono::seconds(1));

// Sum of the samples of `metric` in Prometheus text exposition whose label set contains
// `label_filter` (e.g. `direction="upstream"`; "" = all); 0 when absent.
double SumMetric(const std::string& text, const std::string& metric,
                 const std::string& label_filter = "");

// SIGTERM to the launcher, then waits up to `timeout` for it to exit; children left behind (a
// launcher killed with -9) are sent SIGTERM, then SIGKILL. FailedPrecondition when not running.
Status StopRun(const std::string& run_dir, std::chrono::milliseconds timeout);

}  // namespace strata::topology
