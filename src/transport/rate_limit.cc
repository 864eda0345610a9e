// RateLimiter: per-client token buckets with a bounded, sharded LRU table. See rate_limit.h.
#include "rate_limit.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>

namespace strata::http {

bool RateLimitExempt(std::string_view path, const std::vector<std::string>& exempt) {
  for (const std::string& p : exempt)
    if (p == path ||
        (p.ends_with('*') && path.starts_with(std::string_view(p).substr(0, p.size() - 1))))
      return true;
  return false;
}

namespace {
bool NameIs(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}
std::string_view Trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r'))
    v.remove_suffix(1);
  return v;
}
}  // namespace

HeadFacts ParseHead(std::string_view head) {
  HeadFacts h;
  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 <= sp1) {
    h.body_known = false;  // malformed: let the connection close after the answer
    return h;
  }
  h.method = std::string(line.substr(0, sp1));
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  h.path = httplib::detail::decode_url(std::string(target.substr(0, target.find('?'))), false);
  h.keep_alive = line.substr(sp2 + 1) == "HTTP/1.1";
  bool seen_auth = false, seen_length = false;
  for (size_t p = eol; p != std::string_view::npos && p + 2 < head.size();) {
    size_t next = head.find("\r\n", p + 2);
    std::string_view field =
        head.substr(p + 2, next == std::string_view::npos ? next : next - p - 2);
    p = next;
    size_t colon = field.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = field.substr(0, colon), value = Trim(field.substr(colon + 1));
    if (NameIs(name, "authorization") && !seen_auth) {
      seen_auth = true;
      h.authorization = !value.empty();
    } else if (NameIs(name, "connection") && NameIs(value, "close")) {
      h.keep_alive = false;
    } else if (NameIs(name, "transfer-encoding")) {
      h.body_known = false;
    } else if (NameIs(name, "content-length")) {
      size_t n = 0;
      bool digits = !value.empty() && value.size() <= 12;
      for (char ch : value) digits = digits && std::isdigit(static_cast<unsigned char>(ch));
      for (char ch : value) n = digits ? n * 10 + static_cast<size_t>(ch - '0') : 0;
      if (!digits || seen_length) h.body_known = false;
      seen_length = true;
      h.content_length = n;
    }
  }
  return h;
}

namespace {
// Few shards for small tables (so max_clients stays close to exact), up to 16.
size_t ShardCount(size_t max_clients) { return std::clamp<size_t>(max_clients / 64, 1, 16); }
}  // namespace

RateLimiter::RateLimiter(Options options)
    : rate_(options.requests_per_second > 0 ? options.requests_per_second : 1.0),
      burst_(options.burst > 0 ? options.burst : std::max(1.0, rate_)) {
  size_t max_clients = std::max<size_t>(1, options.max_clients);
  size_t n = ShardCount(max_clients);
  per_shard_ = std::max<size_t>(1, max_clients / n);
  for (size_t i = 0; i < n; ++i) shards_.push_back(std::make_unique<Shard>());
}

RateLimiter::Shard& RateLimiter::ShardFor(std::string_view key) {
  return *shards_[std::hash<std::string_view>{}(key) % shards_.size()];
}

RateLimiter::Decision RateLimiter::Admit(std::string_view key, Clock::time_point now) {
  Shard& shard = ShardFor(key);
  std::lock_guard lock(shard.mu);
  auto it = shard.buckets.find(std::string(key));
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= per_shard_) {  // evict the least recently used key
      shard.buckets.erase(shard.lru.back());
      shard.lru.pop_back();
    }
    shard.lru.emplace_front(key);
    it = shard.buckets.emplace(shard.lru.front(), Bucket{burst_, now, shard.lru.begin()}).first;
  } else {
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second.lru);  // now the newest
  }
  Bucket& b = it->second;
  if (now > b.last) {
    double elapsed = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
    b.last = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return {.allowed = true, .retry_after_seconds = 0};
  }
  double wait = (1.0 - b.tokens) / rate_;
  return {.allowed = false,
          .retry_after_seconds = std::max(1L, static_cast<long>(std::ceil(wait - 1e-9)))};
}

size_t RateLimiter::size() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s->mu);
    n += s->buckets.size();
  }
  return n;
}

}  // namespace strata::http
