// ProfileStore idempotency by event id: a repeated Event::id (in one batch, across batches, across
// a reopen, after a snapshot) is acknowledged as a duplicate and not applied again, so profiles
// equal the run without resends; events without an id are appended as before; a database
// created before the event_id column is migrated at open. Real SQLite files in a temp dir.
#include <gtest/gtest.h>

#include <filesystem>

#include "profile_store_fixture.h"
#include "strata/segment/profile_store.h"
#include "strata/store/sqlite.h"

namespace strata::segment {
namespace {

class ProfileStoreDedupeTest : public testing::ProfileStoreFixture {
 protected:
  // Purchase n (ids "ev-<n>") by one of 3 customers, amount 10 + n.
  static Event Purchase(int n, bool with_id = true) {
    return Event{.customer_id = "c" + std::to_string(n % 3),
                 .timestamp = FromUnixSeconds(1.7e9 + 3600.0 * n),
                 .type = EventType::kPurchase,
                 .amount = 10.0 + n,
                 .quantity = 1,
                 .product = "p" + std::to_string(n),
                 .id = with_id ? "ev-" + std::to_string(n) : ""};
  }
  // Profiles of events 0..n-1 applied once each (the no-duplicate case).
  static ProfileTable Reference(int n) {
    auto t = ProfileTable::Create(ProfileTable::Config{.half_life_days = 7});
    for (int i = 0; i < n; ++i) t->UpdateUnchecked(Purchase(i));
    return std::move(t).value();
  }
  static void ExpectSameProfiles(const ProfileTable& got, const ProfileTable& want) {
    ASSERT_EQ(got.size(), want.size());
    for (uint32_t i = 0; i < want.size(); ++i) {
      auto idx = got.Find(want.customer_id(i));
      ASSERT_TRUE(idx.has_value()) << want.customer_id(i);
      EXPECT_EQ(got.profile(*idx).purchase_count, want.profile(i).purchase_count);
      EXPECT_EQ(got.profile(*idx).spend, want.profile(i).spend);
      EXPECT_EQ(got.SerializeProfile(*idx), want.SerializeProfile(i)) << want.customer_id(i);
    }
  }
  int64_t Rows() const {
    auto db = store::Database::Open(Config().path);
    auto st = (*db)->Prepare("SELECT COUNT(*) FROM seg_events");
    EXPECT_TRUE(st->Step().value_or(false));
    return st->ColumnInt(0);
  }
};

TEST_F(ProfileStoreDedupeTest, RepeatedIdInOneBatchIsStoredAndAppliedOnce) {
  auto store = ProfileStore::Open(Config());
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<Event> batch = {Purchase(0), Purchase(1), Purchase(0), Purchase(2), Purchase(1)};
  auto ack = (*store)->Append(batch);
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->accepted, 5);
  EXPECT_EQ(ack->duplicates, 2);
  EXPECT_EQ(ack->duplicate_indices, (std::vector<size_t>{2, 4}));
  EXPECT_TRUE(ack->rejected.empty());
  EXPECT_EQ((*store)->log_events(), 3);
  ExpectSameProfiles((*store)->table(), Reference(3));
  EXPECT_EQ(Rows(), 3);
}

TEST_F(ProfileStoreDedupeTest, RepeatedIdsAcrossBatchesReopenAndSnapshot) {
  {
    auto store = ProfileStore::Open(Config());
    ASSERT_TRUE(store.ok()) << store.status();
    std::vector<Event> first = {Purchase(0), Purchase(1), Purchase(2), Purchase(3)};
    ASSERT_EQ((*store)->Append(first)->duplicates, 0);
    std::vector<Event> resend = {Purchase(2), Purchase(3), Purchase(4)};  // 2 and 3 were stored
    auto ack = (*store)->Append(resend);
    ASSERT_TRUE(ack.ok()) << ack.status();
    EXPECT_EQ(ack->accepted, 3);
    EXPECT_EQ(ack->duplicates, 2);
    EXPECT_EQ(ack->duplicate_indices, (std::vector<size_t>{0, 1}));
    ExpectSameProfiles((*store)->table(), Reference(5));
  }  // "crash": no snapshot
  {
    auto store = ProfileStore::Open(Config());
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ((*store)->replayed_on_open(), 5);
    ExpectSameProfiles((*store)->table(), Reference(5));
    std::vector<Event> resend = {Purchase(4), Purchase(0), Purchase(5)};
    auto ack = (*store)->Append(resend);
    ASSERT_TRUE(ack.ok()) << ack.status();
    EXPECT_EQ(ack->duplicates, 2);
    ASSERT_TRUE((*store)->Snapshot().ok());
    EXPECT_EQ((*store)->log_events(), 0);
  }
  // After a snapshot the ids still dedupe, and nothing is replayed twice.
  auto store = ProfileStore::Open(Config());
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->replayed_on_open(), 0);
  ExpectSameProfiles((*store)->table(), Reference(6));
  std::vector<Event> resend = {Purchase(1), Purchase(5), Purchase(6)};
  auto ack = (*store)->Append(resend);
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->accepted, 3);
  EXPECT_EQ(ack->duplicates, 2);
  ExpectSameProfiles((*store)->table(), Reference(7));
  EXPECT_EQ(Rows(), 7);
}

TEST_F(ProfileStoreDedupeTest, SnapshotKeepsOnlyTheNewestIds) {
  auto c = Config();
  c.keep_event_ids = 2;
  auto store = ProfileStore::Open(c);
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<Event> batch = {Purchase(0), Purchase(1), Purchase(2), Purchase(3, false)};
  ASSERT_TRUE((*store)->Append(batch).ok());
  ASSERT_TRUE((*store)->Snapshot().ok());
  EXPECT_EQ(Rows(), 2);  // the id-less event went, ev-0 was pruned
  std::vector<Event> resend = {Purchase(2), Purchase(0)};
  auto ack = (*store)->Append(resend);
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->duplicate_indices, (std::vector<size_t>{0}));  // ev-0 is past the window
  c.keep_event_ids = -1;
  EXPECT_EQ(ProfileStore::Open(c).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ProfileStoreDedupeTest, EventsWithoutIdAreAlwaysAppended) {
  auto store = ProfileStore::Open(Config());
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<Event> batch = {Purchase(0, false), Purchase(0, false)};
  auto ack = (*store)->Append(batch);
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->accepted, 2);
  EXPECT_EQ(ack->duplicates, 0);
  auto idx = (*store)->table().Find("c0");
  ASSERT_TRUE(idx.has_value());
  EXPECT_EQ((*store)->table().profile(*idx).purchase_count, 2u);
  EXPECT_EQ(Rows(), 2);
}

TEST_F(ProfileStoreDedupeTest, BadIdIsRejectedByIndexAndNotStored) {
  auto store = ProfileStore::Open(Config());
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<Event> batch = {Purchase(0), Purchase(1), Purchase(2)};
  batch[1].id = std::string(129, 'x');
  batch[2].id = "bad\nid";
  auto ack = (*store)->Append(batch);
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->accepted, 1);
  ASSERT_EQ(ack->rejected.size(), 2u);
  EXPECT_EQ(ack->rejected[0].index, 1u);
  EXPECT_EQ(ack->rejected[0].status.message().rfind("id: too long", 0), 0u);
  EXPECT_EQ(ack->rejected[1].index, 2u);
  EXPECT_EQ(ack->rejected[1].status.message().rfind("id: not a printable", 0), 0u);
  EXPECT_EQ(Rows(), 1);
}

TEST_F(ProfileStoreDedupeTest, OldDatabaseIsMigratedOnceAtOpen) {
  {
    auto db = store::Database::Open(Config().path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec(R"sql(
CREATE TABLE seg_events(seq INTEGER PRIMARY KEY AUTOINCREMENT,
  customer_id TEXT NOT NULL, ts_ns INTEGER NOT NULL, type INTEGER NOT NULL,
  amount REAL NOT NULL, quantity INTEGER NOT NULL,
  product TEXT NOT NULL, category TEXT NOT NULL, channel TEXT NOT NULL, node TEXT NOT NULL);
INSERT INTO seg_events(customer_id, ts_ns, type, amount, quantity, product, category, channel, node)
  VALUES('c0', 1700000000000000000, 0, 10.0, 1, 'p0', '', '', '');
)sql").ok());
  }
  for (int open = 0; open < 2; ++open) {
    auto store = ProfileStore::Open(Config());
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ((*store)->replayed_on_open(), 1 + open);
    if (open == 0) {
      std::vector<Event> batch = {Purchase(7), Purchase(7)};
      EXPECT_EQ((*store)->Append(batch)->duplicates, 1);
    }
  }
  EXPECT_EQ(Rows(), 2);
}

}  // namespace
}  // namespace strata::segment
