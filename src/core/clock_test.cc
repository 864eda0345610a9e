#include "strata/core/clock.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

TEST(ClockTest, RealClockMovesForward) {
  Clock* c = Clock::Real();
  auto a = c->MonotonicNow();
  c->SleepFor(std::chrono::milliseconds(2));
  EXPECT_GT(c->MonotonicNow(), a);
  EXPECT_GT(ToUnixSeconds(c->Now()), 1.7e9);  // after 2023
}

TEST(ClockTest, ManualClockOnlyMovesWhenTold) {
  ManualClock c(FromUnixSeconds(1000));
  EXPECT_DOUBLE_EQ(ToUnixSeconds(c.Now()), 1000);
  auto m0 = c.MonotonicNow();
  c.Advance(std::chrono::seconds(30));
  EXPECT_DOUBLE_EQ(ToUnixSeconds(c.Now()), 1030);
  EXPECT_EQ(c.MonotonicNow() - m0, std::chrono::seconds(30));
  c.SleepFor(std::chrono::milliseconds(500));
  EXPECT_DOUBLE_EQ(ToUnixSeconds(c.Now()), 1030.5);
  c.Set(FromUnixSeconds(2000));
  EXPECT_DOUBLE_EQ(ToUnixSeconds(c.Now()), 2000);
}

TEST(ClockTest, Rfc3339RoundTrip) {
  WallTime t = FromUnixSeconds(1764000000.25);
  std::string s = FormatRfc3339(t);
  EXPECT_EQ(s, "2025-11-24T16:00:00.250Z");
  auto back = ParseRfc3339(s);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_NEAR(ToUnixSeconds(*back), 1764000000.25, 1e-6);
}

TEST(ClockTest, ParsesOffsetsAndSpaceSeparatedTimes) {
  auto a = ParseRfc3339("2011-12-09 12:50:00");
  ASSERT_TRUE(a.ok());
  auto b = ParseRfc3339("2011-12-09T13:50:00+01:00");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(FormatRfc3339(*a), "2011-12-09T12:50:00.000Z");
}

TEST(ClockTest, RejectsMalformedTimes) {
  for (const char* bad : {"", "2011-13-01T00:00:00Z", "2011-12-09T25:00:00Z", "yesterday",
                          "2011-12-09T12:50:00Zjunk", "2011-12-09"}) {
    auto r = ParseRfc3339(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace strata

namespace strata {
namespace {
TEST(ClockTest, DaysFromCivil) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(2024, 2, 29) * 86400, 1709164800);
}
}  // namespace
}  // namespace strata
