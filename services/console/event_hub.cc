// EventHub and the SSE event formatter (see event_hub.h).
#include "event_hub.h"

namespace strata::console {

std::string SseEvent(std::string_view event, std::string_view data, std::string_view id) {
  std::string out = "event: " + std::string(event) + "\n";
  if (!id.empty()) out += "id: " + std::string(id) + "\n";
  size_t pos = 0;
  while (true) {
    size_t nl = data.find('\n', pos);
    std::string_view line = data.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out += "data: " + std::string(line) + "\n";
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return out + "\n";
}

void EventHub::Publish(std::string event) {
  {
    std::lock_guard lock(mu_);
    ring_.emplace_back(++head_, std::move(event));
    while (ring_.size() > capacity_) ring_.pop_front();
  }
  cv_.notify_all();
}

uint64_t EventHub::Head() const {
  std::lock_guard lock(mu_);
  return head_;
}

std::vector<std::string> EventHub::WaitAfter(uint64_t* after, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return closed_ || head_ > *after; });
  std::vector<std::string> out;
  for (const auto& [seq, event] : ring_)
    if (seq > *after) out.push_back(event);
  *after = head_;
  return out;
}

void EventHub::Close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

bool EventHub::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

}  // namespace strata::console
