// The soak's event pool and segment driver (soak_load.h).
#include "chaos/soak_load.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <random>
#include <thread>

#include "strata/codec/event_json.h"
#include "strata/segment/csv_sources.h"
#include "strata/transport/http_client.h"

#ifndef STRATA_SOAK_ASSETS
#define STRATA_SOAK_ASSETS "../shared/assets"
#endif

namespace strata::chaos {

EventPool LoadEventPool(const std::string& assets, int customers, uint64_t seed) {
  std::string dir = assets;
  if (dir.empty()) {
    const char* env = std::getenv("STRATA_ASSETS");
    dir = env && *env ? env : STRATA_SOAK_ASSETS;
  }
  EventPool pool;
  const std::string file = dir + "/retail/CDNOW_master.txt";
  const int64_t n_customers = std::max(1, customers);
  if (auto read = segment::ReadCdnowFile(file); read.ok() && !read->events.empty()) {
    pool.source = file;
    pool.events = std::move(read->events);
    for (auto& e : pool.events)
      e.customer_id = "soak-c" + std::to_string(std::hash<std::string>{}(e.customer_id) %
                                                static_cast<uint64_t>(n_customers));
    return pool;
  }
  pool.source = "synthetic";
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> amount(3.0, 0.8);
  for (int i = 0; i < 20000; ++i) {
    segment::Event e;
    e.customer_id = "soak-c" + std::to_string(rng() % static_cast<uint64_t>(n_customers));
    e.amount = std::round(amount(rng) * 100) / 100;
    e.quantity = 1 + static_cast<int32_t>(rng() % 4);
    e.category = "cd";
    e.channel = "catalog";
    pool.events.push_back(std::move(e));
  }
  return pool;
}

void DriveSegment(const std::string& url, const std::string& node, const EventPool& pool,
                  double rate, uint64_t seed, const std::atomic<bool>& stop, LoadCounters& c) {
  if (pool.events.empty() || rate <= 0) return;
  auto client = http::HttpClient::Create({.base_url = url,
                                          .read_timeout = std::chrono::seconds(30),
                                          .max_retries = 0,
                                          .link_src = "soak",
                                          .link_dst = "segment"});
  if (!client.ok()) {
    c.errors++;
    return;
  }
  const size_t n = pool.events.size();
  size_t next = static_cast<size_t>(seed % n);
  int64_t serial = 0;
  double owed = 0;  // fractional events carried to the next batch
  auto due = std::chrono::steady_clock::now();
  while (!stop.load()) {
    due += std::chrono::milliseconds(500);
    owed += rate / 2;
    const int batch = static_cast<int>(owed);
    owed -= batch;
    std::string body;
    const auto now = std::chrono::system_clock::now();
    for (int i = 0; i < batch; ++i) {
      segment::Event e = pool.events[next];
      next = (next + 1) % n;
      e.timestamp = now;
      e.node = node;
      e.id = "soak-" + std::to_string(seed) + "-" + node + "-" + std::to_string(++serial);
      body += codec::EventToJson(e).dump();
      body += '\n';
    }
    if (batch > 0) {
      c.posted += batch;
      auto r = (*client)->Post("/api/v1/events", body, "application/x-ndjson");
      if (r.ok() && (r->status == 200 || r->status == 422)) {
        if (auto j = r->Json(); j.ok()) c.accepted += j->value("accepted", int64_t{0});
      } else {
        c.errors++;
      }
    }
    // Bounded by `stop`: sleep to the next due time in steps of at most 100 ms.
    while (!stop.load() && std::chrono::steady_clock::now() < due)
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
          due - std::chrono::steady_clock::now(), std::chrono::milliseconds(100)));
    if (std::chrono::steady_clock::now() > due + std::chrono::seconds(5))
      due = std::chrono::steady_clock::now();  // fell far behind (slow server): do not burst
  }
}

}  // namespace strata::chaos
