// StreamKMeans lifecycle: death, merge, birth by split, offline refinement (see the header).
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "strata/segment/stream_kmeans.h"

namespace strata::segment {

void StreamKMeans::RemoveRow(int j) {
  const int k = this->k();
  Matrix c(k - 1, config_.dim);
  for (int a = 0, b = 0; a < k; ++a) {
    if (a != j) c.row(b++) = centroids_.row(a);
  }
  centroids_ = std::move(c);
  weights_.erase(weights_.begin() + j);
  ids_.erase(ids_.begin() + j);
}

void StreamKMeans::Lifecycle() {
  const Eigen::RowVectorXf mean = Mean(), scale = Scale();
  // Death: weight decayed below a floor.
  while (k() > config_.k_min) {
    const double total = std::accumulate(weights_.begin(), weights_.end(), 0.0);
    const auto it = std::min_element(weights_.begin(), weights_.end());
    if (*it >= config_.death_weight_fraction * total) break;
    const int j = static_cast<int>(it - weights_.begin());
    Record(ModelChangeKind::kDied, {ids_[j]});
    ++stats_.deaths;
    RemoveRow(j);
  }
  // Merge: the closest pair of centroids, while closer than merge_distance.
  while (k() > config_.k_min) {
    const Matrix cz = (centroids_.rowwise() - mean).array().rowwise() / scale.array();
    const Matrix d2 = SquaredDistances(cz, cz);
    float best = std::numeric_limits<float>::infinity();
    int a = -1, b = -1;
    for (int i = 0; i < k(); ++i) {
      for (int j = i + 1; j < k(); ++j) {
        if (d2(i, j) < best) best = d2(i, j), a = i, b = j;
      }
    }
    if (a < 0 || best >= config_.merge_distance * config_.merge_distance) break;
    if (weights_[b] > weights_[a]) std::swap(a, b);  // keep the heavier id (a)
    const double w = weights_[a] + weights_[b];
    if (w > 0) {
      centroids_.row(a) = (centroids_.row(a) * static_cast<float>(weights_[a]) +
                           centroids_.row(b) * static_cast<float>(weights_[b])) /
                          static_cast<float>(w);
    }
    weights_[a] = w;
    Record(ModelChangeKind::kMerged, {ids_[a], ids_[b]});
    ++stats_.merges;
    RemoveRow(b);
  }
  // Birth: refill up to k_init unconditionally (best split wins, like Spark replacing a dying
  // cluster by splitting one), beyond k_init only when the split gain clears split_gain.
  while (k() < config_.k_init && TrySplit(/*force=*/true)) {
  }
  if (k() < config_.k_max) TrySplit(/*force=*/false);
  // Offline refinement: adopt a batch refit of the reservoir when it is clearly better.
  if (config_.refit_improvement < 1.0) {
    if (Seed(k(), /*reseed=*/true, config_.refit_improvement)) ++stats_.refits;
  }
}

bool StreamKMeans::TrySplit(bool force) {
  const Eigen::RowVectorXf mean = Mean(), scale = Scale();
  const Matrix z = (ReservoirMatrix().rowwise() - mean).array().rowwise() / scale.array();
  const Matrix cz = (centroids_.rowwise() - mean).array().rowwise() / scale.array();
  const std::vector<int> labels = NearestCentroids(z, cz);
  const double total = std::accumulate(weights_.begin(), weights_.end(), 0.0);
  double best_score = 0;
  int best_j = -1;
  KMeansResult best_split;
  std::vector<int> members;
  for (int j = 0; j < k(); ++j) {
    if (total <= 0 || weights_[j] < config_.split_min_share * total) continue;
    members.clear();
    for (int i = 0; i < static_cast<int>(labels.size()); ++i) {
      if (labels[i] == j) members.push_back(i);
    }
    if (static_cast<int>(members.size()) < config_.split_min_points) continue;
    Matrix pts(static_cast<Eigen::Index>(members.size()), z.cols());
    for (size_t i = 0; i < members.size(); ++i) pts.row(i) = z.row(members[i]);
    const Eigen::RowVectorXf centre = pts.colwise().mean();
    const double sse1 = (pts.rowwise() - centre).squaredNorm();
    if (sse1 <= 0) continue;
    KMeansResult two;
    two.ssq = std::numeric_limits<double>::infinity();
    for (int r = 0; r < 3; ++r) {  // best of 3 seedings: a 1-vs-3 split understates the gain
      const std::vector<int> seeds = KMeansPlusPlusSeeds(pts, 2, rng_);
      if (seeds.size() < 2) break;
      Matrix c(2, z.cols());
      c.row(0) = pts.row(seeds[0]);
      c.row(1) = pts.row(seeds[1]);
      KMeansResult res = LloydRefine(pts, std::move(c), 15, 1e-6);
      if (res.ssq < two.ssq) two = std::move(res);
    }
    if (two.centroids.rows() < 2) continue;
    const double gain = two.ssq / sse1;
    const double sep = (two.centroids.row(0) - two.centroids.row(1)).norm();
    // Bimodality along the split direction v: R = 1 - SSQ_v(2 groups) / SSQ_v(1 group).
    // A Gaussian gives R = 2/pi ~ 0.64, a uniform 0.75, two blobs 4 sigma apart 0.8.
    const Eigen::RowVectorXf v =
        (two.centroids.row(1) - two.centroids.row(0)) / static_cast<float>(std::max(sep, 1e-9));
    const Eigen::VectorXf p = (pts.rowwise() - centre) * v.transpose();
    double m[2] = {0, 0}, n[2] = {0, 0};
    for (Eigen::Index i = 0; i < p.size(); ++i) m[two.labels[i]] += p[i], n[two.labels[i]] += 1;
    if (n[0] < 1 || n[1] < 1) continue;
    m[0] /= n[0], m[1] /= n[1];
    double ss1 = 0, ss2 = 0;
    for (Eigen::Index i = 0; i < p.size(); ++i) {
      ss1 += static_cast<double>(p[i]) * p[i];
      ss2 += (p[i] - m[two.labels[i]]) * (p[i] - m[two.labels[i]]);
    }
    const double bimodality = ss1 > 0 ? 1.0 - ss2 / ss1 : 0.0;
    const double min_child = std::min(n[0], n[1]) / (n[0] + n[1]);
    const bool qualifies =
        force ||
        ((gain < config_.split_gain || bimodality >= config_.split_bimodality) && min_child >= 0.1);
    // Rank by the SSQ the split removes, scaled to the segment's weight (bisecting k-means):
    // a tiny outlier group splits off cheaply in relative terms but removes little SSQ.
    const double score = weights_[j] * (sse1 - two.ssq) / static_cast<double>(members.size());
    if (qualifies && score > best_score && sep > config_.merge_distance * 1.5) {
      best_score = score;
      best_j = j;
      best_split = std::move(two);
    }
  }
  if (best_j < 0) return false;
  double n0 = 0, n1 = 0;
  for (int l : best_split.labels) (l == 0 ? n0 : n1) += 1;
  const Matrix children =
      (best_split.centroids.array().rowwise() * scale.array()).matrix().rowwise() + mean;
  const double w = weights_[best_j];
  // The child nearer the parent keeps the parent's id.
  const Eigen::RowVectorXf parent = centroids_.row(best_j);
  const int keep =
      (children.row(0) - parent).squaredNorm() <= (children.row(1) - parent).squaredNorm() ? 0 : 1;
  const double share_keep = (keep == 0 ? n0 : n1) / (n0 + n1);
  centroids_.row(best_j) = children.row(keep);
  weights_[best_j] = w * share_keep;
  centroids_.conservativeResize(k() + 1, Eigen::NoChange);
  centroids_.row(k() - 1) = children.row(1 - keep);
  weights_.push_back(w * (1 - share_keep));
  ids_.push_back(next_id_++);
  Record(ModelChangeKind::kSplit, {ids_[best_j], ids_.back()});
  ++stats_.splits;
  return true;
}

}  // namespace strata::segment
