// The `federate` chaos class (kill_classes.h): kill -9 of the federated-learning coordinator.
// A real strata-federate cloud (k 3, d 4, 4 FedLloyd rounds after a k-FED cold start, round
// timeout 3 s, on a fixed loopback port) and two real strata-federate edges (points_csv, their own
// random clustered customers) run rounds; the cloud is SIGKILLed once its completed_rounds reaches
// a random 0..3 (plus 0–60 ms, so the kill lands mid-round) and restarted on the same port.
// The coordinator persists model, last round id and DP accountant in its data dir after every
// round, so the restarted cloud resumes where it was (model version after restart >= before the
// kill) and only the in-flight round is redone; the trial also records round attempts that failed
// after the restart and kill → done time. Checks: the restarted federation completes every round
// (state done, model version rounds + 1, monotonic in its history), no round id completed twice and no
// node counted twice in one round's participants, both edges exit 0 — bounded 60 s.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "chaos.h"
#include "kill_classes.h"
#include "strata/core/rng.h"
#include "strata/testing/fixtures.h"
#include "strata/transport/http_client.h"

namespace strata::chaos {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
using std::chrono::milliseconds;
constexpr int kRounds = 4;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

Result<json> GetJson(const std::string& url, const std::string& path) {
  STRATA_ASSIGN_OR_RETURN(auto c, http::HttpClient::Create({.base_url = url,
                                                            .connect_timeout = milliseconds(500),
                                                            .read_timeout = milliseconds(2000),
                                                            .max_retries = 0}));
  STRATA_ASSIGN_OR_RETURN(auto r, c->Get(path));
  if (r.status != 200) return UnavailableError(path + ": HTTP " + std::to_string(r.status));
  return r.Json();
}

Result<std::unique_ptr<testing::Subprocess>> StartCloud(const ChaosOptions& o,
                                                        const std::string& dir, int port) {
  std::error_code ec;
  std::filesystem::remove(dir + "/cloud.port", ec);
  STRATA_ASSIGN_OR_RETURN(
      auto p, testing::Subprocess::Start({o.bin_dir + "/strata-federate", "--config",
                                          dir + "/cloud.yaml", "--port", std::to_string(port),
                                          "--port-file", dir + "/cloud.port", "--data-dir",
                                          dir + "/cloud-data"}));
  STRATA_RETURN_IF_ERROR(testing::WaitForPortFile(dir + "/cloud.port", milliseconds(20000))
                             .status()
                             .WithContext("strata-federate cloud did not start: " + p->Stderr()));
  return p;
}

}  // namespace

FaultTrial RunFederateTrial(int trial, const ChaosOptions& o) {
  using namespace std::chrono_literals;
  FaultTrial t;
  t.fault_class = "federate";
  t.trial = trial;
  t.trial_seed = TrialSeed(o.seed, "federate", trial);
  t.variant = "sigkill";
  t.note =
      "cloud coordinator: durable state (model, round id, DP accountant) in its data dir; 2 edges, "
      "4 rounds + k-FED, round_timeout 3 s";
  Rng rng(t.trial_seed);
  const int kill_after_rounds = static_cast<int>(rng.UniformInt(0, kRounds - 1));
  const std::string dir = FreshTrialDir(o, "federate", trial);
  t.data_dir = dir;
  auto port = testing::FreeLoopbackPort();
  if (!port.ok()) {
    t.error = port.status().message();
    return t;
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(*port);
  const std::string tok[2] = {std::string(64, 'a'), std::string(64, 'b')};
  {
    std::ofstream c(dir + "/cloud.yaml");
    c << "federate:\n  role: cloud\n  k: 3\n  d: 4\n  rounds: " << kRounds
      << "\n  round_timeout: 3s\n  poll_interval: 20ms\n  seed: " << trial + 1 << "\n  nodes:\n";
    for (int i = 0; i < 2; ++i) c << "    - {id: edge-" << i << ", token: \"" << tok[i] << "\"}\n";
  }
  for (int i = 0; i < 2; ++i) {
    std::ofstream pts(dir + "/edge" + std::to_string(i) + ".csv");
    for (int n = 0; n < 150; ++n) {
      const int cluster = n % 3;
      for (int f = 0; f < 4; ++f) pts << (f ? "," : "") << cluster * 5.0 + f + rng.Uniform(-1, 1);
      pts << "\n";
    }
    std::ofstream(dir + "/edge" + std::to_string(i) + ".yaml")
        << "federate:\n  role: edge\n  id: edge-" << i << "\n  token: \"" << tok[i]
        << "\"\n  aggregator_url: " << url << "\n  points_csv: " << dir << "/edge" << i
        << ".csv\n  poll_interval: 20ms\n";
  }
  auto cloud = StartCloud(o, dir, *port);
  if (!cloud.ok()) {
    t.error = cloud.status().message();
    return t;
  }
  std::vector<std::unique_ptr<testing::Subprocess>> edges;
  for (int i = 0; i < 2; ++i) {
    auto e = testing::Subprocess::Start(
        {o.bin_dir + "/strata-federate", "--config", dir + "/edge" + std::to_string(i) + ".yaml"});
    if (!e.ok()) {
      t.error = e.status().message();
      return t;
    }
    edges.push_back(std::move(e).value());
  }
  // Wait for the kill point (bounded 30 s), then kill mid-round.
  json before = json::object();
  for (int w = 0; w < 3000; ++w) {
    auto r = GetJson(url, "/api/v1/round");
    if (r.ok()) {
      before = *r;
      if (before.value("completed_rounds", 0) >= kill_after_rounds) break;
    }
    std::this_thread::sleep_for(10ms);
  }
  std::this_thread::sleep_for(milliseconds(rng.UniformInt(0, 60)));
  if (auto r = GetJson(url, "/api/v1/round"); r.ok()) before = *r;
  (*cloud)->Signal(SIGKILL);
  (void)(*cloud)->Wait(5s);
  const auto killed_at = Clock::now();
  cloud = StartCloud(o, dir, *port);
  if (!cloud.ok()) {
    t.error = "restart after SIGKILL: " + cloud.status().message();
    return t;
  }
  const double restart_ms = Ms(Clock::now() - killed_at);
  json after_restart = json::object();
  if (auto r = GetJson(url, "/api/v1/round"); r.ok()) after_restart = *r;
  json final_round = json::object();
  double done_ms = -1;
  for (int w = 0; w < 6000; ++w) {  // <= 60 s
    auto r = GetJson(url, "/api/v1/round");
    if (r.ok() && (*r).value("state", "") != "" &&
        ((*r)["state"] == "done" || (*r)["state"] == "failed")) {
      final_round = *r;
      done_ms = Ms(Clock::now() - killed_at);
      break;
    }
    std::this_thread::sleep_for(10ms);
  }
  int edges_ok = 0;
  for (auto& e : edges) {
    auto code = e->Wait(15s);
    if (!code.ok()) e->Signal(SIGKILL);
    edges_ok += code.ok() && *code == 0;
  }
  json history = json::array();
  if (auto h = GetJson(url, "/api/v1/rounds"); h.ok()) history = (*h)["items"];
  (*cloud)->Signal(SIGTERM);
  (void)(*cloud)->Wait(10s);

  int64_t failed_attempts = 0, completed = 0, dup_rounds = 0, dup_participants = 0;
  int64_t non_monotonic = 0, last_version = -1;
  std::set<int64_t> completed_ids;
  for (const auto& rec : history) {
    const int64_t id = rec.value("round", int64_t{-1});
    const int64_t v = rec.value("model_version", int64_t{0});
    if (rec.value("outcome", "") == "completed") {
      ++completed;
      dup_rounds += !completed_ids.insert(id).second;
      if (v <= last_version) ++non_monotonic;
      last_version = v;
    } else {
      ++failed_attempts;
    }
    std::set<std::string> seen;
    for (const auto& p : rec.value("participants", json::array()))
      dup_participants += !seen.insert(p.is_string() ? p.get<std::string>() : p.dump()).second;
  }
  const int64_t final_version = final_round.value("model_version", int64_t{-1});
  t.counts = {{"rounds_done_before_kill", before.value("completed_rounds", int64_t{0})},
              {"model_version_before_kill", before.value("model_version", int64_t{0})},
              {"model_version_after_restart", after_restart.value("model_version", int64_t{-1})},
              {"rounds_completed_after_restart", completed},
              {"failed_attempts_after_restart", failed_attempts},
              {"duplicate_rounds", dup_rounds},
              {"duplicate_participants", dup_participants},
              {"edges_exit_0", edges_ok}};
  t.times_ms = {{"restart_ms", restart_ms}, {"kill_to_done_ms", done_ms}};
  if (done_ms < 0 || final_round.value("state", "") != "done")
    t.failures.push_back("the restarted federation did not finish its rounds within 60 s (state " +
                         final_round.value("state", std::string("?")) + ")");
  if (final_version != kRounds + 1)
    t.failures.push_back("final model version " + std::to_string(final_version) + ", want " +
                         std::to_string(kRounds + 1));
  if (after_restart.value("model_version", int64_t{-1}) < before.value("model_version", int64_t{0}))
    t.failures.push_back("the restart lost completed rounds (model version went back)");
  if (dup_rounds > 0) t.failures.push_back("a round id completed twice");
  if (dup_participants > 0) t.failures.push_back("a node counted twice in one round");
  if (non_monotonic > 0) t.failures.push_back("model version not monotonic in the round log");
  if (edges_ok != 2) t.failures.push_back(std::to_string(2 - edges_ok) + " edge(s) did not exit 0");
  if (!t.ok()) std::ofstream(dir + "/cloud.stderr") << (*cloud)->Stderr();
  std::error_code ec;
  if (t.ok() && !o.keep_dirs) std::filesystem::remove_all(dir, ec);
  return t;
}

}  // namespace strata::chaos
