// Load generators for http_overload_bench: a closed loop (N clients back to back → sustainable
// rate and service time) and an open loop (a fixed arrival schedule, latency counted from the
// scheduled send time so client lateness is not hidden) over RawHttp keep-alive connections.
// A request is produced per index by a RequestFn, so one tool drives any endpoint. Header-only;
// benchmarks only.
//
//   ClosedResult c = ClosedLoop(port, req, 8, 3000ms);
//   OpenLoopResult r = OpenLoop(port, c.rate * 2, static_cast<int>(c.rate * 2 * 15), 160, req);
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "raw_http.h"

namespace strata::bench {

using Clock = std::chrono::steady_clock;
using RequestFn = std::function<std::string(int index)>;

struct ClosedResult {
  double rate = 0;          // 200s per second
  double p50 = 0, p99 = 0;  // ms per request
  int failed = 0;           // non-200 answers or broken connections
};

inline ClosedResult ClosedLoop(int port, const RequestFn& request, int clients,
                               std::chrono::milliseconds duration,
                               std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  std::atomic<int> done{0}, failed{0}, next{0};
  std::mutex mu;
  std::vector<double> ms;
  const auto end = Clock::now() + duration;
  std::vector<std::thread> ts;
  for (int i = 0; i < clients; ++i)
    ts.emplace_back([&] {
      RawHttp c(port);
      std::vector<double> mine;
      for (int k = 0; k < 1000000 && Clock::now() < end; ++k) {
        if (!c.open() && !c.Connect()) {
          failed++;
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
          continue;
        }
        bool closes = false;
        auto t0 = Clock::now();
        int status = c.Send(request(next++)) ? c.Read(timeout, &closes) : 0;
        if (status == 200) {
          done++;
          mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        } else {
          failed++;
        }
        if (status != 200 || closes) c.Close();
      }
      std::lock_guard lock(mu);
      ms.insert(ms.end(), mine.begin(), mine.end());
    });
  for (auto& t : ts) t.join();
  ClosedResult r;
  r.rate = done / std::chrono::duration<double>(duration).count();
  r.p50 = Percentile(ms, 0.50);
  r.p99 = Percentile(ms, 0.99);
  r.failed = failed;
  return r;
}

struct OpenLoopResult {
  int sent = 0, ok = 0, rejected = 0, r503 = 0, r429 = 0, timeouts = 0, errors = 0;
  double ok_p50 = 0, ok_p99 = 0, rej_p50 = 0, rej_p99 = 0, achieved = 0, seconds = 0;
};

// `total` requests at `rate` per second from `threads` senders; timeout = 5 s per request.
inline OpenLoopResult OpenLoop(int port, double rate, int total, int threads,
                               const RequestFn& request) {
  using namespace std::chrono_literals;
  std::mutex mu;
  std::vector<double> ok_ms, rej_ms;
  OpenLoopResult res;
  std::atomic<int> next{0};
  const auto start = Clock::now() + 100ms;
  const auto interval = std::chrono::duration<double>(1.0 / rate);
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&] {
      RawHttp c(port);
      while (true) {
        int i = next++;
        if (i >= total) return;
        auto sched = start + std::chrono::duration_cast<Clock::duration>(interval * i);
        std::this_thread::sleep_until(sched);
        const std::string req = request(i);
        int status = 0;
        bool closes = false;
        Clock::time_point sent = Clock::now();
        if (c.open() || c.Connect()) {
          sent = Clock::now();
          if (c.Send(req)) status = c.Read(5000ms, &closes);
        }
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - sched).count();
        double from_send = std::chrono::duration<double, std::milli>(Clock::now() - sent).count();
        if (status <= 0 || closes) c.Close();
        std::lock_guard lock(mu);
        res.sent++;
        if (status == 200) {
          res.ok++;
          ok_ms.push_back(ms);
        } else if (status == 503 || status == 429) {
          res.rejected++;
          (status == 503 ? res.r503 : res.r429)++;
          rej_ms.push_back(from_send);
        } else if (status == -1) {
          res.timeouts++;
        } else {
          res.errors++;
        }
      }
    });
  for (auto& t : ts) t.join();
  res.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  res.achieved = res.ok / res.seconds;
  res.ok_p50 = Percentile(ok_ms, 0.50);
  res.ok_p99 = Percentile(ok_ms, 0.99);
  res.rej_p50 = Percentile(rej_ms, 0.50);
  res.rej_p99 = Percentile(rej_ms, 0.99);
  return res;
}

// Runs the strata-detect / strata-segment endpoint overloads (overload_services.cc).
// `which`: detect | ingest | lookup | all. `seconds`: open-loop duration per load level.
void ServiceOverload(const std::string& which, double seconds);

}  // namespace strata::bench
