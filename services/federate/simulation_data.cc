// Synthetic non-IID federated data with ground truth (Gaussian, or retail: strata-segment's event
// generator folded into profiles), ARI and the centralised k-means reference.
#include <cmath>
#include <limits>
#include <map>

#include "simulation.h"
#include "strata/core/rng.h"
#include "strata/federated/kmeans.h"
#include "strata/codec/event_json.h"
#include "strata/segment/generator.h"
#include "strata/segment/profile.h"

namespace strata::federate {

FederatedData MakeFederatedData(int nodes, int k, int d, int points_per_node, double alpha,
                                uint64_t seed) {
  Rng rng(seed);
  FederatedData out;
  out.k = k;
  out.d = d;
  std::vector<double> centres(static_cast<size_t>(k) * d);
  for (double& c : centres) c = rng.Uniform(-10, 10);
  for (int n = 0; n < nodes; ++n) {
    std::vector<double> p(k, 1.0);
    double total = k;
    if (alpha > 0) {
      total = 0;
      for (double& x : p) total += (x = rng.Gamma(alpha, 1.0) + 1e-12);
    }
    std::vector<double> pts;
    for (int i = 0; i < points_per_node; ++i) {
      double u = rng.Uniform() * total;
      int seg = 0;
      while (seg < k - 1 && u >= p[seg]) u -= p[seg++];
      for (int t = 0; t < d; ++t) pts.push_back(centres[seg * d + t] + rng.Normal());
      out.labels.push_back(seg);
    }
    out.pooled.insert(out.pooled.end(), pts.begin(), pts.end());
    out.node_points.push_back(std::move(pts));
  }
  out.raw_bytes_per_node = static_cast<double>(out.pooled.size()) * sizeof(double) / nodes;
  return out;
}

double AdjustedRandIndex(const std::vector<int>& a, const std::vector<int>& b) {
  std::map<std::pair<int, int>, double> joint;
  std::map<int, double> ra, rb;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    joint[{a[i], b[i]}] += 1;
    ra[a[i]] += 1;
    rb[b[i]] += 1;
  }
  auto c2 = [](double x) { return x * (x - 1) / 2; };
  double sum_joint = 0, sum_a = 0, sum_b = 0;
  for (auto& [key, v] : joint) sum_joint += c2(v);
  for (auto& [key, v] : ra) sum_a += c2(v);
  for (auto& [key, v] : rb) sum_b += c2(v);
  const double n = c2(static_cast<double>(std::min(a.size(), b.size())));
  const double expected = n > 0 ? sum_a * sum_b / n : 0;
  const double max_index = (sum_a + sum_b) / 2;
  if (max_index - expected == 0) return 1.0;
  return (sum_joint - expected) / (max_index - expected);
}

std::vector<double> CentralisedKMeans(const std::vector<double>& points, int d, int k, int restarts,
                                      uint64_t seed) {
  Rng rng(seed);
  std::vector<double> best;
  double best_ssq = std::numeric_limits<double>::infinity();
  for (int r = 0; r < restarts; ++r) {
    auto c = federated::LocalKMeans(points, d, k, 100, rng);
    if (!c.ok()) continue;
    double s = federated::Ssq(points, d, *c, k);
    if (s < best_ssq) {
      best_ssq = s;
      best = *c;
    }
  }
  return best;
}

}  // namespace strata::federate

// Retail data: each node runs strata-segment's event generator over its own customers (segment
// mix from Dirichlet(alpha)), folds the events into profiles and keeps each customer's 16 profile
// features as of the newest event; labels are the generator's ground-truth segments.
namespace strata::federate {

FederatedData MakeRetailData(int nodes, int k, int customers_per_node, double alpha, uint64_t seed) {
  Rng rng(seed);
  FederatedData out;
  out.k = k;
  out.d = segment::kNumFeatures;
  for (int n = 0; n < nodes; ++n) {
    std::vector<segment::SegmentSpec> specs = segment::DefaultSegments(k);
    for (auto& s : specs) s.share = alpha > 0 ? rng.Gamma(alpha, 1.0) + 1e-3 : 1.0;
    auto gen = segment::Generator::Create({.customers = customers_per_node,
                                           .events = static_cast<int64_t>(customers_per_node) * 25,
                                           .segments = specs,
                                           .k = k,
                                           .seed = seed * 7907 + n});
    auto table = segment::ProfileTable::Create({});
    std::vector<double> pts;
    if (gen.ok() && table.ok()) {
      segment::Event e;
      while (gen->Next(&e)) {
        table->UpdateUnchecked(e);
        out.raw_bytes_per_node += static_cast<double>(codec::EventToJson(e).dump().size() + 1) / nodes;
      }
      std::map<std::string, int> truth;
      for (int i = 0; i < gen->customers(); ++i) truth[gen->CustomerId(i)] = gen->labels()[i];
      for (uint32_t i = 0; i < table->size(); ++i) {
        segment::FeatureVector f = table->Features(i, gen->now());
        pts.insert(pts.end(), f.begin(), f.end());
        out.labels.push_back(truth[std::string(table->customer_id(i))]);
      }
    }
    out.pooled.insert(out.pooled.end(), pts.begin(), pts.end());
    out.node_points.push_back(std::move(pts));
  }
  return out;
}

}  // namespace strata::federate
