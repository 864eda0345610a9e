// Tests of strata_chaos: the pure parts (ids, seeds, percentiles, verdicts), a few real kill -9
// trials against build/bin/strata-segment, strata-notify and strata-identify, and the checker itself: a target that
// hides one stored id from the check must turn a passing trial into "lost".
#include <gtest/gtest.h>

#include <filesystem>

#include "chaos/chaos.h"
#include "chaos/target.h"
#include "strata/testing/fixtures.h"

namespace strata::chaos {
namespace {

ChaosOptions RealOptions(const testing::TempDir& dir) {
  ChaosOptions o;
  o.bin_dir = std::string(STRATA_BINARY_DIR) + "/bin";
  o.work_dir = dir.path();
  o.messages = 30;
  o.seed = 11;
  return o;
}

TEST(ChaosIds, RoundTripAndRejectForeignIds) {
  EXPECT_EQ(MessageId(17), "chaos-17");
  EXPECT_EQ(MessageNumber("chaos-17"), 17);
  EXPECT_EQ(MessageNumber(MessageId(123456)), 123456);
  EXPECT_EQ(MessageNumber("chaos-"), -1);
  EXPECT_EQ(MessageNumber("chaos-1x"), -1);
  EXPECT_EQ(MessageNumber("other-3"), -1);
}

TEST(ChaosSeeds, DeterministicAndDistinctPerTrialAndService) {
  EXPECT_EQ(TrialSeed(5, "segment", 3), TrialSeed(5, "segment", 3));
  EXPECT_NE(TrialSeed(5, "segment", 3), TrialSeed(5, "segment", 4));
  EXPECT_NE(TrialSeed(5, "segment", 3), TrialSeed(5, "notify", 3));
  EXPECT_NE(TrialSeed(5, "segment", 3), TrialSeed(6, "segment", 3));
}

TEST(ChaosPercentile, NearestRank) {
  EXPECT_EQ(Percentile({}, 0.5), -1);
  EXPECT_EQ(Percentile({3, 1, 2}, 0.5), 2);
  EXPECT_EQ(Percentile({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.99), 10);
  EXPECT_EQ(Percentile({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.5), 5);
  EXPECT_EQ(Percentile({4}, 0.0), 4);
}

TEST(ChaosVerdict, LossIntegrityAndPromisedDedupeFailATrial) {
  TrialResult t;
  EXPECT_TRUE(t.ok());
  t.duplicates = 2;
  t.dedupe_promised = false;  // at-least-once service: reported, not a failure
  EXPECT_TRUE(t.ok());
  t.dedupe_promised = true;
  EXPECT_FALSE(t.ok());
  t.duplicates = 0;
  t.lost = 1;
  t.lost_ids = {"chaos-4"};
  EXPECT_NE(t.Reason().find("1 acknowledged id(s) lost [chaos-4]"), std::string::npos);
  t.lost = 0;
  t.integrity_failures = 1;
  EXPECT_FALSE(t.ok());
  t.integrity_failures = 0;
  t.error = "restart after SIGKILL: exited";
  EXPECT_FALSE(t.ok());
}

TEST(ChaosReportJson, TotalsAndFailuresWithSeed) {
  ChaosReport r;
  r.options.seed = 99;
  ServiceSummary s;
  s.service = "segment";
  TrialResult a, b;
  a.acked = 10, a.stored = 10, a.restart_ms = 40;
  b.trial = 1, b.acked = 5, b.stored = 4, b.lost = 1, b.restart_ms = 60, b.trial_seed = 1234;
  s.trials = {a, b};
  r.services.push_back(s);
  nlohmann::json j = ReportJson(r);
  EXPECT_FALSE(j["ok"].get<bool>());
  EXPECT_EQ(j["seed"], 99);
  const auto& seg = j["services"]["segment"];
  EXPECT_EQ(seg["acked"], 15);
  EXPECT_EQ(seg["lost"], 1);
  EXPECT_EQ(seg["failed_trials"], 1);
  EXPECT_EQ(seg["restart_ms"]["p50"], 40);
  EXPECT_EQ(seg["restart_ms"]["p99"], 60);
  ASSERT_EQ(seg["failures"].size(), 1u);
  EXPECT_EQ(seg["failures"][0]["trial_seed"], 1234);
}

TEST(ChaosFaults, SummaryTotalsVariantsTimesAndFailuresWithSeed) {
  FaultSummary s;
  s.fault_class = "broker";
  FaultTrial a, b, c;
  a.variant = "sigterm", a.counts = {{"acked", 10}, {"lost", 0}}, a.times_ms = {{"resubscribe_ms", 100}};
  b.variant = "sigkill", b.trial = 1, b.trial_seed = 77, b.counts = {{"acked", 5}, {"lost", 2}};
  b.times_ms = {{"resubscribe_ms", 300}};
  b.failures = {"2 acknowledged event(s) lost"};
  c.variant = "sigterm", c.trial = 2, c.counts = {{"acked", 4}}, c.times_ms = {{"resubscribe_ms", -1}};
  c.note = "n";
  s.trials = {a, b, c};
  EXPECT_TRUE(a.ok());
  EXPECT_FALSE(b.ok());
  EXPECT_EQ(s.Failed(), 1);
  nlohmann::json j = s.Json();
  EXPECT_EQ(j["trials"], 3);
  EXPECT_EQ(j["failed_trials"], 1);
  EXPECT_EQ(j["totals"]["acked"], 19);
  EXPECT_EQ(j["totals"]["lost"], 2);
  EXPECT_EQ(j["times_ms"]["resubscribe_ms"]["max"], 300);  // -1 (not measured) is left out
  EXPECT_EQ(j["times_ms"]["resubscribe_ms"]["p50"], 100);
  EXPECT_EQ(j["variants"]["sigterm"]["trials"], 2);
  EXPECT_EQ(j["variants"]["sigkill"]["totals"]["lost"], 2);
  ASSERT_EQ(j["failures"].size(), 1u);
  EXPECT_EQ(j["failures"][0]["trial_seed"], 77);
  EXPECT_EQ(j["failures"][0]["variant"], "sigkill");
  EXPECT_EQ(j["notes"], nlohmann::json::array({"n"}));
  ChaosReport r;
  r.faults.push_back(s);
  EXPECT_FALSE(r.ok());
  nlohmann::json rj = ReportJson(r);
  EXPECT_EQ(rj["classes"], nlohmann::json::array({"broker"}));
  EXPECT_EQ(rj["faults"]["broker"]["failed_trials"], 1);
  r.faults[0].trials = {a};
  EXPECT_TRUE(r.ok());
}

TEST(ChaosFaults, UnknownClassIsATrialErrorNamingIt) {
  testing::TempDir dir;
  FaultTrial t = RunFaultTrial("flood", 0, RealOptions(dir));
  EXPECT_FALSE(t.ok());
  EXPECT_NE(t.Reason().find("flood"), std::string::npos);
  EXPECT_EQ(FaultClasses(),
            (std::vector<std::string>{"broker", "partition", "link", "spool", "federate",
                                                "uplink"}));
}

TEST(ChaosTargets, UnknownServiceIsATrialErrorNamingIt) {
  testing::TempDir dir;
  TrialResult r = RunTrial("nosuch", 0, RealOptions(dir));
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("nosuch"), std::string::npos);
}

// Real binary: acked ⊆ stored after SIGKILL, restart, resend, integrity ok.
TEST(ChaosSegment, KillNineTrialsLoseNothing) {
  testing::TempDir dir;
  ChaosOptions o = RealOptions(dir);
  o.services = {"segment"};
  o.trials = 3;
  ChaosReport r = RunChaos(o);
  ASSERT_EQ(r.services.size(), 1u);
  int64_t acked = 0;
  for (const auto& t : r.services[0].trials) {
    EXPECT_TRUE(t.ok()) << "trial " << t.trial << ": " << t.Reason();
    EXPECT_GE(t.restart_ms, 0);
    EXPECT_GE(t.stored, t.acked);
    EXPECT_EQ(t.lost, 0);
    EXPECT_TRUE(t.dedupe_promised);  // seg_events.event_id is UNIQUE
    EXPECT_EQ(t.duplicates, 0) << "trial " << t.trial;
    acked += t.acked;
  }
  EXPECT_TRUE(r.ok());
  EXPECT_GT(acked, 0);  // some trial acknowledged something before its kill
}

TEST(ChaosNotify, KillNineTrialsLoseNoAlertAndDedupeResends) {
  if (MakeNotifyTarget() == nullptr) GTEST_SKIP() << "built without strata_vision";
  testing::TempDir dir;
  ChaosOptions o = RealOptions(dir);
  o.services = {"notify"};
  o.trials = 3;
  o.min_kill_ms = 100;
  ChaosReport r = RunChaos(o);
  ASSERT_EQ(r.services.size(), 1u);
  // Alert rows, message ids and snapshots: a kill between the commit and the snapshot's rename
  // used to lose the snapshot (api_missing; fixed, docs/chaos.md).
  for (const auto& t : r.services[0].trials) {
    EXPECT_TRUE(t.error.empty()) << "trial " << t.trial << ": " << t.error;
    EXPECT_GT(t.acked, 0);
    EXPECT_EQ(t.lost, 0) << t.Reason();
    EXPECT_EQ(t.integrity_failures, 0);
    EXPECT_EQ(t.stored, t.sent) << "every sent sighting is stored once after the resend";
    EXPECT_EQ(t.duplicates, 0);
    EXPECT_EQ(t.api_missing, 0) << t.Reason();
  }
}

TEST(ChaosIdentify, KillNineDuringGalleryEnrolmentLosesNoTemplate) {
  if (MakeIdentifyTarget() == nullptr) GTEST_SKIP() << "built without strata_vision";
  testing::TempDir dir;
  ChaosOptions o = RealOptions(dir);
  o.services = {"identify"};
  o.trials = 2;
  o.messages = 20;
  o.min_kill_ms = 100;
  ChaosReport r = RunChaos(o);
  ASSERT_EQ(r.services.size(), 1u);
  for (const auto& t : r.services[0].trials) {
    EXPECT_TRUE(t.ok()) << "trial " << t.trial << ": " << t.Reason();
    EXPECT_GT(t.acked, 0);
    EXPECT_EQ(t.stored, t.sent) << "every sent enrolment is in gallery.db after the resend";
    EXPECT_EQ(t.duplicates, 0) << "a resent enrolment is stored once (X-Strata-Message-Id)";
  }
}

// The checker is not vacuous: the real segment service, but the check is told one acknowledged
// id is absent from the file — the trial must fail with that id named as lost.
class HidingTarget : public Target {
 public:
  HidingTarget() : inner_(MakeSegmentTarget()) {}
  std::string name() const override { return inner_->name(); }
  std::string DbFile() const override { return inner_->DbFile(); }
  bool DedupePromised() const override { return false; }
  SendResult Send(http::HttpClient& c, const std::vector<std::string>& ids,
                  const std::vector<int>& numbers) const override {
    return inner_->Send(c, ids, numbers);
  }
  Result<std::map<std::string, int64_t>> StoredIds(store::Database& db) const override {
    STRATA_ASSIGN_OR_RETURN(auto ids, inner_->StoredIds(db));
    ids.erase(MessageId(1));
    return ids;
  }
  Result<std::vector<std::string>> MissingFromApi(
      http::HttpClient& c, const std::map<std::string, std::string>& r) const override {
    return inner_->MissingFromApi(c, r);
  }

 private:
  std::unique_ptr<Target> inner_;
};

TEST(ChaosChecker, AnAcknowledgedIdMissingFromTheFileIsReportedLost) {
  testing::TempDir dir;
  ChaosOptions o = RealOptions(dir);
  o.min_kill_ms = o.max_kill_ms = 250;  // long enough for message 1 to be acknowledged
  HidingTarget t;
  TrialResult r = RunTrialWith(t, 0, o);
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_GT(r.acked, 0);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.lost, 1);
  ASSERT_FALSE(r.lost_ids.empty());
  EXPECT_EQ(r.lost_ids[0], "chaos-1");
  EXPECT_TRUE(std::filesystem::exists(r.data_dir)) << "a failed trial keeps its data dir";
}

// Segment promises dedupe by event id: a checker that sees an id stored twice fails the trial.
class DoublingTarget : public HidingTarget {
 public:
  bool DedupePromised() const override { return true; }
  Result<std::map<std::string, int64_t>> StoredIds(store::Database& db) const override {
    STRATA_ASSIGN_OR_RETURN(auto ids, MakeSegmentTarget()->StoredIds(db));
    if (ids.count(MessageId(1))) ids[MessageId(1)] = 2;
    return ids;
  }
};

TEST(ChaosChecker, AnIdStoredTwiceFailsASegmentTrial) {
  testing::TempDir dir;
  ChaosOptions o = RealOptions(dir);
  o.min_kill_ms = o.max_kill_ms = 250;
  DoublingTarget t;
  TrialResult r = RunTrialWith(t, 0, o);
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_GT(r.acked, 0);
  EXPECT_EQ(r.lost, 0);
  EXPECT_EQ(r.duplicates, 1);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.Reason().find("1 duplicate(s)"), std::string::npos) << r.Reason();
}

}  // namespace
}  // namespace strata::chaos
