// Poller (see poller.h).
#include "poller.h"

#include <spdlog/spdlog.h>

#include <future>

#include "strata/metrics/metrics.h"

namespace strata::console {
namespace {

constexpr size_t kMaxSeenAlerts = 10000;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The failing checks of a /readyz problem ("db: locked; mqtt: down"), else its detail or body.
std::string FailureDetail(const http::ClientResponse& r) {
  auto j = r.Json();
  if (j.ok() && j->is_object()) {
    if (j->contains("checks") && (*j)["checks"].is_object() && !(*j)["checks"].empty()) {
      std::string out;
      for (auto& [name, why] : (*j)["checks"].items())
        out += (out.empty() ? "" : "; ") + name + ": " +
               (why.is_string() ? why.get<std::string>() : why.dump());
      return out;
    }
    if (j->contains("detail") && (*j)["detail"].is_string()) return (*j)["detail"];
  }
  std::string body = r.body.substr(0, 200);
  return body.empty() ? "HTTP " + std::to_string(r.status) : body;
}

}  // namespace

Poller::Poller(ConsoleConfig config, EventHub* hub) : config_(std::move(config)), hub_(hub) {
  for (size_t i = 0; i < config_.upstreams.size(); ++i) {
    const Upstream& u = config_.upstreams[i];
    auto c = http::HttpClient::Create({.base_url = u.url,
                                       .connect_timeout = config_.poll_timeout,
                                       .read_timeout = config_.poll_timeout,
                                       .write_timeout = config_.poll_timeout,
                                       .max_retries = 0,
                                       .token = config_.upstream_token,
                                       .ca_file = config_.upstream_ca_file});
    clients_.push_back(c.ok() ? std::move(c).value() : nullptr);  // urls are validated
    if (notify_ < 0 && u.type == "notify") notify_ = static_cast<int>(i);
  }
  std::vector<Probe> none(config_.upstreams.size(), Probe{"down", "not polled yet", ""});
  overview_ = BuildOverview(none, nlohmann::json::array());
}

Poller::~Poller() { Stop(); }

nlohmann::json Poller::Overview() const {
  std::lock_guard lock(mu_);
  return overview_;
}

void Poller::Start() {
  thread_ = std::thread([this] {
    while (true) {
      PollOnce();
      std::unique_lock lock(stop_mu_);
      if (stop_cv_.wait_for(lock, config_.poll_interval, [&] { return stopping_; })) return;
    }
  });
}

void Poller::Stop() {
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Poller::Probe Poller::ProbeOne(size_t i) {
  http::HttpClient* c = clients_[i].get();
  if (!c) return {"down", "bad url", ""};
  Result<http::ClientResponse> ready = c->Get("/readyz");
  if (!ready.ok()) return {"down", ready.status().message(), ""};
  Probe p;
  p.state = ready->status == 200 ? "ready" : "failing";
  if (ready->status != 200) p.detail = FailureDetail(*ready);
  Result<http::ClientResponse> m = c->Get("/metrics");
  if (m.ok() && m->status == 200) p.metrics = std::move(m->body);
  return p;
}

void Poller::PollOnce() {
  std::lock_guard poll_lock(poll_mu_);
  std::vector<std::future<Probe>> futures;
  for (size_t i = 0; i < clients_.size(); ++i)
    futures.push_back(std::async(std::launch::async, [this, i] { return ProbeOne(i); }));
  std::vector<Probe> probes;
  std::string all_metrics;
  for (auto& f : futures) {
    probes.push_back(f.get());
    all_metrics += probes.back().metrics;
    all_metrics += "\n";
  }
  nlohmann::json links =
      links_.Update(metrics::PromText::Parse(all_metrics), std::chrono::steady_clock::now());
  nlohmann::json overview = BuildOverview(probes, links);
  for (size_t i = 0; i < probes.size(); ++i)
    metrics::GetGauge("strata_console_upstream_ready", "1 when the upstream's /readyz is 200",
                      {{"upstream", config_.upstreams[i].name}})
        .Set(probes[i].state == "ready" ? 1 : 0);
  {
    std::lock_guard lock(mu_);
    overview_ = overview;
  }
  hub_->Publish(SseEvent("overview", overview.dump()));
  if (notify_ >= 0 && probes[static_cast<size_t>(notify_)].state != "down") PollAlerts();
}

void Poller::PollAlerts() {
  auto r = clients_[static_cast<size_t>(notify_)]->Get("/api/v1/events?limit=50");
  if (!r.ok() || r->status != 200) return;
  auto j = r->Json();
  if (!j.ok() || !j->is_object() || !j->contains("events") || !(*j)["events"].is_array()) {
    spdlog::warn("console: notify /api/v1/events answered without an events array");
    return;
  }
  const nlohmann::json& events = (*j)["events"];
  for (auto it = events.rbegin(); it != events.rend(); ++it) {  // newest first → oldest first
    std::string id;
    for (const char* key : {"alert_id", "id"})
      if (it->is_object() && it->contains(key) && (*it)[key].is_string()) {
        id = (*it)[key];
        break;
      }
    if (id.empty() || !seen_.insert(id).second) continue;
    seen_order_.push_back(id);
    if (seen_order_.size() > kMaxSeenAlerts) {
      seen_.erase(seen_order_.front());
      seen_order_.pop_front();
    }
    if (alerts_baseline_) hub_->Publish(SseEvent("alert", it->dump(), id));
  }
  alerts_baseline_ = true;
}

nlohmann::json Poller::BuildOverview(const std::vector<Probe>& probes,
                                     const nlohmann::json& links) const {
  nlohmann::json nodes = nlohmann::json::array();
  std::map<std::string, size_t> node_index;
  for (size_t i = 0; i < config_.upstreams.size(); ++i) {
    const Upstream& u = config_.upstreams[i];
    auto [it, fresh] = node_index.emplace(u.node, nodes.size());
    if (fresh)
      nodes.push_back({{"name", u.node}, {"tier", u.tier}, {"services", nlohmann::json::array()}});
    nodes[it->second]["services"].push_back({{"name", u.name},
                                             {"type", u.type},
                                             {"url", u.url},
                                             {"state", probes[i].state},
                                             {"detail", probes[i].detail}});
  }
  return {{"generated_at_ms", NowMs()},
          {"poll_interval_ms", config_.poll_interval.count()},
          {"nodes", nodes},
          {"links", links}};
}

}  // namespace strata::console
