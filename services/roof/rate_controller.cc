#include "rate_controller.h"

#include <algorithm>
#include <vector>

namespace strata::roof_service {

double RateController::Observe(double round_trip_ms) {
  samples_.push_back(round_trip_ms);
  while (static_cast<int>(samples_.size()) > c_.window) samples_.pop_front();
  std::vector<double> sorted(samples_.begin(), samples_.end());
  std::sort(sorted.begin(), sorted.end());
  // Nearest-rank p99 (with 20 samples: the largest).
  size_t rank = static_cast<size_t>(0.99 * static_cast<double>(sorted.size()) + 0.999999);
  p99_ = sorted[std::min(sorted.size(), std::max<size_t>(rank, 1)) - 1];
  ++since_change_;
  if (!enabled() || since_change_ < std::max(1, c_.window / 2)) return rate_;
  const double target = static_cast<double>(c_.target_p99.count());
  if (p99_ > target && rate_ > c_.min_fps) {
    rate_ = std::max(c_.min_fps, rate_ * c_.decrease);
    since_change_ = 0;
  } else if (p99_ < c_.headroom * target && rate_ < c_.max_fps) {
    rate_ = std::min(c_.max_fps, rate_ + c_.increase);
    since_change_ = 0;
  }
  return rate_;
}

}  // namespace strata::roof_service
