#include "strata/federated/kmeans.h"

#include <cmath>
#include <limits>

namespace strata::federated {

double SquaredDistance(std::span<const double> a, std::span<const double> b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    double diff = a[i] - b[i];
    s += diff * diff;
  }
  return s;
}

int NearestCentroid(std::span<const double> centroids, int k, std::span<const double> x) {
  const size_t d = x.size();
  int best = 0;
  double best_d = std::numeric_limits<double>::infinity();
  for (int j = 0; j < k; ++j) {
    double dist = SquaredDistance(centroids.subspan(j * d, d), x);
    if (dist < best_d) {
      best_d = dist;
      best = j;
    }
  }
  return best;
}

double Ssq(std::span<const double> points, int d, std::span<const double> centroids, int k,
           std::span<const double> weights) {
  const size_t n = points.size() / d;
  double total = 0;
  for (size_t i = 0; i < n; ++i) {
    auto x = points.subspan(i * d, d);
    int j = NearestCentroid(centroids, k, x);
    total += (weights.empty() ? 1.0 : weights[i]) * SquaredDistance(centroids.subspan(j * d, d), x);
  }
  return total;
}

Result<SufficientStats> LocalStats(std::span<const double> points, const GlobalModel& model,
                                   bool with_second_moments, std::span<const double> weights) {
  STRATA_RETURN_IF_ERROR(model.Validate());
  const int d = model.d;
  if (points.size() % d != 0) {
    return InvalidArgumentError("points size " + std::to_string(points.size()) +
                                " is not a multiple of d=" + std::to_string(d));
  }
  const size_t n = points.size() / d;
  if (!weights.empty() && weights.size() != n) {
    return InvalidArgumentError("weights size does not match the number of points");
  }
  SufficientStats s = SufficientStats::Zero(model.k, d, with_second_moments);
  s.contributors = 1;
  for (size_t i = 0; i < n; ++i) {
    auto x = points.subspan(i * d, d);
    s.Add(NearestCentroid(model.centroids, model.k, x), x, weights.empty() ? 1.0 : weights[i]);
  }
  return s;
}

Result<GlobalModel> ApplyAggregate(const GlobalModel& prev, const SufficientStats& sum,
                                   const ApplyConfig& config) {
  STRATA_RETURN_IF_ERROR(prev.Validate());
  STRATA_RETURN_IF_ERROR(sum.Validate());
  if (sum.k != prev.k || sum.d != prev.d) {
    return InvalidArgumentError(
        "aggregate shape k=" + std::to_string(sum.k) + " d=" + std::to_string(sum.d) +
        " does not match model k=" + std::to_string(prev.k) + " d=" + std::to_string(prev.d));
  }
  if (config.decay < 0 || config.decay > 1) return InvalidArgumentError("decay must be in [0, 1]");
  GlobalModel next = prev;
  next.version = prev.version + 1;
  const int d = prev.d;
  for (int j = 0; j < prev.k; ++j) {
    // Noisy (DP) counts may be negative; clamp to zero before use.
    double n = std::max(0.0, sum.counts[j]);
    double w = config.decay * prev.weights[j] + n;
    next.weights[j] = w;
    if (w < config.min_weight || n <= 0) continue;  // keep the old centroid
    for (int t = 0; t < d; ++t) {
      size_t idx = static_cast<size_t>(j) * d + t;
      next.centroids[idx] =
          (config.decay * prev.weights[j] * prev.centroids[idx] + sum.sums[idx]) / w;
    }
  }
  return next;
}

namespace {

// Weighted k-means++ seeding.
std::vector<double> PlusPlusSeed(std::span<const double> points, int d, int k, Rng& rng,
                                 std::span<const double> weights) {
  const size_t n = points.size() / d;
  auto w = [&](size_t i) { return weights.empty() ? 1.0 : weights[i]; };
  std::vector<double> centers;
  std::vector<double> dist(n, std::numeric_limits<double>::infinity());
  double total_w = 0;
  for (size_t i = 0; i < n; ++i) total_w += w(i);
  double r = rng.Uniform() * total_w;
  size_t first = n - 1;
  for (size_t i = 0; i < n; ++i) {
    r -= w(i);
    if (r < 0) {
      first = i;
      break;
    }
  }
  centers.insert(centers.end(), points.begin() + first * d, points.begin() + (first + 1) * d);
  for (int c = 1; c < k; ++c) {
    auto last = std::span<const double>(centers).subspan((c - 1) * static_cast<size_t>(d), d);
    double sum = 0;
    for (size_t i = 0; i < n; ++i) {
      dist[i] = std::min(dist[i], SquaredDistance(points.subspan(i * d, d), last));
      sum += w(i) * dist[i];
    }
    size_t pick = n - 1;
    if (sum > 0) {
      double t = rng.Uniform() * sum;
      for (size_t i = 0; i < n; ++i) {
        t -= w(i) * dist[i];
        if (t < 0) {
          pick = i;
          break;
        }
      }
    } else {
      pick = static_cast<size_t>(rng.UniformInt(0, static_cast<int64_t>(n) - 1));
    }
    centers.insert(centers.end(), points.begin() + pick * d, points.begin() + (pick + 1) * d);
  }
  return centers;
}

}  // namespace

Result<std::vector<double>> LocalKMeans(std::span<const double> points, int d, int k, int iters,
                                        Rng& rng, std::span<const double> weights) {
  if (d <= 0 || k <= 0 || points.size() % d != 0) {
    return InvalidArgumentError("LocalKMeans: bad shape");
  }
  const size_t n = points.size() / d;
  if (n < static_cast<size_t>(k)) {
    return InvalidArgumentError("LocalKMeans: " + std::to_string(n) +
                                " points < k=" + std::to_string(k));
  }
  std::vector<double> centers = PlusPlusSeed(points, d, k, rng, weights);
  std::vector<int> assign(n, -1);
  for (int it = 0; it < iters; ++it) {
    bool changed = false;
    std::vector<double> sums(static_cast<size_t>(k) * d, 0.0), counts(k, 0.0);
    for (size_t i = 0; i < n; ++i) {
      auto x = points.subspan(i * d, d);
      int j = NearestCentroid(centers, k, x);
      if (j != assign[i]) changed = true;
      assign[i] = j;
      double w = weights.empty() ? 1.0 : weights[i];
      for (int t = 0; t < d; ++t) sums[static_cast<size_t>(j) * d + t] += w * x[t];
      counts[j] += w;
    }
    if (!changed) break;
    for (int j = 0; j < k; ++j) {
      if (counts[j] <= 0) continue;
      for (int t = 0; t < d; ++t) {
        centers[static_cast<size_t>(j) * d + t] = sums[static_cast<size_t>(j) * d + t] / counts[j];
      }
    }
  }
  return centers;
}

Result<CentroidReport> KFedLocal(const std::string& node_id, std::span<const double> points, int d,
                                 int k_local, int iters, Rng& rng) {
  STRATA_ASSIGN_OR_RETURN(std::vector<double> centers, LocalKMeans(points, d, k_local, iters, rng));
  CentroidReport rep;
  rep.node_id = node_id;
  rep.k = k_local;
  rep.d = d;
  rep.weights.assign(k_local, 0.0);
  const size_t n = points.size() / d;
  for (size_t i = 0; i < n; ++i) {
    rep.weights[NearestCentroid(centers, k_local, points.subspan(i * d, d))] += 1.0;
  }
  rep.centroids = std::move(centers);
  return rep;
}

Result<GlobalModel> KFedAggregate(std::span<const CentroidReport> reports, int k, Rng& rng,
                                  int restarts) {
  if (reports.empty()) return InvalidArgumentError("k-FED: no reports");
  if (k <= 0) return InvalidArgumentError("k-FED: k must be positive");
  const int d = reports[0].d;
  std::vector<double> all, weights;
  for (const CentroidReport& r : reports) {
    if (r.d != d)
      return InvalidArgumentError("k-FED: report '" + r.node_id + "' has d=" + std::to_string(r.d) +
                                  ", expected " + std::to_string(d));
    if (r.centroids.size() != static_cast<size_t>(r.k) * d ||
        r.weights.size() != static_cast<size_t>(r.k)) {
      return InvalidArgumentError("k-FED: report '" + r.node_id + "' is inconsistent");
    }
    all.insert(all.end(), r.centroids.begin(), r.centroids.end());
    weights.insert(weights.end(), r.weights.begin(), r.weights.end());
  }
  const size_t m = weights.size();
  if (m < static_cast<size_t>(k)) {
    return InvalidArgumentError("k-FED: " + std::to_string(m) +
                                " centres < k=" + std::to_string(k));
  }
  // Seed with one random node's centres (at most k of them), then farthest-first.
  const CentroidReport& seed = reports[rng.UniformInt(0, static_cast<int64_t>(reports.size()) - 1)];
  std::vector<double> centers(
      seed.centroids.begin(),
      seed.centroids.begin() + std::min(seed.k, k) * static_cast<size_t>(d));
  int have = std::min(seed.k, k);
  std::vector<double> mind(m, std::numeric_limits<double>::infinity());
  for (int c = 0; c < have; ++c) {
    auto cc = std::span<const double>(centers).subspan(static_cast<size_t>(c) * d, d);
    for (size_t i = 0; i < m; ++i) {
      mind[i] =
          std::min(mind[i], SquaredDistance(std::span<const double>(all).subspan(i * d, d), cc));
    }
  }
  while (have < k) {
    size_t far = 0;
    for (size_t i = 1; i < m; ++i)
      if (mind[i] > mind[far]) far = i;
    centers.insert(centers.end(), all.begin() + far * d, all.begin() + (far + 1) * d);
    auto cc = std::span<const double>(all).subspan(far * d, d);
    for (size_t i = 0; i < m; ++i) {
      mind[i] =
          std::min(mind[i], SquaredDistance(std::span<const double>(all).subspan(i * d, d), cc));
    }
    ++have;
  }
  // One weighted Lloyd step over all reported centres.
  GlobalModel g;
  g.version = 1;
  g.k = k;
  g.d = d;
  std::vector<double> sums(static_cast<size_t>(k) * d, 0.0);
  g.weights.assign(k, 0.0);
  for (size_t i = 0; i < m; ++i) {
    auto x = std::span<const double>(all).subspan(i * d, d);
    int j = NearestCentroid(centers, k, x);
    for (int t = 0; t < d; ++t) sums[static_cast<size_t>(j) * d + t] += weights[i] * x[t];
    g.weights[j] += weights[i];
  }
  g.centroids = centers;
  for (int j = 0; j < k; ++j) {
    if (g.weights[j] <= 0) continue;
    for (int t = 0; t < d; ++t) {
      g.centroids[static_cast<size_t>(j) * d + t] =
          sums[static_cast<size_t>(j) * d + t] / g.weights[j];
    }
  }
  double best = Ssq(all, d, g.centroids, k, weights);
  for (int r = 0; r < restarts; ++r) {
    STRATA_ASSIGN_OR_RETURN(std::vector<double> c, LocalKMeans(all, d, k, 100, rng, weights));
    double ssq = Ssq(all, d, c, k, weights);
    if (ssq < best) {
      best = ssq;
      g.centroids = std::move(c);
    }
  }
  std::fill(g.weights.begin(), g.weights.end(), 0.0);
  for (size_t i = 0; i < m; ++i) {
    g.weights[NearestCentroid(g.centroids, k, std::span<const double>(all).subspan(i * d, d))] +=
        weights[i];
  }
  return g;
}

}  // namespace strata::federated
