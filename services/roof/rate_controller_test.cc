// RateController: the AIMD rule on synthetic round trips (no clocks, no threads).
#include "rate_controller.h"

#include <gtest/gtest.h>

namespace strata::roof_service {
namespace {

using std::chrono::milliseconds;

TEST(RateControllerTest, OffKeepsTheConfiguredRate) {
  RateController c({.target_p99 = milliseconds(0), .max_fps = 5});
  for (int i = 0; i < 100; ++i) EXPECT_EQ(c.Observe(1000), 5);
}

TEST(RateControllerTest, OverTargetCutsMultiplicativelyDownToTheFloor) {
  RateController c({.target_p99 = milliseconds(100), .min_fps = 0.5, .max_fps = 5, .window = 10});
  for (int i = 0; i < 4; ++i) c.Observe(300);
  EXPECT_EQ(c.rate(), 5);  // fewer than window/2 samples: no decision yet
  c.Observe(300);
  EXPECT_DOUBLE_EQ(c.rate(), 3.75);  // 5 x 0.75
  for (int i = 0; i < 4; ++i) c.Observe(300);
  EXPECT_DOUBLE_EQ(c.rate(), 3.75);  // waits window/2 samples before the next change
  c.Observe(300);
  EXPECT_DOUBLE_EQ(c.rate(), 3.75 * 0.75);
  for (int i = 0; i < 200; ++i) c.Observe(300);
  EXPECT_DOUBLE_EQ(c.rate(), 0.5);
  EXPECT_DOUBLE_EQ(c.recent_p99(), 300);
}

TEST(RateControllerTest, UnderHeadroomGrowsAdditivelyBackToTheCeilingAndHoldsInBetween) {
  RateController c({.target_p99 = milliseconds(100), .min_fps = 0.5, .max_fps = 2, .window = 4});
  for (int i = 0; i < 40; ++i) c.Observe(500);
  EXPECT_DOUBLE_EQ(c.rate(), 0.5);
  for (int i = 0; i < 6; ++i) c.Observe(50);  // 4 slow samples leave the window first
  EXPECT_GT(c.rate(), 0.5);
  for (int i = 0; i < 100; ++i) c.Observe(50);
  EXPECT_DOUBLE_EQ(c.rate(), 2);
  RateController hold({.target_p99 = milliseconds(100), .max_fps = 2, .window = 4});
  for (int i = 0; i < 40; ++i) hold.Observe(85);  // between 70 and 100 ms: no change
  EXPECT_DOUBLE_EQ(hold.rate(), 2);
}

TEST(RateControllerTest, OneSlowOutlierInTheWindowCountsAsTheP99) {
  RateController c({.target_p99 = milliseconds(100), .max_fps = 5, .window = 20});
  for (int i = 0; i < 9; ++i) c.Observe(20);
  c.Observe(250);
  EXPECT_DOUBLE_EQ(c.recent_p99(), 250);
  EXPECT_LT(c.rate(), 5);
}

}  // namespace
}  // namespace strata::roof_service
