// Tests of PromText: parsing our own /metrics output (and junk lines), label matching in Sum,
// and histogram_quantile-style interpolation in Quantile.
#include "strata/metrics/prom_text.h"

#include <gtest/gtest.h>

#include "strata/metrics/metrics.h"

namespace strata::metrics {
namespace {

constexpr const char* kText = R"(# HELP strata_link_bytes_total Bytes sent
# TYPE strata_link_bytes_total counter
strata_link_bytes_total{src="roof",dst="fog"} 1500
strata_link_bytes_total{src="fog",dst="cloud"} 250 1700000000000
strata_link_bytes_total{src="roof",dst="fog"} 500
strata_up 1
this line is junk
broken{src="x" 3
strata_lat_bucket{src="a",le="0.01"} 10
strata_lat_bucket{src="a",le="0.1"} 30
strata_lat_bucket{src="a",le="+Inf"} 40
strata_lat_bucket{src="b",le="0.01"} 0
strata_lat_bucket{src="b",le="0.1"} 0
strata_lat_bucket{src="b",le="+Inf"} 0
)";

TEST(PromTextTest, SumMatchesLabelsAndSkipsJunk) {
  PromText m = PromText::Parse(kText);
  EXPECT_EQ(m.Sum("strata_link_bytes_total"), 2250);
  EXPECT_EQ(m.Sum("strata_link_bytes_total", {{"src", "roof"}}), 2000);
  EXPECT_EQ(m.Sum("strata_link_bytes_total", {{"src", "roof"}, {"dst", "cloud"}}), 0);
  EXPECT_EQ(m.Sum("strata_up"), 1);
  EXPECT_EQ(m.Sum("broken"), 0);
  EXPECT_EQ(m.Sum("this"), 0);
  EXPECT_EQ(m.samples().size(), 10u);
}

TEST(PromTextTest, QuantileInterpolatesInsideTheBucket) {
  PromText m = PromText::Parse(kText);
  // 40 observations: 10 in (0, 0.01], 20 in (0.01, 0.1], 10 above.
  EXPECT_DOUBLE_EQ(m.Quantile("strata_lat", {{"src", "a"}}, 0.25), 0.01);
  EXPECT_DOUBLE_EQ(m.Quantile("strata_lat", {{"src", "a"}}, 0.5), 0.01 + 0.09 * 10 / 20);
  EXPECT_DOUBLE_EQ(m.Quantile("strata_lat", {{"src", "a"}}, 0.95), 0.1);  // overflow: lower edge
  EXPECT_EQ(m.Quantile("strata_lat", {{"src", "b"}}, 0.5), 0);            // empty histogram
  EXPECT_EQ(m.Quantile("strata_nothing", {}, 0.5), 0);
}

TEST(PromTextTest, ReadsWhatTheRegistrySerializes) {
  GetCounter("strata_promtext_test_total", "test counter", {{"k", "v"}}).Inc(3);
  auto h = GetHistogram("strata_promtext_test_seconds", "test histogram", {{"k", "v"}});
  for (int i = 0; i < 10; ++i) h.Observe(0.002);
  PromText m = PromText::Parse(SerializeText());
  EXPECT_EQ(m.Sum("strata_promtext_test_total", {{"k", "v"}}), 3);
  EXPECT_EQ(m.Sum("strata_promtext_test_seconds_count", {{"k", "v"}}), 10);
  double p50 = m.Quantile("strata_promtext_test_seconds", {{"k", "v"}}, 0.5);
  EXPECT_GT(p50, 0);
  EXPECT_LE(p50, 0.005);
}

}  // namespace
}  // namespace strata::metrics
