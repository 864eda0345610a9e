// The `broker` chaos class (fault_class.h): a real mosquitto (persistence on) and a real
// strata-segment ingesting `strata/seg/chaos/events` (QoS 1, persistent session, event `id` under a
// UNIQUE index). A publisher sends numbered events (`chaos-<n>`) at QoS 1, counting one as
// *acked* only when its PUBLISH got the broker's PUBACK, and republishing (same id) whatever was
// not acked. Mid-stream the broker gets SIGTERM (even trials) or SIGKILL (odd trials), stays down
// for a random 0.2–1.5 s and is restarted on the same port and persistence file. Measured: acked
// events missing from segment_profiles.db at the end (`lost`), duplicate rows, and
// `resubscribe_ms` = broker restart → first stored event whose publish was acked after the
// restart (the publisher reconnects within ~0.3 s; `publisher_reconnect_ms` shows it).
// A trial fails on a lost acked event (after SIGKILL: more than the autosave window, see below),
// a duplicate row or a harness error.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <set>
#include <thread>

#include "chaos.h"
#include "fault_class.h"
#include "strata/core/rng.h"
#include "strata/store/sqlite.h"
#include "strata/testing/fixtures.h"
#include "strata/transport/mqtt.h"
#include "target.h"

namespace strata::chaos {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr char kTopic[] = "strata/seg/chaos/events";

std::string Event(const std::string& id, int number) {
  return nlohmann::json{{"customer_id", "chaos-c" + std::to_string(number % 8)},
                        {"ts", 1700000000 + number},
                        {"type", "purchase"},
                        {"amount", 1.0 + number % 50},
                        {"quantity", 1},
                        {"product", "p" + std::to_string(number % 5)},
                        {"id", id}}
      .dump();
}

// event_id → rows in seg_events (empty while the file does not exist yet).
std::map<std::string, int64_t> StoredEvents(const std::string& db_path) {
  auto db = store::Database::Open(db_path, {.create = false, .read_only = true});
  if (!db.ok()) return {};
  auto rows = CountsByKey(**db,
                          "SELECT event_id, COUNT(*) FROM seg_events WHERE event_id LIKE "
                          "'chaos-%' GROUP BY event_id");
  return rows.ok() ? *rows : std::map<std::string, int64_t>{};
}

// The publisher: a fresh clean-session client whenever the connection is gone (so it is back
// within a few hundred ms of the broker, instead of paho's 1–8 s reconnect backoff).
struct Publisher {
  std::string uri;
  uint64_t seed = 0;
  int total = 0;
  std::vector<Clock::time_point> acked_at;  // index = number - 1; epoch = not acked
  std::atomic<int> published{0};
  std::atomic<int64_t> republished{0};
  std::atomic<bool> stop{false};
  std::string error;

  void Run() {
    std::unique_ptr<mqtt::MqttClient> client;
    int generation = 0;
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    for (int n = 1; n <= total && !stop; ++n) {
      bool first_try = true;
      while (!stop) {
        if (Clock::now() > deadline) {
          error = "publisher gave up at event " + std::to_string(n) + " after 60 s";
          return;
        }
        if (!first_try) ++republished;
        first_try = false;
        if (!client || !client->IsConnected()) {
          client.reset();
          auto c = mqtt::MqttClient::Create({.uri = uri,
                                             .client_id = "chaos-pub-" + std::to_string(seed) +
                                                          "-" + std::to_string(generation++),
                                             .op_timeout = milliseconds(1000)});
          if (!c.ok() || !(*c)->Connect(milliseconds(300)).ok()) {
            first_try = true;  // nothing was sent
            std::this_thread::sleep_for(milliseconds(20));
            continue;
          }
          client = std::move(c).value();
        }
        if (client->Publish(kTopic, Event(MessageId(n), n), 1).ok()) {
          acked_at[n - 1] = Clock::now();
          break;
        }
        client.reset();  // no PUBACK: drop the client (no late resend), republish the same id
        std::this_thread::sleep_for(milliseconds(10));
      }
      published = n;
      std::this_thread::sleep_for(milliseconds(2));
    }
  }
};

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

FaultTrial RunBrokerTrial(int trial, const ChaosOptions& o) {
  FaultTrial t;
  t.fault_class = "broker";
  t.trial = trial;
  t.trial_seed = TrialSeed(o.seed, "broker", trial);
  const int sig = trial % 2 == 0 ? SIGTERM : SIGKILL;
  t.variant = sig == SIGTERM ? "sigterm" : "sigkill";
  Rng rng(t.trial_seed);
  const int total = std::max(20, o.messages * 5);
  const int kill_at = static_cast<int>(rng.UniformInt(total / 4, total / 2));
  const int down_ms = static_cast<int>(rng.UniformInt(200, 1500));
  const std::string dir = FreshTrialDir(o, "broker", trial);
  t.data_dir = dir;
  const std::string db_path = dir + "/data/segment_profiles.db";

  testing::BrokerOptions bo{.persistence = true};
  // mosquitto started as root drops to user "mosquitto", which cannot write the persistence file
  // in our directory ("Error: Permission denied" at every save): stay root then.
  if (getuid() == 0) bo.extra_config = "user root\n";
  // STRATA_CHAOS_BROKER_LOG=1: mosquitto logs every connect/subscribe to stderr (debugging).
  if (const char* v = std::getenv("STRATA_CHAOS_BROKER_LOG"); v && *v == '1')
    bo.extra_config += "log_type all\n";
  if (o.broker_autosave_changes > 0) {
    bo.extra_config += "autosave_on_changes true\nautosave_interval " +
                       std::to_string(o.broker_autosave_changes) + "\n";
    t.note = "mosquitto persistence on, saved every " + std::to_string(o.broker_autosave_changes) +
             " change(s) (autosave_on_changes)";
  } else {
    t.note = "mosquitto persistence on, default autosave (every 1800 s and at shutdown)";
  }
  auto broker = testing::MosquittoBroker::Start(bo);
  if (!broker.ok()) {
    t.error = "mosquitto: " + broker.status().message();
    return t;
  }
  auto seg = StartService(o, "segment", dir + "/data",
                          "segment:\n  node: chaos\nmqtt:\n  uri: " + (*broker)->uri() + "\n");
  if (!seg.ok()) {
    t.error = seg.status().message();
    return t;
  }
  // The subscription is sent after the connect: wait until a probe is stored, so the broker
  // holds segment's persistent session before the publisher starts.
  {
    auto probe = mqtt::MqttClient::Create({.uri = (*broker)->uri(), .client_id = "chaos-probe"});
    bool stored = false;
    if (probe.ok() && (*probe)->Connect(std::chrono::seconds(5)).ok() &&
        (*probe)->Publish(kTopic, Event("chaos-probe", 0), 1).ok())
      for (int i = 0; i < 500 && !stored; ++i) {  // bounded: 10 s
        stored = StoredEvents(db_path).count("chaos-probe") > 0;
        if (!stored) std::this_thread::sleep_for(milliseconds(20));
      }
    if (!stored) {
      t.error = "segment never stored the probe event (not subscribed?)";
      return t;
    }
  }

  Publisher pub;
  pub.uri = (*broker)->uri();
  pub.seed = t.trial_seed;
  pub.total = total;
  pub.acked_at.assign(total, Clock::time_point{});
  std::thread pub_thread([&pub] { pub.Run(); });
  for (int i = 0; i < 4000 && pub.published < kill_at; ++i)  // bounded: 20 s
    std::this_thread::sleep_for(milliseconds(5));
  const auto killed_at = Clock::now();
  (*broker)->Stop(sig);
  std::this_thread::sleep_for(milliseconds(down_ms));
  Status restarted = (*broker)->Restart();
  const auto restart_at = Clock::now();
  if (!restarted.ok()) {
    pub.stop = true;
    pub_thread.join();
    t.error = "mosquitto restart: " + restarted.message();
    return t;
  }

  // Poll the file: first time each id is seen. Ends when the publisher is done and every acked
  // id is stored, or 15 s after the publisher finished (the rest is lost).
  std::map<std::string, Clock::time_point> first_seen;
  bool pub_done = false;
  Clock::time_point pub_done_at{};
  for (int i = 0; i < 5000; ++i) {  // bounded: ~100+ s in all
    if (!pub_done && pub.published >= total) {
      pub_done = true;
      pub_done_at = Clock::now();
    }
    const auto now = Clock::now();
    for (const auto& [id, rows] : StoredEvents(db_path)) first_seen.emplace(id, now);
    if (pub_done) {
      bool all = true;
      for (int n = 1; n <= total && all; ++n)
        all = pub.acked_at[n - 1] == Clock::time_point{} || first_seen.count(MessageId(n));
      if (all || Clock::now() - pub_done_at > std::chrono::seconds(15)) break;
    }
    if (!pub_done && Clock::now() - restart_at > std::chrono::seconds(90)) break;
    std::this_thread::sleep_for(milliseconds(20));
  }
  pub.stop = true;
  pub_thread.join();
  if (!pub.error.empty()) t.error = pub.error;
  if (!(*seg)->Stop()) t.failures.push_back("strata-segment did not stop on SIGTERM in 10 s");
  (*broker)->Stop(SIGTERM);
  const auto stored = StoredEvents(db_path);

  int64_t acked = 0, lost = 0, acked_before_kill = 0, duplicates = 0, after_restart = 0;
  double resubscribe = -1, reconnect = -1;
  std::vector<std::string> lost_ids;
  for (int n = 1; n <= total; ++n) {
    const auto at = pub.acked_at[n - 1];
    if (at == Clock::time_point{}) continue;
    ++acked;
    acked_before_kill += at < killed_at;
    const std::string id = MessageId(n);
    if (!stored.count(id)) {
      ++lost;
      if (lost_ids.size() < 8) lost_ids.push_back(id);
    }
    if (at >= restart_at) {
      ++after_restart;
      const double r = Ms(at - restart_at);
      if (reconnect < 0 || r < reconnect) reconnect = r;
      if (auto it = first_seen.find(id); it != first_seen.end()) {
        const double s = Ms(it->second - restart_at);
        if (resubscribe < 0 || s < resubscribe) resubscribe = s;
      }
    }
  }
  for (const auto& [id, rows] : stored) duplicates += rows - 1;
  t.counts = {
      {"events", total},
      {"acked", acked},
      {"acked_before_kill", acked_before_kill},
      {"acked_after_restart", after_restart},
      {"republished", pub.republished.load()},
      {"stored", static_cast<int64_t>(stored.size()) - (stored.count("chaos-probe") ? 1 : 0)},
      {"lost", lost},
      {"duplicates", duplicates},
      {"resubscribe_over_5s", resubscribe > 5000 || (after_restart > 0 && resubscribe < 0)}};
  t.times_ms = {
      {"down_ms", down_ms}, {"resubscribe_ms", resubscribe}, {"publisher_reconnect_ms", reconnect}};
  // SIGKILL: mosquitto PUBACKs a message before its next autosave, so a kill may lose the acked
  // messages of the changes since the last save — at most `broker_autosave_changes` of them.
  // That is reported (lost, lost_unsaved_allowed) but fails the trial only beyond the window;
  // with the default autosave (every 1800 s) or after SIGTERM every lost message fails it.
  const int64_t allowed =
      sig == SIGKILL && o.broker_autosave_changes > 0 ? o.broker_autosave_changes : 0;
  t.counts["lost_unsaved_allowed"] = std::min(lost, allowed);
  if (lost > allowed) {
    std::string ids;
    for (const auto& id : lost_ids) ids += (ids.empty() ? "" : ", ") + id;
    t.failures.push_back(std::to_string(lost) + " acknowledged event(s) lost [" + ids + "]");
  }
  if (duplicates > 0) t.failures.push_back(std::to_string(duplicates) + " duplicate row(s)");
  if (after_restart > 0 && resubscribe < 0)
    t.failures.push_back("no event published after the restart was stored");
  std::error_code ec;
  if (t.ok() && !o.keep_dirs) std::filesystem::remove_all(dir, ec);
  return t;
}

}  // namespace strata::chaos
