#include "strata/metrics/metrics.h"

#include <gtest/gtest.h>

#include <thread>

namespace strata::metrics {
namespace {

TEST(MetricsTest, CounterAccumulatesAndSerialises) {
  Counter c = GetCounter("strata_test_things_total", "Things", {{"kind", "a"}});
  c.Inc();
  c.Inc(2);
  EXPECT_DOUBLE_EQ(c.Value(), 3);
  // The same name and labels return the same series.
  GetCounter("strata_test_things_total", "Things", {{"kind", "a"}}).Inc();
  EXPECT_DOUBLE_EQ(c.Value(), 4);
  std::string text = SerializeText();
  EXPECT_NE(text.find("# TYPE strata_test_things_total counter"), std::string::npos);
  EXPECT_NE(text.find("strata_test_things_total{kind=\"a\"} 4"), std::string::npos) << text;
}

TEST(MetricsTest, HistogramBucketsCountObservations) {
  Histogram h = GetHistogram("strata_test_latency_seconds", "Latency", {{"stage", "x"}});
  h.Observe(0.003);
  h.Observe(0.2);
  std::string text = SerializeText();
  EXPECT_NE(text.find("strata_test_latency_seconds_count{stage=\"x\"} 2"), std::string::npos)
      << text;
  EXPECT_NE(text.find("strata_test_latency_seconds_bucket{stage=\"x\",le=\"0.005\"} 1"),
            std::string::npos)
      << text;
}

TEST(MetricsTest, GaugeAndConcurrentIncrements) {
  Gauge g = GetGauge("strata_test_queue_depth", "Depth");
  g.Set(5);
  g.Dec(2);
  EXPECT_DOUBLE_EQ(g.Value(), 3);
  Counter c = GetCounter("strata_test_parallel_total", "Parallel");
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) c.Inc();
    });
  for (auto& t : ts) t.join();
  EXPECT_DOUBLE_EQ(c.Value(), 40000);
}

TEST(MetricsTest, ScopedTimerObserves) {
  Histogram h = GetHistogram("strata_test_timer_seconds", "Timer");
  { ScopedTimer t(h); }
  EXPECT_NE(SerializeText().find("strata_test_timer_seconds_count 1"), std::string::npos);
}

}  // namespace
}  // namespace strata::metrics
