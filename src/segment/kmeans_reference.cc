#include "strata/segment/kmeans_reference.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <utility>

namespace strata::segment {

Matrix SquaredDistances(const Matrix& points, const Matrix& centroids) {
  const Eigen::VectorXf pn = points.rowwise().squaredNorm();
  const Eigen::RowVectorXf cn = centroids.rowwise().squaredNorm().transpose();
  Matrix d = -2.0f * (points * centroids.transpose());
  d.colwise() += pn;
  d.rowwise() += cn;
  return d.cwiseMax(0.0f);
}

std::vector<int> NearestCentroids(const Matrix& points, const Matrix& centroids) {
  const Matrix d = SquaredDistances(points, centroids);
  std::vector<int> labels(points.rows());
  for (Eigen::Index i = 0; i < d.rows(); ++i) {
    Eigen::Index j;
    d.row(i).minCoeff(&j);
    labels[i] = static_cast<int>(j);
  }
  return labels;
}

double Ssq(const Matrix& points, const Matrix& centroids) {
  if (points.rows() == 0 || centroids.rows() == 0) return 0;
  const Matrix d = SquaredDistances(points, centroids);
  double s = 0;
  for (Eigen::Index i = 0; i < d.rows(); ++i) s += d.row(i).minCoeff();
  return s;
}

std::vector<int> KMeansPlusPlusSeeds(const Matrix& points, int k, Rng& rng) {
  std::vector<int> seeds;
  const Eigen::Index n = points.rows();
  if (n == 0 || k <= 0) return seeds;
  seeds.push_back(static_cast<int>(rng.UniformInt(0, n - 1)));
  Eigen::VectorXd d2 =
      (points.rowwise() - points.row(seeds[0])).rowwise().squaredNorm().cast<double>();
  while (static_cast<int>(seeds.size()) < k) {
    const double total = d2.sum();
    if (!(total > 0)) break;  // every remaining point coincides with a seed
    double r = rng.Uniform() * total;
    Eigen::Index pick = n - 1;
    for (Eigen::Index i = 0; i < n; ++i) {
      r -= d2[i];
      if (r < 0) {
        pick = i;
        break;
      }
    }
    if (d2[pick] <= 0) continue;
    seeds.push_back(static_cast<int>(pick));
    d2 = d2.cwiseMin((points.rowwise() - points.row(pick)).rowwise().squaredNorm().cast<double>());
  }
  return seeds;
}

KMeansResult LloydRefine(const Matrix& points, Matrix centroids, int max_iterations,
                         double tolerance) {
  KMeansResult r;
  const Eigen::Index n = points.rows(), k = centroids.rows(), d = points.cols();
  r.labels.assign(n, 0);
  double prev = std::numeric_limits<double>::infinity();
  Eigen::VectorXf best(n);
  for (int it = 0; it < std::max(1, max_iterations); ++it) {
    const Matrix dist = SquaredDistances(points, centroids);
    double ssq = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
      Eigen::Index j;
      best[i] = dist.row(i).minCoeff(&j);
      r.labels[i] = static_cast<int>(j);
      ssq += best[i];
    }
    r.ssq = ssq;
    r.iterations = it + 1;
    if (prev - ssq <= tolerance * std::max(ssq, 1e-12) || it + 1 == max_iterations) break;
    prev = ssq;
    Matrix sums = Matrix::Zero(k, d);
    Eigen::VectorXd counts = Eigen::VectorXd::Zero(k);
    for (Eigen::Index i = 0; i < n; ++i) {
      sums.row(r.labels[i]) += points.row(i);
      counts[r.labels[i]] += 1;
    }
    for (Eigen::Index j = 0; j < k; ++j) {
      if (counts[j] > 0) {
        centroids.row(j) = sums.row(j) / static_cast<float>(counts[j]);
      } else {  // empty cluster: move it to the worst-served point
        Eigen::Index far;
        best.maxCoeff(&far);
        centroids.row(j) = points.row(far);
        best[far] = 0;
      }
    }
  }
  r.centroids = std::move(centroids);
  return r;
}

Result<KMeansResult> LloydKMeans(const Matrix& points, int k, const LloydOptions& options) {
  if (points.cols() == 0) return InvalidArgumentError("points: no columns");
  if (k < 1 || k > points.rows()) {
    return InvalidArgumentError("k: must be in [1, rows=" + std::to_string(points.rows()) +
                                "], got " + std::to_string(k));
  }
  if (!points.allFinite()) return InvalidArgumentError("points: non-finite value");
  if (options.restarts < 1) return InvalidArgumentError("restarts: must be >= 1");
  Rng rng(options.seed);
  KMeansResult best;
  best.ssq = std::numeric_limits<double>::infinity();
  for (int r = 0; r < options.restarts; ++r) {
    const std::vector<int> seeds = KMeansPlusPlusSeeds(points, k, rng);
    Matrix c(k, points.cols());
    for (int j = 0; j < k; ++j) {
      c.row(j) = points.row(seeds[j % seeds.size()]);
    }
    KMeansResult res = LloydRefine(points, std::move(c), options.max_iterations, options.tolerance);
    if (res.ssq < best.ssq) best = std::move(res);
  }
  return best;
}

double AdjustedRandIndex(const std::vector<int>& a, const std::vector<int>& b) {
  const size_t n = std::min(a.size(), b.size());
  if (n < 2) return 1.0;
  std::map<std::pair<int, int>, int64_t> joint;
  std::map<int, int64_t> ca, cb;
  for (size_t i = 0; i < n; ++i) {
    ++joint[{a[i], b[i]}];
    ++ca[a[i]];
    ++cb[b[i]];
  }
  auto c2 = [](int64_t x) { return static_cast<double>(x) * static_cast<double>(x - 1) / 2.0; };
  double index = 0, sa = 0, sb = 0;
  for (const auto& [key, v] : joint) index += c2(v);
  for (const auto& [key, v] : ca) sa += c2(v);
  for (const auto& [key, v] : cb) sb += c2(v);
  const double expected = sa * sb / c2(static_cast<int64_t>(n));
  const double max_index = (sa + sb) / 2.0;
  if (max_index - expected == 0) return 1.0;
  return (index - expected) / (max_index - expected);
}

}  // namespace strata::segment
