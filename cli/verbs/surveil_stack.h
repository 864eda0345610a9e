// The four surveillance services (roof, detect, identify, notify) and an optional mosquitto,
// started as child processes on free loopback ports for `strata surveil`. Each service gets a
// generated YAML config, `--port 0 --port-file` and its own data dir under the work dir; its
// stderr is kept in the work dir and its tail is shown when it fails.
// Thread-safety: not thread-safe; owned by the verb's main thread.
//
//   SurveilStack stack(work_dir, bin_dir);
//   STRATA_RETURN_IF_ERROR(stack.Start("notify", notify_yaml));
//   std::string url = stack.Url("notify");
#pragma once

#include <map>
#include <memory>
#include <string>

#include "strata/core/status.h"
#include "strata/testing/fixtures.h"

namespace strata::cli {

class SurveilStack {
 public:
  SurveilStack(std::string work_dir, std::string bin_dir)
      : work_dir_(std::move(work_dir)), bin_dir_(std::move(bin_dir)) {}
  ~SurveilStack();  // stops every service (SIGTERM, then SIGKILL after 10 s)

  // Starts a local mosquitto on a free loopback port. Unavailable when it is not installed.
  Status StartBroker();
  std::string broker_uri() const { return broker_ ? broker_->uri() : ""; }

  // Writes <work>/<name>.yaml, starts <bin>/strata-<name> and waits until /readyz answers 200.
  // The error names the service and quotes the last line it wrote to stderr.
  Status Start(const std::string& name, const std::string& yaml);
  std::string Url(const std::string& name) const;
  // Starts `strata link` (a WAN emulator, docs/link.md) named `name` in front of `upstream`'s
  // port with the given one-way latency, jitter and bandwidth; Url(name) is then the proxy.
  Status StartLink(const std::string& name, const std::string& upstream,
                   const std::string& latency, const std::string& jitter,
                   const std::string& bandwidth);
  // Stops one service with SIGTERM and waits for it (bounded); its exit code, or -1.
  int Stop(const std::string& name);

 private:
  struct Proc {
    std::unique_ptr<testing::Subprocess> process;
    int port = 0;
  };
  std::string LastStderrLine(const std::string& name) const;
  std::string work_dir_, bin_dir_;
  std::unique_ptr<testing::MosquittoBroker> broker_;
  std::map<std::string, Proc> procs_;
  std::vector<std::string> order_;  // start order; stopped in reverse
};

}  // namespace strata::cli
