// Customer profiles: compact per-customer state updated in O(1) per event, turned into a fixed
// 16-float feature vector (recency, decayed frequency/monetary, basket, returns, rhythm, mixes).
//
// ProfileTable owns every profile in three flat arrays (profiles, an id byte pool, and an
// open-addressing index), so its memory is exactly what MemoryBytes() reports (vector capacities;
// no per-node allocations). Decayed sums are kept relative to the newest event time seen for the
// customer, so out-of-order events are folded in with weight 2^(-(ref - t)/half_life).
// RunningStats is a Welford mean/variance accumulator for feature standardisation.
// Thread-safety: ProfileTable and RunningStats are not thread-safe; use one writer thread (or a
// mutex). Const methods may run concurrently with each other but not with a writer.
//
//   STRATA_ASSIGN_OR_RETURN(auto table, ProfileTable::Create({.half_life_days = 14}));
//   STRATA_ASSIGN_OR_RETURN(uint32_t idx, table.Update(event));
//   FeatureVector x = table.Features(idx, event.timestamp);
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "strata/core/clock.h"
#include "strata/core/status.h"
#include "strata/segment/event.h"

namespace strata::segment {

inline constexpr int kNumFeatures = 16;
inline constexpr int kCategoryBuckets = 4;
using FeatureVector = std::array<float, kNumFeatures>;

enum Feature : int {
  kRecencyDays = 0,        // log1p(days since last purchase; since first seen if none)
  kFrequency = 1,          // log1p(decayed purchase count)
  kMonetary = 2,           // log1p(decayed spend)
  kAvgBasket = 3,          // log1p(decayed spend / decayed purchases)
  kReturnRate = 4,         // decayed returns / (purchases + returns)
  kInterPurchaseDays = 5,  // log1p(EWMA of gaps between purchases, days)
  kBrowseRatio = 6,        // decayed (views + carts) / all events
  kTenureDays = 7,         // log1p(days since first event)
  kHourSin = 8,            // decayed mean of sin(2*pi*hour/24), UTC
  kHourCos = 9,            // decayed mean of cos(2*pi*hour/24)
  kWeekendShare = 10,      // decayed share of events on Saturday/Sunday (UTC)
  kCategoryMix0 = 11,      // decayed share of events whose category hashes to bucket 0
  kCategoryMix1 = 12,      //   ... bucket 1
  kCategoryMix2 = 13,      //   ... bucket 2 (bucket 3 is 1 - the others)
  kChannelOnline = 14,     // decayed share of events on online/web/app channels
  kChannelStore = 15,      // decayed share of events on store/pos channels
};

enum class FeatureTransform : uint8_t { kIdentity, kLog1p };
struct FeatureInfo {
  std::string_view name;  // snake_case, stable (used in explanations and exports)
  std::string_view unit;  // unit of the original (untransformed) value
  FeatureTransform transform;
};
const std::array<FeatureInfo, kNumFeatures>& FeatureInfos();
// Undoes the feature transform (expm1 for log1p features): feature value -> original units.
double ToOriginalUnits(int feature, double value);

// Compact per-customer state (96 bytes). Decayed sums are referenced to ref_s.
struct CustomerProfile {
  int64_t ref_s = 0;            // newest event time seen (unix seconds)
  int64_t first_s = 0;          // oldest event time seen
  int64_t last_purchase_s = 0;  // newest purchase time; 0 = none
  float purchases = 0, spend = 0, returns = 0, browse = 0, events = 0;  // decayed
  float hour_sin = 0, hour_cos = 0, weekend = 0;                        // decayed sums
  float category[kCategoryBuckets] = {0, 0, 0, 0};                      // decayed counts
  float online = 0, store = 0;                                          // decayed counts
  float gap_days_ewma = 0;      // EWMA of inter-purchase gaps (days)
  uint32_t purchase_count = 0;  // lifetime purchases
  uint32_t id_offset = 0;       // into the table's id pool
  uint16_t id_length = 0;
  uint16_t flags = 0;  // bit 0: dirty since last TakeDirty()
};
static_assert(sizeof(CustomerProfile) == 96, "keep CustomerProfile compact");

// Welford running mean/variance per feature (Chan et al. merge for combining nodes).
class RunningStats {
 public:
  void Add(const float* x);
  void Add(const FeatureVector& x) { Add(x.data()); }
  void Merge(const RunningStats& other);
  int64_t count() const { return count_; }
  double mean(int f) const { return mean_[f]; }
  double variance(int f) const { return count_ > 1 ? m2_[f] / static_cast<double>(count_ - 1) : 0; }
  // sqrt(variance), floored at `floor` so constant features do not divide by zero.
  double stddev(int f, double floor = 1e-3) const;

 private:
  int64_t count_ = 0;
  std::array<double, kNumFeatures> mean_{};
  std::array<double, kNumFeatures> m2_{};
};

class ProfileTable {
 public:
  struct Config {
    double half_life_days = 14.0;  // decay of frequency, monetary and the mixes; > 0
    double gap_ewma_alpha = 0.3;   // weight of the newest inter-purchase gap, (0, 1]
    size_t reserve_customers = 0;  // pre-size the arrays (avoids rehash/growth slack)
  };
  // InvalidArgument naming the field when half_life_days <= 0/non-finite or alpha not in (0,1].
  static Result<ProfileTable> Create(const Config& config);

  // Validates the event (ValidateEvent) and folds it into its customer's profile, creating the
  // profile on first sight. Returns the customer's index, or the validation error.
  Result<uint32_t> Update(const Event& event);
  // Same without validation, for events already checked by ValidateEvent.
  uint32_t UpdateUnchecked(const Event& event);

  std::optional<uint32_t> Find(std::string_view customer_id) const;
  size_t size() const { return profiles_.size(); }
  const CustomerProfile& profile(uint32_t index) const { return profiles_[index]; }
  std::string_view customer_id(uint32_t index) const;

  // The feature vector of a customer as of `now` (decay applied up to max(now, ref)).
  FeatureVector Features(uint32_t index, WallTime now) const;
  void FeaturesInto(uint32_t index, WallTime now, float* out) const;

  // Heap bytes owned by the table (capacity of every array) plus sizeof(*this).
  size_t MemoryBytes() const;

  // Indices updated since the last call (each once); clears the dirty marks.
  std::vector<uint32_t> TakeDirty();
  void MarkDirty(uint32_t index);
  // Persistence helpers: a profile's state as bytes (no id), and the inverse, which inserts or
  // overwrites `customer_id`. InvalidArgument/DataLoss when the blob has the wrong size/version.
  std::string SerializeProfile(uint32_t index) const;
  Status RestoreProfile(std::string_view customer_id, std::string_view blob);

  const Config& config() const { return config_; }

 private:
  explicit ProfileTable(const Config& config);
  uint32_t FindOrInsert(std::string_view id);
  void Rehash(size_t new_slots);
  void Apply(CustomerProfile& p, const Event& e);

  Config config_;
  double half_life_s_;
  std::vector<CustomerProfile> profiles_;
  std::vector<char> id_pool_;
  std::vector<uint32_t> slots_;  // index + 1; 0 = empty; power-of-two size, load <= 0.75
  std::vector<uint32_t> dirty_;
};

}  // namespace strata::segment
