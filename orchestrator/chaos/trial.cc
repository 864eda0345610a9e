// One kill -9 trial (see chaos.h): start → load → SIGKILL → check the file the crash left →
// restart → resend what was in flight → read back through the API → stop → check the file again.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "chaos.h"
#include "strata/testing/fixtures.h"
#include "target.h"

namespace strata::chaos {
namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

enum class MsgState { kNotSent, kInFlight, kAcked, kRejected };

struct Ledger {
  std::mutex mu;
  std::vector<MsgState> state;       // index = message number - 1
  std::vector<std::string> receipt;  // per message, from its ack
};

struct Service {
  std::unique_ptr<testing::Subprocess> process;
  int port = 0;
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
};

std::string LastLine(const testing::Subprocess& p) {
  std::string err = p.Stderr();
  while (!err.empty() && (err.back() == '\n' || err.back() == '\r')) err.pop_back();
  size_t nl = err.rfind('\n');
  return nl == std::string::npos ? err : err.substr(nl + 1);
}

// Starts the binary on `data_dir` and waits for /readyz (bounded: 20 s).
Result<Service> Start(const Target& t, const ChaosOptions& o, const std::string& data_dir) {
  const std::string port_file = data_dir + "/../" + t.name() + ".port";
  std::error_code ec;
  fs::remove(port_file, ec);
  std::vector<std::string> argv = {o.bin_dir + "/strata-" + t.name(),
                                   "--port",
                                   "0",
                                   "--port-file",
                                   port_file,
                                   "--data-dir",
                                   data_dir};
  if (!t.ConfigYaml().empty()) {
    const std::string config = data_dir + "/../" + t.name() + ".yaml";
    std::ofstream(config) << t.ConfigYaml();
    argv.insert(argv.end(), {"--config", config});
  }
  Service s;
  STRATA_ASSIGN_OR_RETURN(s.process, testing::Subprocess::Start(argv));
  auto port = testing::WaitForPortFile(port_file, std::chrono::seconds(20));
  if (!port.ok())
    return UnavailableError("strata-" + t.name() + " did not start: " + LastLine(*s.process));
  s.port = *port;
  STRATA_ASSIGN_OR_RETURN(auto client,
                          http::HttpClient::Create({.base_url = s.url(), .max_retries = 0}));
  for (int i = 0; i < 2000; ++i) {  // 2000 x 10 ms
    auto r = client->Get("/readyz");
    if (r.ok() && r->status == 200) return s;
    if (s.process->Wait(std::chrono::milliseconds(0)).ok())
      return UnavailableError("strata-" + t.name() + " exited: " + LastLine(*s.process));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return DeadlineExceededError("strata-" + t.name() + " not ready after 20 s");
}

// Integrity + stored ids of the database file, opened read-only.
struct DbCheck {
  bool integrity_ok = false;
  std::map<std::string, int64_t> stored;
};
Result<DbCheck> CheckDb(const Target& t, const std::string& data_dir) {
  const std::string path = data_dir + "/" + t.DbFile();
  STRATA_ASSIGN_OR_RETURN(auto db,
                          store::Database::Open(path, {.create = false, .read_only = true}));
  DbCheck out;
  out.integrity_ok = db->IntegrityCheck().ok();
  STRATA_ASSIGN_OR_RETURN(out.stored, t.StoredIds(*db));
  return out;
}

// One sender: takes the next message numbers from `next`, sends them, records the outcome;
// stops at the first request without an answer (the process is gone) or when all are sent.
void SenderLoop(const Target& t, const std::string& url, int total, uint64_t seed,
                std::atomic<int>& next, Ledger& ledger) {
  auto client = http::HttpClient::Create({.base_url = url,
                                          .connect_timeout = std::chrono::milliseconds(1000),
                                          .read_timeout = std::chrono::milliseconds(5000),
                                          .max_retries = 0});
  if (!client.ok()) return;
  Rng rng(seed);
  while (true) {
    const int batch = t.BatchSize(rng);
    const int first = next.fetch_add(batch);
    if (first > total) return;
    std::vector<std::string> ids;
    std::vector<int> numbers;
    {
      std::lock_guard lock(ledger.mu);
      for (int n = first; n < first + batch && n <= total; ++n) {
        ids.push_back(MessageId(n));
        numbers.push_back(n);
        ledger.state[n - 1] = MsgState::kInFlight;
      }
    }
    SendResult r = t.Send(**client, ids, numbers);
    std::lock_guard lock(ledger.mu);
    for (int n : numbers) {
      if (r.outcome == SendOutcome::kAcked) {
        ledger.state[n - 1] = MsgState::kAcked;
        ledger.receipt[n - 1] = r.receipt;
      } else if (r.outcome == SendOutcome::kRejected) {
        ledger.state[n - 1] = MsgState::kRejected;
      }
    }
    if (r.outcome == SendOutcome::kNoAnswer) return;
  }
}

}  // namespace

std::string MessageId(int number) { return "chaos-" + std::to_string(number); }

Result<std::map<std::string, int64_t>> CountsByKey(store::Database& db, const std::string& sql) {
  STRATA_ASSIGN_OR_RETURN(auto st, db.Prepare(sql));
  std::map<std::string, int64_t> out;
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out[st.ColumnText(0)] = st.ColumnInt(1);
  }
  return out;
}
int MessageNumber(const std::string& id) {
  if (id.rfind("chaos-", 0) != 0 || id.size() == 6 || id.size() > 15) return -1;
  int n = 0;
  for (size_t i = 6; i < id.size(); ++i) {
    if (id[i] < '0' || id[i] > '9') return -1;
    n = n * 10 + (id[i] - '0');
  }
  return n;
}

TrialResult RunTrial(const std::string& service, int trial, const ChaosOptions& o) {
  auto target = MakeTarget(service);
  if (!target.ok()) {
    TrialResult res;
    res.service = service;
    res.trial = trial;
    res.trial_seed = TrialSeed(o.seed, service, trial);
    res.error = target.status().message();
    return res;
  }
  return RunTrialWith(**target, trial, o);
}

TrialResult RunTrialWith(const Target& t, int trial, const ChaosOptions& o) {
  const std::string service = t.name();
  TrialResult res;
  res.service = service;
  res.trial = trial;
  res.trial_seed = TrialSeed(o.seed, service, trial);
  res.dedupe_promised = t.DedupePromised();
  Rng rng(res.trial_seed);
  res.kill_after_ms =
      static_cast<int>(rng.UniformInt(o.min_kill_ms, std::max(o.min_kill_ms, o.max_kill_ms)));
  const std::string trial_dir = o.work_dir + "/" + service + "-" + std::to_string(trial);
  res.data_dir = trial_dir + "/data";
  std::error_code ec;
  fs::remove_all(trial_dir, ec);
  fs::create_directories(res.data_dir, ec);

  auto first = Start(t, o, res.data_dir);
  if (!first.ok()) {
    res.error = "first start: " + first.status().message();
    return res;
  }
  // Load, then SIGKILL at a random instant.
  const int messages = t.MessagesPerTrial(o.messages);
  Ledger ledger;
  ledger.state.assign(messages, MsgState::kNotSent);
  ledger.receipt.assign(messages, "");
  std::atomic<int> next{1};
  std::vector<std::thread> senders;
  for (int i = 0; i < o.senders; ++i)
    senders.emplace_back(SenderLoop, std::cref(t), first->url(), messages, rng.Next(),
                         std::ref(next), std::ref(ledger));
  std::this_thread::sleep_for(std::chrono::milliseconds(res.kill_after_ms));
  first->process->Signal(SIGKILL);
  auto killed = first->process->Wait(std::chrono::seconds(10));
  for (auto& s : senders) s.join();
  if (!killed.ok()) {
    res.error = "strata-" + service + " did not die on SIGKILL";
    return res;
  }
  std::map<std::string, std::string> acked;  // id → receipt
  std::vector<int> in_flight;
  for (int n = 1; n <= messages; ++n) {
    MsgState s = ledger.state[n - 1];
    res.sent += s != MsgState::kNotSent;
    if (s == MsgState::kAcked) acked[MessageId(n)] = ledger.receipt[n - 1];
    if (s == MsgState::kInFlight) in_flight.push_back(n);
  }
  res.acked = static_cast<int64_t>(acked.size());
  res.in_flight = static_cast<int64_t>(in_flight.size());
  std::set<std::string> lost;

  // 1. The file exactly as the crash left it.
  auto crash = CheckDb(t, res.data_dir);
  std::map<std::string, int64_t> stored_at_crash;
  if (!crash.ok()) {
    // No file at all is fine only when nothing was acknowledged.
    if (res.acked > 0) res.error = "after the crash: " + crash.status().message();
  } else {
    res.integrity_failures += !crash->integrity_ok;
    stored_at_crash = crash->stored;
    res.stored_after_crash = static_cast<int64_t>(crash->stored.size());
    for (const auto& [id, receipt] : acked)
      if (!crash->stored.count(id)) lost.insert(id);
  }

  // 2. Restart on the same data dir.
  auto t0 = Clock::now();
  auto second = Start(t, o, res.data_dir);
  if (!second.ok()) {
    res.error = "restart after SIGKILL: " + second.status().message();
    return res;
  }
  res.restart_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  auto client = http::HttpClient::Create({.base_url = second->url(), .max_retries = 0});
  if (!client.ok()) {
    res.error = client.status().message();
    return res;
  }
  std::set<std::string> resent_acked;
  // 3. Resend what was in flight, with the same ids (a client that never got its answer).
  for (int n : in_flight) {
    const std::string id = MessageId(n);
    SendResult r;
    for (int attempt = 0; attempt < 5 && r.outcome != SendOutcome::kAcked; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      r = t.Send(**client, {id}, {n});
    }
    ++res.resent;
    if (r.outcome != SendOutcome::kAcked) {
      res.error = "resend of " + id + " after the restart was not acknowledged: " + r.detail;
      break;
    }
    acked[id] = r.receipt;
    resent_acked.insert(id);
    // A service that promises dedupe must recognise an id it had already stored.
    if (t.DedupePromised() && stored_at_crash.count(id) && !r.duplicate) ++res.duplicates;
  }
  // 4. Read everything acknowledged back through the service.
  auto missing = t.MissingFromApi(**client, acked);
  if (!missing.ok()) {
    if (res.error.empty()) res.error = "read back: " + missing.status().message();
  } else {
    res.api_missing = static_cast<int64_t>(missing->size());
    for (const auto& m : *missing) {
      // Which ack the client holds: the first answer, or only the answer to its resend.
      const std::string id = m.substr(0, m.find(' '));
      res.lost_ids.push_back("api:" + m +
                             (resent_acked.count(id) ? " acked on resend after the restart"
                                                     : " acked before the kill"));
    }
  }
  // 5. Stop cleanly, then the file again.
  second->process->Signal(SIGTERM);
  if (!second->process->Wait(std::chrono::seconds(10)).ok()) {
    second->process->Signal(SIGKILL);
    (void)second->process->Wait(std::chrono::seconds(5));
    if (res.error.empty()) res.error = "strata-" + service + " did not stop on SIGTERM in 10 s";
  }
  auto final_db = CheckDb(t, res.data_dir);
  if (!final_db.ok()) {
    if (res.error.empty()) res.error = "final check: " + final_db.status().message();
  } else {
    res.integrity_failures += !final_db->integrity_ok;
    res.stored = static_cast<int64_t>(final_db->stored.size());
    for (const auto& [id, receipt] : acked)
      if (!final_db->stored.count(id)) lost.insert(id);
    for (const auto& [id, copies] : final_db->stored)
      if (copies > 1) res.duplicates += copies - 1;
  }
  res.lost = static_cast<int64_t>(lost.size());
  for (const auto& id : lost)
    if (res.lost_ids.size() < 10) res.lost_ids.push_back(id);
  if (res.ok() && !o.keep_dirs) fs::remove_all(trial_dir, ec);
  return res;
}

}  // namespace strata::chaos
