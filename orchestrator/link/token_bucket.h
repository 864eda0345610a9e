// TokenBucket: the bandwidth cap of one direction of an emulated link, shared by every
// connection crossing that direction (a WAN link is one pipe, not one per connection).
//
// A GCRA-style bucket: Reserve(n) books n bytes on the link and returns when they may be sent;
// reservations are served first come, first served, and over any interval T at most
// burst_bytes() + rate·T/8 bytes are granted, so throughput never exceeds the cap by more than
// one burst. A rate of 0 means no cap (Reserve returns `now`).
// Thread-safety: every method is safe to call from any thread.
//
//   TokenBucket bucket(20'000'000);  // 20 Mbit/s
//   auto when = bucket.Reserve(slice, std::chrono::steady_clock::now());
//   // wait until `when`, then send `slice` bytes
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace strata::link {

class TokenBucket {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  explicit TokenBucket(int64_t bits_per_second = 0) { SetRate(bits_per_second); }

  // Changes the cap; 0 removes it. Bookings already made keep their times.
  void SetRate(int64_t bits_per_second);
  int64_t rate() const;
  // Bytes one reservation should take at most: ~5 ms at the rate, within [1500, 64 KiB].
  size_t SliceBytes() const;
  size_t burst_bytes() const { return SliceBytes(); }
  // Books `bytes` and returns the earliest time they may be sent (>= now).
  TimePoint Reserve(size_t bytes, TimePoint now);

 private:
  mutable std::mutex mu_;
  int64_t bps_ = 0;
  TimePoint tat_{};  // theoretical arrival time: when the link is free again
};

}  // namespace strata::link
