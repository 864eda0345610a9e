#include "strata/segment/stream_kmeans.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <tuple>

namespace strata::segment {
namespace {

Status Positive(const char* name, double v) {
  if (!(v > 0) || !std::isfinite(v)) {
    return InvalidArgumentError(std::string(name) + ": must be > 0, got " + std::to_string(v));
  }
  return Status::Ok();
}

}  // namespace

std::string_view ModelChangeKindName(ModelChangeKind kind) {
  switch (kind) {
    case ModelChangeKind::kSeeded:
      return "seeded";
    case ModelChangeKind::kReseeded:
      return "reseeded";
    case ModelChangeKind::kSplit:
      return "split";
    case ModelChangeKind::kMerged:
      return "merged";
    case ModelChangeKind::kDied:
      return "died";
    case ModelChangeKind::kInstalled:
      return "installed";
  }
  return "unknown";
}

Result<StreamKMeans> StreamKMeans::Create(const Config& c) {
  if (c.dim < 1) return InvalidArgumentError("dim: must be >= 1");
  if (c.k_min < 1) return InvalidArgumentError("k_min: must be >= 1");
  if (c.k_max < c.k_min) return InvalidArgumentError("k_max: must be >= k_min");
  if (c.k_init < c.k_min || c.k_init > c.k_max) {
    return InvalidArgumentError("k_init: must be in [k_min, k_max] = [" + std::to_string(c.k_min) +
                                ", " + std::to_string(c.k_max) + "], got " +
                                std::to_string(c.k_init));
  }
  if (!(c.half_life_points >= 0) || std::isinf(c.half_life_points)) {
    return InvalidArgumentError("half_life_points: must be finite and >= 0 (0 = no forgetting)");
  }
  if (c.reservoir_size < c.k_max) return InvalidArgumentError("reservoir_size: must be >= k_max");
  if (c.reservoir_window < c.reservoir_size) {
    return InvalidArgumentError("reservoir_window: must be >= reservoir_size");
  }
  if (c.warmup_points < c.k_init || c.warmup_points > c.reservoir_size) {
    return InvalidArgumentError("warmup_points: must be in [k_init, reservoir_size]");
  }
  if (c.seed_lloyd_iterations < 1) return InvalidArgumentError("seed_lloyd_iterations: < 1");
  if (c.seed_restarts < 1) return InvalidArgumentError("seed_restarts: < 1");
  if (c.lifecycle_every_points < 1) return InvalidArgumentError("lifecycle_every_points: < 1");
  if (!(c.death_weight_fraction >= 0 && c.death_weight_fraction < 1)) {
    return InvalidArgumentError("death_weight_fraction: must be in [0, 1)");
  }
  STRATA_RETURN_IF_ERROR(Positive("merge_distance", c.merge_distance));
  if (!(c.split_gain > 0 && c.split_gain <= 1)) {
    return InvalidArgumentError("split_gain: must be in (0, 1]");
  }
  if (!(c.split_bimodality > 0 && c.split_bimodality <= 1)) {
    return InvalidArgumentError("split_bimodality: must be in (0, 1]");
  }
  if (!(c.refit_improvement >= 0) || std::isinf(c.refit_improvement)) {
    return InvalidArgumentError("refit_improvement: must be finite and >= 0 (>= 1 disables)");
  }
  if (!(c.split_min_share >= 0 && c.split_min_share < 1)) {
    return InvalidArgumentError("split_min_share: must be in [0, 1)");
  }
  if (c.split_min_points < 4) return InvalidArgumentError("split_min_points: must be >= 4");
  if (!(c.ph_delta >= 0)) return InvalidArgumentError("ph_delta: must be >= 0");
  STRATA_RETURN_IF_ERROR(Positive("ph_lambda", c.ph_lambda));
  if (c.ph_min_batches < 1) return InvalidArgumentError("ph_min_batches: must be >= 1");
  STRATA_RETURN_IF_ERROR(Positive("match_distance", c.match_distance));
  return StreamKMeans(c);
}

StreamKMeans::StreamKMeans(const Config& config)
    : config_(config),
      rng_(config.seed),
      decay_per_point_(config.half_life_points > 0 ? std::exp2(-1.0 / config.half_life_points)
                                                   : 1.0),
      mean_(Eigen::RowVectorXd::Zero(config.dim)),
      m2_(Eigen::RowVectorXd::Zero(config.dim)),
      centroids_(0, config.dim) {
  reservoir_.resize(static_cast<size_t>(config.reservoir_size) * config.dim);
}

Eigen::RowVectorXf StreamKMeans::Mean() const { return mean_.cast<float>(); }

Eigen::RowVectorXf StreamKMeans::Scale() const {
  Eigen::RowVectorXf s(config_.dim);
  for (int f = 0; f < config_.dim; ++f) {
    const double var = stat_weight_ > 1 ? m2_[f] / stat_weight_ : 0.0;
    s[f] = static_cast<float>(std::max(1e-3, std::sqrt(var)));
  }
  return s;
}

Matrix StreamKMeans::ReservoirMatrix() const {
  return Eigen::Map<const Matrix>(reservoir_.data(), reservoir_rows_, config_.dim);
}

void StreamKMeans::Observe(const Matrix& batch) {
  const int d = config_.dim;
  for (Eigen::Index i = 0; i < batch.rows(); ++i) {
    ++n_;
    // Welford with exponential forgetting (West 1979): old points weigh a^age.
    const Eigen::RowVectorXd x = batch.row(i).cast<double>();
    stat_weight_ = decay_per_point_ * stat_weight_ + 1.0;
    m2_ *= decay_per_point_;
    const Eigen::RowVectorXd delta = x - mean_;
    mean_ += delta / stat_weight_;
    m2_ += delta.cwiseProduct(x - mean_);
    int slot = -1;
    if (reservoir_rows_ < config_.reservoir_size) {
      slot = reservoir_rows_++;
    } else {
      const int64_t horizon = std::min<int64_t>(n_, config_.reservoir_window);
      const int64_t r = rng_.UniformInt(0, horizon - 1);
      if (r < config_.reservoir_size) slot = static_cast<int>(r);
    }
    if (slot >= 0) {
      std::copy(batch.row(i).data(), batch.row(i).data() + d,
                reservoir_.begin() + static_cast<size_t>(slot) * d);
    }
  }
}

void StreamKMeans::Record(ModelChangeKind kind, std::vector<uint32_t> ids) {
  changes_.push_back({kind, static_cast<uint64_t>(n_), std::move(ids)});
  ++version_;
}

std::vector<ModelChange> StreamKMeans::TakeChanges() {
  std::vector<ModelChange> out;
  out.swap(changes_);
  return out;
}

bool StreamKMeans::Seed(int k, bool reseed, double min_improvement) {
  const Eigen::RowVectorXf mean = Mean(), scale = Scale();
  const Matrix z = (ReservoirMatrix().rowwise() - mean).array().rowwise() / scale.array();
  k = std::clamp(std::min(k, static_cast<int>(z.rows())), config_.k_min, config_.k_max);
  KMeansResult best;
  best.ssq = std::numeric_limits<double>::infinity();
  double current_ssq = std::numeric_limits<double>::infinity();
  if (reseed && this->k() == k) {
    // Candidate 0: Lloyd on the reservoir starting from the live centroids.
    const Matrix cz = (centroids_.rowwise() - mean).array().rowwise() / scale.array();
    current_ssq = Ssq(z, cz);
    best = LloydRefine(z, cz, config_.seed_lloyd_iterations, 1e-6);
  }
  // A refit of a live model tries two fresh k-means++ seedings next to the warm start.
  const int restarts = std::isfinite(current_ssq) ? 2 : config_.seed_restarts;
  for (int r = 0; r < restarts; ++r) {
    const std::vector<int> seeds = KMeansPlusPlusSeeds(z, k, rng_);
    Matrix c(static_cast<Eigen::Index>(seeds.size()), z.cols());
    for (size_t j = 0; j < seeds.size(); ++j) c.row(j) = z.row(seeds[j]);
    KMeansResult res = LloydRefine(z, std::move(c), config_.seed_lloyd_iterations, 1e-6);
    if (res.ssq < best.ssq) best = std::move(res);
  }
  if (reseed && std::isfinite(current_ssq) && best.ssq > (1.0 - min_improvement) * current_ssq) {
    return false;  // the live model is as good as a batch refit on the recent sample
  }
  const int new_k = static_cast<int>(best.centroids.rows());
  Matrix fresh = (best.centroids.array().rowwise() * scale.array()).matrix().rowwise() + mean;
  std::vector<double> counts(new_k, 0.0);
  for (int l : best.labels) counts[l] += 1;
  const double old_total = std::accumulate(weights_.begin(), weights_.end(), 0.0);
  const double factor = reseed && old_total > 0 ? old_total / static_cast<double>(z.rows()) : 1.0;
  std::vector<uint32_t> ids(new_k, 0);
  if (reseed) {
    // Greedy old -> new matching by standardised distance.
    const Matrix oz = (centroids_.rowwise() - mean).array().rowwise() / scale.array();
    const Matrix d2 = SquaredDistances(best.centroids, oz);
    std::vector<std::tuple<float, int, int>> pairs;
    for (int a = 0; a < new_k; ++a) {
      for (int b = 0; b < oz.rows(); ++b) pairs.emplace_back(d2(a, b), a, b);
    }
    std::sort(pairs.begin(), pairs.end());
    std::vector<bool> old_used(oz.rows(), false);
    const float limit = static_cast<float>(config_.match_distance * config_.match_distance);
    for (const auto& [dist, a, b] : pairs) {
      if (dist > limit) break;
      if (ids[a] != 0 || old_used[b]) continue;
      ids[a] = ids_[b];
      old_used[b] = true;
    }
  }
  for (uint32_t& id : ids) {
    if (id == 0) id = next_id_++;
  }
  centroids_ = std::move(fresh);
  ids_ = std::move(ids);
  weights_.assign(new_k, 0.0);
  for (int j = 0; j < new_k; ++j) weights_[j] = counts[j] * factor;
  if (reseed) ++stats_.reseeds;
  Record(reseed ? ModelChangeKind::kReseeded : ModelChangeKind::kSeeded, ids_);
  ph_n_ = 0;
  ph_mean_ = ph_sum_ = ph_min_ = 0;
  return true;
}

void StreamKMeans::Step(const Matrix& batch) {
  const Eigen::RowVectorXf mean = Mean(), scale = Scale();
  const Matrix z = (batch.rowwise() - mean).array().rowwise() / scale.array();
  const Matrix cz = (centroids_.rowwise() - mean).array().rowwise() / scale.array();
  const Matrix d2 = SquaredDistances(z, cz);
  const int k = this->k();
  Matrix sums = Matrix::Zero(k, config_.dim);
  std::vector<double> counts(k, 0.0);
  double dist_sum = 0;
  for (Eigen::Index i = 0; i < batch.rows(); ++i) {
    Eigen::Index j;
    const float best = d2.row(i).minCoeff(&j);
    sums.row(j) += batch.row(i);
    counts[j] += 1;
    dist_sum += std::sqrt(std::max(0.0f, best) / static_cast<float>(config_.dim));
  }
  const double discount = std::pow(decay_per_point_, static_cast<double>(batch.rows()));
  for (int j = 0; j < k; ++j) {
    weights_[j] *= discount;
    if (counts[j] == 0) continue;
    const double updated = weights_[j] + counts[j];
    const float lambda = static_cast<float>(counts[j] / updated);
    centroids_.row(j) += lambda * (sums.row(j) / static_cast<float>(counts[j]) - centroids_.row(j));
    weights_[j] = updated;
  }
  ++stats_.batches;
  if (!config_.drift_detection) return;
  // Page–Hinkley (increase detector) on the batch mean distance.
  const double x = dist_sum / static_cast<double>(batch.rows());
  ++ph_n_;
  ph_mean_ += (x - ph_mean_) / static_cast<double>(ph_n_);
  ph_sum_ += x - ph_mean_ - config_.ph_delta;
  ph_min_ = std::min(ph_min_, ph_sum_);
  if (ph_n_ >= config_.ph_min_batches && ph_sum_ - ph_min_ > config_.ph_lambda) {
    ++stats_.drift_alarms;
    Seed(k, /*reseed=*/true, /*min_improvement=*/-1.0);
  }
}

Status StreamKMeans::Update(const Matrix& batch) {
  if (batch.cols() != config_.dim) {
    return InvalidArgumentError("batch: " + std::to_string(batch.cols()) + " columns, expected " +
                                std::to_string(config_.dim));
  }
  if (!batch.allFinite()) return InvalidArgumentError("batch: non-finite value");
  if (batch.rows() == 0) return Status::Ok();
  Observe(batch);
  stats_.points += batch.rows();
  if (!seeded()) {
    if (n_ >= config_.warmup_points) {
      Seed(config_.k_init, /*reseed=*/false, 0.0);
      next_lifecycle_ = static_cast<uint64_t>(n_) + config_.lifecycle_every_points;
    }
    return Status::Ok();
  }
  Step(batch);
  if (config_.lifecycle && static_cast<uint64_t>(n_) >= next_lifecycle_) {
    Lifecycle();
    next_lifecycle_ = static_cast<uint64_t>(n_) + config_.lifecycle_every_points;
  }
  return Status::Ok();
}

Status StreamKMeans::Install(const SegmentModel& m) {
  STRATA_RETURN_IF_ERROR(m.Validate().WithContext("model"));
  if (m.dim() != config_.dim) {
    return InvalidArgumentError("model: dim " + std::to_string(m.dim()) + ", expected " +
                                std::to_string(config_.dim));
  }
  if (m.k() < config_.k_min || m.k() > config_.k_max) {
    return InvalidArgumentError("model: k " + std::to_string(m.k()) + " outside [k_min, k_max]");
  }
  centroids_ = m.centroids;
  ids_ = m.ids;
  weights_.assign(m.k(), 1.0);
  for (int j = 0; j < m.k() && j < static_cast<int>(m.weights.size()); ++j) {
    weights_[j] = m.weights[j];
  }
  for (uint32_t id : ids_) next_id_ = std::max(next_id_, id + 1);
  stat_weight_ = std::max(stat_weight_, 2.0);
  mean_ = m.mean.cast<double>();
  m2_ = m.scale.cast<double>().array().square() * stat_weight_;
  next_lifecycle_ = static_cast<uint64_t>(n_) + config_.lifecycle_every_points;
  ph_n_ = 0;
  ph_mean_ = ph_sum_ = ph_min_ = 0;
  Record(ModelChangeKind::kInstalled, ids_);
  return Status::Ok();
}

SegmentModel StreamKMeans::Model() const {
  SegmentModel m;
  m.version = version_;
  m.ids = ids_;
  m.weights.assign(weights_.begin(), weights_.end());
  m.centroids = centroids_;
  m.mean = Mean();
  m.scale = Scale();
  return m;
}

}  // namespace strata::segment
