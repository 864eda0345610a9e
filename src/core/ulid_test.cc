#include "strata/core/ulid.h"

#include <gtest/gtest.h>

#include <set>

namespace strata {
namespace {

TEST(UlidTest, FormatAndTimestampRoundTrip) {
  UlidGenerator ids(7);
  WallTime t = FromUnixSeconds(1'764'489'600) + std::chrono::milliseconds(123);
  std::string id = ids.Next(t);
  EXPECT_TRUE(IsUlid(id)) << id;
  EXPECT_EQ(UlidMillis(id), 1'764'489'600'123u);
}

TEST(UlidTest, StrictlyIncreasingWithinOneMillisecondAndAcrossTime) {
  UlidGenerator ids(1);
  WallTime t = FromUnixSeconds(1'700'000'000);
  std::string prev = ids.Next(t);
  std::set<std::string> seen{prev};
  for (int i = 0; i < 1000; ++i) {
    std::string id = ids.Next(t + std::chrono::milliseconds(i / 100));
    EXPECT_GT(id, prev);
    seen.insert(id);
    prev = id;
  }
  EXPECT_EQ(seen.size(), 1001u);
  // A clock that steps back does not break the order.
  EXPECT_GT(ids.Next(t - std::chrono::seconds(5)), prev);
}

TEST(UlidTest, RejectsMalformed) {
  EXPECT_FALSE(IsUlid(""));
  EXPECT_FALSE(IsUlid("01ARZ3NDEKTSV4RRFFQ69G5FA"));    // 25 chars
  EXPECT_FALSE(IsUlid("01ARZ3NDEKTSV4RRFFQ69G5FAI"));   // I is not Crockford
  EXPECT_FALSE(IsUlid("81ARZ3NDEKTSV4RRFFQ69G5FAV"));   // overflows 128 bits
  EXPECT_TRUE(IsUlid("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
}

}  // namespace
}  // namespace strata
