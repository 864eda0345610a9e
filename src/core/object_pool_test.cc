#include "strata/core/object_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

namespace strata {
namespace {

TEST(ObjectPoolTest, LeasesAreExclusiveAndReturnedWhenTheyGoOutOfScope) {
  ObjectPool<int> pool;
  pool.Add(std::make_unique<int>(1));
  pool.Add(std::make_unique<int>(2));
  {
    auto a = pool.Acquire();
    auto b = pool.Acquire();
    EXPECT_EQ(std::set<int>({*a, *b}), std::set<int>({1, 2}));
    std::atomic<int> got{0};
    std::thread waiter([&] { got = *pool.Acquire(); });  // blocks: both are leased
    for (int i = 0; i < 50 && got == 0; ++i) std::this_thread::yield();
    EXPECT_EQ(got.load(), 0);
    int returned = *a;
    { auto gone = std::move(a); }  // returns the first one
    waiter.join();
    EXPECT_EQ(got.load(), returned);
  }
  // Both are back: two more leases succeed without waiting.
  auto c = pool.Acquire();
  auto d = pool.Acquire();
  EXPECT_NE(*c, *d);
}

}  // namespace
}  // namespace strata
