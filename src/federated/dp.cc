#include "strata/federated/dp.h"

#include <cmath>

namespace strata::federated {

bool ClipL2(std::span<double> x, double bound) {
  double sq = 0;
  for (double v : x) sq += v * v;
  double norm = std::sqrt(sq);
  if (norm <= bound) return false;
  double s = bound / norm;
  for (double& v : x) v *= s;
  return true;
}

size_t ClipRows(std::span<double> points, int d, double bound) {
  size_t clipped = 0;
  for (size_t i = 0; i + d <= points.size(); i += d) clipped += ClipL2(points.subspan(i, d), bound);
  return clipped;
}

double ZcdpToEpsilon(double rho, double delta) {
  return rho + 2.0 * std::sqrt(rho * std::log(1.0 / delta));
}

double EpsilonToZcdp(double epsilon, double delta) {
  double l = std::log(1.0 / delta);
  double r = std::sqrt(l + epsilon) - std::sqrt(l);
  return r * r;
}

double GaussianSigmaForZcdp(double sensitivity, double rho) {
  return sensitivity / std::sqrt(2.0 * rho);
}

double ClassicGaussianSigma(double sensitivity, double epsilon, double delta) {
  return sensitivity * std::sqrt(2.0 * std::log(1.25 / delta)) / epsilon;
}

Result<GaussianMechanism> GaussianMechanism::Create(const GaussianMechanismConfig& c, int d) {
  if (!(c.clip_norm > 0)) return InvalidArgumentError("dp.clip_norm must be > 0");
  if (!(c.epsilon > 0)) return InvalidArgumentError("dp.epsilon must be > 0");
  if (!(c.delta > 0 && c.delta < 1)) return InvalidArgumentError("dp.delta must be in (0, 1)");
  if (!(c.count_fraction >= 0 && c.count_fraction < 1)) {
    return InvalidArgumentError("dp.count_fraction must be in [0, 1)");
  }
  if (d < 1) return InvalidArgumentError("dp: d must be >= 1");
  if (c.rounds < 1) return InvalidArgumentError("dp.rounds must be >= 1");
  GaussianMechanism m;
  m.d_ = d;
  m.rho_ = EpsilonToZcdp(c.epsilon, c.delta) / c.rounds;
  double f =
      c.count_fraction > 0 ? c.count_fraction : 1.0 / (1.0 + std::sqrt(static_cast<double>(d)));
  m.sigma_count_ = GaussianSigmaForZcdp(1.0, f * m.rho_);
  m.sigma_sum_ = GaussianSigmaForZcdp(c.clip_norm, (1.0 - f) * m.rho_);
  return m;
}

double GaussianMechanism::DistributedSigmaSum(int n_min) const {
  return sigma_sum_ / std::sqrt(static_cast<double>(std::max(1, n_min)));
}

double GaussianMechanism::DistributedSigmaCount(int n_min) const {
  return sigma_count_ / std::sqrt(static_cast<double>(std::max(1, n_min)));
}

Status GaussianMechanism::Noise(SufficientStats& s, Rng& rng, double s_sum, double s_count) const {
  if (s.has_second_moments()) {
    return InvalidArgumentError(
        "dp: second moments are not covered by the mechanism; disable them");
  }
  if (s.d != d_)
    return InvalidArgumentError("dp: stats d=" + std::to_string(s.d) +
                                ", mechanism d=" + std::to_string(d_));
  for (double& v : s.sums) v += rng.Normal(0.0, s_sum);
  for (double& v : s.counts) v += rng.Normal(0.0, s_count);
  return Status::Ok();
}

Status GaussianMechanism::Apply(SufficientStats& stats, Rng& rng) const {
  return Noise(stats, rng, sigma_sum_, sigma_count_);
}

Status GaussianMechanism::ApplyShare(SufficientStats& stats, Rng& rng, int n_min) const {
  return Noise(stats, rng, DistributedSigmaSum(n_min), DistributedSigmaCount(n_min));
}

Status ZcdpAccountant::CanSpend(double rho) const {
  if (!(rho >= 0)) return InvalidArgumentError("dp accountant: rho must be >= 0");
  double eps = ZcdpToEpsilon(total_rho_ + rho, config_.delta);
  if (eps > config_.epsilon_budget) {
    return ResourceExhaustedError("privacy budget exhausted: spending rho=" + std::to_string(rho) +
                                  " would bring epsilon to " + std::to_string(eps) + " > budget " +
                                  std::to_string(config_.epsilon_budget) +
                                  " at delta=" + std::to_string(config_.delta));
  }
  return Status::Ok();
}

Status ZcdpAccountant::Spend(double rho) {
  Status s = CanSpend(rho);
  if (!s.ok() && (s.code() != StatusCode::kResourceExhausted ||
                  config_.action == BudgetConfig::Action::kStop)) {
    return s;
  }
  rho_.push_back(rho);
  total_rho_ += rho;
  return Status::Ok();
}

}  // namespace strata::federated
