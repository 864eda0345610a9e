// End-to-end receipts over a real mosquitto with the real binaries (docs/reliability.md, MQTT row):
// a publisher with a durable outbox (MqttOutbox) sends 300 numbered events to strata-segment on
// strata/seg/<node>/events/<publisher> while segment is SIGKILLed 3 times and restarted: once every
// receipt is in, each event is stored exactly once — 0 lost, 0 duplicates (the plain events topic
// may lose the message in hand, see segment_mqtt_kill_test.cc). Then `strata segment replay --mqtt`
// is SIGKILLed mid-file (holding undelivered rows, as segment was killed first) and rerun with the
// same --outbox: the held rows and the rest of the file are delivered, nothing twice.
// Run: ctest -R segment_mqtt_receipts_test
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "segment_receipts.h"
#include "strata/store/sqlite.h"
#include "strata/testing/fixtures.h"
#include "strata/transport/mqtt_outbox.h"

namespace strata {
namespace {

const std::string kSegment = std::string(STRATA_BINARY_DIR) + "/bin/strata-segment";
const std::string kStrata = std::string(STRATA_BINARY_DIR) + "/bin/strata";

struct Counts {
  int64_t rows = 0, distinct = 0;
};

// Rows and distinct ids of events whose id starts with `prefix`; zeros while there is no database.
Counts Stored(const std::string& db_path, const std::string& prefix) {
  Counts c;
  auto db = store::Database::Open(db_path, {.create = false, .read_only = true});
  if (!db.ok()) return c;
  auto st = (*db)->Prepare(
      "SELECT COUNT(*), COUNT(DISTINCT event_id) FROM seg_events WHERE event_id LIKE ?");
  if (!st.ok()) return c;
  st->Bind(1, prefix + "%");
  auto row = st->Step();
  if (row.ok() && *row) c = {st->ColumnInt(0), st->ColumnInt(1)};
  return c;
}

// Rows in a publisher's outbox file (read while the publisher runs or after it was killed).
int64_t OutboxRows(const std::string& path) {
  auto db = store::Database::Open(path, {.create = false, .read_only = true});
  if (!db.ok()) return 0;
  auto st = (*db)->Prepare("SELECT COUNT(*) FROM outbox");
  if (!st.ok()) return 0;
  auto row = st->Step();
  return row.ok() && *row ? st->ColumnInt(0) : 0;
}

std::string Event(const std::string& prefix, int i) {
  return nlohmann::json{{"customer_id", "rc-" + std::to_string(i % 8)},
                        {"ts", 1700000000 + i},
                        {"type", "purchase"},
                        {"amount", 1.0 + i % 50},
                        {"quantity", 1},
                        {"id", prefix + std::to_string(i)}}
      .dump();
}

class Segment {
 public:
  Segment(const testing::TempDir& dir, int generation) {
    port_file_ = dir.File("port-" + std::to_string(generation));
    auto p = testing::Subprocess::Start({kSegment, "--config", dir.File("segment.yaml"), "--port",
                                         "0", "--port-file", port_file_, "--data-dir", dir.path()});
    if (p.ok()) proc_ = std::move(p).value();
  }
  bool Ready() {
    return proc_ && testing::WaitForPortFile(port_file_, std::chrono::seconds(15)).ok();
  }
  testing::Subprocess* proc() { return proc_.get(); }

 private:
  std::string port_file_;
  std::unique_ptr<testing::Subprocess> proc_;
};

struct Fixture {
  std::unique_ptr<testing::MosquittoBroker> broker;
  testing::TempDir dir;
  std::string db;
  bool Setup(const std::string& node) {
    auto b = testing::MosquittoBroker::Start();
    if (!b.ok()) return false;
    broker = std::move(b).value();
    std::ofstream cfg(dir.File("segment.yaml"));
    cfg << "segment:\n  node: " << node << "\nmqtt:\n  uri: " << broker->uri() << "\n";
    db = dir.File("segment_profiles.db");
    return true;
  }
};

TEST(SegmentReceiptsTest, TopicNamesThePublisherAndReceiptsListStoredAndRejectedIds) {
  EXPECT_EQ(segment_service::PublisherOf("strata/seg/n1/events/shop-7", "n1"), "shop-7");
  EXPECT_EQ(segment_service::PublisherOf("strata/seg/n1/events", "n1"), "");
  EXPECT_EQ(segment_service::PublisherOf("strata/seg/n2/events/shop-7", "n1"), "");
  EXPECT_EQ(segment_service::PublisherOf("strata/seg/n1/events/a b", "n1"), "");
  const std::string payload = Event("x-", 1) + "\n{\"id\":\"x-2\",\"type\":\"bogus\"}\n";
  codec::EventBatch batch = codec::DecodeEventsNdjson(payload, 100);
  ASSERT_EQ(batch.errors.size(), 1u);
  segment_service::IngestedIds ids{.stored = {"x-1"}, .rejected = {}};
  auto r = segment_service::ReceiptPayloads(payload, batch, ids, 12.5);
  ASSERT_EQ(r.size(), 1u);
  auto j = nlohmann::json::parse(r[0]);
  EXPECT_EQ(j["ids"], nlohmann::json::array({"x-1"}));
  ASSERT_EQ(j["rejected"].size(), 1u);
  EXPECT_EQ(j["rejected"][0]["id"], "x-2");
  EXPECT_EQ(j["ts"], 12.5);
  // Several bad lines, the last without a newline: each is named by its own line's id.
  const std::string many = Event("y-", 1) + "\n{\"id\":\"y-2\",\"type\":\"bogus\"}\n" +
                           Event("y-", 3) + "\n{\"id\":\"y-4\",\"ts\":\"soon\"}";
  codec::EventBatch bad = codec::DecodeEventsNdjson(many, 100);
  ASSERT_EQ(bad.errors.size(), 2u);
  auto m = nlohmann::json::parse(segment_service::ReceiptPayloads(many, bad, {}, 1).at(0));
  ASSERT_EQ(m["rejected"].size(), 2u);
  EXPECT_EQ(m["rejected"][0]["id"], "y-2");
  EXPECT_EQ(m["rejected"][1]["id"], "y-4");
  codec::EventBatch none =
      codec::DecodeEventsNdjson("{\"customer_id\":\"c\",\"ts\":1,\"type\":\"view\"}", 10);
  EXPECT_TRUE(segment_service::ReceiptPayloads("", none, {}, 1).empty());  // no ids: no receipt
}

TEST(SegmentReceiptsTest, OutboxDeliversEveryEventExactlyOnceAcrossThreeSegmentKills) {
  Fixture f;
  if (!f.Setup("rcpt")) GTEST_SKIP() << "mosquitto not available";
  int generation = 0;
  auto seg = std::make_unique<Segment>(f.dir, generation++);
  ASSERT_TRUE(seg->Ready()) << seg->proc()->Stderr();

  auto box = mqtt::MqttOutbox::Open({.path = f.dir.File("pub/outbox.db"),
                                     .name = "e2e",
                                     .events_topic = "strata/seg/rcpt/events/pub-a",
                                     .receipts_topic = "strata/seg/rcpt/receipts/pub-a",
                                     .resend_after = std::chrono::milliseconds(1000),
                                     .batch_rows = 10});
  ASSERT_TRUE(box.ok()) << box.status();
  ASSERT_TRUE((*box)
                  ->Start({.uri = f.broker->uri(),
                           .client_id = "rcpt-pub-a",
                           .clean_session = false,
                           .reconnect_max_s = 1},
                          std::chrono::seconds(5))
                  .ok());
  constexpr int kEvents = 300, kKills = 3;
  std::atomic<int> enqueued{0};
  std::thread producer([&] {  // ~3 s of steady traffic, one durable row at a time
    for (int i = 0; i < kEvents; ++i) {
      if (!(*box)->Enqueue({{"e-" + std::to_string(i), Event("e-", i)}}).ok()) return;
      enqueued++;
      std::this_thread::sleep_for(std::chrono::milliseconds(8));
    }
  });
  std::random_device rd;
  unsigned seed = rd();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  for (int k = 0; k < kKills; ++k) {
    // Kill somewhere inside the k-th third of the stream.
    int at =
        k * kEvents / kKills + std::uniform_int_distribution<int>(10, kEvents / kKills - 10)(rng);
    for (int i = 0; i < 1000 && enqueued < at; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    seg->proc()->Signal(SIGKILL);
    auto code = seg->proc()->Wait(std::chrono::seconds(10));
    ASSERT_TRUE(code.ok());
    EXPECT_EQ(*code, 128 + SIGKILL);
    seg = std::make_unique<Segment>(f.dir, generation++);
    ASSERT_TRUE(seg->Ready()) << seg->proc()->Stderr();
  }
  producer.join();
  ASSERT_EQ(enqueued.load(), kEvents);
  ASSERT_TRUE((*box)->WaitEmpty(std::chrono::seconds(20)))
      << (*box)->stats().pending << " rows never receipted; segment: " << seg->proc()->Stderr();
  mqtt::OutboxStats st = (*box)->stats();
  seg->proc()->Signal(SIGTERM);
  (void)seg->proc()->Wait(std::chrono::seconds(10));
  Counts c = Stored(f.db, "e-");
  std::printf(
      "outbox: %d events, %lld published, %lld resent, %lld receipted; segment stored %lld "
      "distinct in %lld rows over %d kills\n",
      kEvents, static_cast<long long>(st.published), static_cast<long long>(st.resent),
      static_cast<long long>(st.receipted), static_cast<long long>(c.distinct),
      static_cast<long long>(c.rows), kKills);
  RecordProperty("resent", static_cast<int>(st.resent));
  EXPECT_EQ(c.distinct, kEvents) << "lost " << kEvents - c.distinct;
  EXPECT_EQ(c.rows, c.distinct) << "an event was stored twice";
  EXPECT_EQ(st.receipted, kEvents);
  EXPECT_EQ(st.rejected, 0);
}

TEST(SegmentReceiptsTest, ReplayKilledMidFileResumesFromItsOutbox) {
  Fixture f;
  if (!f.Setup("rply")) GTEST_SKIP() << "mosquitto not available";
  auto seg = std::make_unique<Segment>(f.dir, 0);
  ASSERT_TRUE(seg->Ready()) << seg->proc()->Stderr();
  constexpr int kEvents = 300;
  const std::string events = f.dir.File("events.ndjson");
  {
    std::ofstream out(events);
    for (int i = 0; i < kEvents; ++i) out << Event("p-", i) << "\n";  // 1 s apart in event time
  }
  // --speed 100: 10 ms per event, ~3 s for the file; killed once some events are stored.
  std::vector<std::string> argv = {kStrata,
                                   "segment",
                                   "replay",
                                   events,
                                   "--mqtt",
                                   f.broker->uri(),
                                   "--node",
                                   "rply",
                                   "--outbox",
                                   f.dir.File("replay.db"),
                                   "--publisher",
                                   "cli-1",
                                   "--speed",
                                   "100",
                                   "--batch",
                                   "20",
                                   "--resend-after-s",
                                   "1",
                                   "--timeout-s",
                                   "25",
                                   "--json"};
  auto first = testing::Subprocess::Start(argv);
  ASSERT_TRUE(first.ok()) << first.status();
  for (int i = 0; i < 750 && Stored(f.db, "p-").distinct < 60; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_GE(Stored(f.db, "p-").distinct, 60) << (*first)->Stderr();
  // Segment goes first, so the publisher dies holding undelivered rows in its outbox.
  seg->proc()->Signal(SIGKILL);
  ASSERT_TRUE(seg->proc()->Wait(std::chrono::seconds(10)).ok());
  const std::string outbox = f.dir.File("replay.db");
  for (int i = 0; i < 500 && OutboxRows(outbox) < 20; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  (*first)->Signal(SIGKILL);
  auto code = (*first)->Wait(std::chrono::seconds(10));
  ASSERT_TRUE(code.ok());
  ASSERT_EQ(*code, 128 + SIGKILL) << "replay finished before the kill: " << (*first)->Stdout();
  const int64_t before = Stored(f.db, "p-").distinct, held = OutboxRows(outbox);
  ASSERT_LT(before, kEvents);
  ASSERT_GE(held, 20) << "the killed publisher held no undelivered rows";
  seg = std::make_unique<Segment>(f.dir, 1);
  ASSERT_TRUE(seg->Ready()) << seg->proc()->Stderr();

  auto speed = std::find(argv.begin(), argv.end(), "--speed");
  ASSERT_NE(speed, argv.end());
  *(speed + 1) = "0";  // the rest as fast as possible
  auto second = testing::Run(argv, std::chrono::seconds(28));
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->exit_code, 0) << second->out << second->err;
  auto summary = nlohmann::json::parse(second->out, nullptr, false);
  ASSERT_TRUE(summary.is_object()) << second->out;
  EXPECT_EQ(summary["mode"], "mqtt");
  EXPECT_GE(summary["resumed_from"].get<int64_t>(), before);  // did not start over
  EXPECT_EQ(summary["resumed_from"].get<int64_t>() + summary["enqueued"].get<int64_t>(), kEvents);
  EXPECT_EQ(summary["rejected"], 0);
  seg->proc()->Signal(SIGTERM);
  (void)seg->proc()->Wait(std::chrono::seconds(10));
  Counts c = Stored(f.db, "p-");
  std::printf(
      "replay killed at %lld stored, %lld rows in its outbox; rerun resumed after %lld, "
      "enqueued %lld: %lld distinct in %lld rows\n",
      static_cast<long long>(before), static_cast<long long>(held),
      static_cast<long long>(summary["resumed_from"]), static_cast<long long>(summary["enqueued"]),
      static_cast<long long>(c.distinct), static_cast<long long>(c.rows));
  EXPECT_EQ(c.distinct, kEvents);
  EXPECT_EQ(c.rows, c.distinct);
}

TEST(SegmentReceiptsTest, ReplayRefusesMqttWithoutOutboxOrNode) {
  auto r = testing::Run({kStrata, "segment", "replay", "/nonexistent.ndjson", "--mqtt",
                         "tcp://127.0.0.1:1", "--node", "n"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 2);
  EXPECT_NE(r->err.find("needs --node and --outbox"), std::string::npos) << r->err;
}

}  // namespace
}  // namespace strata
