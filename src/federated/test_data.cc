#include "test_data.h"

#include <cstddef>
#include <limits>

#include "strata/core/rng.h"

namespace strata::federated::testing {

FederatedData MakeNonIid(int nodes, int k, int d, int points_per_node, double alpha,
                         uint64_t seed) {
  Rng rng(seed);
  FederatedData data;
  data.k = k;
  data.d = d;
  for (int i = 0; i < k * d; ++i) data.true_centers.push_back(rng.Uniform(-10, 10));
  for (int n = 0; n < nodes; ++n) {
    std::vector<double> p(k);
    double total = 0;
    for (double& v : p) total += (v = rng.Gamma(alpha));
    std::vector<double> pts;
    for (int i = 0; i < points_per_node; ++i) {
      double u = rng.Uniform() * total;
      int seg = k - 1;
      for (int j = 0; j < k; ++j) {
        u -= p[j];
        if (u < 0) {
          seg = j;
          break;
        }
      }
      for (int t = 0; t < d; ++t) pts.push_back(data.true_centers[seg * d + t] + rng.Normal(0, 1));
    }
    data.pooled.insert(data.pooled.end(), pts.begin(), pts.end());
    data.node_points.push_back(std::move(pts));
  }
  return data;
}

namespace {
double Dist2(const double* a, const double* b, int d) {
  double s = 0;
  for (int t = 0; t < d; ++t) s += (a[t] - b[t]) * (a[t] - b[t]);
  return s;
}
int Nearest(const double* x, const std::vector<double>& c, int d) {
  int k = static_cast<int>(c.size()) / d, best = 0;
  double bd = std::numeric_limits<double>::infinity();
  for (int j = 0; j < k; ++j) {
    double v = Dist2(x, &c[j * d], d);
    if (v < bd) bd = v, best = j;
  }
  return best;
}
}  // namespace

double ReferenceSsq(const std::vector<double>& points, int d, const std::vector<double>& centers) {
  double s = 0;
  for (size_t i = 0; i < points.size(); i += d) {
    s += Dist2(&points[i], &centers[Nearest(&points[i], centers, d) * d], d);
  }
  return s;
}

std::vector<double> ReferenceLloyd(const std::vector<double>& points, int d, int k, int restarts,
                                   uint64_t seed) {
  Rng rng(seed);
  const size_t n = points.size() / d;
  std::vector<double> best;
  double best_ssq = std::numeric_limits<double>::infinity();
  for (int r = 0; r < restarts; ++r) {
    std::vector<double> c;
    size_t first = static_cast<size_t>(rng.UniformInt(0, static_cast<int64_t>(n) - 1));
    c.insert(c.end(), points.begin() + first * d, points.begin() + (first + 1) * d);
    std::vector<double> dist(n);
    while (static_cast<int>(c.size()) < k * d) {
      double total = 0;
      for (size_t i = 0; i < n; ++i)
        total += (dist[i] = Dist2(&points[i * d], &c[Nearest(&points[i * d], c, d) * d], d));
      double u = rng.Uniform() * total;
      size_t pick = n - 1;
      for (size_t i = 0; i < n; ++i) {
        u -= dist[i];
        if (u < 0) {
          pick = i;
          break;
        }
      }
      c.insert(c.end(), points.begin() + pick * d, points.begin() + (pick + 1) * d);
    }
    for (int it = 0; it < 100; ++it) {
      std::vector<double> sums(k * d, 0), counts(k, 0);
      for (size_t i = 0; i < n; ++i) {
        int j = Nearest(&points[i * d], c, d);
        for (int t = 0; t < d; ++t) sums[j * d + t] += points[i * d + t];
        counts[j] += 1;
      }
      std::vector<double> next = c;
      for (int j = 0; j < k; ++j) {
        if (counts[j] == 0) continue;
        for (int t = 0; t < d; ++t) next[j * d + t] = sums[j * d + t] / counts[j];
      }
      if (next == c) break;
      c = next;
    }
    double ssq = ReferenceSsq(points, d, c);
    if (ssq < best_ssq) best_ssq = ssq, best = c;
  }
  return best;
}

}  // namespace strata::federated::testing
