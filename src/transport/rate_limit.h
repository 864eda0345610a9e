// RateLimiter: per-client token buckets for HttpServer's `server.rate_limit` (429 + Retry-After).
// Internal to strata_transport; configured by http::RateLimitConfig
// (include/strata/transport/http.h).
//
// Each client key (the authenticated principal "p:<sub>" or the peer address "ip:<addr>", chosen
// by the server) owns a bucket of `burst` tokens refilled at `requests_per_second`; a request
// takes one token or is refused with the whole seconds until one is available (>= 1). The table
// holds at most `max_clients` keys; a new key beyond that evicts the least recently used one (it
// comes back with a full bucket). The table is split into shards with their own mutex and LRU, so
// concurrent workers rarely contend. Time is passed in, so tests drive it with a fake clock.
// Thread-safety: Admit() may be called from any thread.
//
// Two layers share one RateLimiter and charge each request once: GuardFront's poller charges
// "ip:<peer>" when a complete head is parsed, before the worker queue (ParseHead below; excess →
// 429 without a worker), for every request except those carrying an Authorization field when
// signed tokens are configured; those are charged in HttpServer's Dispatch after verification,
// keyed by principal ("p:<sub>"). RateLimitExempt() decides exemption in both layers.
//
//   RateLimiter limiter({.requests_per_second = 50, .burst = 100});
//   RateLimiter::Decision d = limiter.Admit("ip:10.0.0.7", std::chrono::steady_clock::now());
//   if (!d.allowed) ... 429 with Retry-After: d.retry_after_seconds ...
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace strata::http {

// True when `path` is exempt: equal to an entry, or starting with an entry ending in '*' minus it.
bool RateLimitExempt(std::string_view path, const std::vector<std::string>& exempt);

// What the front needs from a complete raw request head (request line + fields + CRLF CRLF).
struct HeadFacts {
  std::string method;
  std::string path;            // percent-decoded, without the query (as httplib's req.path)
  bool authorization = false;  // the first Authorization field is non-empty (as httplib sees it)
  bool keep_alive = false;     // HTTP/1.1 without "Connection: close"
  bool body_known = true;      // no Transfer-Encoding and a single valid Content-Length (or none)
  size_t content_length = 0;
};
HeadFacts ParseHead(std::string_view head);

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  struct Options {
    double requests_per_second = 0;  // refill rate; must be > 0
    double burst = 0;                // bucket size; <= 0 → max(1, requests_per_second)
    size_t max_clients = 10000;      // keys tracked; least recently used evicted beyond
  };
  struct Decision {
    bool allowed = true;
    long retry_after_seconds = 0;  // when refused: whole seconds until a token is available, >= 1
  };

  explicit RateLimiter(Options options);
  Decision Admit(std::string_view key, Clock::time_point now);
  // Keys currently tracked (all shards).
  size_t size() const;
  double burst() const { return burst_; }

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point last;
    std::list<std::string>::iterator lru;  // position in the shard's LRU list (front = newest)
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Bucket> buckets;
    std::list<std::string> lru;
  };
  Shard& ShardFor(std::string_view key);

  double rate_, burst_;
  size_t per_shard_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace strata::http
