#include "strata/federated/hungarian.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "strata/core/rng.h"

namespace strata::federated {
namespace {

double Cost(const std::vector<double>& c, int cols, const std::vector<int>& a) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] >= 0) s += c[i * cols + a[i]];
  }
  return s;
}

// Brute force over all injective maps from min(rows, cols) of the rows to columns.
double BruteForce(const std::vector<double>& c, int rows, int cols) {
  double best = 1e300;
  if (rows <= cols) {
    std::vector<int> perm(cols);
    std::iota(perm.begin(), perm.end(), 0);
    do {
      double s = 0;
      for (int i = 0; i < rows; ++i) s += c[i * cols + perm[i]];
      best = std::min(best, s);
    } while (std::next_permutation(perm.begin(), perm.end()));
  } else {
    std::vector<int> perm(rows);
    std::iota(perm.begin(), perm.end(), 0);
    do {  // column j gets row perm[j]
      double s = 0;
      for (int j = 0; j < cols; ++j) s += c[perm[j] * cols + j];
      best = std::min(best, s);
    } while (std::next_permutation(perm.begin(), perm.end()));
  }
  return best;
}

TEST(FedHungarianTest, MatchesBruteForceOnRandomSmallMatrices) {
  Rng rng(17);
  for (int trial = 0; trial < 300; ++trial) {
    int rows = static_cast<int>(rng.UniformInt(1, 6)),
        cols = static_cast<int>(rng.UniformInt(1, 6));
    std::vector<double> c(rows * cols);
    for (double& v : c)
      v = trial % 3 == 0 ? static_cast<double>(rng.UniformInt(0, 3)) : rng.Uniform(0, 10);
    std::vector<int> a = SolveAssignment(c, rows, cols);
    ASSERT_EQ(a.size(), static_cast<size_t>(rows));
    std::vector<int> used;
    for (int x : a)
      if (x >= 0) used.push_back(x);
    EXPECT_EQ(static_cast<int>(used.size()), std::min(rows, cols));
    std::sort(used.begin(), used.end());
    EXPECT_EQ(std::adjacent_find(used.begin(), used.end()), used.end()) << "column used twice";
    EXPECT_NEAR(Cost(c, cols, a), BruteForce(c, rows, cols), 1e-9) << rows << "x" << cols;
  }
}

TEST(FedHungarianTest, AlignsPermutedCentroidsAndProposesNewSegments) {
  // Global: 3 segments on a line. Local: a permutation of two of them plus a far new segment.
  std::vector<double> global = {0, 0, 10, 0, 20, 0};
  std::vector<double> local = {20.3, 0, 50, 50, 0.2, 0.1};
  Alignment a = AlignSegments(local, 3, global, 3, 2, /*max_distance=*/2.0);
  EXPECT_EQ(a.local_to_global, (std::vector<int>{2, -1, 0}));
  EXPECT_EQ(a.unmatched, std::vector<int>{1});

  SufficientStats s = SufficientStats::Zero(3, 2, false);
  std::vector<double> p0 = {20.3, 0}, p1 = {50, 50}, p2 = {0.2, 0.1};
  s.Add(0, p0, 2);
  s.Add(1, p1, 4);
  s.Add(2, p2, 1);
  RemappedStats r = RemapToGlobal(s, a, 3).value();
  EXPECT_EQ(r.stats.counts, (std::vector<double>{1, 0, 2}));
  EXPECT_DOUBLE_EQ(r.stats.sums[4], 40.6);
  ASSERT_EQ(r.proposals.size(), 1u);
  EXPECT_EQ(r.proposals[0].centroid, (std::vector<double>{50, 50}));
  EXPECT_EQ(r.proposals[0].weight, 4.0);
}

TEST(FedHungarianTest, MoreLocalThanGlobalSegmentsLeavesExtrasUnmatched) {
  std::vector<double> global = {0.0, 10.0};
  std::vector<double> local = {9.5, 0.4, 5.0};
  Alignment a = AlignSegments(local, 3, global, 2, 1, 100.0);
  EXPECT_EQ(a.local_to_global, (std::vector<int>{1, 0, -1}));
  Alignment wrong;
  wrong.local_to_global = {0};
  EXPECT_EQ(RemapToGlobal(SufficientStats::Zero(3, 1, false), wrong, 2).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(FedHungarianTest, ProposalsFromSeveralNodesBecomeNewGlobalSegments) {
  GlobalModel g{3, 1, 2, {0, 0}, {100}};
  std::vector<SegmentProposal> props = {
      {{50, 50}, 20}, {{50.4, 49.8}, 30}, {{-40, 0}, 500}, {{90, 90}, 5}, {{90.2, 90}, 4}};
  GlobalModel out =
      AddProposedSegments(g, props, {.merge_distance = 1.0, .min_weight = 10, .min_proposals = 2})
          .value();
  // {-40,0} is heavy but from one node; {90,90} has two proposals but weight 9 < 10.
  ASSERT_EQ(out.k, 2);
  EXPECT_EQ(out.version, 4u);
  EXPECT_NEAR(out.centroids[2], (20 * 50 + 30 * 50.4) / 50, 1e-12);
  EXPECT_NEAR(out.centroids[3], (20 * 50 + 30 * 49.8) / 50, 1e-12);
  EXPECT_EQ(out.weights[1], 50.0);
  GlobalModel same = AddProposedSegments(g, {}, {}).value();
  EXPECT_EQ(same.version, 3u);
  std::vector<SegmentProposal> bad = {{{1, 2, 3}, 5}};
  EXPECT_EQ(AddProposedSegments(g, bad, {}).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace strata::federated
