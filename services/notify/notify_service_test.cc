// strata-notify against a real server on port 0, a real mosquitto and SQLite in a TempDir: alert
// decisions, dedupe, cooldown, zones, restart, retention, bad input, config and helpers.
#include <filesystem>
#include <fstream>

#include "notify_config.h"
#include "notify_test_util.h"

namespace strata::notify_service {
namespace {

class NotifyServiceTest : public NotifyFixture {
 protected:
  void SetUp() override {
    StartBroker();
    NotifyConfig cfg = BaseConfig();
    cfg.mqtt.url = broker_->uri();
    cfg.mqtt.client_id = "notify-under-test";
    StartService(cfg);
    ASSERT_TRUE(sub_.Start(broker_->uri(), "notify-test-sub").ok());
  }
  AlertCollector sub_;
};

TEST_F(NotifyServiceTest, EveryRouteIsInTheOpenApiDocument) {
  auto m = http::OpenApiMismatches(*server_, OpenApi());
  EXPECT_TRUE(m.empty()) << m.front();
  EXPECT_EQ(GetJson("/api/v1/openapi.json")["openapi"], "3.1.0");
  EXPECT_EQ(client_->Get("/readyz")->status, 200);
}

TEST_F(NotifyServiceTest, OneUnknownTrackSightedTenTimesIsOneAlertAndASecondTrackAnother) {
  std::string first_id;
  for (int i = 0; i < 10; ++i) {
    json d = PostOk({.track = 7});
    ASSERT_EQ(d["event_type"], "unknown_face");
    EXPECT_EQ(d["phase"], i == 0 ? "new" : "none") << i;
    if (i == 0) first_id = d["alert_id"].get<std::string>();
    EXPECT_EQ(d["alert_id"], first_id);
    clock_.Advance(std::chrono::seconds(1));
  }
  json second = PostOk({.track = 8});
  ASSERT_EQ(second["phase"], "new");
  EXPECT_NE(second["alert_id"], first_id);
  // The outbox is drained in order, so once track 8's alert is here all of track 7's are too.
  ASSERT_TRUE(WaitFor([&] { return sub_.Alerts(second["alert_id"], "new").size() == 1; }));
  EXPECT_EQ(sub_.Alerts().size(), 2u);
  auto alerts = sub_.Alerts(first_id, "new");
  ASSERT_EQ(alerts.size(), 1u);
  const json& a = alerts[0];
  EXPECT_EQ(a["camera"], "cam1");
  EXPECT_EQ(a["track_id"], 7);
  EXPECT_EQ(a["label"], "person");
  EXPECT_EQ(a["identity"]["status"], "unknown");
  EXPECT_EQ(a["path"], json({"roof-1", "fog-1", "notify"}));
  EXPECT_EQ(a["hops"][1]["bytes"], 9100);
  EXPECT_NEAR(a["latency_ms"]["end_to_end"].get<double>(), 250.0, 1.0);
  EXPECT_NE(a["snapshot_url"].get<std::string>().find(first_id + "/snapshot.jpg"),
            std::string::npos);
  EXPECT_TRUE(WaitFor([&] { return sub_.Count("strata/camera/cam1/alert/snapshot") == 2; }));
  json page = GetJson("/api/v1/events");
  ASSERT_EQ(page["events"].size(), 2u);
  EXPECT_EQ(page["events"][0]["alert_id"], second["alert_id"]);  // newest first
  EXPECT_TRUE(page["next"].is_null());
  json one = GetJson("/api/v1/events?limit=1");
  ASSERT_EQ(one["events"].size(), 1u);
  json rest = GetJson("/api/v1/events?limit=1&before=" + one["next"].get<std::string>());
  ASSERT_EQ(rest["events"].size(), 1u);
  EXPECT_EQ(rest["events"][0]["alert_id"], first_id);
  EXPECT_EQ(GetJson("/api/v1/events?camera=other")["events"].size(), 0u);
  auto metrics = client_->Get("/metrics");
  EXPECT_NE(metrics->body.find("strata_notify_sightings_total{result=\"deduplicated\"}"),
            std::string::npos);
}

TEST_F(NotifyServiceTest, IdentityDecidedLaterIsExactlyOneUpdate) {
  json d = PostOk({.track = 3});
  ASSERT_EQ(d["phase"], "new");
  std::string id = d["alert_id"];
  for (int i = 0; i < 3; ++i) {
    json u = PostOk({.track = 3, .status = "known", .name = "alice"});
    EXPECT_EQ(u["phase"], i == 0 ? "update" : "none") << i;
    EXPECT_EQ(u["alert_id"], id);
  }
  json flush = PostOk({.track = 4});  // published after track 3's messages
  ASSERT_TRUE(WaitFor([&] { return sub_.Alerts(flush["alert_id"], "new").size() == 1; }));
  auto updates = sub_.Alerts(id, "update");
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0]["identity"]["status"], "known");
  EXPECT_EQ(updates[0]["identity"]["name"], "alice");
  EXPECT_EQ(updates[0]["event_type"], "unknown_face");
  EXPECT_EQ(GetJson("/api/v1/events/" + id)["phase"], "update");
  // A better crop is a material change too (and replaces the snapshot); an equal one is not.
  EXPECT_EQ(PostOk({.track = 4, .score = "0.8"})["phase"], "none");
  std::string better = TestJpeg(60);
  auto u = Post({.track = 4, .score = "0.95"}, better);
  ASSERT_TRUE(u.ok() && u->status == 200);
  json upd = *u->Json();
  EXPECT_EQ(upd["phase"], "update");
  auto snap =
      client_->Get("/api/v1/events/" + upd["alert_id"].get<std::string>() + "/snapshot.jpg");
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->body, better);
  EXPECT_NE(better, jpeg_);
}

TEST_F(NotifyServiceTest, TrackUnseenForTheCooldownEndsTheAlert) {
  json d = PostOk({.track = 5});
  std::string id = d["alert_id"];
  clock_.Advance(std::chrono::seconds(29));
  auto none = service_->Sweep();
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0);
  clock_.Advance(std::chrono::seconds(2));
  auto ended = service_->Sweep();
  ASSERT_TRUE(ended.ok()) << ended.status();
  EXPECT_EQ(*ended, 1);
  ASSERT_TRUE(WaitFor([&] { return sub_.Alerts(id, "end").size() == 1; }));
  json end = sub_.Alerts(id, "end")[0];
  EXPECT_EQ(end["ended_at"], FormatRfc3339(FromUnixSeconds(1'800'000'000)));
  EXPECT_EQ(GetJson("/api/v1/events/" + id)["phase"], "end");
  json again = PostOk({.track = 5});  // the same track after the end: a new alert
  EXPECT_EQ(again["phase"], "new");
  EXPECT_NE(again["alert_id"], id);
}

TEST_F(NotifyServiceTest, TheSweeperThreadAndTheNextSightingEndStaleAlerts) {
  NotifyConfig cfg = BaseConfig();
  cfg.mqtt.url = broker_->uri();
  cfg.sweep_interval = std::chrono::milliseconds(20);
  StartService(cfg);
  std::string swept = PostOk({.track = 1})["alert_id"];
  clock_.Advance(std::chrono::seconds(31));
  EXPECT_TRUE(WaitFor([&] { return sub_.Alerts(swept, "end").size() == 1; }));
  cfg.sweep_interval = std::chrono::hours(1);
  StartService(cfg);
  std::string stale = PostOk({.track = 2})["alert_id"];
  clock_.Advance(std::chrono::seconds(31));
  EXPECT_EQ(GetJson("/api/v1/events/" + stale)["phase"], "new");
  PostOk({.track = 3});  // any sighting checks the cooldowns first
  EXPECT_EQ(GetJson("/api/v1/events/" + stale)["phase"], "end");
}

TEST_F(NotifyServiceTest, PersonInsideAZoneIsAZoneEntryOutsideIsNothing) {
  NotifyConfig cfg = BaseConfig();
  cfg.cameras["gate"] = {Zone{"door", {{0.5, 0.5}, {1, 0.5}, {1, 1}, {0.5, 1}}}};
  StartService(cfg);
  Sight in{.camera = "gate",
           .track = 1,
           .kind = "person",
           .status = "no_face",
           .box = "0.6,0.3,0.8,0.9"};
  json d = PostOk(in);
  EXPECT_EQ(d["phase"], "new");
  EXPECT_EQ(d["event_type"], "zone_entry");
  json ev = GetJson("/api/v1/events/" + d["alert_id"].get<std::string>());
  EXPECT_EQ(ev["zones"], json({"door"}));
  EXPECT_EQ(ev["box"][3], 0.9);
  Sight out = in;
  out.track = 2;
  out.box = "0.6,0.1,0.8,0.4";  // bottom centre (0.7, 0.4) is above the zone
  json none = PostOk(out);
  EXPECT_EQ(none["phase"], "none");
  EXPECT_TRUE(none["alert_id"].is_null());
  EXPECT_TRUE(none["event_type"].is_null());
  out.camera = "yard";  // same box, a camera without zones
  out.box = in.box;
  EXPECT_EQ(PostOk(out)["phase"], "none");
  EXPECT_EQ(GetJson("/api/v1/events?event_type=zone_entry")["events"].size(), 1u);
}

TEST_F(NotifyServiceTest, RestartOnTheSameDataDirKeepsEventsSnapshotsAndOpenAlerts) {
  json d = PostOk({.track = 9});
  std::string id = d["alert_id"];
  NotifyConfig cfg = BaseConfig();
  StartService(cfg);  // no MQTT this time
  json ev = GetJson("/api/v1/events/" + id);
  EXPECT_EQ(ev["track_id"], 9);
  auto snap = client_->Get("/api/v1/events/" + id + "/snapshot.jpg");
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->status, 200);
  EXPECT_EQ(snap->Header("content-type"), "image/jpeg");
  EXPECT_EQ(snap->body, jpeg_);
  json again = PostOk({.track = 9});  // the open alert was resumed: deduplicated
  EXPECT_EQ(again["phase"], "none");
  EXPECT_EQ(again["alert_id"], id);
}

// Found by `strata chaos`: a kill -9 after the commit but before the snapshot's rename left only
// <id>.jpg.tmp, and start-up deleted it. Start-up now completes the rename for committed alerts
// and deletes only the .tmp files of rows that were never committed.
TEST_F(NotifyServiceTest, ACrashBeforeTheSnapshotRenameKeepsTheCommittedSnapshot) {
  json d = PostOk({.track = 4});
  std::string id = d["alert_id"];
  StopService();
  std::string snap_path = dir_.File("snapshots/" + id + ".jpg");
  std::string orphan = dir_.File("snapshots/01J00000000000000000000000.jpg.tmp");
  std::filesystem::rename(snap_path, snap_path + ".tmp");  // the state a crash leaves
  { std::ofstream(orphan) << "never committed"; }
  StartService(BaseConfig());
  auto snap = client_->Get("/api/v1/events/" + id + "/snapshot.jpg");
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->status, 200);
  EXPECT_EQ(snap->body, jpeg_);
  EXPECT_FALSE(std::filesystem::exists(snap_path + ".tmp"));
  EXPECT_FALSE(std::filesystem::exists(orphan));
}

TEST_F(NotifyServiceTest, UnknownFaceSnapshotExpiresButTheEventIsKept) {
  json d = PostOk({.track = 2});
  std::string id = d["alert_id"];
  EXPECT_EQ(client_->Get("/api/v1/events/" + id + "/snapshot.jpg")->status, 200);
  clock_.Advance(std::chrono::hours(71));
  ASSERT_TRUE(service_->Sweep().ok());
  EXPECT_EQ(client_->Get("/api/v1/events/" + id + "/snapshot.jpg")->status, 200);
  clock_.Advance(std::chrono::hours(2));
  ASSERT_TRUE(service_->Sweep().ok());
  auto gone = client_->Get("/api/v1/events/" + id + "/snapshot.jpg");
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->status, 404);
  EXPECT_FALSE(std::filesystem::exists(dir_.File("snapshots/" + id + ".jpg")));
  json ev = GetJson("/api/v1/events/" + id);
  EXPECT_EQ(ev["alert_id"], id);
  EXPECT_TRUE(ev["snapshot_url"].is_null());
}

void ExpectProblem(http::HttpClient& c, const Result<http::ClientResponse>& r, int status,
                   const std::string& what, const std::string& mentions = "") {
  ASSERT_TRUE(r.ok()) << what << ": " << r.status();
  EXPECT_EQ(r->status, status) << what << ": " << r->body;
  EXPECT_EQ(r->Header("content-type").rfind("application/problem+json", 0), 0u) << what;
  auto j = r->Json();
  ASSERT_TRUE(j.ok()) << what;
  EXPECT_EQ((*j)["status"], status) << what;
  if (!mentions.empty()) {
    EXPECT_NE((*j)["detail"].get<std::string>().find(mentions), std::string::npos)
        << what << ": " << (*j)["detail"];
  }
  EXPECT_EQ(c.Get("/healthz")->status, 200) << "after " << what;
}

TEST_F(NotifyServiceTest, BadInputIsAProblemAndTheServiceKeepsServing) {
  std::string corrupt = jpeg_.substr(0, jpeg_.size() / 3);
  std::string bomb = jpeg_;
  size_t sof = bomb.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  for (size_t off : {sof + 5, sof + 7}) {
    bomb[off] = static_cast<char>(20000 >> 8);
    bomb[off + 1] = static_cast<char>(20000 & 0xFF);
  }
  http::HttpClient& c = *client_;
  ExpectProblem(c, Post({}, corrupt), 400, "truncated JPEG");
  ExpectProblem(c, Post({}, "not an image"), 400, "non-image bytes");
  ExpectProblem(c, Post({}, bomb), 400, "20000x20000 header");
  ExpectProblem(c, Post({}, ""), 400, "empty body");
  ExpectProblem(c, Post({}, jpeg_, "text/plain"), 415, "text/plain body");
  ExpectProblem(c, Post({}, std::string((1 << 20) + 10, 'x')), 413, "over limit");
  ExpectProblem(c, Post({.camera = ""}, jpeg_), 400, "missing camera", "X-Strata-Camera");
  ExpectProblem(c, Post({.camera = "Cam 1"}, jpeg_), 400, "bad camera", "X-Strata-Camera");
  ExpectProblem(c, Post({.track = 0}, jpeg_), 400, "track 0", "X-Strata-Track-Id");
  ExpectProblem(c, Post({.kind = "cat"}, jpeg_), 400, "bad kind", "X-Strata-Kind");
  ExpectProblem(c, Post({.status = "maybe"}, jpeg_), 400, "bad status", "X-Strata-Identity-Status");
  ExpectProblem(c, Post({.status = "known"}, jpeg_), 400, "known without name", "Identity-Name");
  ExpectProblem(c, Post({.score = "high"}, jpeg_), 400, "bad score", "X-Strata-Score");
  ExpectProblem(c, Post({.box = "0.1,0.2,0.3"}, jpeg_), 400, "3-number box", "X-Strata-Box");
  ExpectProblem(c, Post({.box = "0.1,0.2,1.3,0.4"}, jpeg_), 400, "box > 1", "X-Strata-Box");
  ExpectProblem(c, Post({.hops = "roof;bytes=x;ms=1"}, jpeg_), 400, "bad hops", "X-Strata-Hops");
  ExpectProblem(c, Post({.hops = "roof;bytes=1;ms=1,"}, jpeg_), 400, "trailing comma", "Hops");
  http::HeaderList no_track = {{"X-Strata-Camera", "cam1"},
                               {"X-Strata-Kind", "face"},
                               {"X-Strata-Identity-Status", "unknown"}};
  ExpectProblem(c, c.Post("/api/v1/sightings", jpeg_, "image/jpeg", no_track), 400, "missing track",
                "X-Strata-Track-Id");
  http::HeaderList bad_time = no_track;
  bad_time.emplace_back("X-Strata-Track-Id", "1");
  bad_time.emplace_back("X-Strata-Captured-At", "yesterday");
  ExpectProblem(c, c.Post("/api/v1/sightings", jpeg_, "image/jpeg", bad_time), 400,
                "bad captured-at", "X-Strata-Captured-At");
  for (const char* q :
       {"limit=0", "limit=501", "limit=x", "before=nope", "camera=A%20B", "event_type=cat"})
    ExpectProblem(c, c.Get(std::string("/api/v1/events?") + q), 400, q);
  ExpectProblem(c, c.Get("/api/v1/events/01ARZ3NDEKTSV4RRFFQ69G5FAV"), 404, "unknown id");
  ExpectProblem(c, c.Get("/api/v1/events/not-a-ulid"), 400, "non-ULID id");
  ExpectProblem(c, c.Get("/api/v1/events/01ARZ3NDEKTSV4RRFFQ69G5FAV/snapshot.jpg"), 404,
                "unknown snapshot");
  EXPECT_EQ(GetJson("/api/v1/events")["events"].size(), 0u);  // nothing bad was recorded
  EXPECT_EQ(PostOk({.track = 1})["phase"], "new");            // and good input still works
}

TEST(NotifyConfigTest, ErrorsNameTheKeyAndLineAndZonesAreRead) {
  auto parse = [](const std::string& yaml, Options* opts) {
    auto root = ConfigNode::Parse(yaml, "notify.yaml");
    EXPECT_TRUE(root.ok());
    return ParseConfig(*root, ServiceArgs{.service = "notify", .data_dir = "/d"}, opts);
  };
  Options o;
  Status typo = parse("notify:\n  cooldwn: 5s\n", &o);
  EXPECT_NE(typo.message().find("notify.yaml:2"), std::string::npos) << typo;
  EXPECT_NE(typo.message().find("cooldwn"), std::string::npos) << typo;
  Status poly =
      parse("notify:\n  cameras:\n    gate:\n      zones:\n        door: [[0, 0], [1, 1]]\n", &o);
  EXPECT_NE(poly.message().find(">= 3 points"), std::string::npos) << poly;
  EXPECT_NE(poly.message().find(":5"), std::string::npos) << poly;
  Status range = parse(
      "notify:\n  cameras:\n    gate:\n      zones:\n        door: [[0, 0], [1, 1], [2, 0]]\n", &o);
  EXPECT_NE(range.message().find("[0, 1]"), std::string::npos) << range;
  Status hook = parse("notify:\n  webhook: {url: ftp://x, max_attempts: 3}\n", &o);
  EXPECT_NE(hook.message().find("notify.webhook.url"), std::string::npos) << hook;
  Options good;
  ASSERT_TRUE(parse("notify:\n  cooldown: 10s\n  cameras:\n    gate:\n      zones:\n"
                    "        door: [[0.5, 0.5], [1, 0.5], [1, 1]]\n  webhook: {backoff: 250ms}\n",
                    &good)
                  .ok());
  EXPECT_EQ(good.notify.db, "/d/notify.db");
  EXPECT_EQ(good.notify.snapshots_dir, "/d/snapshots");
  EXPECT_EQ(good.notify.cooldown, std::chrono::seconds(10));
  EXPECT_EQ(good.notify.webhook.backoff, std::chrono::milliseconds(250));
  ASSERT_EQ(good.notify.cameras["gate"].size(), 1u);
  EXPECT_EQ(good.notify.cameras["gate"][0].polygon.size(), 3u);
  EXPECT_EQ(good.notify.image_limits.max_width, 4096);
}

TEST(NotifyHelpersTest, HopsParseAndZonesUseTheBoxBottomCentre) {
  auto hops = ParseHops("roof-1;bytes=52000;ms=3.5, fog-1;bytes=9100;ms=41");
  ASSERT_TRUE(hops.ok()) << hops.status();
  ASSERT_EQ(hops->size(), 2u);
  EXPECT_EQ((*hops)[1].node, "fog-1");
  EXPECT_EQ((*hops)[0].bytes, 52000);
  EXPECT_DOUBLE_EQ((*hops)[0].ms, 3.5);
  EXPECT_TRUE(ParseHops("")->empty());
  auto reordered = ParseHops("roof-1;ms=3;bytes=1;faces=2");
  ASSERT_TRUE(reordered.ok()) << reordered.status();
  EXPECT_EQ((*reordered)[0].bytes, 1);
  EXPECT_FALSE(ParseHops("roof-1;bytes=-1;ms=3").ok());
  EXPECT_FALSE(ParseHops("roof-1;bytes").ok());
  EXPECT_FALSE(ParseHops("roof-1;bytes=1;ms=1,,").ok());
  EXPECT_FALSE(ParseHops("roof 1;bytes=1;ms=3").ok());
  std::vector<Point> tri = {{0, 0}, {1, 0}, {0, 1}};
  EXPECT_TRUE(InsidePolygon({0.2, 0.2}, tri));
  EXPECT_FALSE(InsidePolygon({0.8, 0.8}, tri));
  Sighting s;
  s.box = std::array<double, 4>{0.1, 0.0, 0.3, 0.5};  // foot (0.2, 0.5)
  EXPECT_EQ(ZonesHit(s, {Zone{"a", tri}, Zone{"b", {{0.5, 0.5}, {1, 0.5}, {1, 1}}}}),
            std::vector<std::string>{"a"});
  s.box.reset();
  EXPECT_TRUE(ZonesHit(s, {Zone{"a", tri}}).empty());
}

}  // namespace
}  // namespace strata::notify_service
