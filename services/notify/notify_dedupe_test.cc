// strata-notify drops repeats of an X-Strata-Message-Id (a store-and-forward retry whose first
// answer was lost): 200 with the original answer and "duplicate": true, no second alert row or
// MQTT message — also after a restart on the same database. Real broker, SQLite in a TempDir.
#include "notify_test_util.h"

namespace strata::notify_service {
namespace {

class NotifyDedupeTest : public NotifyFixture {
 protected:
  json PostWithId(const Sight& s, const std::string& message_id) {
    http::HeaderList h = {
        {"X-Strata-Camera", s.camera}, {"X-Strata-Track-Id", std::to_string(s.track)},
        {"X-Strata-Kind", s.kind},     {"X-Strata-Identity-Status", s.status},
        {"X-Strata-Score", s.score},   {"X-Strata-Message-Id", message_id}};
    if (!s.name.empty()) h.emplace_back("X-Strata-Identity-Name", s.name);
    auto r = client_->Post("/api/v1/sightings", jpeg_, "image/jpeg", h);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return json();
    EXPECT_EQ(r->status, 200) << r->body;
    return r->Json().value_or(json());
  }
};

TEST_F(NotifyDedupeTest, RepeatedMessageIdIsAnsweredAgainNotProcessedTwice) {
  StartBroker();
  NotifyConfig cfg = BaseConfig();
  cfg.mqtt.url = broker_->uri();
  StartService(cfg);
  AlertCollector sub;
  ASSERT_TRUE(sub.Start(broker_->uri(), "notify-dedupe-sub").ok());

  json first = PostWithId({.track = 5}, "01JA0000000000000000000001");
  ASSERT_EQ(first["phase"], "new");
  EXPECT_FALSE(first.contains("duplicate"));
  std::string alert = first["alert_id"];
  json again = PostWithId({.track = 5}, "01JA0000000000000000000001");
  EXPECT_EQ(again["alert_id"], alert);
  EXPECT_EQ(again["phase"], "new");  // the original answer
  EXPECT_EQ(again["duplicate"], true);

  // An identity change is one update; its retry is not a second one.
  Sight known{.track = 5, .status = "known", .name = "alice"};
  json update = PostWithId(known, "01JA0000000000000000000002");
  ASSERT_EQ(update["phase"], "update");
  json update_again = PostWithId(known, "01JA0000000000000000000002");
  EXPECT_EQ(update_again["phase"], "update");
  EXPECT_EQ(update_again["duplicate"], true);
  // A new id with nothing new is an ordinary "none"; its retry answers "none" too.
  EXPECT_EQ(PostWithId(known, "01JA0000000000000000000003")["phase"], "none");
  EXPECT_EQ(PostWithId(known, "01JA0000000000000000000003")["duplicate"], true);

  ASSERT_TRUE(WaitFor([&] { return service_->outbox_pending().value_or(-1) == 0; }));
  ASSERT_TRUE(WaitFor([&] { return sub.Alerts(alert, "update").size() == 1; }));
  EXPECT_EQ(sub.Alerts(alert, "new").size(), 1u);
  EXPECT_EQ(sub.Alerts().size(), 2u);  // one new + one update, no repeats
  EXPECT_EQ(GetJson("/api/v1/events")["events"].size(), 1u);

  // The ids are durable: after a restart the retry is still recognised.
  StartService(cfg);
  json after = PostWithId(known, "01JA0000000000000000000002");
  EXPECT_EQ(after["duplicate"], true);
  EXPECT_EQ(after["alert_id"], alert);
  EXPECT_EQ(GetJson("/api/v1/events")["events"].size(), 1u);
  auto metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find("strata_notify_sightings_total{result=\"duplicate\"}"),
            std::string::npos);
}

TEST_F(NotifyDedupeTest, MalformedMessageIdIsABadRequest) {
  StartService(BaseConfig());
  auto r = client_->Post("/api/v1/sightings", jpeg_, "image/jpeg",
                         {{"X-Strata-Camera", "cam1"},
                          {"X-Strata-Track-Id", "1"},
                          {"X-Strata-Kind", "face"},
                          {"X-Strata-Identity-Status", "unknown"},
                          {"X-Strata-Message-Id", "has space"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("X-Strata-Message-Id"), std::string::npos);
}

}  // namespace
}  // namespace strata::notify_service
