// TokenBucket (see token_bucket.h).
#include "token_bucket.h"

#include <algorithm>

namespace strata::link {

void TokenBucket::SetRate(int64_t bits_per_second) {
  std::lock_guard<std::mutex> lock(mu_);
  bps_ = std::max<int64_t>(0, bits_per_second);
}

int64_t TokenBucket::rate() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bps_;
}

size_t TokenBucket::SliceBytes() const {
  int64_t bps = rate();
  if (bps == 0) return 64 * 1024;
  int64_t five_ms = bps / 8 / 200;
  return static_cast<size_t>(std::clamp<int64_t>(five_ms, 1500, 64 * 1024));
}

TokenBucket::TimePoint TokenBucket::Reserve(size_t bytes, TimePoint now) {
  size_t burst = SliceBytes();
  std::lock_guard<std::mutex> lock(mu_);
  if (bps_ == 0) return now;
  auto per_byte = [this](double b) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(b * 8.0 / static_cast<double>(bps_)));
  };
  // The link may run ahead of `tat_` by at most one burst; idle time is not banked beyond it.
  tat_ = std::max(tat_, now);
  TimePoint send_at = std::max(now, tat_ - per_byte(static_cast<double>(burst)));
  tat_ += per_byte(static_cast<double>(bytes));
  return send_at;
}

}  // namespace strata::link
