// A reader for the Prometheus text exposition format (what every Strata service serves at
// /metrics), for reports and dashboards that combine several services' counters and latency
// histograms (the CLI's `strata surveil` report, strata-console's link map).
// Thread-safety: PromText is immutable after Parse.
//
//   PromText m = PromText::Parse(body);
//   double frames = m.Sum("strata_detect_frames_total");
//   double p99 = m.Quantile("strata_stage_latency_seconds", {{"stage", "detect"}}, 0.99);
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace strata::metrics {

class PromText {
 public:
  using Labels = std::map<std::string, std::string>;
  struct Sample {
    std::string name;
    Labels labels;
    double value = 0;
  };
  // Lines that do not parse are skipped (the format is produced by our own services).
  static PromText Parse(std::string_view text);
  // Sum of every sample named `name` whose labels include all of `match`.
  double Sum(std::string_view name, const Labels& match = {}) const;
  // The q-quantile (0..1) of histogram `name` (summed over series matching `match`), by linear
  // interpolation inside the bucket, as PromQL's histogram_quantile does. 0 when empty.
  double Quantile(std::string_view name, const Labels& match, double q) const;
  const std::vector<Sample>& samples() const { return samples_; }

 private:
  std::vector<Sample> samples_;
};

}  // namespace strata::metrics
