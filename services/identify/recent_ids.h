// RecentIds: the last N message ids (X-Strata-Message-Id) POST /api/v1/faces answered, with the
// answer, so a sender's retry after a lost response is answered again instead of processed twice
// (identify has no database: the window is bounded and in memory; the oldest id is forgotten).
// An id being processed is "in flight": a concurrent request with the same id waits (bounded) for
// the first one's answer rather than processing it in parallel.
// Thread-safety: all methods are safe from any thread (one mutex).
//
//   RecentIds recent(8192);
//   auto prior = recent.Begin(id);           // nullopt: first time, process it
//   if (prior) return *prior;                // the original answer
//   ... on success recent.Finish(id, answer); on failure recent.Abandon(id);
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

namespace strata::identify_service {

class RecentIds {
 public:
  explicit RecentIds(size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}

  // The stored answer for a known id; nullopt when the caller should process it (the id is then
  // in flight until Finish/Abandon). Waits up to `wait` for an in-flight twin, then processes.
  std::optional<nlohmann::json> Begin(const std::string& id,
                                      std::chrono::milliseconds wait = std::chrono::seconds(30)) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, wait, [&] { return !in_flight_.count(id); });
    if (auto it = done_.find(id); it != done_.end()) return it->second;
    in_flight_.insert(id);
    return std::nullopt;
  }
  void Finish(const std::string& id, nlohmann::json answer) {
    {
      std::lock_guard lock(mu_);
      in_flight_.erase(id);
      if (done_.emplace(id, std::move(answer)).second) order_.push_back(id);
      while (order_.size() > capacity_) {
        done_.erase(order_.front());
        order_.pop_front();
      }
    }
    cv_.notify_all();
  }
  void Abandon(const std::string& id) {
    {
      std::lock_guard lock(mu_);
      in_flight_.erase(id);
    }
    cv_.notify_all();
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return done_.size();
  }

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<std::string, nlohmann::json> done_;
  std::deque<std::string> order_;
  std::set<std::string> in_flight_;
};

}  // namespace strata::identify_service
