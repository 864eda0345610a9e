#include "strata/metrics/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <memory>
#include <mutex>
#include <unordered_map>

namespace strata::metrics {
namespace {

struct State {
  std::mutex mu;
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::unordered_map<std::string, prometheus::Family<prometheus::Counter>*> counters;
  std::unordered_map<std::string, prometheus::Family<prometheus::Gauge>*> gauges;
  std::unordered_map<std::string, prometheus::Family<prometheus::Histogram>*> histograms;
};

State& S() {
  static State* s = new State();  // never destroyed: handles outlive static destruction order
  return *s;
}

}  // namespace

void Counter::Inc(double v) {
  if (c_) c_->Increment(v);
}
double Counter::Value() const { return c_ ? c_->Value() : 0; }

void Gauge::Set(double v) {
  if (g_) g_->Set(v);
}
void Gauge::Inc(double v) {
  if (g_) g_->Increment(v);
}
void Gauge::Dec(double v) {
  if (g_) g_->Decrement(v);
}
double Gauge::Value() const { return g_ ? g_->Value() : 0; }

void Histogram::Observe(double v) {
  if (h_) h_->Observe(v);
}

const std::vector<double>& LatencyBuckets() {
  static const std::vector<double> b = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                        0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5,
                                        5,      10,      30};
  return b;
}

const std::vector<double>& SizeBuckets() {
  static const std::vector<double> b = [] {
    std::vector<double> v;
    for (double x = 64; x <= 64.0 * 1024 * 1024; x *= 4) v.push_back(x);
    return v;
  }();
  return b;
}

Counter GetCounter(const std::string& name, const std::string& help, const Labels& labels) {
  State& s = S();
  std::lock_guard lock(s.mu);
  auto& fam = s.counters[name];
  if (!fam) fam = &prometheus::BuildCounter().Name(name).Help(help).Register(*s.registry);
  Counter c;
  c.c_ = &fam->Add(labels);
  return c;
}

Gauge GetGauge(const std::string& name, const std::string& help, const Labels& labels) {
  State& s = S();
  std::lock_guard lock(s.mu);
  auto& fam = s.gauges[name];
  if (!fam) fam = &prometheus::BuildGauge().Name(name).Help(help).Register(*s.registry);
  Gauge g;
  g.g_ = &fam->Add(labels);
  return g;
}

Histogram GetHistogram(const std::string& name, const std::string& help, const Labels& labels,
                       const std::vector<double>& buckets) {
  State& s = S();
  std::lock_guard lock(s.mu);
  auto& fam = s.histograms[name];
  if (!fam) fam = &prometheus::BuildHistogram().Name(name).Help(help).Register(*s.registry);
  Histogram h;
  h.h_ = &fam->Add(labels, prometheus::Histogram::BucketBoundaries(buckets));
  return h;
}

std::string SerializeText() {
  State& s = S();
  std::vector<prometheus::MetricFamily> families;
  {
    std::lock_guard lock(s.mu);
    families = s.registry->Collect();
  }
  return prometheus::TextSerializer().Serialize(families);
}

Histogram StageLatency(const std::string& stage) {
  return GetHistogram("strata_stage_latency_seconds", "Latency of one pipeline stage",
                      {{"stage", stage}});
}

}  // namespace strata::metrics
