#include "strata/segment/profile_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "profile_store_fixture.h"
#include "strata/segment/generator.h"
#include "strata/segment/segmenter.h"

namespace strata::segment {
namespace {

class ProfileStoreTest : public testing::ProfileStoreFixture {
 protected:
  std::vector<Event> Events(int n) {
    auto g = Generator::Create({.customers = 200, .events = n, .k = 4, .seed = 4});
    std::vector<Event> out;
    Event e;
    while (g->Next(&e)) out.push_back(e);
    return out;
  }
};

TEST_F(ProfileStoreTest, AppendReportsInvalidEventsByIndex) {
  auto store = ProfileStore::Open(Config());
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<Event> batch = Events(5);
  batch[1].amount = -1;
  batch[3].customer_id.clear();
  auto ack = (*store)->Append(batch);
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->accepted, 3);
  ASSERT_EQ(ack->rejected.size(), 2u);
  EXPECT_EQ(ack->rejected[0].index, 1u);
  EXPECT_EQ(ack->rejected[0].status.message().rfind("amount", 0), 0u);
  EXPECT_EQ(ack->rejected[1].index, 3u);
  EXPECT_EQ((*store)->log_events(), 3);
}

// Writes batches, snapshots once in the middle, then "crashes" (drops the object without a
// snapshot). Reopening must reflect every acknowledged event, bit for bit.
TEST_F(ProfileStoreTest, RecoversEveryAcknowledgedEventAfterCrash) {
  const std::vector<Event> events = Events(3000);
  auto reference = ProfileTable::Create(Config().profiles);
  ASSERT_TRUE(reference.ok());
  {
    auto store = ProfileStore::Open(Config());
    ASSERT_TRUE(store.ok()) << store.status();
    for (size_t i = 0; i < events.size(); i += 250) {
      std::span<const Event> batch(events.data() + i, std::min<size_t>(250, events.size() - i));
      auto ack = (*store)->Append(batch);
      ASSERT_TRUE(ack.ok()) << ack.status();
      ASSERT_EQ(ack->accepted, static_cast<int64_t>(batch.size()));
      for (const Event& e : batch) reference->UpdateUnchecked(e);
      if (i == 1000) {
        ASSERT_TRUE((*store)->Snapshot().ok());
      }
    }
    EXPECT_EQ((*store)->log_events(), 3000 - 1250);
  }  // crash: no final snapshot
  auto reopened = ProfileStore::Open(Config());
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  const ProfileTable& t = (*reopened)->table();
  EXPECT_EQ((*reopened)->replayed_on_open(), 3000 - 1250);
  ASSERT_EQ(t.size(), reference->size());
  for (uint32_t i = 0; i < reference->size(); ++i) {
    auto idx = t.Find(reference->customer_id(i));
    ASSERT_TRUE(idx.has_value()) << reference->customer_id(i);
    EXPECT_EQ(t.SerializeProfile(*idx), reference->SerializeProfile(i)) << i;
  }
  // A snapshot truncates the log; the next open replays nothing and still matches.
  ASSERT_TRUE((*reopened)->Snapshot().ok());
  EXPECT_EQ((*reopened)->log_events(), 0);
  reopened->reset();
  auto third = ProfileStore::Open(Config());
  ASSERT_TRUE(third.ok());
  EXPECT_EQ((*third)->replayed_on_open(), 0);
  EXPECT_EQ((*third)->table().size(), reference->size());
  auto idx = (*third)->table().Find(reference->customer_id(0));
  ASSERT_TRUE(idx.has_value());
  EXPECT_EQ((*third)->table().SerializeProfile(*idx), reference->SerializeProfile(0));
}

TEST_F(ProfileStoreTest, SharesOneTableWithTheSegmenter) {
  const std::vector<Event> events = Events(4000);
  std::set<std::string> ids;
  for (const Event& e : events) ids.insert(e.customer_id);
  Segmenter::Config sc;
  sc.train_every_events = 16;
  sc.train_batch = 64;  // 16k training rows: past the 2048-row warm-up
  {
    auto seg = Segmenter::Create(sc);
    ASSERT_TRUE(seg.ok());
    auto store = ProfileStore::Open(Config(), &seg->mutable_profiles());
    ASSERT_TRUE(store.ok()) << store.status();
    auto ack = (*store)->Append(events);
    ASSERT_TRUE(ack.ok());
    for (const Event& e : events) ASSERT_TRUE(seg->AssignApplied(e).ok());
    EXPECT_EQ(&(*store)->table(), &seg->profiles());
    EXPECT_EQ(seg->profiles().size(), ids.size());
    EXPECT_NE(seg->assigner(), nullptr);  // trained through AssignApplied
    Event unknown = events[0];
    unknown.customer_id = "nobody";
    EXPECT_EQ(seg->AssignApplied(unknown).status().code(), StatusCode::kNotFound);
  }
  auto seg = Segmenter::Create({});
  auto store = ProfileStore::Open(Config(), &seg->mutable_profiles());
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(seg->profiles().size(), ids.size());  // recovered into the segmenter's table
  EXPECT_EQ(ProfileStore::Open(Config(), &seg->mutable_profiles()).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(ProfileStoreTest, RejectsBadConfigAndCorruptFiles) {
  EXPECT_EQ(ProfileStore::Open({.path = ""}).status().code(), StatusCode::kInvalidArgument);
  auto c = Config();
  c.profiles.half_life_days = -1;
  EXPECT_EQ(ProfileStore::Open(c).status().message().rfind("profiles", 0), 0u);
  {
    std::FILE* f = std::fopen((dir_ / "junk.db").c_str(), "wb");
    std::fputs("this is not a sqlite database, just text padding padding padding", f);
    std::fclose(f);
  }
  auto junk = ProfileStore::Open({.path = (dir_ / "junk.db").string()});
  EXPECT_FALSE(junk.ok());
}

}  // namespace
}  // namespace strata::segment
