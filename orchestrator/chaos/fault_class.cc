// The fault classes' shared parts (fault_class.h): summaries for chaos-report.json, the trial loop
// with its failure lines (seed + rerun command), and starting a service binary for a trial.
#include "fault_class.h"

#include <signal.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include "chaos.h"
#include "kill_classes.h"
#include "strata/testing/fixtures.h"
#include "strata/transport/http_client.h"

namespace strata::chaos {

using nlohmann::json;
namespace fs = std::filesystem;

std::string FaultTrial::Reason() const {
  std::string r = error;
  for (const auto& f : failures) r += (r.empty() ? "" : "; ") + f;
  return r;
}

int FaultSummary::Failed() const {
  return static_cast<int>(
      std::count_if(trials.begin(), trials.end(), [](const FaultTrial& t) { return !t.ok(); }));
}

namespace {

json Totals(const std::vector<const FaultTrial*>& trials) {
  std::map<std::string, int64_t> sums;
  std::map<std::string, std::vector<double>> times;
  for (const auto* t : trials) {
    for (const auto& [k, v] : t->counts) sums[k] += v;
    for (const auto& [k, v] : t->times_ms)
      if (v >= 0) times[k].push_back(v);
  }
  auto round1 = [](double v) { return std::round(v * 10) / 10; };
  json tj = json::object();
  for (const auto& [k, v] : times)
    tj[k] = {{"p50", round1(Percentile(v, 0.5))},
             {"p99", round1(Percentile(v, 0.99))},
             {"max", round1(Percentile(v, 1.0))}};
  int failed = static_cast<int>(
      std::count_if(trials.begin(), trials.end(), [](const FaultTrial* t) { return !t->ok(); }));
  return {{"trials", trials.size()}, {"failed_trials", failed}, {"totals", sums}, {"times_ms", tj}};
}

}  // namespace

json FaultSummary::Json() const {
  std::vector<const FaultTrial*> all;
  std::map<std::string, std::vector<const FaultTrial*>> by_variant;
  json failures = json::array(), notes = json::array();
  for (const auto& t : trials) {
    all.push_back(&t);
    by_variant[t.variant].push_back(&t);
    if (!t.ok())
      failures.push_back({{"trial", t.trial},
                          {"trial_seed", t.trial_seed},
                          {"variant", t.variant},
                          {"reason", t.Reason()},
                          {"data_dir", t.data_dir}});
    if (!t.note.empty() && std::find(notes.begin(), notes.end(), t.note) == notes.end())
      notes.push_back(t.note);
  }
  json out = Totals(all);
  json variants = json::object();
  for (const auto& [v, ts] : by_variant) variants[v] = Totals(ts);
  out["variants"] = variants;
  out["failures"] = failures;
  out["notes"] = notes;
  return out;
}

std::vector<std::string> FaultClasses() { return {"broker", "partition", "link", "spool", "federate", "uplink"}; }

FaultTrial RunFaultTrial(const std::string& fault_class, int trial, const ChaosOptions& o) {
  if (fault_class == "broker") return RunBrokerTrial(trial, o);
  if (fault_class == "partition") return RunPartitionTrial(trial, o);
  if (fault_class == "link") return RunLinkTrial(trial, o);
  if (fault_class == "spool") return RunSpoolTrial(trial, o);
  if (fault_class == "federate") return RunFederateTrial(trial, o);
  if (fault_class == "uplink") return RunUplinkTrial(trial, o);
  FaultTrial t;
  t.fault_class = fault_class;
  t.trial = trial;
  t.error = "no chaos class '" + fault_class + "' (have: kill, broker, partition, link, spool, federate, uplink)";
  return t;
}

FaultSummary RunFaultClass(const std::string& fault_class, const ChaosOptions& o,
                           const std::function<void(const std::string&)>& progress) {
  auto say = [&](const std::string& line) {
    if (progress) progress(line);
  };
  FaultSummary sum;
  sum.fault_class = fault_class;
  const int trials = fault_class == "broker"      ? o.broker_trials
                     : fault_class == "partition" ? o.partition_trials
                     : fault_class == "link"      ? o.link_trials * 5
                     : fault_class == "spool"     ? o.spool_trials
                     : fault_class == "federate"  ? o.federate_trials
                     : fault_class == "uplink"    ? o.uplink_trials
                                                  : 1;
  const int first = o.only_trial >= 0 ? o.only_trial : 0;
  const int last = o.only_trial >= 0 ? o.only_trial + 1 : trials;
  for (int trial = first; trial < last; ++trial) {
    FaultTrial r = RunFaultTrial(fault_class, trial, o);
    if (!r.ok())
      say("chaos: FAIL " + fault_class + " trial " + std::to_string(trial) + " (" + r.variant +
          ", seed " + std::to_string(o.seed) + "): " + r.Reason() +
          "\n  rerun: strata chaos --class " + fault_class + " --seed " + std::to_string(o.seed) +
          " --trial " + std::to_string(trial) + " --keep\n");
    sum.trials.push_back(std::move(r));
    say("chaos " + fault_class + " " + std::to_string(trial - first + 1) + "/" +
        std::to_string(last - first) + "  failed trials " + std::to_string(sum.Failed()) + "   \r");
  }
  say("\n");
  return sum;
}

std::string FreshTrialDir(const ChaosOptions& o, const std::string& fault_class, int trial) {
  const std::string dir = o.work_dir + "/" + fault_class + "-" + std::to_string(trial);
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  return dir;
}

bool RunningService::Stop() {
  if (!process) return true;
  process->Signal(SIGTERM);
  bool clean = process->Wait(std::chrono::seconds(10)).ok();
  if (!clean) {
    process->Signal(SIGKILL);
    (void)process->Wait(std::chrono::seconds(5));
  }
  if (!stderr_file.empty()) std::ofstream(stderr_file) << process->Stderr();
  process.reset();
  return clean;
}

bool RunningService::Alive() const {
  return process && !process->Wait(std::chrono::milliseconds(0)).ok();
}

RunningService::~RunningService() { Stop(); }

Result<std::unique_ptr<RunningService>> StartService(const ChaosOptions& o, const std::string& name,
                                                     const std::string& data_dir,
                                                     const std::string& config_yaml) {
  const std::string port_file = data_dir + "/../" + name + ".port";
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  fs::remove(port_file, ec);
  std::vector<std::string> argv = {o.bin_dir + "/strata-" + name,
                                   "--port",
                                   "0",
                                   "--port-file",
                                   port_file,
                                   "--data-dir",
                                   data_dir};
  if (!config_yaml.empty()) {
    const std::string config = data_dir + "/../" + name + ".yaml";
    std::ofstream(config) << config_yaml;
    argv.insert(argv.end(), {"--config", config});
  }
  auto s = std::make_unique<RunningService>();
  s->stderr_file = data_dir + "/../" + name + ".stderr";
  STRATA_ASSIGN_OR_RETURN(s->process, testing::Subprocess::Start(argv));
  auto last_line = [&] {
    std::string err = s->process->Stderr();
    while (!err.empty() && (err.back() == '\n' || err.back() == '\r')) err.pop_back();
    size_t nl = err.rfind('\n');
    return nl == std::string::npos ? err : err.substr(nl + 1);
  };
  auto port = testing::WaitForPortFile(port_file, std::chrono::seconds(20));
  if (!port.ok()) return UnavailableError("strata-" + name + " did not start: " + last_line());
  s->port = *port;
  STRATA_ASSIGN_OR_RETURN(auto client,
                          http::HttpClient::Create({.base_url = s->url(), .max_retries = 0}));
  for (int i = 0; i < 2000; ++i) {  // 2000 x 10 ms
    auto r = client->Get("/readyz");
    if (r.ok() && r->status == 200) return s;
    if (s->process->Wait(std::chrono::milliseconds(0)).ok())
      return UnavailableError("strata-" + name + " exited: " + last_line());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return DeadlineExceededError("strata-" + name + " not ready after 20 s");
}

}  // namespace strata::chaos
