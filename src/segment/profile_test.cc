#include "strata/segment/profile.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "strata/core/rng.h"

namespace strata::segment {
namespace {

constexpr double kT0 = 1.7e9;  // 2023-11-14T22:13:20Z
constexpr double kDay = 86400;

Event Buy(const std::string& id, double t, double amount, EventType type = EventType::kPurchase) {
  Event e;
  e.customer_id = id;
  e.timestamp = FromUnixSeconds(t);
  e.type = type;
  e.amount = amount;
  e.quantity = 1;
  e.category = "books";
  e.channel = "online";
  return e;
}

ProfileTable MakeTable(double half_life_days = 10) {
  auto t = ProfileTable::Create({.half_life_days = half_life_days});
  EXPECT_TRUE(t.ok());
  return std::move(t).value();
}

TEST(ProfileTest, RejectsBadConfig) {
  auto bad = ProfileTable::Create({.half_life_days = 0});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message().rfind("half_life_days", 0), 0u);
  bad = ProfileTable::Create({.half_life_days = std::nan("")});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  bad = ProfileTable::Create({.gap_ewma_alpha = 0});
  EXPECT_EQ(bad.status().message().rfind("gap_ewma_alpha", 0), 0u);
}

TEST(ProfileTest, UpdateRejectsInvalidEvent) {
  ProfileTable t = MakeTable();
  Event e = Buy("a", kT0, -1);
  EXPECT_EQ(t.Update(e).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(t.size(), 0u);
}

TEST(ProfileTest, FrequencyAndMonetaryDecayByHalfLife) {
  ProfileTable t = MakeTable(10);
  auto idx = t.Update(Buy("a", kT0, 100));
  ASSERT_TRUE(idx.ok());
  FeatureVector now = t.Features(*idx, FromUnixSeconds(kT0));
  EXPECT_NEAR(now[kMonetary], std::log1p(100.0), 1e-5);
  EXPECT_NEAR(now[kFrequency], std::log1p(1.0), 1e-6);
  FeatureVector later = t.Features(*idx, FromUnixSeconds(kT0 + 10 * kDay));
  EXPECT_NEAR(later[kMonetary], std::log1p(50.0), 1e-4);
  EXPECT_NEAR(later[kFrequency], std::log1p(0.5), 1e-5);
  EXPECT_NEAR(later[kRecencyDays], std::log1p(10.0), 1e-5);
  EXPECT_NEAR(later[kAvgBasket], std::log1p(100.0), 1e-4);  // ratio is decay-free
}

TEST(ProfileTest, OutOfOrderEventsGiveTheSameProfile) {
  std::vector<Event> ev = {Buy("a", kT0, 10), Buy("a", kT0 + 3 * kDay, 30),
                           Buy("a", kT0 + 5 * kDay, 5, EventType::kReturn),
                           Buy("a", kT0 + 9 * kDay, 20, EventType::kView)};
  ProfileTable fwd = MakeTable(), rev = MakeTable();
  for (const auto& e : ev) ASSERT_TRUE(fwd.Update(e).ok());
  for (auto it = ev.rbegin(); it != ev.rend(); ++it) ASSERT_TRUE(rev.Update(*it).ok());
  const WallTime now = FromUnixSeconds(kT0 + 12 * kDay);
  FeatureVector a = fwd.Features(0, now), b = rev.Features(0, now);
  for (int f = 0; f < kNumFeatures; ++f) {
    if (f == kInterPurchaseDays) continue;  // the gap EWMA only sees in-order purchase pairs
    EXPECT_NEAR(a[f], b[f], 1e-5) << FeatureInfos()[f].name;
  }
}

TEST(ProfileTest, RatesRhythmAndMixes) {
  ProfileTable t = MakeTable(1000);  // nearly no decay
  // Purchases every 10 days at 06:xx UTC (kT0 is 22:13 UTC; add 8h -> 06:13).
  const double base = kT0 + 8 * 3600;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(t.Update(Buy("a", base + i * 10 * kDay, 10)).ok());
  ASSERT_TRUE(t.Update(Buy("a", base + 20 * kDay, 10, EventType::kReturn)).ok());
  Event view = Buy("a", base + 20 * kDay, 0, EventType::kView);
  view.channel = "store";
  ASSERT_TRUE(t.Update(view).ok());
  FeatureVector x = t.Features(0, FromUnixSeconds(base + 20 * kDay));
  EXPECT_NEAR(x[kInterPurchaseDays], std::log1p(10.0), 1e-4);
  EXPECT_NEAR(x[kReturnRate], 0.25, 5e-3);    // 20 days of a 1000-day half-life
  EXPECT_NEAR(x[kBrowseRatio], 0.2, 5e-3);    // 20 days of a 1000-day half-life
  EXPECT_NEAR(x[kChannelOnline], 0.8, 5e-3);  // 20 days of a 1000-day half-life
  EXPECT_NEAR(x[kChannelStore], 0.2, 5e-3);   // 20 days of a 1000-day half-life
  EXPECT_NEAR(x[kHourSin], std::sin(2 * std::numbers::pi * 6.5 / 24), 1e-3);
  EXPECT_NEAR(x[kHourCos], std::cos(2 * std::numbers::pi * 6.5 / 24), 1e-3);
  EXPECT_NEAR(x[kTenureDays], std::log1p(20.0), 1e-4);
  EXPECT_NEAR(x[kRecencyDays], 0.0, 1e-6);
  float cat_total = x[kCategoryMix0] + x[kCategoryMix1] + x[kCategoryMix2];
  EXPECT_TRUE(std::abs(cat_total - 1.0f) < 1e-4 || std::abs(cat_total) < 1e-6);
}

TEST(ProfileTest, FindsEveryInsertedCustomer) {
  ProfileTable t = MakeTable();
  for (int i = 0; i < 50000; ++i) t.UpdateUnchecked(Buy("id-" + std::to_string(i), kT0, 1));
  ASSERT_EQ(t.size(), 50000u);
  for (int i = 0; i < 50000; i += 7) {
    auto idx = t.Find("id-" + std::to_string(i));
    ASSERT_TRUE(idx.has_value());
    EXPECT_EQ(t.customer_id(*idx), "id-" + std::to_string(i));
  }
  EXPECT_FALSE(t.Find("id-50000").has_value());
  EXPECT_FALSE(t.Find("").has_value());
}

// Memory floor: <= 256 bytes per customer including the index. Counted two ways: the table's own
// capacity accounting, and glibc's allocator statistics (mallinfo2: bytes actually handed out by
// malloc, small and mmapped chunks) around building the table, so nothing is hidden.
TEST(ProfileTest, MemoryPerCustomerAtOneMillion) {
  constexpr int kCustomers = 1'000'000;
  const struct mallinfo2 before = mallinfo2();
  size_t table_bytes = 0, malloc_bytes = 0;
  {
    ProfileTable t = MakeTable();
    Event e = Buy("", kT0, 12.5);
    for (int i = 0; i < kCustomers; ++i) {
      e.customer_id = "customer-" + std::to_string(i);  // 10..15 bytes, typical ids
      t.UpdateUnchecked(e);
    }
    ASSERT_EQ(t.size(), static_cast<size_t>(kCustomers));
    const struct mallinfo2 after = mallinfo2();
    table_bytes = t.MemoryBytes();
    malloc_bytes = (after.uordblks + after.hblkhd) - (before.uordblks + before.hblkhd);
  }
  const double per_table = static_cast<double>(table_bytes) / kCustomers;
  const double per_malloc = static_cast<double>(malloc_bytes) / kCustomers;
  std::printf("[ measured ] bytes/customer at 1M: table accounting %.1f, malloc %.1f (%.1f MiB)\n",
              per_table, per_malloc, static_cast<double>(malloc_bytes) / (1 << 20));
  EXPECT_LE(per_table, 256.0);
  EXPECT_LE(per_malloc, 256.0);
  EXPECT_LE(malloc_bytes, size_t{256} << 20);
  // The table's accounting must not under-report what malloc saw by more than 5%.
  EXPECT_GE(static_cast<double>(table_bytes), 0.95 * static_cast<double>(malloc_bytes) - 4096);
}

TEST(ProfileTest, WelfordMatchesTwoPassAndMerges) {
  Rng rng(5);
  std::vector<FeatureVector> xs(1000);
  RunningStats all, a, b;
  for (size_t i = 0; i < xs.size(); ++i) {
    for (float& v : xs[i]) v = static_cast<float>(rng.Normal(3.0, 2.0));
    all.Add(xs[i]);
    (i < 300 ? a : b).Add(xs[i]);
  }
  a.Merge(b);
  for (int f = 0; f < kNumFeatures; ++f) {
    double mean = 0, var = 0;
    for (const auto& x : xs) mean += x[f];
    mean /= xs.size();
    for (const auto& x : xs) var += (x[f] - mean) * (x[f] - mean);
    var /= xs.size() - 1;
    EXPECT_NEAR(all.mean(f), mean, 1e-9);
    EXPECT_NEAR(all.variance(f), var, 1e-6);
    EXPECT_NEAR(a.mean(f), mean, 1e-9);
    EXPECT_NEAR(a.variance(f), var, 1e-6);
  }
  EXPECT_EQ(a.count(), 1000);
}

TEST(ProfileTest, SerializeRestoreRoundTrip) {
  ProfileTable t = MakeTable(), u = MakeTable();
  ASSERT_TRUE(t.Update(Buy("x", kT0, 5)).ok());
  ASSERT_TRUE(t.Update(Buy("x", kT0 + kDay, 7)).ok());
  const std::string blob = t.SerializeProfile(0);
  ASSERT_TRUE(u.RestoreProfile("x", blob).ok());
  EXPECT_EQ(u.SerializeProfile(*u.Find("x")), blob);
  EXPECT_EQ(u.RestoreProfile("y", blob.substr(1)).code(), StatusCode::kDataLoss);
  std::string bad = blob;
  bad[0] = 9;
  EXPECT_EQ(u.RestoreProfile("y", bad).code(), StatusCode::kInvalidArgument);
  auto dirty = t.TakeDirty();
  EXPECT_EQ(dirty.size(), 1u);
  EXPECT_TRUE(t.TakeDirty().empty());
}

}  // namespace
}  // namespace strata::segment
