// Differential privacy for federated sums: clipping, the Gaussian mechanism and a zCDP accountant.
//
// Unit of privacy: one customer, contributing at most one clipped point (‖x‖₂ ≤ B, weight 1) per
// round. Under add/remove-one neighbouring the per-segment sums have L2 sensitivity Δ_S = B and
// the counts Δ_N = 1. GaussianMechanism adds N(0, σ_S²) to every sum coordinate and N(0, σ_N²) to
// every count (central DP at the aggregator, or distributed: each of n_min nodes adds variance
// σ²/n_min before secure aggregation). One round costs ρ_r = B²/(2σ_S²) + 1/(2σ_N²) (zCDP, Bun &
// Steinke 2016); ρ composes additively and ε(δ) = ρ + 2√(ρ ln(1/δ)). Calibration from a run budget
// (ε, δ) over T rounds: ρ_r = (√(ln(1/δ) + ε) − √(ln(1/δ)))² / T, split between counts and sums
// with the count fraction f (default 1/(1+√d), the centroid-MSE-optimal split for R = B): σ_N =
// 1/√(2fρ_r), σ_S = B/√(2(1−f)ρ_r). Second moments are not covered: Apply rejects stats that carry
// them. ZcdpAccountant records ρ per round, reports ε per round and in total, and enforces a budget
// (kStop: refuse the spend with ResourceExhausted; kWarn: record it and flag over_budget()).
// Thread-safety: GaussianMechanism is immutable (the Rng is caller-owned); ZcdpAccountant is not
// thread-safe.
//
//   auto mech = GaussianMechanism::Create({.clip_norm = 3, .epsilon = 1, .delta = 1e-6},
//   d).value(); ZcdpAccountant acct({.epsilon_budget = 5, .delta = 1e-6});
//   STRATA_RETURN_IF_ERROR(acct.Spend(mech.rho_per_round()));
//   STRATA_RETURN_IF_ERROR(mech.Apply(sum, rng));
#pragma once

#include <span>
#include <vector>

#include "strata/core/rng.h"
#include "strata/core/status.h"
#include "strata/federated/update.h"

namespace strata::federated {

// Scales x so that ‖x‖₂ ≤ bound; returns true when it had to clip.
bool ClipL2(std::span<double> x, double bound);
// Clips every row of a row-major n×d matrix; returns the number of clipped rows.
size_t ClipRows(std::span<double> points, int d, double bound);

double ZcdpToEpsilon(double rho, double delta);
double EpsilonToZcdp(double epsilon, double delta);
// σ giving ρ-zCDP for L2 sensitivity Δ: Δ/√(2ρ).
double GaussianSigmaForZcdp(double sensitivity, double rho);
// Classic (ε, δ) calibration (Dwork & Roth, ε < 1): Δ·√(2 ln(1.25/δ))/ε.
double ClassicGaussianSigma(double sensitivity, double epsilon, double delta);

struct GaussianMechanismConfig {
  double clip_norm = 1.0;  // B
  double epsilon = 1.0;    // ε at `delta` for the whole run of `rounds` rounds
  double delta = 1e-6;
  int rounds = 1;               // the run's ρ is split evenly: ρ_r = ρ(ε, δ) / rounds
  double count_fraction = 0.0;  // share of ρ_r spent on counts; 0 = auto 1/(1+√d)
};

class GaussianMechanism {
 public:
  // InvalidArgument on non-positive B/ε/rounds, δ ∉ (0,1), fraction ∉ [0,1), d < 1.
  static Result<GaussianMechanism> Create(const GaussianMechanismConfig& config, int d);

  double sigma_sum() const { return sigma_sum_; }
  double sigma_count() const { return sigma_count_; }
  double rho_per_round() const { return rho_; }
  // σ each of n_min nodes adds under distributed noise so the sum has the central σ.
  double DistributedSigmaSum(int n_min) const;
  double DistributedSigmaCount(int n_min) const;

  // Adds central noise to sums and counts. InvalidArgument when stats carry second moments or d
  // does not match.
  Status Apply(SufficientStats& stats, Rng& rng) const;
  // Adds this node's distributed noise share (σ/√n_min) instead.
  Status ApplyShare(SufficientStats& stats, Rng& rng, int n_min) const;

 private:
  Status Noise(SufficientStats& stats, Rng& rng, double s_sum, double s_count) const;
  int d_ = 0;
  double rho_ = 0, sigma_sum_ = 0, sigma_count_ = 0;
};

struct BudgetConfig {
  enum class Action { kStop, kWarn };
  double epsilon_budget = 10.0;
  double delta = 1e-6;
  Action action = Action::kStop;
};

class ZcdpAccountant {
 public:
  explicit ZcdpAccountant(const BudgetConfig& config) : config_(config) {}

  // Records a round costing ρ. kStop: ResourceExhausted (nothing recorded) when the total ε would
  // exceed the budget. kWarn: records it and returns OK; over_budget() becomes true.
  Status Spend(double rho);
  // What Spend would return under kStop, without recording.
  Status CanSpend(double rho) const;

  size_t rounds() const { return rho_.size(); }
  double total_rho() const { return total_rho_; }
  double EpsilonForRound(size_t i) const { return ZcdpToEpsilon(rho_.at(i), config_.delta); }
  double TotalEpsilon() const { return ZcdpToEpsilon(total_rho_, config_.delta); }
  bool over_budget() const { return TotalEpsilon() > config_.epsilon_budget; }
  // Per-round ρ values, in spend order (persist these; Restore reproduces the state exactly).
  const std::vector<double>& rho_per_round() const { return rho_; }
  // Replaces the recorded rounds (a restart resuming durable state); sums in the same order as
  // Spend, so TotalEpsilon / over_budget / CanSpend match the pre-restart accountant bit for bit.
  void Restore(const std::vector<double>& rhos) {
    rho_ = rhos;
    total_rho_ = 0;
    for (double r : rho_) total_rho_ += r;
  }

 private:
  BudgetConfig config_;
  std::vector<double> rho_;
  double total_rho_ = 0;
};

}  // namespace strata::federated
