// RunChaos: trials per service with a progress line, failure lines naming seed and trial, and the
// chaos-report.json document (see chaos.h).
#include <algorithm>
#include <cmath>
#include <filesystem>

#include "chaos.h"
#include "target.h"

namespace strata::chaos {

using nlohmann::json;

Result<std::unique_ptr<Target>> MakeTarget(const std::string& name) {
  if (name == "segment") return MakeSegmentTarget();
  if (name == "notify") {
    if (auto t = MakeNotifyTarget()) return t;
    return NotFoundError("service 'notify' needs strata_vision (a JPEG per sighting), not built");
  }
  if (name == "identify") {
    if (auto t = MakeIdentifyTarget()) return t;
    return NotFoundError("service 'identify' needs strata_vision, not built");
  }
  return NotFoundError("no chaos target '" + name + "' (have: segment, notify, identify)");
}

std::vector<std::string> AvailableTargets() {
  std::vector<std::string> out = {"segment"};
  if (MakeNotifyTarget()) out.push_back("notify");
  if (MakeIdentifyTarget()) out.push_back("identify");
  return out;
}

uint64_t TrialSeed(uint64_t seed, const std::string& service, int trial) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a of the service name, mixed with seed and trial
  for (char c : service) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  return Rng(seed ^ h).Fork(static_cast<uint64_t>(trial)).Next();
}

bool TrialResult::ok() const { return Reason().empty(); }

std::string TrialResult::Reason() const {
  std::string r;
  auto add = [&](const std::string& s) { r += (r.empty() ? "" : "; ") + s; };
  if (!error.empty()) add(error);
  if (lost > 0) add(std::to_string(lost) + " acknowledged id(s) lost");
  if (api_missing > 0) add(std::to_string(api_missing) + " acknowledged id(s) missing from the API");
  if (integrity_failures > 0) add("integrity_check failed");
  if (dedupe_promised && duplicates > 0) add(std::to_string(duplicates) + " duplicate(s)");
  if (!r.empty() && !lost_ids.empty()) {
    r += " [";
    for (size_t i = 0; i < lost_ids.size(); ++i) r += (i ? ", " : "") + lost_ids[i];
    r += "]";
  }
  return r;
}

double Percentile(std::vector<double> values, double q) {
  if (values.empty()) return -1;
  std::sort(values.begin(), values.end());
  double rank = std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(values.size()));
  size_t i = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return values[std::min(i, values.size() - 1)];
}

int ServiceSummary::Failed() const {
  return static_cast<int>(std::count_if(trials.begin(), trials.end(),
                                        [](const TrialResult& t) { return !t.ok(); }));
}

json ServiceSummary::Json() const {
  int64_t sent = 0, acked = 0, in_flight = 0, stored = 0, lost = 0, dups = 0, api = 0, resent = 0;
  int integrity = 0, mid_request = 0;
  std::vector<double> restart;
  json failures = json::array();
  for (const auto& t : trials) {
    sent += t.sent;
    acked += t.acked;
    in_flight += t.in_flight;
    stored += t.stored;
    lost += t.lost;
    dups += t.duplicates;
    api += t.api_missing;
    resent += t.resent;
    integrity += t.integrity_failures;
    mid_request += t.in_flight > 0;
    if (t.restart_ms >= 0) restart.push_back(t.restart_ms);
    if (!t.ok())
      failures.push_back({{"trial", t.trial}, {"trial_seed", t.trial_seed},
                          {"kill_after_ms", t.kill_after_ms}, {"reason", t.Reason()},
                          {"data_dir", t.data_dir}});
  }
  auto round1 = [](double v) { return std::round(v * 10) / 10; };
  return {{"trials", trials.size()},
          {"failed_trials", Failed()},
          {"sent", sent},
          {"acked", acked},
          {"in_flight_at_kill", in_flight},
          {"kills_mid_request", mid_request},
          {"resent", resent},
          {"stored", stored},
          {"lost", lost},
          {"api_missing", api},
          {"duplicates", dups},
          {"dedupe_promised", dedupe_promised},
          {"integrity_failures", integrity},
          {"restart_ms", {{"p50", round1(Percentile(restart, 0.5))},
                          {"p99", round1(Percentile(restart, 0.99))},
                          {"max", round1(Percentile(restart, 1.0))}}},
          {"failures", failures}};
}

bool ChaosReport::ok() const {
  for (const auto& s : services)
    if (s.Failed() > 0 || s.trials.empty()) return false;
  for (const auto& f : faults)
    if (f.Failed() > 0 || f.trials.empty()) return false;
  return !services.empty() || !faults.empty();
}

ChaosReport RunChaos(const ChaosOptions& options, const ProgressFn& progress) {
  auto say = [&](const std::string& line) {
    if (progress) progress(line);
  };
  ChaosReport report;
  report.options = options;
  if (report.options.services.empty()) report.options.services = AvailableTargets();
  const ChaosOptions& o = report.options;
  std::error_code ec;
  std::filesystem::create_directories(o.work_dir, ec);
  auto t0 = std::chrono::steady_clock::now();
  const bool kill = o.classes.empty() ||
                    std::find(o.classes.begin(), o.classes.end(), "kill") != o.classes.end();
  for (const std::string& fault_class : o.classes)
    if (fault_class != "kill") report.faults.push_back(RunFaultClass(fault_class, o, progress));
  for (const std::string& service : kill ? o.services : std::vector<std::string>{}) {
    ServiceSummary sum;
    sum.service = service;
    if (auto t = MakeTarget(service); t.ok()) sum.dedupe_promised = (*t)->DedupePromised();
    int first = o.only_trial >= 0 ? o.only_trial : 0;
    int last = o.only_trial >= 0 ? o.only_trial + 1 : o.trials;
    for (int trial = first; trial < last; ++trial) {
      TrialResult r = RunTrial(service, trial, o);
      if (!r.ok())
        say("chaos: FAIL " + service + " trial " + std::to_string(trial) + " (seed " +
            std::to_string(o.seed) + ", kill after " + std::to_string(r.kill_after_ms) +
            " ms): " + r.Reason() + "\n  rerun: strata chaos --class kill --service " + service +
            " --seed " + std::to_string(o.seed) + " --trial " + std::to_string(trial) +
            " --keep\n");
      sum.trials.push_back(std::move(r));
      int64_t acked = 0, lost = 0;
      for (const auto& t : sum.trials) {
        acked += t.acked;
        lost += t.lost;
      }
      say("chaos " + service + " " + std::to_string(trial - first + 1) + "/" +
          std::to_string(last - first) + "  acked " + std::to_string(acked) + "  lost " +
          std::to_string(lost) + "  failed trials " + std::to_string(sum.Failed()) + "   \r");
    }
    say("\n");
    report.services.push_back(std::move(sum));
  }
  report.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

json ReportJson(const ChaosReport& r) {
  json services = json::object();
  for (const auto& s : r.services) services[s.service] = s.Json();
  const ChaosOptions& o = r.options;
  json classes = json::array(), faults = json::object();
  if (!r.services.empty()) classes.push_back("kill");
  for (const auto& f : r.faults) {
    classes.push_back(f.fault_class);
    faults[f.fault_class] = f.Json();
  }
  return {{"kind", "chaos"},
          {"classes", classes},
          {"faults", faults},
          {"seed", o.seed},
          {"trials_per_service", o.only_trial >= 0 ? 1 : o.trials},
          {"messages_per_trial", o.messages},
          {"senders", o.senders},
          {"max_kill_ms", o.max_kill_ms},
          {"wall_s", std::round(r.wall_s * 10) / 10},
          {"ok", r.ok()},
          {"services", services}};
}

}  // namespace strata::chaos
