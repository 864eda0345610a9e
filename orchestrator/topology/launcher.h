// Launcher: runs a Topology on this machine (`strata up`). Every broker (mosquitto), link proxy
// (`strata link`, one per emulated link and upstream unit) and service becomes a supervised child
// process, started in dependency order on loopback ports with a generated config; each must be
// ready (/readyz 200, or its TCP port open) before its dependents start. A crash is restarted
// with exponential backoff on the same port (so URLs handed to dependents stay valid); after
// `max_restarts` consecutive failures the unit is given up (state "failed", one clear line).
// Everything the launcher knows is written to <run_dir>/state.json after every change. With
// authentication on (auth.h: `security.auth: on`, or auto with a non-loopback bind) it first
// issues a signing key and tokens into <run_dir>/auth (0700) and MQTT credentials into
// <run_dir>/config/<broker>-auth, and injects them into every generated config. With TLS on
// (`security.tls`, same rule) it runs `strata certs` into <run_dir>/auth/tls, serves every
// service over https and every broker over mqtts (copies in <run_dir>/config/<broker>-tls).
// Thread-safety: Run() from the main thread only (children are tied to the forking thread).
//
//   std::atomic<bool> stop{false};  // set by a SIGINT/SIGTERM watcher
//   Launcher launcher(std::move(topology), {.run_dir = "var/up"});
//   return launcher.Run(stop);  // 0 after a clean stop, 1 when startup failed
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "topology/auth.h"
#include "topology/process.h"
#include "topology/topology.h"

namespace strata::topology {

struct UpOptions {
  std::string run_dir = "var/up";
  std::string topology_file;  // recorded in the state file
  std::string bin_dir;        // where strata-<type> live; "" = beside the running executable
  std::string strata_bin;     // the `strata` CLI for link proxies; "" = the running executable
  std::string log_level = "info", log_format = "text";  // passed to every service
  std::chrono::milliseconds stop_timeout{10000};        // SIGTERM → SIGKILL
  bool echo_logs = true;                                // prefixed child lines on stderr
};

// One supervised process and what the state file says about it.
struct Unit {
  std::string name, kind;  // kind: broker | link | service
  std::string type, node, tier;
  std::vector<std::string> deps;
  bool http = false;  // readiness by GET /readyz (else by TCP connect or "still running")
  RestartPolicy restart;
  // link proxies
  const Link* link = nullptr;
  std::string target;
  int admin_port = 0;
  // runtime
  int port = 0;                   // fixed after the first start
  std::string state = "pending";  // pending|starting|ready|restarting|failed|stopped
  int restarts = 0, consecutive = 0;
  std::optional<int> last_exit;
  std::string last_line;
  std::unique_ptr<ChildProcess> proc;
  std::chrono::steady_clock::time_point started, restart_at;
};

class Launcher {
 public:
  Launcher(Topology topology, UpOptions options);
  ~Launcher();
  // Starts everything, supervises until `stop` is set, stops everything in reverse order.
  // Returns 0 after a clean stop (also when stopped during startup), 1 when startup failed.
  int Run(const std::atomic<bool>& stop);

 private:
  void PlanUnits();
  Status PrepareAuth();
  Status PrepareTls();
  Status Launch(Unit& u);
  Result<std::vector<std::string>> CommandLine(Unit& u);
  Result<std::string> Resolve(const Unit& from, const std::string& target,
                              const std::string& field) const;
  void Tick();
  void CheckReady(Unit& u);
  void OnExit(Unit& u, int code);
  void StopAll();
  void WriteState(const std::string& phase);
  Unit* Find(const std::string& name);
  const Unit* Find(const std::string& name) const;
  std::string Path(const std::string& sub, const std::string& name) const;

  Topology topo_;
  UpOptions opt_;
  std::vector<std::unique_ptr<Unit>> units_;  // start order
  std::string phase_ = "starting";
  bool stopping_ = false;
  std::unique_ptr<AuthMaterial> auth_;  // security on: credentials under <run_dir>/auth
  std::unique_ptr<TlsMaterial> tls_;    // security.tls on: CA + certs under <run_dir>/auth/tls
};

// Where `strata up` keeps a run: <run_dir>/state.json.
std::string StateFilePath(const std::string& run_dir);

}  // namespace strata::topology
