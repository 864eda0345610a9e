// soak_test: the verdict arithmetic of AnalyzeSeries on synthetic series (growth, flat threads
// and fds, restarts, too few samples), SampleProc on this process, and one short real
// `strata soak` of soak_small.yaml (12 s, warm-up 4 s) whose report must have samples for every
// process with sane values. The RSS verdict of a 12 s run is not asserted (noise).
#include "chaos/soak.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "strata/testing/fixtures.h"

namespace strata::chaos {
namespace {

ProcSeries Flat(int n, int64_t rss, int threads, int fds) {
  ProcSeries s{.name = "p", .kind = "service", .type = "x"};
  for (int i = 0; i < n; ++i)
    s.samples.push_back(
        {.t_s = static_cast<double>(i), .pid = 42, .rss_kb = rss, .threads = threads, .fds = fds});
  return s;
}

TEST(SoakAnalysis, MedianOfOddAndEvenCounts) {
  EXPECT_EQ(Median({}), 0);
  EXPECT_EQ(Median({3, 1, 2}), 2);
  EXPECT_EQ(Median({4, 1, 3, 2}), 2.5);
}

TEST(SoakAnalysis, FlatSeriesPasses) {
  ProcVerdict v = AnalyzeSeries(Flat(100, 50000, 10, 20), 10, {});
  EXPECT_TRUE(v.pass) << (v.reasons.empty() ? "" : v.reasons[0]);
  EXPECT_EQ(v.measured, 90u);
  EXPECT_EQ(v.rss_baseline_kb, 50000);
  EXPECT_EQ(v.rss_growth_pct, 0);
  EXPECT_EQ(v.pids, 1);
}

TEST(SoakAnalysis, GrowthComparesMediansOfFirstAndLastFifth) {
  // t = 10..109: RSS 1000 until t 30, then 1100 from t 90 on; one spike in the baseline window
  // does not move the median.
  ProcSeries s = Flat(110, 1000, 4, 8);
  for (auto& x : s.samples) {
    if (x.t_s >= 90) x.rss_kb = 1100;
    if (x.t_s == 12) x.rss_kb = 9000;
  }
  ProcVerdict v = AnalyzeSeries(s, 10, {});
  EXPECT_EQ(v.rss_baseline_kb, 1000);
  EXPECT_EQ(v.rss_end_kb, 1100);
  EXPECT_DOUBLE_EQ(v.rss_growth_pct, 10.0);
  EXPECT_FALSE(v.pass);
  ASSERT_EQ(v.reasons.size(), 1u);
  EXPECT_NE(v.reasons[0].find("RSS grew 10.0%"), std::string::npos) << v.reasons[0];
  EXPECT_TRUE(AnalyzeSeries(s, 10, {.max_rss_growth_pct = 10.5}).pass);
}

TEST(SoakAnalysis, WarmupGrowthIsNotJudged) {
  ProcSeries s = Flat(60, 2000, 4, 8);
  for (auto& x : s.samples)
    if (x.t_s < 20) x.rss_kb = 100 + static_cast<int64_t>(x.t_s) * 50;
  EXPECT_TRUE(AnalyzeSeries(s, 20, {}).pass);
  EXPECT_FALSE(AnalyzeSeries(s, 0, {}).pass);
}

TEST(SoakAnalysis, TransientPeaksPassButARisingFloorFails) {
  // t = 0..99, warm-up 5 s: baseline window t 5..24, end window t 80..99.
  ProcSeries s = Flat(100, 1000, 4, 8);
  s.samples[30].threads = 40;  // a burst of short-lived threads: reported, not judged
  s.samples[90].fds = 60;
  ProcVerdict peaks = AnalyzeSeries(s, 5, {});
  EXPECT_TRUE(peaks.pass) << (peaks.reasons.empty() ? "" : peaks.reasons[0]);
  EXPECT_EQ(peaks.threads_max - peaks.threads_min, 36);
  EXPECT_EQ(peaks.fds_max, 60);
  for (auto& x : s.samples)
    if (x.t_s >= 50) x.threads = 6, x.fds = 16;  // floor +2 / +8: within the slack
  EXPECT_TRUE(AnalyzeSeries(s, 5, {}).pass);
  for (auto& x : s.samples)
    if (x.t_s >= 60) x.threads = 7, x.fds = 17;  // one more of each, never released
  ProcVerdict v = AnalyzeSeries(s, 5, {});
  EXPECT_FALSE(v.pass);
  ASSERT_EQ(v.reasons.size(), 2u);
  EXPECT_EQ(v.reasons[0], "thread floor rose from 4 to 7 (slack 2)");
  EXPECT_EQ(v.reasons[1], "fd floor rose from 8 to 17 (slack 8)");
  EXPECT_EQ(v.threads_floor_base, 4);
  EXPECT_EQ(v.fds_floor_end, 17);
}

TEST(SoakAnalysis, RestartMissedSamplesAndTooFewSamplesFail) {
  ProcSeries s = Flat(20, 1000, 4, 8);
  s.samples[15].pid = 43;
  EXPECT_EQ(AnalyzeSeries(s, 5, {}).pids, 2);
  EXPECT_FALSE(AnalyzeSeries(s, 5, {}).pass);
  ProcSeries m = Flat(20, 1000, 4, 8);
  m.missed = 1;
  EXPECT_FALSE(AnalyzeSeries(m, 5, {}).pass);
  ProcVerdict few = AnalyzeSeries(Flat(20, 1000, 4, 8), 19, {});
  EXPECT_FALSE(few.pass);
  EXPECT_EQ(few.reasons.at(0), "too few samples after warm-up (1)");
}

TEST(SoakReportJson, RoundTripsAndCanBeRejudgedWithAnotherWarmup) {
  SoakReport r;
  r.options.warmup = std::chrono::seconds(10);
  ProcSeries s = Flat(100, 1000, 4, 8);
  for (auto& x : s.samples) x.rss_kb = x.t_s < 50 ? 1000 + static_cast<int64_t>(x.t_s) * 10 : 1500;
  r.series.push_back(s);
  JudgeSoak(r);
  ASSERT_EQ(r.verdicts.size(), 1u);
  EXPECT_FALSE(r.ok());  // still growing in the first fifth after a 10 s warm-up
  auto back = SoakReportFromJson(SoakReportJson(r));
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->series.size(), 1u);
  EXPECT_EQ(back->series[0].samples.size(), 100u);
  EXPECT_EQ(back->series[0].samples[20].rss_kb, 1200);
  EXPECT_EQ(back->options.warmup, std::chrono::seconds(10));
  back->options.warmup = std::chrono::seconds(60);  // after the plateau
  JudgeSoak(*back);
  EXPECT_TRUE(back->ok());
  EXPECT_EQ(SoakReportFromJson(nlohmann::json{{"options", 1}}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(SoakSample, ReadsThisProcessAndRejectsAMissingOne) {
  auto s = SampleProc(getpid());
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_GT(s->rss_kb, 0);
  EXPECT_GT(s->rss_anon_kb, 0);
  EXPECT_LE(s->rss_anon_kb, s->rss_kb);
  EXPECT_GE(s->threads, 1);
  EXPECT_GE(s->fds, 3);
  EXPECT_FALSE(SampleProc(0x7ffffff0).ok());
}

TEST(SoakRun, ShortSoakOfASmallTopologySamplesEveryProcess) {
  const std::string bin = std::string(STRATA_BINARY_DIR) + "/bin";
  testing::TempDir tmp;
  const std::string out = tmp.path() + "/soak";
  auto run = testing::Run(
      {bin + "/strata", "soak", "--topology",
       std::string(STRATA_SOURCE_DIR) + "/orchestrator/chaos/soak_small.yaml", "--duration", "12s",
       "--warmup", "4s", "--interval", "1s", "--out", out, "--seed", "7", "--events-per-s", "40"},
      std::chrono::seconds(50));
  ASSERT_TRUE(run.ok()) << run.status().message();
  // 0 = pass, 1 = a process failed the verdict: both are fine for a 12 s run; 2 = did not run.
  ASSERT_TRUE(run->exit_code == 0 || run->exit_code == 1) << run->err << run->out;
  std::ifstream in(out + "/soak-report.json");
  ASSERT_TRUE(in) << run->err;
  nlohmann::json j = nlohmann::json::parse(in);
  EXPECT_EQ(j["verdict"], run->exit_code == 0 ? "pass" : "fail");
  std::set<std::string> names;
  for (const auto& p : j["processes"]) names.insert(p["name"].get<std::string>());
  // mosquitto, one link proxy for the shop's MQTT, two services and the launcher.
  EXPECT_EQ(names, (std::set<std::string>{"launcher", "mqtt-fog", "link-shop-1-fog-1-mqtt-fog",
                                          "notify", "segment-1"}));
  for (const auto& p : j["processes"]) {
    SCOPED_TRACE(p["name"].get<std::string>());
    EXPECT_GE(p["samples"].get<int>(), 8);  // 12 s at 1 s (a slow machine may skip a few)
    EXPECT_GE(p["samples_after_warmup"].get<int>(), 4);
    EXPECT_GT(p["rss_kb"]["baseline"].get<int64_t>(), 0);
    EXPECT_GT(p["rss_kb"]["anon_end"].get<int64_t>(), 0);
    EXPECT_GE(p["threads"]["min"].get<int>(), 1);
    EXPECT_GE(p["fds"]["min"].get<int>(), 3);
    // Only a real leak (hundreds of fds or threads in seconds) crosses these.
    EXPECT_LT(p["fds"]["max_minus_min"].get<int>(), 200);
    EXPECT_LT(p["threads"]["max_minus_min"].get<int>(), 100);
    EXPECT_EQ(p["pids_after_warmup"].get<int>(), 1);
  }
  for (const auto& s : j["series"]) EXPECT_EQ(s["columns"].size(), 6u);
  EXPECT_GT(j["load"]["events_accepted"].get<int64_t>(), 0) << j["load"].dump();
  EXPECT_EQ(j["load"]["post_errors"].get<int64_t>(), 0);
  std::ifstream svg(out + "/soak-rss.svg");
  std::string text((std::istreambuf_iterator<char>(svg)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("<polyline"), std::string::npos);
  EXPECT_NE(text.find("segment-1"), std::string::npos);
}

}  // namespace
}  // namespace strata::chaos
