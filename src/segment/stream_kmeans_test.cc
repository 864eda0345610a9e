#include "strata/segment/stream_kmeans.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "test_util.h"

namespace strata::segment {
namespace {

StreamKMeans::Config SmallConfig(int k_init, int dim) {
  StreamKMeans::Config c;
  c.dim = dim;
  c.k_init = k_init;
  c.k_min = 1;
  c.k_max = 16;
  c.reservoir_size = 2048;
  c.reservoir_window = 8192;
  c.warmup_points = 1024;
  c.half_life_points = 10000;
  c.lifecycle_every_points = 2048;
  c.seed = 5;
  return c;
}

void Feed(StreamKMeans& km, const Matrix& points, int batch = 128) {
  for (Eigen::Index i = 0; i + batch <= points.rows(); i += batch) {
    ASSERT_TRUE(km.Update(points.middleRows(i, batch)).ok());
  }
}

double Ari(const StreamKMeans& km, const testing::Blobs& b) {
  const SegmentModel m = km.Model();
  return AdjustedRandIndex(NearestCentroids(m.Standardize(b.points), m.StandardizedCentroids()),
                           b.labels);
}

TEST(StreamKMeansTest, RejectsBadConfigNamingTheField) {
  auto c = SmallConfig(20, 4);
  auto r = StreamKMeans::Create(c);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message().rfind("k_init", 0), 0u) << r.status();
  c = SmallConfig(4, 4);
  c.half_life_points = -1;
  EXPECT_EQ(StreamKMeans::Create(c).status().message().rfind("half_life_points", 0), 0u);
  c = SmallConfig(4, 4);
  c.warmup_points = 5000;
  EXPECT_EQ(StreamKMeans::Create(c).status().message().rfind("warmup_points", 0), 0u);
  c = SmallConfig(4, 4);
  c.merge_distance = 0;
  EXPECT_EQ(StreamKMeans::Create(c).status().message().rfind("merge_distance", 0), 0u);
}

TEST(StreamKMeansTest, RejectsBadBatch) {
  auto km = StreamKMeans::Create(SmallConfig(4, 4));
  ASSERT_TRUE(km.ok());
  EXPECT_EQ(km->Update(Matrix::Zero(3, 5)).code(), StatusCode::kInvalidArgument);
  Matrix nan = Matrix::Zero(3, 4);
  nan(1, 1) = std::numeric_limits<float>::infinity();
  EXPECT_EQ(km->Update(nan).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(km->stats().points, 0u);
}

TEST(StreamKMeansTest, ClustersBlobsDeterministically) {
  auto blobs = testing::MakeBlobs(6, 30000, 16, 4.0f, 0.6f, 21);
  auto a = StreamKMeans::Create(SmallConfig(6, 16));
  auto b = StreamKMeans::Create(SmallConfig(6, 16));
  ASSERT_TRUE(a.ok() && b.ok());
  Feed(*a, blobs.points);
  Feed(*b, blobs.points);
  ASSERT_TRUE(a->seeded());
  EXPECT_GE(Ari(*a, blobs), 0.95);
  EXPECT_EQ(a->k(), 6);
  EXPECT_TRUE(a->Model().centroids.isApprox(b->Model().centroids, 0.0f));
  EXPECT_EQ(a->Model().ids, b->Model().ids);
}

TEST(StreamKMeansTest, SplitsWhenKIsTooSmall) {
  auto blobs = testing::MakeBlobs(6, 60000, 16, 4.0f, 0.6f, 22);
  auto km = StreamKMeans::Create(SmallConfig(2, 16));
  ASSERT_TRUE(km.ok());
  Feed(*km, blobs.points);
  for (const auto& ch : km->TakeChanges()) {
    std::printf("change %s at %llu:", std::string(ModelChangeKindName(ch.kind)).c_str(),
                static_cast<unsigned long long>(ch.at_point));
    for (uint32_t id : ch.ids) std::printf(" %u", id);
    std::printf("\n");
  }
  EXPECT_GE(km->stats().splits, 4u);
  EXPECT_EQ(km->k(), 6);
  EXPECT_GE(Ari(*km, blobs), 0.95);
}

TEST(StreamKMeansTest, MergesDuplicateCentroids) {
  auto blobs = testing::MakeBlobs(3, 40000, 8, 5.0f, 0.05f, 23);
  auto c = SmallConfig(8, 8);
  auto km = StreamKMeans::Create(c);
  ASSERT_TRUE(km.ok());
  Feed(*km, blobs.points);
  EXPECT_EQ(km->k(), 3);
  EXPECT_GE(km->stats().merges + km->stats().deaths, 5u);
  EXPECT_DOUBLE_EQ(Ari(*km, blobs), 1.0);
}

TEST(StreamKMeansTest, SegmentDiesWhenItsCustomersStop) {
  auto blobs = testing::MakeBlobs(4, 20000, 8, 5.0f, 0.5f, 24);
  auto km = StreamKMeans::Create(SmallConfig(4, 8));
  ASSERT_TRUE(km.ok());
  Feed(*km, blobs.points);
  ASSERT_EQ(km->k(), 4);
  // Stop blob 3: feed only the other three for many half-lives.
  auto more = testing::MakeBlobs(4, 200000, 8, 5.0f, 0.5f, 24);
  Matrix kept(0, 8);
  std::vector<int> rows;
  for (int i = 0; i < more.points.rows(); ++i) {
    if (more.labels[i] != 3) rows.push_back(i);
  }
  kept.resize(static_cast<Eigen::Index>(rows.size()), 8);
  for (size_t i = 0; i < rows.size(); ++i) kept.row(i) = more.points.row(rows[i]);
  Feed(*km, kept);
  EXPECT_EQ(km->k(), 3);
  EXPECT_GE(km->stats().deaths, 1u);
}

TEST(StreamKMeansTest, DriftReseedKeepsIdsOfUnchangedSegments) {
  auto blobs = testing::MakeBlobs(4, 20000, 8, 5.0f, 0.5f, 25);
  auto c = SmallConfig(4, 8);
  c.lifecycle = false;
  auto km = StreamKMeans::Create(c);
  ASSERT_TRUE(km.ok());
  Feed(*km, blobs.points);
  const SegmentModel before = km->Model();
  auto id_of = [](const SegmentModel& m, const Eigen::RowVectorXf& x) {
    Matrix p = x;
    return m.ids[NearestCentroids(m.Standardize(p), m.StandardizedCentroids())[0]];
  };
  // Blob 3 jumps far away.
  Matrix moved = testing::MakeBlobs(4, 30000, 8, 5.0f, 0.5f, 25).points;
  auto again = testing::MakeBlobs(4, 30000, 8, 5.0f, 0.5f, 25);
  for (int i = 0; i < moved.rows(); ++i) {
    if (again.labels[i] == 3) moved.row(i).array() += 15.0f;
  }
  Feed(*km, moved);
  EXPECT_GE(km->stats().drift_alarms, 1u);
  const SegmentModel after = km->Model();
  for (int j = 0; j < 3; ++j) {
    EXPECT_EQ(id_of(before, blobs.centres.row(j)), id_of(after, blobs.centres.row(j))) << j;
  }
  EXPECT_GE(
      AdjustedRandIndex(NearestCentroids(after.Standardize(moved), after.StandardizedCentroids()),
                        again.labels),
      0.99);
}

TEST(StreamKMeansTest, InstallsAnExternalModel) {
  auto blobs = testing::MakeBlobs(4, 20000, 8, 5.0f, 0.5f, 26);
  auto src = StreamKMeans::Create(SmallConfig(4, 8));
  auto dst = StreamKMeans::Create(SmallConfig(2, 8));
  ASSERT_TRUE(src.ok() && dst.ok());
  Feed(*src, blobs.points);
  const SegmentModel m = src->Model();
  ASSERT_TRUE(dst->Install(m).ok());
  EXPECT_TRUE(dst->seeded());
  const SegmentModel got = dst->Model();
  EXPECT_EQ(got.ids, m.ids);
  EXPECT_TRUE(got.centroids.isApprox(m.centroids, 0.0f));
  EXPECT_TRUE(got.scale.isApprox(m.scale, 1e-4f));
  EXPECT_DOUBLE_EQ(Ari(*dst, blobs), 1.0);
  auto changes = dst->TakeChanges();
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes.back().kind, ModelChangeKind::kInstalled);
  SegmentModel wrong = m;
  wrong.centroids = Matrix::Zero(m.k(), 7);
  wrong.mean = Eigen::RowVectorXf::Zero(7);
  wrong.scale = Eigen::RowVectorXf::Ones(7);
  EXPECT_EQ(dst->Install(wrong).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace strata::segment
