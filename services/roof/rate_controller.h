// RateController: holds a p99 latency (the roof feeds it each forwarded frame's age when its
// detections are back: queue wait + fog round trip) under a target by adapting the roof's
// forwarding rate (AIMD, as TCP does with its window): when the p99 of the last `window` is over
// the target the rate is cut by `decrease` (x0.75), when it is under `headroom` x target the rate
// grows by `increase` fps, at most once per window/2 new samples so each change is seen before
// the next. Between min_fps and max_fps (the configured forward_fps). With target 0 it is off.
// Thread-safety: not thread-safe; the roof's sender thread owns it.
//
//   RateController c({.target_p99 = 150ms, .max_fps = 5});
//   double fps = c.Observe(round_trip_ms);  // after every frame sent
#pragma once

#include <chrono>
#include <deque>

namespace strata::roof_service {

struct RateControllerConfig {
  std::chrono::milliseconds target_p99{0};  // 0 = off: the rate stays at max_fps
  double min_fps = 0.5;
  double max_fps = 5;
  int window = 20;         // round trips the p99 is taken over
  double decrease = 0.75;  // multiplicative decrease when over target
  double increase = 0.25;  // additive increase (fps) when under headroom x target
  double headroom = 0.7;
};

class RateController {
 public:
  explicit RateController(const RateControllerConfig& c) : c_(c), rate_(c.max_fps) {}
  bool enabled() const { return c_.target_p99.count() > 0; }
  // Records one latency sample (ms) and returns the rate to use from now on.
  double Observe(double round_trip_ms);
  double rate() const { return rate_; }
  double recent_p99() const { return p99_; }  // ms, over the last `window` samples

 private:
  RateControllerConfig c_;
  double rate_;
  double p99_ = 0;
  int since_change_ = 0;
  std::deque<double> samples_;
};

}  // namespace strata::roof_service
