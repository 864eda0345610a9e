// strata-notify acknowledgements and event filters against a real server on port 0 and SQLite in
// a TempDir (no MQTT): POST /api/v1/events/{id}/ack (idempotent, survives updates and restarts,
// migrates databases made before acks), GET /api/v1/events?since_ms=&acknowledged=, bad input.
#include "notify_test_util.h"
#include "strata/store/sqlite.h"

namespace strata::notify_service {
namespace {

constexpr int64_t kStartMs = 1'800'000'000'000;  // the fixture's ManualClock

class NotifyAckTest : public NotifyFixture {
 protected:
  void SetUp() override { StartService(BaseConfig()); }
  Result<http::ClientResponse> Ack(const std::string& id, const std::string& body,
                                   const std::string& type = "application/json") {
    return client_->Post("/api/v1/events/" + id + "/ack", body, type);
  }
  json AckOk(const std::string& id, const std::string& by) {
    auto r = Ack(id, json{{"by", by}}.dump());
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return json();
    EXPECT_EQ(r->status, 200) << r->body;
    return r->Json().value_or(json());
  }
  std::vector<std::string> Ids(const std::string& query) {
    std::vector<std::string> ids;
    json page = GetJson("/api/v1/events" + query);
    for (const json& e : page["events"]) ids.push_back(e["alert_id"].get<std::string>());
    return ids;
  }
  void ExpectProblem(const Result<http::ClientResponse>& r, int status, const std::string& what,
                     const std::string& mentions) {
    ASSERT_TRUE(r.ok()) << what << ": " << r.status();
    EXPECT_EQ(r->status, status) << what << ": " << r->body;
    EXPECT_EQ(r->Header("content-type").rfind("application/problem+json", 0), 0u) << what;
    auto j = r->Json();
    ASSERT_TRUE(j.ok()) << what;
    EXPECT_NE((*j)["detail"].get<std::string>().find(mentions), std::string::npos)
        << what << ": " << (*j)["detail"];
    EXPECT_EQ(client_->Get("/healthz")->status, 200) << "after " << what;
  }
};

TEST_F(NotifyAckTest, AckIsRecordedOnceKeptAcrossUpdatesAndRestarts) {
  std::string id = PostOk({.track = 1})["alert_id"];
  EXPECT_TRUE(GetJson("/api/v1/events/" + id)["acknowledged"].is_null());
  EXPECT_TRUE(GetJson("/api/v1/events")["events"][0]["acknowledged"].is_null());

  clock_.Advance(std::chrono::seconds(5));
  json acked = AckOk(id, "Zoë Operator");
  EXPECT_EQ(acked["alert_id"], id);
  EXPECT_EQ(acked["camera"], "cam1");
  EXPECT_EQ(acked["acknowledged"], json({{"by", "Zoë Operator"}, {"at_ms", kStartMs + 5000}}));

  clock_.Advance(std::chrono::seconds(5));
  json again = AckOk(id, "bob");  // idempotent: the first ack stays
  EXPECT_EQ(again["acknowledged"]["by"], "Zoë Operator");
  EXPECT_EQ(again["acknowledged"]["at_ms"], kStartMs + 5000);

  // A later phase of the alert rewrites its row; the ack is kept.
  json upd = PostOk({.track = 1, .status = "known", .name = "alice"});
  ASSERT_EQ(upd["phase"], "update");
  json ev = GetJson("/api/v1/events/" + id);
  EXPECT_EQ(ev["phase"], "update");
  EXPECT_EQ(ev["acknowledged"]["by"], "Zoë Operator");

  StartService(BaseConfig());  // the same database
  ev = GetJson("/api/v1/events/" + id);
  EXPECT_EQ(ev["acknowledged"], json({{"by", "Zoë Operator"}, {"at_ms", kStartMs + 5000}}));
  clock_.Advance(std::chrono::seconds(40));
  ASSERT_TRUE(service_->Sweep().ok());  // the end phase keeps it too
  ev = GetJson("/api/v1/events/" + id);
  EXPECT_EQ(ev["phase"], "end");
  EXPECT_EQ(ev["acknowledged"]["by"], "Zoë Operator");
  auto metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find("strata_notify_acks_total"), std::string::npos);
}

TEST_F(NotifyAckTest, SinceAndAcknowledgedFilterTheLog) {
  std::string a = PostOk({.track = 1})["alert_id"];
  clock_.Advance(std::chrono::seconds(10));
  std::string b = PostOk({.track = 2})["alert_id"];
  clock_.Advance(std::chrono::seconds(10));
  std::string c = PostOk({.track = 3})["alert_id"];
  AckOk(b, "ops");

  EXPECT_EQ(Ids(""), (std::vector<std::string>{c, b, a}));
  EXPECT_EQ(Ids("?acknowledged=true"), (std::vector<std::string>{b}));
  EXPECT_EQ(Ids("?acknowledged=false"), (std::vector<std::string>{c, a}));
  // since_ms is inclusive: b started exactly at kStartMs + 10000.
  EXPECT_EQ(Ids("?since_ms=" + std::to_string(kStartMs + 10000)), (std::vector<std::string>{c, b}));
  EXPECT_EQ(Ids("?since_ms=" + std::to_string(kStartMs + 10001)), (std::vector<std::string>{c}));
  EXPECT_EQ(Ids("?since_ms=0"), (std::vector<std::string>{c, b, a}));
  EXPECT_EQ(Ids("?since_ms=" + std::to_string(kStartMs + 10000) + "&acknowledged=false"),
            (std::vector<std::string>{c}));
  // Filters combine with paging.
  json page = GetJson("/api/v1/events?acknowledged=false&limit=1");
  ASSERT_EQ(page["events"].size(), 1u);
  EXPECT_EQ(page["next"], c);
  EXPECT_EQ(Ids("?acknowledged=false&limit=1&before=" + c), (std::vector<std::string>{a}));
}

TEST_F(NotifyAckTest, BadAcksAndFiltersAreProblems) {
  std::string id = PostOk({.track = 1})["alert_id"];
  std::string unknown = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
  ExpectProblem(Ack(unknown, R"({"by":"ops"})"), 404, "unknown id", unknown);
  ExpectProblem(Ack("not-a-ulid", R"({"by":"ops"})"), 400, "bad id", "not a ULID");
  ExpectProblem(Ack(id, "{\"by\":"), 400, "malformed JSON", "malformed JSON");
  ExpectProblem(Ack(id, ""), 400, "empty body", "empty");
  ExpectProblem(Ack(id, "[1]"), 400, "not an object", "JSON object");
  ExpectProblem(Ack(id, R"({"who":"ops"})"), 422, "missing by", "body.by");
  ExpectProblem(Ack(id, R"({"by":7})"), 422, "by not a string", "body.by");
  ExpectProblem(Ack(id, R"({"by":""})"), 422, "empty by", "1..64");
  ExpectProblem(Ack(id, R"({"by":"   "})"), 422, "blank by", "1..64");
  ExpectProblem(Ack(id, json{{"by", std::string(65, 'x')}}.dump()), 422, "long by", "1..64");
  ExpectProblem(Ack(id, R"({"by":"a\u0007b"})"), 422, "control char", "control");
  ExpectProblem(Ack(id, R"({"by":"ops"})", "text/plain"), 415, "content type", "application/json");
  EXPECT_TRUE(GetJson("/api/v1/events/" + id)["acknowledged"].is_null());  // nothing was recorded
  EXPECT_EQ(AckOk(id, std::string(64, 'x'))["acknowledged"]["by"], std::string(64, 'x'));

  ExpectProblem(client_->Get("/api/v1/events?since_ms=abc"), 400, "since_ms text", "since_ms");
  ExpectProblem(client_->Get("/api/v1/events?since_ms=-1"), 400, "since_ms negative", "since_ms");
  ExpectProblem(client_->Get("/api/v1/events?since_ms=281474976710656"), 400, "since_ms > 48 bits",
                "0..281474976710655");
  ExpectProblem(client_->Get("/api/v1/events?since_ms="), 400, "since_ms empty", "since_ms");
  ExpectProblem(client_->Get("/api/v1/events?acknowledged=yes"), 400, "acknowledged",
                "true or false");
}

TEST(NotifyAckMigration, ADatabaseFromBeforeAcksIsMigratedAndKeepsItsEvents) {
  testing::TempDir dir;
  std::string id = "01KB0000000000000000000001";
  {
    auto db = store::Database::Open(dir.File("notify.db"));
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE((*db)
                    ->Exec(R"sql(
      CREATE TABLE alerts(
        alert_id TEXT PRIMARY KEY, camera TEXT NOT NULL, track_id INTEGER NOT NULL,
        event_type TEXT NOT NULL, phase TEXT NOT NULL, ended INTEGER NOT NULL,
        last_seen_ms INTEGER NOT NULL, snapshot INTEGER NOT NULL, snapshot_ms INTEGER NOT NULL,
        snapshot_score REAL NOT NULL, identity_status TEXT NOT NULL, doc TEXT NOT NULL);
      INSERT INTO alerts VALUES('01KB0000000000000000000001', 'cam9', 4, 'person', 'end', 1, 5,
        0, 0, -1, 'no_face', '{"alert_id":"01KB0000000000000000000001","camera":"cam9"}');
    )sql")
                    .ok());
  }
  auto store = NotifyStore::Open(dir.File("notify.db"));
  ASSERT_TRUE(store.ok()) << store.status();
  auto rows = (*store)->List({});
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_FALSE((*rows)[0].acknowledged_at_ms.has_value());
  EXPECT_TRUE(EventDoc((*rows)[0])["acknowledged"].is_null());
  bool first = false;
  auto acked = (*store)->Acknowledge(id, "ops", 42, &first);
  ASSERT_TRUE(acked.ok()) << acked.status();
  EXPECT_TRUE(first);
  EXPECT_EQ(EventDoc(*acked)["acknowledged"], json({{"by", "ops"}, {"at_ms", 42}}));
  EXPECT_EQ(EventDoc(*acked)["camera"], "cam9");
  store->reset();
  auto reopened = NotifyStore::Open(dir.File("notify.db"));  // the migration runs once
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  auto again = (*reopened)->Acknowledge(id, "bob", 43, &first);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(first);
  EXPECT_EQ(again->acknowledged_by, "ops");
  EXPECT_EQ(again->acknowledged_at_ms, 42);
}

}  // namespace
}  // namespace strata::notify_service
