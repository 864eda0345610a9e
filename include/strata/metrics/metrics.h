// Process-wide Prometheus metrics behind a small Strata API (prometheus-cpp stays in src/metrics).
//
// One registry per process. Get* returns a cheap handle to the time series with the given name
// and labels, creating it on first use; handles stay valid for the life of the process. Names
// follow strata_<subsystem>_<name>_<unit> in seconds, bytes and 0–1 ratios. Never put person
// names, customer ids or pids in labels (unbounded cardinality, and privacy).
// Thread-safety: every function and handle method is safe to call from any thread.
//
//   auto hist = metrics::GetHistogram("strata_stage_latency_seconds", "Stage latency",
//                                     {{"stage", "frame_change"}});
//   { metrics::ScopedTimer t(hist); stage.Process(frame); }
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
}  // namespace prometheus

namespace strata::metrics {

using Labels = std::map<std::string, std::string>;

class Counter {
 public:
  void Inc(double v = 1.0);
  double Value() const;

 private:
  friend Counter GetCounter(const std::string&, const std::string&, const Labels&);
  prometheus::Counter* c_ = nullptr;
};

class Gauge {
 public:
  void Set(double v);
  void Inc(double v = 1.0);
  void Dec(double v = 1.0);
  double Value() const;

 private:
  friend Gauge GetGauge(const std::string&, const std::string&, const Labels&);
  prometheus::Gauge* g_ = nullptr;
};

class Histogram {
 public:
  void Observe(double v);

 private:
  friend Histogram GetHistogram(const std::string&, const std::string&, const Labels&,
                                const std::vector<double>&);
  prometheus::Histogram* h_ = nullptr;
};

// Buckets for latencies in seconds: 100 µs … 30 s, roughly ×2.5 apart.
const std::vector<double>& LatencyBuckets();
// Buckets for sizes in bytes: 64 B … 64 MiB, ×4 apart.
const std::vector<double>& SizeBuckets();

Counter GetCounter(const std::string& name, const std::string& help, const Labels& labels = {});
Gauge GetGauge(const std::string& name, const std::string& help, const Labels& labels = {});
Histogram GetHistogram(const std::string& name, const std::string& help, const Labels& labels = {},
                       const std::vector<double>& buckets = LatencyBuckets());

// strata_stage_latency_seconds{stage} — the one latency histogram every pipeline stage reports to.
Histogram StageLatency(const std::string& stage);

// Prometheus text exposition format (version 0.0.4) of every metric in the process.
std::string SerializeText();

// Observes the elapsed wall time in seconds into a histogram when destroyed.
class ScopedTimer {
 public:
  explicit ScopedTimer(Histogram h) : h_(h), start_(std::chrono::steady_clock::now()) {}
  ~ScopedTimer() { h_.Observe(ElapsedSeconds()); }
  double ElapsedSeconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  Histogram h_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace strata::metrics
