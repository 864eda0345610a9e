// Clock: the one source of time for Strata code, injectable so decay, windows and deadlines test
// deterministically.
//
// Thread-safety: all methods of both implementations are safe to call from any thread.
//
//   ManualClock clock(FromUnixSeconds(1'700'000'000));
//   profile.Update(event, clock.Now());
//   clock.Advance(std::chrono::hours(24));
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

#include "strata/core/status.h"

namespace strata {

using WallTime = std::chrono::system_clock::time_point;
using Duration = std::chrono::nanoseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time (UTC).
  virtual WallTime Now() const = 0;
  // Monotonic time, for measuring intervals and deadlines.
  virtual std::chrono::steady_clock::time_point MonotonicNow() const = 0;
  virtual void SleepFor(Duration d) = 0;

  // The process-wide real clock. Never null; lives for the whole process.
  static Clock* Real();
};

// A clock that only moves when told to. SleepFor advances it instead of blocking.
class ManualClock : public Clock {
 public:
  explicit ManualClock(WallTime start = WallTime{});
  WallTime Now() const override;
  std::chrono::steady_clock::time_point MonotonicNow() const override;
  void SleepFor(Duration d) override { Advance(d); }
  void Advance(Duration d);
  void Set(WallTime t);  // moves both wall and monotonic time by (t - Now()) when t >= Now()

 private:
  mutable std::mutex mu_;
  WallTime now_;
  std::chrono::steady_clock::time_point mono_;
};

WallTime FromUnixSeconds(double seconds);
// Milliseconds of monotonic time since `start` (stage timings in responses and logs).
inline double MillisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}
// Days since 1970-01-01 for a proleptic Gregorian date (month 1-12, day 1-31; not validated).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);
double ToUnixSeconds(WallTime t);
// RFC 3339 UTC with milliseconds: "2026-11-24T05:13:46.123Z".
std::string FormatRfc3339(WallTime t);
// Accepts "YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)" and "YYYY-MM-DD HH:MM:SS" (taken as UTC).
// Returns InvalidArgument naming the text on failure.
Result<WallTime> ParseRfc3339(std::string_view text);

}  // namespace strata
