// Link settings: bandwidth text and the JSON settings document (field-naming errors).
#include "link_settings.h"

#include <gtest/gtest.h>

namespace strata::link {
namespace {

TEST(LinkSettingsTest, ParsesAndFormatsBandwidth) {
  EXPECT_EQ(*ParseBandwidth("20mbit"), 20'000'000);
  EXPECT_EQ(*ParseBandwidth("512kbit"), 512'000);
  EXPECT_EQ(*ParseBandwidth("1.5Mbit"), 1'500'000);
  EXPECT_EQ(*ParseBandwidth("1gbit"), 1'000'000'000);
  EXPECT_EQ(*ParseBandwidth("9600"), 9600);
  EXPECT_EQ(*ParseBandwidth("unlimited"), 0);
  for (const char* bad :
       {"", "fast", "20mbps", "-1mbit", "1e3", "1tbit", "200gbit", "3bit", "1..2m"})
    EXPECT_FALSE(ParseBandwidth(bad).ok()) << bad;
  EXPECT_EQ(FormatBandwidth(20'000'000), "20mbit");
  EXPECT_EQ(FormatBandwidth(1'500'000), "1500kbit");
  EXPECT_EQ(FormatBandwidth(0), "unlimited");
}

TEST(LinkSettingsTest, TopLevelKeysSetBothDirectionsAndObjectsOverrideOne) {
  LinkSettings s;
  auto errors = ApplySettingsJson(nlohmann::json::parse(R"({"latency_ms": 20, "bandwidth": "20mbit",
      "downstream": {"latency_ms": 5, "loss": 0.01}, "jitter_distribution": "normal",
      "partition_mode": "reset"})"),
                                  &s);
  ASSERT_TRUE(errors.empty()) << errors.front().field << ": " << errors.front().reason;
  EXPECT_EQ(s.upstream.latency_ms, 20);
  EXPECT_EQ(s.downstream.latency_ms, 5);
  EXPECT_EQ(s.upstream.bandwidth_bps, 20'000'000);
  EXPECT_EQ(s.downstream.bandwidth_bps, 20'000'000);
  EXPECT_EQ(s.upstream.loss, 0);
  EXPECT_EQ(s.downstream.loss, 0.01);
  EXPECT_EQ(s.jitter_distribution, JitterDistribution::kNormal);
  EXPECT_EQ(s.partition_mode, PartitionMode::kReset);
  // Absent keys keep their value.
  ASSERT_TRUE(ApplySettingsJson(nlohmann::json::parse(R"({"jitter_ms": 3})"), &s).empty());
  EXPECT_EQ(s.upstream.latency_ms, 20);
  EXPECT_EQ(s.upstream.jitter_ms, 3);
}

TEST(LinkSettingsTest, ErrorsNameTheFieldAndLeaveSettingsUnchanged) {
  struct Case {
    const char* doc;
    const char* field;
    bool semantic;
  };
  for (const Case& c :
       std::vector<Case>{{R"({"latency_ms": -1})", "latency_ms", true},
                         {R"({"latency_ms": "40ms"})", "latency_ms", false},
                         {R"({"loss": 1.5})", "loss", true},
                         {R"({"bandwidth_bps": 1.5})", "bandwidth_bps", true},
                         {R"({"bandwidth": 20})", "bandwidth", false},
                         {R"({"bandwidth": "fast"})", "bandwidth", true},
                         {R"({"latency": 40})", "latency", false},
                         {R"({"upstream": {"jitter_ms": 1e9}})", "upstream.jitter_ms", true},
                         {R"({"upstream": {"speed": 1}})", "upstream.speed", false},
                         {R"({"downstream": 3})", "downstream", false},
                         {R"({"partition_mode": "drop"})", "partition_mode", true},
                         {R"({"jitter_distribution": 1})", "jitter_distribution", false},
                         {R"({"slice_bytes": -1})", "slice_bytes", true},
                         {R"({"slice_bytes": 70000})", "slice_bytes", true},
                         {R"({"slice_bytes": 1.5})", "slice_bytes", true},
                         {R"({"slice_bytes": "1"})", "slice_bytes", false}}) {
    LinkSettings s;
    auto errors = ApplySettingsJson(nlohmann::json::parse(c.doc), &s);
    ASSERT_EQ(errors.size(), 1u) << c.doc;
    EXPECT_EQ(errors[0].field, c.field) << c.doc;
    EXPECT_EQ(errors[0].semantic, c.semantic) << c.doc;
    EXPECT_EQ(s, LinkSettings{}) << c.doc;
  }
  LinkSettings s;
  EXPECT_EQ(ApplySettingsJson(nlohmann::json::array(), &s).size(), 1u);
  EXPECT_TRUE(
      ApplySettingsJson(nlohmann::json::parse(R"({"partitioned": true})"), &s, {"partitioned"})
          .empty());
}

TEST(LinkSettingsTest, SliceBytesSetsOneOrBothDirectionsAndRoundTrips) {
  LinkSettings s;
  ASSERT_TRUE(ApplySettingsJson(nlohmann::json::parse(R"({"slice_bytes": 1})"), &s).empty());
  EXPECT_EQ(s.upstream.slice_bytes, 1);
  EXPECT_EQ(s.downstream.slice_bytes, 1);
  ASSERT_TRUE(ApplySettingsJson(nlohmann::json::parse(R"({"downstream": {"slice_bytes": 0}})"), &s)
                  .empty());
  EXPECT_EQ(s.upstream.slice_bytes, 1);
  EXPECT_EQ(s.downstream.slice_bytes, 0);
  EXPECT_EQ(ToJson(s)["upstream"]["slice_bytes"], 1);
  s.upstream.slice_bytes = 65537;
  EXPECT_NE(Validate(s).message().find("upstream.slice_bytes"), std::string::npos);
}

TEST(LinkSettingsTest, ValidateRejectsNonFiniteValues) {
  LinkSettings s;
  s.downstream.latency_ms = std::nan("");
  EXPECT_NE(Validate(s).message().find("downstream.latency_ms"), std::string::npos);
  s = {};
  s.upstream.loss = -0.1;
  EXPECT_FALSE(Validate(s).ok());
  EXPECT_TRUE(Validate(LinkSettings{}).ok());
}

}  // namespace
}  // namespace strata::link
