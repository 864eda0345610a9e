#include "strata/segment/profile.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <numbers>

namespace strata::segment {
namespace {

constexpr double kDay = 86400.0;
constexpr uint8_t kBlobVersion = 1;

inline int64_t UnixSeconds(WallTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

inline uint64_t HashId(std::string_view id) { return std::hash<std::string_view>{}(id); }

bool IsOnline(std::string_view c) {
  return c == "online" || c == "web" || c == "app" || c == "mobile" || c == "email";
}
bool IsStore(std::string_view c) { return c == "store" || c == "pos" || c == "shop"; }

// Precomputed sin/cos of the hour of day (to the minute would be finer; hours suffice).
struct HourTable {
  float s[24], c[24];
  HourTable() {
    for (int h = 0; h < 24; ++h) {
      s[h] = static_cast<float>(std::sin(2 * std::numbers::pi * (h + 0.5) / 24));
      c[h] = static_cast<float>(std::cos(2 * std::numbers::pi * (h + 0.5) / 24));
    }
  }
};
const HourTable kHours;

}  // namespace

const std::array<FeatureInfo, kNumFeatures>& FeatureInfos() {
  using T = FeatureTransform;
  static const std::array<FeatureInfo, kNumFeatures> kInfos = {{
      {"recency_days", "days", T::kLog1p},
      {"frequency", "purchases (decayed)", T::kLog1p},
      {"monetary", "money (decayed)", T::kLog1p},
      {"avg_basket", "money/purchase", T::kLog1p},
      {"return_rate", "ratio", T::kIdentity},
      {"interpurchase_days", "days", T::kLog1p},
      {"browse_ratio", "ratio", T::kIdentity},
      {"tenure_days", "days", T::kLog1p},
      {"hour_sin", "unit circle", T::kIdentity},
      {"hour_cos", "unit circle", T::kIdentity},
      {"weekend_share", "ratio", T::kIdentity},
      {"category_mix_0", "ratio", T::kIdentity},
      {"category_mix_1", "ratio", T::kIdentity},
      {"category_mix_2", "ratio", T::kIdentity},
      {"channel_online", "ratio", T::kIdentity},
      {"channel_store", "ratio", T::kIdentity},
  }};
  return kInfos;
}

double ToOriginalUnits(int feature, double value) {
  return FeatureInfos()[feature].transform == FeatureTransform::kLog1p ? std::expm1(value) : value;
}

void RunningStats::Add(const float* x) {
  ++count_;
  const double n = static_cast<double>(count_);
  for (int f = 0; f < kNumFeatures; ++f) {
    const double delta = x[f] - mean_[f];
    mean_[f] += delta / n;
    m2_[f] += delta * (x[f] - mean_[f]);
  }
}

void RunningStats::Merge(const RunningStats& o) {
  if (o.count_ == 0) return;
  if (count_ == 0) {
    *this = o;
    return;
  }
  const double na = static_cast<double>(count_), nb = static_cast<double>(o.count_);
  const double n = na + nb;
  for (int f = 0; f < kNumFeatures; ++f) {
    const double delta = o.mean_[f] - mean_[f];
    mean_[f] += delta * nb / n;
    m2_[f] += o.m2_[f] + delta * delta * na * nb / n;
  }
  count_ += o.count_;
}

double RunningStats::stddev(int f, double floor) const {
  return std::max(floor, std::sqrt(variance(f)));
}

Result<ProfileTable> ProfileTable::Create(const Config& config) {
  if (!std::isfinite(config.half_life_days) || config.half_life_days <= 0) {
    return InvalidArgumentError("half_life_days: must be a finite number > 0, got " +
                                std::to_string(config.half_life_days));
  }
  if (!(config.gap_ewma_alpha > 0 && config.gap_ewma_alpha <= 1)) {
    return InvalidArgumentError("gap_ewma_alpha: must be in (0, 1], got " +
                                std::to_string(config.gap_ewma_alpha));
  }
  if (config.reserve_customers > (1u << 30)) {
    return InvalidArgumentError("reserve_customers: more than 2^30");
  }
  return ProfileTable(config);
}

ProfileTable::ProfileTable(const Config& config)
    : config_(config), half_life_s_(config.half_life_days * kDay) {
  size_t slots = 16;
  while (slots * 3 < config.reserve_customers * 4) slots <<= 1;
  slots_.assign(slots, 0);
  profiles_.reserve(config.reserve_customers);
  id_pool_.reserve(config.reserve_customers * 8);
}

std::string_view ProfileTable::customer_id(uint32_t index) const {
  const CustomerProfile& p = profiles_[index];
  return std::string_view(id_pool_.data() + p.id_offset, p.id_length);
}

std::optional<uint32_t> ProfileTable::Find(std::string_view id) const {
  const size_t mask = slots_.size() - 1;
  for (size_t s = HashId(id) & mask;; s = (s + 1) & mask) {
    const uint32_t v = slots_[s];
    if (v == 0) return std::nullopt;
    if (customer_id(v - 1) == id) return v - 1;
  }
}

void ProfileTable::Rehash(size_t new_slots) {
  slots_.assign(new_slots, 0);
  const size_t mask = new_slots - 1;
  for (uint32_t i = 0; i < profiles_.size(); ++i) {
    size_t s = HashId(customer_id(i)) & mask;
    while (slots_[s] != 0) s = (s + 1) & mask;
    slots_[s] = i + 1;
  }
}

uint32_t ProfileTable::FindOrInsert(std::string_view id) {
  size_t mask = slots_.size() - 1;
  size_t s = HashId(id) & mask;
  for (;; s = (s + 1) & mask) {
    const uint32_t v = slots_[s];
    if (v == 0) break;
    if (customer_id(v - 1) == id) return v - 1;
  }
  const uint32_t index = static_cast<uint32_t>(profiles_.size());
  CustomerProfile p;
  p.id_offset = static_cast<uint32_t>(id_pool_.size());
  p.id_length = static_cast<uint16_t>(id.size());
  id_pool_.insert(id_pool_.end(), id.begin(), id.end());
  profiles_.push_back(p);
  if ((profiles_.size()) * 4 > slots_.size() * 3) {
    Rehash(slots_.size() * 2);
  } else {
    slots_[s] = index + 1;
  }
  return index;
}

void ProfileTable::Apply(CustomerProfile& p, const Event& e) {
  const int64_t t = UnixSeconds(e.timestamp);
  float w = 1.0f;
  if (p.events == 0 && p.first_s == 0 && p.ref_s == 0) {
    p.ref_s = p.first_s = t;
  } else if (t > p.ref_s) {
    const float g = static_cast<float>(std::exp2(-static_cast<double>(t - p.ref_s) / half_life_s_));
    p.purchases *= g, p.spend *= g, p.returns *= g, p.browse *= g, p.events *= g;
    p.hour_sin *= g, p.hour_cos *= g, p.weekend *= g, p.online *= g, p.store *= g;
    for (float& c : p.category) c *= g;
    p.ref_s = t;
  } else if (t < p.ref_s) {
    w = static_cast<float>(std::exp2(-static_cast<double>(p.ref_s - t) / half_life_s_));
  }
  p.first_s = std::min(p.first_s, t);
  p.events += w;
  const float amount = static_cast<float>(e.amount);
  switch (e.type) {
    case EventType::kPurchase: {
      p.purchases += w;
      p.spend += w * amount;
      if (p.purchase_count > 0 && t > p.last_purchase_s) {
        const float gap = static_cast<float>((t - p.last_purchase_s) / kDay);
        const float a = static_cast<float>(config_.gap_ewma_alpha);
        p.gap_days_ewma = p.purchase_count == 1 ? gap : (1 - a) * p.gap_days_ewma + a * gap;
      }
      if (p.purchase_count == 0 || t > p.last_purchase_s) p.last_purchase_s = t;
      ++p.purchase_count;
      break;
    }
    case EventType::kReturn:
      p.returns += w;
      break;
    case EventType::kView:
    case EventType::kCart:
      p.browse += w;
      break;
  }
  // Hour of day and weekday in UTC; 1970-01-01 was a Thursday.
  const int64_t day = t >= 0 ? t / 86400 : (t - 86399) / 86400;
  const int hour = static_cast<int>((t - day * 86400) / 3600);
  const int weekday = static_cast<int>(((day % 7) + 7 + 4) % 7);  // 0 = Sunday
  p.hour_sin += w * kHours.s[hour];
  p.hour_cos += w * kHours.c[hour];
  if (weekday == 0 || weekday == 6) p.weekend += w;
  p.category[HashId(e.category) & (kCategoryBuckets - 1)] += w;
  if (IsOnline(e.channel)) {
    p.online += w;
  } else if (IsStore(e.channel)) {
    p.store += w;
  }
}

uint32_t ProfileTable::UpdateUnchecked(const Event& e) {
  const uint32_t index = FindOrInsert(e.customer_id);
  CustomerProfile& p = profiles_[index];
  Apply(p, e);
  if ((p.flags & 1) == 0) {
    p.flags |= 1;
    dirty_.push_back(index);
  }
  return index;
}

Result<uint32_t> ProfileTable::Update(const Event& e) {
  STRATA_RETURN_IF_ERROR(ValidateEvent(e));
  return UpdateUnchecked(e);
}

FeatureVector ProfileTable::Features(uint32_t index, WallTime now) const {
  FeatureVector x;
  FeaturesInto(index, now, x.data());
  return x;
}

void ProfileTable::FeaturesInto(uint32_t index, WallTime now_time, float* x) const {
  const CustomerProfile& p = profiles_[index];
  const int64_t now = std::max(UnixSeconds(now_time), p.ref_s);
  const float g = static_cast<float>(std::exp2(-static_cast<double>(now - p.ref_s) / half_life_s_));
  const float inv_events = p.events > 0 ? 1.0f / p.events : 0.0f;
  const double tenure_days = static_cast<double>(now - p.first_s) / kDay;
  const double recency_days =
      p.purchase_count > 0 ? static_cast<double>(now - p.last_purchase_s) / kDay : tenure_days;
  x[kRecencyDays] = static_cast<float>(std::log1p(recency_days));
  x[kFrequency] = std::log1p(p.purchases * g);
  x[kMonetary] = std::log1p(p.spend * g);
  x[kAvgBasket] = p.purchases > 1e-6f ? std::log1p(p.spend / p.purchases) : 0.0f;
  const float pr = p.purchases + p.returns;
  x[kReturnRate] = pr > 1e-6f ? p.returns / pr : 0.0f;
  x[kInterPurchaseDays] = static_cast<float>(
      std::log1p(p.purchase_count >= 2 ? static_cast<double>(p.gap_days_ewma) : tenure_days));
  x[kBrowseRatio] = p.browse * inv_events;
  x[kTenureDays] = static_cast<float>(std::log1p(tenure_days));
  x[kHourSin] = p.hour_sin * inv_events;
  x[kHourCos] = p.hour_cos * inv_events;
  x[kWeekendShare] = p.weekend * inv_events;
  x[kCategoryMix0] = p.category[0] * inv_events;
  x[kCategoryMix1] = p.category[1] * inv_events;
  x[kCategoryMix2] = p.category[2] * inv_events;
  x[kChannelOnline] = p.online * inv_events;
  x[kChannelStore] = p.store * inv_events;
}

size_t ProfileTable::MemoryBytes() const {
  return sizeof(*this) + profiles_.capacity() * sizeof(CustomerProfile) + id_pool_.capacity() +
         slots_.capacity() * sizeof(uint32_t) + dirty_.capacity() * sizeof(uint32_t);
}

std::vector<uint32_t> ProfileTable::TakeDirty() {
  std::vector<uint32_t> out;
  out.swap(dirty_);
  for (uint32_t i : out) profiles_[i].flags &= ~uint16_t{1};
  return out;
}

void ProfileTable::MarkDirty(uint32_t index) {
  if ((profiles_[index].flags & 1) == 0) {
    profiles_[index].flags |= 1;
    dirty_.push_back(index);
  }
}

std::string ProfileTable::SerializeProfile(uint32_t index) const {
  CustomerProfile p = profiles_[index];
  p.id_offset = 0, p.id_length = 0, p.flags = 0;
  std::string blob(1 + sizeof(p), '\0');
  blob[0] = static_cast<char>(kBlobVersion);
  std::memcpy(blob.data() + 1, &p, sizeof(p));
  return blob;
}

Status ProfileTable::RestoreProfile(std::string_view id, std::string_view blob) {
  if (blob.size() != 1 + sizeof(CustomerProfile)) {
    return DataLossError("profile blob for '" + std::string(id) +
                         "': " + std::to_string(blob.size()) + " bytes, expected " +
                         std::to_string(1 + sizeof(CustomerProfile)));
  }
  if (static_cast<uint8_t>(blob[0]) != kBlobVersion) {
    return InvalidArgumentError("profile blob: unsupported version " +
                                std::to_string(static_cast<uint8_t>(blob[0])));
  }
  if (id.empty() || id.size() > kMaxCustomerIdLength) {
    return InvalidArgumentError("customer_id: missing or too long");
  }
  const uint32_t index = FindOrInsert(id);
  CustomerProfile& p = profiles_[index];
  const uint32_t off = p.id_offset;
  const uint16_t len = p.id_length;
  std::memcpy(&p, blob.data() + 1, sizeof(p));
  p.id_offset = off, p.id_length = len, p.flags = 0;
  return Status::Ok();
}

}  // namespace strata::segment
