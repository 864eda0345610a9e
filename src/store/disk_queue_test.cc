// DiskQueue: FIFO order, ack, bounds with oldest-first eviction, reopen after "restart",
// concurrent pushers, meta encoding — on real SQLite files in a temporary directory.
#include "strata/store/disk_queue.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <thread>

#include "strata/metrics/metrics.h"

namespace strata::store {
namespace {

class DiskQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("strata_dq_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path() const { return (dir_ / "sub" / "q.db").string(); }
  std::filesystem::path dir_;
};

TEST_F(DiskQueueTest, PushPeekAckIsOldestFirst) {
  auto q = DiskQueue::Open({.path = Path(), .name = "t1"});
  ASSERT_TRUE(q.ok()) << q.status();
  auto a = (*q)->Push("a", "m: 1\n");
  auto b = (*q)->Push("bb", "");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(IsUlid(*a));
  EXPECT_LT(*a, *b);
  EXPECT_EQ((*q)->size(), 2);
  EXPECT_EQ((*q)->bytes(), 1 + 5 + 2);
  auto head = (*q)->Peek();
  ASSERT_TRUE(head.ok() && head->has_value());
  EXPECT_EQ((*head)->id, *a);
  EXPECT_EQ((*head)->body, "a");
  EXPECT_EQ((*head)->meta, "m: 1\n");
  EXPECT_GT((*head)->enqueued_at_ms, 0);
  ASSERT_TRUE((*q)->MarkAttempt(*a).ok());
  EXPECT_EQ((*(*q)->Peek())->attempts, 1);
  ASSERT_TRUE((*q)->Ack(*a).ok());
  ASSERT_TRUE((*q)->Ack(*a).ok());  // already gone: fine
  EXPECT_EQ((*(*q)->Peek())->id, *b);
  ASSERT_TRUE((*q)->Ack(*b).ok());
  EXPECT_FALSE((*(*q)->Peek()).has_value());
  EXPECT_EQ((*q)->size(), 0);
  EXPECT_EQ((*q)->bytes(), 0);
}

TEST_F(DiskQueueTest, GivenIdsAreKeptAndDuplicatesRejected) {
  auto q = DiskQueue::Open({.path = Path()});
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(*(*q)->Push("x", "", "01HZZZZZZZZZZZZZZZZZZZZZZZ"), "01HZZZZZZZZZZZZZZZZZZZZZZZ");
  auto dup = (*q)->Push("y", "", "01HZZZZZZZZZZZZZZZZZZZZZZZ");
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ((*q)->size(), 1);
}

TEST_F(DiskQueueTest, ItemsSurviveReopen) {
  std::vector<std::string> ids;
  {
    auto q = DiskQueue::Open({.path = Path()});
    ASSERT_TRUE(q.ok());
    for (int i = 0; i < 5; ++i) ids.push_back(*(*q)->Push("body" + std::to_string(i), "k: v\n"));
    ASSERT_TRUE((*q)->Ack(ids[0]).ok());
  }  // "process exit"
  auto q = DiskQueue::Open({.path = Path()});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ((*q)->size(), 4);
  EXPECT_EQ((*q)->bytes(), 4 * (5 + 5));
  for (int i = 1; i < 5; ++i) {
    auto head = (*q)->Peek();
    ASSERT_TRUE(head.ok() && head->has_value());
    EXPECT_EQ((*head)->id, ids[i]);
    EXPECT_EQ((*head)->body, "body" + std::to_string(i));
    ASSERT_TRUE((*q)->Ack((*head)->id).ok());
  }
  auto later = (*q)->Push("new", "");  // new ids still sort after the old ones
  ASSERT_TRUE(later.ok());
  EXPECT_GT(*later, ids.back());
}

TEST_F(DiskQueueTest, MaxItemsEvictsOldestFirstAndCounts) {
  auto q = DiskQueue::Open({.path = Path(), .name = "evict_items", .max_items = 3});
  ASSERT_TRUE(q.ok());
  double before =
      metrics::GetCounter("strata_store_queue_evicted_total", "", {{"queue", "evict_items"}})
          .Value();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE((*q)->Push(std::to_string(i), "").ok());
  EXPECT_EQ((*q)->size(), 3);
  EXPECT_EQ((*q)->evicted(), 2u);
  EXPECT_EQ((*(*q)->Peek())->body, "2");
  EXPECT_EQ(metrics::GetCounter("strata_store_queue_evicted_total", "", {{"queue", "evict_items"}})
                    .Value() -
                before,
            2);
  EXPECT_EQ(metrics::GetGauge("strata_store_queue_depth", "", {{"queue", "evict_items"}}).Value(),
            3);
}

TEST_F(DiskQueueTest, MaxBytesEvictsOldestFirstAndRejectsHugeItems) {
  auto q = DiskQueue::Open({.path = Path(), .max_bytes = 10});
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE((*q)->Push("aaaa", "").ok());
  ASSERT_TRUE((*q)->Push("bbbb", "").ok());
  ASSERT_TRUE((*q)->Push("cccc", "").ok());  // 12 > 10: "aaaa" goes
  EXPECT_EQ((*q)->size(), 2);
  EXPECT_EQ((*q)->bytes(), 8);
  EXPECT_EQ((*q)->evicted(), 1u);
  EXPECT_EQ((*(*q)->Peek())->body, "bbbb");
  auto huge = (*q)->Push(std::string(11, 'x'), "");
  EXPECT_EQ(huge.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ((*q)->size(), 2);
}

TEST_F(DiskQueueTest, RejectsBadBounds) {
  EXPECT_FALSE(DiskQueue::Open({.path = Path(), .max_items = 0}).ok());
  EXPECT_FALSE(DiskQueue::Open({.path = Path(), .max_bytes = 0}).ok());
  EXPECT_FALSE(DiskQueue::Open({.path = ""}).ok());
}

TEST_F(DiskQueueTest, ConcurrentPushersLoseNothing) {
  auto q = DiskQueue::Open({.path = Path(), .full_sync = false});
  ASSERT_TRUE(q.ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&q, t] {
      for (int i = 0; i < 25; ++i) (void)(*q)->Push(std::to_string(t * 100 + i), "");
    });
  for (auto& th : threads) th.join();
  std::set<std::string> bodies;
  while (auto head = *(*q)->Peek()) {
    bodies.insert(head->body);
    ASSERT_TRUE((*q)->Ack(head->id).ok());
  }
  EXPECT_EQ(bodies.size(), 100u);
}

TEST(DiskQueueMetaTest, RoundTripsPairsAndSkipsUnsafeOnes) {
  std::vector<std::pair<std::string, std::string>> in = {
      {"X-Strata-Camera", "porch"}, {"X-Strata-Box", "0.1,0.2,0.3,0.4"}, {"bad", "a\nb"}};
  auto out = DecodeMeta(EncodeMeta(in));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], in[0]);
  EXPECT_EQ(out[1], in[1]);
  EXPECT_TRUE(DecodeMeta("").empty());
}

}  // namespace
}  // namespace strata::store
