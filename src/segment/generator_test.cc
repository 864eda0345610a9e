#include "strata/segment/generator.h"

#include <gtest/gtest.h>

#include <map>

namespace strata::segment {
namespace {

TEST(GeneratorTest, DeterministicValidEvents) {
  Generator::Config c{.customers = 300, .events = 5000, .k = 4, .seed = 9};
  auto a = Generator::Create(c), b = Generator::Create(c);
  ASSERT_TRUE(a.ok() && b.ok());
  Event ea, eb;
  int n = 0, out_of_order = 0;
  WallTime prev{};
  while (a->Next(&ea)) {
    ASSERT_TRUE(b->Next(&eb));
    ASSERT_TRUE(ValidateEvent(ea).ok()) << ValidateEvent(ea);
    EXPECT_EQ(ea.customer_id, eb.customer_id);
    EXPECT_EQ(ea.timestamp, eb.timestamp);
    EXPECT_EQ(ea.amount, eb.amount);
    out_of_order += ea.timestamp < prev;
    prev = std::max(prev, ea.timestamp);
    ++n;
  }
  EXPECT_EQ(n, 5000);
  EXPECT_GT(out_of_order, 0);  // the stream exercises out-of-order handling
  EXPECT_EQ(a->labels(), b->labels());
  std::map<int, int> counts;
  for (int l : a->labels()) ++counts[l];
  EXPECT_EQ(counts.size(), 4u);
}

TEST(GeneratorTest, DriftStepsChangeGroundTruth) {
  auto specs = DefaultSegments(4);
  specs[3].share = 0;  // appears later
  Generator::Config c{.customers = 2000, .events = 3000, .segments = specs, .seed = 2};
  c.drift.push_back(
      {.kind = DriftStep::Kind::kAppear, .at_event = 1000, .segment = 3, .fraction = 0.25});
  c.drift.push_back(
      {.kind = DriftStep::Kind::kShrink, .at_event = 2000, .segment = 0, .fraction = 0.5});
  auto g = Generator::Create(c);
  ASSERT_TRUE(g.ok());
  auto count = [&](int s) { return std::count(g->labels().begin(), g->labels().end(), s); };
  EXPECT_EQ(count(3), 0);
  Event e;
  for (int i = 0; i < 1500; ++i) ASSERT_TRUE(g->Next(&e));
  EXPECT_NEAR(static_cast<double>(count(3)) / 2000, 0.25, 0.04);
  const auto before = count(0);
  while (g->Next(&e)) {
  }
  EXPECT_NEAR(static_cast<double>(count(0)) / before, 0.5, 0.1);
}

TEST(GeneratorTest, RejectsBadConfig) {
  EXPECT_EQ(Generator::Create({.customers = 0}).status().message().rfind("customers", 0), 0u);
  Generator::Config c;
  c.drift.push_back({.segment = 12});
  EXPECT_EQ(Generator::Create(c).status().message().rfind("drift[0].segment", 0), 0u);
  c = Generator::Config{};
  c.segments = DefaultSegments(2);
  c.segments[1].activity = 0;
  EXPECT_EQ(Generator::Create(c).status().message().rfind("segments[1].activity", 0), 0u);
}

}  // namespace
}  // namespace strata::segment
