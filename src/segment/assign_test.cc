#include "strata/segment/assign.h"

#include <gtest/gtest.h>

#include <cmath>

#include "strata/segment/profile.h"
#include "test_util.h"

namespace strata::segment {
namespace {

SegmentModel RandomModel(int k, int d, uint64_t seed) {
  Rng rng(seed);
  SegmentModel m;
  m.centroids.resize(k, d);
  for (int j = 0; j < k; ++j) {
    for (int f = 0; f < d; ++f) m.centroids(j, f) = static_cast<float>(rng.Normal(1.0, 3.0));
    m.ids.push_back(100 + j);
    m.weights.push_back(1);
  }
  m.mean = Eigen::RowVectorXf::Constant(d, 1.0f);
  m.scale.resize(d);
  for (int f = 0; f < d; ++f) m.scale[f] = static_cast<float>(rng.Uniform(0.5, 4.0));
  return m;
}

TEST(AssignTest, MatchesBruteForceAndBatch) {
  const SegmentModel m = RandomModel(64, 16, 3);
  auto a = Assigner::Create(m);
  ASSERT_TRUE(a.ok()) << a.status();
  auto pts = testing::MakeBlobs(64, 2000, 16, 6.0f, 2.0f, 4).points;
  std::vector<Assignment> batch;
  ASSERT_TRUE(a->AssignBatch(pts, &batch).ok());
  const Matrix d2 = SquaredDistances(m.Standardize(pts), m.StandardizedCentroids());
  for (int i = 0; i < pts.rows(); ++i) {
    Eigen::Index best;
    const float dmin = d2.row(i).minCoeff(&best);
    const Assignment one = a->Assign(pts.row(i).data());
    EXPECT_EQ(one.index, best);
    EXPECT_EQ(one.segment_id, 100u + best);
    EXPECT_NEAR(one.distance, std::sqrt(dmin), 1e-3 * (1 + std::sqrt(dmin)));
    EXPECT_GE(one.second_distance, one.distance);
    EXPECT_GE(one.confidence, 0.0f);
    EXPECT_LE(one.confidence, 1.0f);
    EXPECT_EQ(batch[i].index, one.index);
    EXPECT_NEAR(batch[i].confidence, one.confidence, 1e-4);
  }
  EXPECT_EQ(a->AssignBatch(Matrix::Zero(2, 15), &batch).code(), StatusCode::kInvalidArgument);
}

TEST(AssignTest, RejectsInvalidModels) {
  SegmentModel m = RandomModel(4, 16, 1);
  m.scale[2] = 0;
  EXPECT_EQ(Assigner::Create(m).status().code(), StatusCode::kInvalidArgument);
  m = RandomModel(4, 16, 1);
  m.ids[1] = m.ids[0];
  EXPECT_NE(Assigner::Create(m).status().message().find("duplicate"), std::string::npos);
  m = RandomModel(4, 16, 1);
  m.ids.pop_back();
  EXPECT_EQ(Assigner::Create(m).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Assigner::Create(RandomModel(4, 16, 1), {.explain_top = 0}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(AssignTest, LabelsFromCentroidZScores) {
  float z[kNumFeatures] = {};
  EXPECT_EQ(LabelFromZ(z, kNumFeatures), "mainstream");
  z[kReturnRate] = 2.0f;
  z[kAvgBasket] = -0.8f;
  EXPECT_EQ(LabelFromZ(z, kNumFeatures), "bargain returners");
  std::fill(z, z + kNumFeatures, 0.0f);
  z[kMonetary] = 1.5f;
  z[kFrequency] = 1.2f;
  EXPECT_EQ(LabelFromZ(z, kNumFeatures), "high-value frequent");
  std::fill(z, z + kNumFeatures, 0.0f);
  z[kRecencyDays] = 1.5f;
  z[kAvgBasket] = 1.2f;
  EXPECT_EQ(LabelFromZ(z, kNumFeatures), "lapsing big spenders");
  EXPECT_EQ(LabelFromZ(z, 8), "segment");
}

TEST(AssignTest, ExplanationNamesTheMostSeparatingFeaturesInOriginalUnits) {
  SegmentModel m;
  m.centroids = Matrix::Zero(2, kNumFeatures);
  m.mean = Eigen::RowVectorXf::Zero(kNumFeatures);
  m.scale = Eigen::RowVectorXf::Ones(kNumFeatures);
  m.ids = {7, 9};
  m.centroids(0, kMonetary) = std::log1p(500.0f);  // z = 6.2
  m.centroids(0, kReturnRate) = -2.0f;             // z = -2
  m.centroids(0, kWeekendShare) = 1.0f;            // z = 1
  m.centroids(1, kReturnRate) = 3.0f;
  m.centroids(1, kAvgBasket) = -1.0f;
  auto a = Assigner::Create(m, {.explain_top = 2});
  ASSERT_TRUE(a.ok());
  const auto& ex = a->Explain(0);
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].name, "monetary");
  EXPECT_NEAR(ex[0].segment_value, 500.0, 1e-2);
  EXPECT_NEAR(ex[0].population_value, 0.0, 1e-6);
  EXPECT_EQ(ex[1].name, "return_rate");
  EXPECT_NEAR(ex[1].z, -2.0f, 1e-6);
  EXPECT_EQ(a->Label(1), "bargain returners");
  EXPECT_EQ(a->IndexOf(9), 1);
  EXPECT_FALSE(a->IndexOf(8).has_value());
}

TEST(AssignTest, DuplicateLabelsAreNumbered) {
  SegmentModel m;
  m.centroids = Matrix::Zero(2, kNumFeatures);
  m.mean = Eigen::RowVectorXf::Zero(kNumFeatures);
  m.scale = Eigen::RowVectorXf::Ones(kNumFeatures);
  m.ids = {1, 2};
  auto a = Assigner::Create(m);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->Label(0), "mainstream");
  EXPECT_EQ(a->Label(1), "mainstream 2");
}

}  // namespace
}  // namespace strata::segment
