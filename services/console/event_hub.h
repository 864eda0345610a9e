// EventHub: fan-out of Server-Sent Events from the poller to every open /api/v1/stream.
//
// Publish() appends one formatted event to a bounded ring (the newest `capacity`); each stream
// remembers the sequence number it has sent up to and WaitAfter() hands it what is newer,
// waiting briefly when there is nothing (a stream that falls more than `capacity` behind skips
// the oldest). Close() wakes every waiter for shutdown.
// Thread-safety: every method is safe from any thread.
//
//   EventHub hub;
//   hub.Publish(SseEvent("overview", overview.dump()));
//   uint64_t seen = hub.Head();
//   for (const std::string& e : hub.WaitAfter(&seen, std::chrono::milliseconds(500)))
//   sink.Write(e);
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace strata::console {

// "event: <event>\n[id: <id>\n]data: <line>\n...\n\n" (each line of `data` is one data: line).
std::string SseEvent(std::string_view event, std::string_view data, std::string_view id = "");

class EventHub {
 public:
  explicit EventHub(size_t capacity = 256) : capacity_(capacity) {}
  void Publish(std::string event);
  // Sequence number of the newest event; 0 before the first.
  uint64_t Head() const;
  // Events newer than *after (waiting up to `timeout` for one); moves *after to the newest.
  std::vector<std::string> WaitAfter(uint64_t* after, std::chrono::milliseconds timeout);
  void Close();
  bool closed() const;

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<uint64_t, std::string>> ring_;
  uint64_t head_ = 0;
  bool closed_ = false;
};

}  // namespace strata::console
