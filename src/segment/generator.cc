#include "strata/segment/generator.h"

#include <algorithm>
#include <cmath>

namespace strata::segment {

std::vector<SegmentSpec> DefaultSegments(int k) {
  // share, activity, basket, sigma, return, browse, hour, spread, weekend, cat, loyal, channel,
  // loyal
  const std::vector<SegmentSpec> all = {
      {1, 3.0, 120, 0.3, 0.02, 0.10, 19, 1.5, 0.30, 0, 0.85, 0, 0.9},  // high-value frequent
      {1, 1.5, 15, 0.3, 0.35, 0.20, 12, 1.5, 0.50, 1, 0.85, 1, 0.9},   // bargain returners
      {1, 0.3, 200, 0.3, 0.05, 0.05, 10, 1.5, 0.20, 2, 0.85, 1, 0.9},  // lapsing big spenders
      {1, 2.0, 25, 0.3, 0.05, 0.70, 21, 1.5, 0.40, 3, 0.85, 0, 0.9},   // window shoppers
      {1, 1.0, 60, 0.3, 0.05, 0.20, 15, 1.5, 0.90, 4, 0.85, 1, 0.9},   // weekend families
      {1, 2.0, 8, 0.3, 0.01, 0.10, 8, 1.0, 0.05, 5, 0.85, 0, 0.9},     // morning commuters
      {1, 0.7, 40, 0.3, 0.05, 0.30, 17, 1.5, 0.30, 6, 0.85, 2, 0.9},   // other-channel
      {1, 1.2, 90, 0.3, 0.15, 0.20, 13, 1.5, 0.30, 7, 0.85, 0, 0.9},   // returning online
  };
  return std::vector<SegmentSpec>(all.begin(), all.begin() + std::clamp(k, 1, 8));
}

Result<Generator> Generator::Create(const Config& config) {
  if (config.customers < 1) return InvalidArgumentError("customers: must be >= 1");
  if (config.events < 0) return InvalidArgumentError("events: must be >= 0");
  if (config.segments.empty() && (config.k < 1 || config.k > 8)) {
    return InvalidArgumentError("k: must be in [1, 8] when segments are not given");
  }
  if (!(config.noise >= 0 && config.noise < 1)) return InvalidArgumentError("noise: not in [0,1)");
  if (!(config.events_per_day > 0)) return InvalidArgumentError("events_per_day: must be > 0");
  const auto specs = config.segments.empty() ? DefaultSegments(config.k) : config.segments;
  double total_share = 0;
  for (size_t s = 0; s < specs.size(); ++s) {
    const SegmentSpec& sp = specs[s];
    const std::string at = "segments[" + std::to_string(s) + "].";
    if (!(sp.share >= 0)) return InvalidArgumentError(at + "share: must be >= 0");
    if (!(sp.activity > 0)) return InvalidArgumentError(at + "activity: must be > 0");
    if (!(sp.basket_mean > 0)) return InvalidArgumentError(at + "basket_mean: must be > 0");
    if (!(sp.return_prob >= 0 && sp.browse_prob >= 0 && sp.return_prob + sp.browse_prob < 1)) {
      return InvalidArgumentError(at + "return_prob + browse_prob: must be in [0, 1)");
    }
    total_share += sp.share;
  }
  if (!(total_share > 0)) return InvalidArgumentError("segments: all shares are 0");
  for (size_t i = 0; i < config.drift.size(); ++i) {
    const DriftStep& d = config.drift[i];
    const std::string at = "drift[" + std::to_string(i) + "].";
    if (d.segment < 0 || d.segment >= static_cast<int>(specs.size())) {
      return InvalidArgumentError(at + "segment: no segment " + std::to_string(d.segment));
    }
    if (!(d.fraction >= 0 && d.fraction <= 1)) {
      return InvalidArgumentError(at + "fraction: must be in [0, 1]");
    }
    if (d.at_event < 0) return InvalidArgumentError(at + "at_event: must be >= 0");
  }
  Config c = config;
  c.segments = specs;
  std::stable_sort(c.drift.begin(), c.drift.end(),
                   [](const DriftStep& a, const DriftStep& b) { return a.at_event < b.at_event; });
  return Generator(c);
}

Generator::Generator(const Config& config)
    : config_(config), rng_(config.seed), specs_(config.segments) {
  double total = 0;
  for (const auto& s : specs_) {
    total += s.share;
    active_.push_back(s.share > 0);
    max_activity_ = std::max(max_activity_, s.activity);
  }
  labels_.resize(config.customers);
  for (int i = 0; i < config.customers; ++i) {
    double r = rng_.Uniform() * total;
    int s = 0;
    while (s + 1 < static_cast<int>(specs_.size()) && (r -= specs_[s].share) >= 0) ++s;
    while (!active_[s]) s = (s + 1) % static_cast<int>(specs_.size());
    labels_[i] = s;
  }
}

WallTime Generator::now() const {
  return FromUnixSeconds(config_.start_unix_s + t_days_ * 86400.0);
}

std::string Generator::CustomerId(int index) const { return "cust-" + std::to_string(index); }

int Generator::RandomActiveSegment(int except) {
  std::vector<int> choices;
  for (int s = 0; s < static_cast<int>(specs_.size()); ++s) {
    if (active_[s] && s != except) choices.push_back(s);
  }
  if (choices.empty()) return except;
  return choices[rng_.UniformInt(0, static_cast<int64_t>(choices.size()) - 1)];
}

void Generator::ApplyDrift(const DriftStep& d) {
  using K = DriftStep::Kind;
  const int n = customers();
  switch (d.kind) {
    case K::kMove:
      specs_[d.segment] = d.behaviour;
      specs_[d.segment].share = 1;
      max_activity_ = std::max(max_activity_, d.behaviour.activity);
      active_[d.segment] = true;
      break;
    case K::kAppear:
      active_[d.segment] = true;
      [[fallthrough]];
    case K::kGrow:
      for (int i = 0; i < n; ++i) {
        if (labels_[i] != d.segment && rng_.Bernoulli(d.fraction)) labels_[i] = d.segment;
      }
      break;
    case K::kShrink:
      for (int i = 0; i < n; ++i) {
        if (labels_[i] == d.segment && rng_.Bernoulli(d.fraction)) {
          labels_[i] = RandomActiveSegment(d.segment);
        }
      }
      break;
  }
}

bool Generator::Next(Event* e) {
  if (emitted_ >= config_.events) return false;
  while (next_drift_ < config_.drift.size() && config_.drift[next_drift_].at_event <= emitted_) {
    ApplyDrift(config_.drift[next_drift_++]);
  }
  // Pick a customer with probability proportional to its segment's activity.
  int c;
  do {
    c = static_cast<int>(rng_.UniformInt(0, customers() - 1));
  } while (!rng_.Bernoulli(specs_[labels_[c]].activity / max_activity_));
  int seg = labels_[c];
  if (config_.noise > 0 && rng_.Bernoulli(config_.noise)) seg = RandomActiveSegment(-1);
  const SegmentSpec& s = specs_[seg];
  t_days_ += rng_.Exponential(config_.events_per_day);
  // Day of the event: weekend shoppers go back to the latest Saturday/Sunday, others to the
  // latest weekday (so timestamps can run up to two days behind the global clock).
  const double start_day = std::floor(config_.start_unix_s / 86400.0);
  int64_t day = static_cast<int64_t>(start_day + std::floor(t_days_));
  auto weekday = [](int64_t d) { return static_cast<int>(((d % 7) + 7 + 4) % 7); };  // 0 = Sun
  const bool want_weekend = rng_.Bernoulli(s.weekend_prob);
  for (int guard = 0; guard < 7; ++guard) {
    const int wd = weekday(day);
    const bool weekend = wd == 0 || wd == 6;
    if (weekend == want_weekend) break;
    --day;
  }
  double hour = std::fmod(rng_.Normal(s.peak_hour, s.hour_spread) + 48.0, 24.0);
  e->customer_id = CustomerId(c);
  e->timestamp = FromUnixSeconds(static_cast<double>(day) * 86400.0 + std::floor(hour * 3600.0));
  const double r = rng_.Uniform();
  e->type = r < s.return_prob ? EventType::kReturn
            : r < s.return_prob + s.browse_prob
                ? (rng_.Bernoulli(0.5) ? EventType::kView : EventType::kCart)
                : EventType::kPurchase;
  const double amount = s.basket_mean * std::exp(rng_.Normal(0.0, s.basket_sigma));
  e->amount = e->type == EventType::kView ? 0.0 : std::round(amount * 100.0) / 100.0;
  e->quantity = e->type == EventType::kView ? 0 : 1 + static_cast<int32_t>(rng_.UniformInt(0, 3));
  const int cat =
      rng_.Bernoulli(s.category_loyalty) ? s.category : static_cast<int>(rng_.UniformInt(0, 7));
  e->category = "cat" + std::to_string(cat);
  e->product = e->category + "-p" + std::to_string(rng_.UniformInt(0, 49));
  const int ch =
      rng_.Bernoulli(s.channel_loyalty) ? s.channel : static_cast<int>(rng_.UniformInt(0, 2));
  e->channel = ch == 0 ? "online" : ch == 1 ? "store" : "phone";
  e->node = "edge-1";
  ++emitted_;
  return true;
}

}  // namespace strata::segment
