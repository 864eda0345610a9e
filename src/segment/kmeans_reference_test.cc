#include "strata/segment/kmeans_reference.h"

#include <gtest/gtest.h>

#include <set>

#include "test_util.h"

namespace strata::segment {
namespace {

TEST(KMeansReferenceTest, AdjustedRandIndexKnownValues) {
  EXPECT_DOUBLE_EQ(AdjustedRandIndex({0, 0, 1, 1}, {0, 0, 1, 1}), 1.0);
  EXPECT_DOUBLE_EQ(AdjustedRandIndex({0, 0, 1, 1}, {1, 1, 0, 0}), 1.0);  // label permutation
  // scikit-learn's documented example: adjusted_rand_score([0,0,1,1], [0,0,1,2]) = 0.5714...
  EXPECT_NEAR(AdjustedRandIndex({0, 0, 1, 1}, {0, 0, 1, 2}), 0.571428571, 1e-8);
  // ...and adjusted_rand_score([0,0,1,1], [0,1,0,1]) = -0.5.
  EXPECT_NEAR(AdjustedRandIndex({0, 0, 1, 1}, {0, 1, 0, 1}), -0.5, 1e-12);
}

TEST(KMeansReferenceTest, LloydRecoversSeparatedBlobs) {
  auto blobs = testing::MakeBlobs(5, 2000, 16, 5.0f, 0.5f, 11);
  auto r = LloydKMeans(blobs.points, 5, {.restarts = 3, .seed = 2});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_DOUBLE_EQ(AdjustedRandIndex(r->labels, blobs.labels), 1.0);
  EXPECT_LE(r->ssq, Ssq(blobs.points, blobs.centres) * 1.0001);
  EXPECT_NEAR(r->ssq, Ssq(blobs.points, r->centroids), 1e-3 * r->ssq);
}

TEST(KMeansReferenceTest, SeedsAreDistinctAndInputIsChecked) {
  auto blobs = testing::MakeBlobs(4, 500, 8, 5.0f, 0.5f, 3);
  Rng rng(1);
  auto seeds = KMeansPlusPlusSeeds(blobs.points, 10, rng);
  EXPECT_EQ(std::set<int>(seeds.begin(), seeds.end()).size(), 10u);
  EXPECT_EQ(LloydKMeans(blobs.points, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LloydKMeans(blobs.points, 501).status().code(), StatusCode::kInvalidArgument);
  Matrix bad = blobs.points;
  bad(3, 3) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(LloydKMeans(bad, 3).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace strata::segment
