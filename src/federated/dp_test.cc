#include "strata/federated/dp.h"

#include <gtest/gtest.h>

#include <cmath>

namespace strata::federated {
namespace {

double Std(const std::vector<double>& v) {
  double m = 0, s = 0;
  for (double x : v) m += x;
  m /= v.size();
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / (v.size() - 1));
}

TEST(FedDpTest, CalibrationMatchesHandComputedValues) {
  // Research note C8: d = 8, B = √8, ε = 1 over T = 5 rounds, δ = 1e-6 → σ_N ≈ 23.4, σ_S ≈ 39.4.
  auto m = GaussianMechanism::Create(
               {.clip_norm = std::sqrt(8.0), .epsilon = 1.0, .delta = 1e-6, .rounds = 5}, 8)
               .value();
  // ρ = (√(ln 1e6 + 1) − √(ln 1e6))² = (3.8490920 − 3.7169221)² = 0.01746887; ρ_r = ρ/5.
  EXPECT_NEAR(m.rho_per_round(), 0.01746887 / 5, 1e-7);
  EXPECT_NEAR(m.sigma_count(), 23.4, 0.05);
  EXPECT_NEAR(m.sigma_sum(), 39.4, 0.05);
  // The two noise terms together spend exactly ρ_r.
  double rho =
      8.0 / (2 * m.sigma_sum() * m.sigma_sum()) + 1.0 / (2 * m.sigma_count() * m.sigma_count());
  EXPECT_NEAR(rho, m.rho_per_round(), 1e-12);
  EXPECT_NEAR(ClassicGaussianSigma(1.0, 0.5, 1e-5), std::sqrt(2 * std::log(1.25e5)) / 0.5, 1e-12);
}

TEST(FedDpTest, EmpiricalNoiseStdMatchesSigma) {
  const int k = 50, d = 8;
  auto m = GaussianMechanism::Create({.clip_norm = 2.0, .epsilon = 2.0, .delta = 1e-6}, d).value();
  Rng rng(123);
  std::vector<double> sums, counts;
  for (int rep = 0; rep < 200; ++rep) {
    SufficientStats s = SufficientStats::Zero(k, d, false);
    ASSERT_TRUE(m.Apply(s, rng).ok());
    sums.insert(sums.end(), s.sums.begin(), s.sums.end());
    counts.insert(counts.end(), s.counts.begin(), s.counts.end());
  }
  std::printf("sigma_sum=%.4f empirical=%.4f (x%.4f); sigma_count=%.4f empirical=%.4f (x%.4f)\n",
              m.sigma_sum(), Std(sums), Std(sums) / m.sigma_sum(), m.sigma_count(), Std(counts),
              Std(counts) / m.sigma_count());
  EXPECT_NEAR(Std(sums) / m.sigma_sum(), 1.0, 0.02);      // 80k samples: s.e. 0.25%
  EXPECT_NEAR(Std(counts) / m.sigma_count(), 1.0, 0.03);  // 10k samples: s.e. 0.7%
}

TEST(FedDpTest, DistributedSharesAddUpToTheCentralSigma) {
  const int n_min = 10;
  auto m = GaussianMechanism::Create({.clip_norm = 1.0, .epsilon = 1.0, .delta = 1e-6}, 4).value();
  Rng rng(7);
  std::vector<double> total;
  for (int rep = 0; rep < 500; ++rep) {
    SufficientStats sum = SufficientStats::Zero(10, 4, false);
    for (int node = 0; node < n_min; ++node) {
      SufficientStats s = SufficientStats::Zero(10, 4, false);
      ASSERT_TRUE(m.ApplyShare(s, rng, n_min).ok());
      ASSERT_TRUE(sum.Accumulate(s).ok());
    }
    total.insert(total.end(), sum.sums.begin(), sum.sums.end());
  }
  std::printf("distributed: sum of %d shares std=%.4f vs central sigma %.4f\n", n_min, Std(total),
              m.sigma_sum());
  EXPECT_NEAR(Std(total) / m.sigma_sum(), 1.0, 0.03);
}

TEST(FedDpTest, AccountantMatchesHandComputedEpsilon) {
  ZcdpAccountant acct({.epsilon_budget = 100, .delta = 1e-5});
  // σ = 1, Δ = 1 → ρ = 1/2; ε = 0.5 + 2√(0.5 · ln 1e5) = 0.5 + 2 · 2.3992630 = 5.2985260.
  ASSERT_TRUE(acct.Spend(GaussianSigmaForZcdp(1.0, 0.5) == 1.0 ? 0.5 : -1).ok());
  EXPECT_NEAR(acct.EpsilonForRound(0), 5.2985260, 1e-6);
  ASSERT_TRUE(acct.Spend(0.5).ok());
  // ρ = 1 → ε = 1 + 2√(ln 1e5) = 1 + 2 · 3.3930706 = 7.7861413.
  EXPECT_NEAR(acct.TotalEpsilon(), 7.7861413, 1e-6);
  EXPECT_EQ(acct.rounds(), 2u);
  EXPECT_NEAR(EpsilonToZcdp(ZcdpToEpsilon(0.37, 1e-6), 1e-6), 0.37, 1e-12);
}

TEST(FedDpTest, BudgetIsEnforced) {
  ZcdpAccountant stop({.epsilon_budget = 6.0, .delta = 1e-5});
  ASSERT_TRUE(stop.Spend(0.5).ok());  // ε 5.30
  Status s = stop.Spend(0.5);         // would be 7.79
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("budget"), std::string::npos);
  EXPECT_EQ(stop.rounds(), 1u);
  EXPECT_FALSE(stop.over_budget());
  ZcdpAccountant warn(
      {.epsilon_budget = 6.0, .delta = 1e-5, .action = BudgetConfig::Action::kWarn});
  ASSERT_TRUE(warn.Spend(0.5).ok());
  EXPECT_TRUE(warn.Spend(0.5).ok());
  EXPECT_TRUE(warn.over_budget());
  EXPECT_EQ(warn.rounds(), 2u);
}

TEST(FedDpTest, ClippingBoundsNormAndKeepsDirection) {
  std::vector<double> x = {3, 4};
  EXPECT_TRUE(ClipL2(x, 1.0));
  EXPECT_NEAR(x[0], 0.6, 1e-12);
  EXPECT_NEAR(x[1], 0.8, 1e-12);
  std::vector<double> rows = {0.1, 0.1, 10, 0, 0, -5};
  EXPECT_EQ(ClipRows(rows, 2, 1.0), 2u);
  EXPECT_EQ(rows[0], 0.1);
  EXPECT_NEAR(rows[2], 1.0, 1e-12);
  EXPECT_NEAR(rows[5], -1.0, 1e-12);
}

TEST(FedDpTest, RejectsBadConfigAndSecondMoments) {
  EXPECT_FALSE(GaussianMechanism::Create({.epsilon = 0}, 2).ok());
  EXPECT_FALSE(GaussianMechanism::Create({.delta = 1.0}, 2).ok());
  EXPECT_FALSE(GaussianMechanism::Create({.rounds = 0}, 2).ok());
  auto m = GaussianMechanism::Create({}, 2).value();
  Rng rng(1);
  SufficientStats q = SufficientStats::Zero(2, 2, true);
  EXPECT_EQ(m.Apply(q, rng).code(), StatusCode::kInvalidArgument);
  SufficientStats wrong_d = SufficientStats::Zero(2, 3, false);
  EXPECT_EQ(m.Apply(wrong_d, rng).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace strata::federated
