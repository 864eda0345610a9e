#include "strata/segment/quantized_model.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "test_util.h"

namespace strata::segment {
namespace {

SegmentModel BlobModel(int k, int d, uint64_t seed) {
  auto blobs = testing::MakeBlobs(k, 20 * k, d, 4.0f, 1.0f, seed);
  SegmentModel m;
  m.centroids = blobs.centres;
  m.mean = blobs.points.colwise().mean();
  m.scale = ((blobs.points.rowwise() - m.mean).array().square().colwise().mean()).sqrt();
  for (int j = 0; j < k; ++j) {
    m.ids.push_back(j + 1);
    m.weights.push_back(1.0f);
  }
  m.version = 42;
  return m;
}

TEST(QuantizedModelTest, AgreesWithFloatAssignment) {
  const SegmentModel m = BlobModel(64, 16, 7);
  auto q = QuantizedModel::Create(m);
  auto f = Assigner::Create(m);
  ASSERT_TRUE(q.ok() && f.ok());
  // Points both near centroids and far outside the centroid box.
  auto agreement = [&](float spread, float stretch, const char* what) {
    auto pts = testing::MakeBlobs(64, 20000, 16, 4.0f, spread, 7).points;  // model centres
    pts *= stretch;
    int agree = 0;
    for (int i = 0; i < pts.rows(); ++i) {
      const Assignment a = f->Assign(pts.row(i).data()), b = q->Assign(pts.row(i).data());
      agree += a.segment_id == b.segment_id;
      if (a.segment_id == b.segment_id) {
        EXPECT_NEAR(b.distance, a.distance, 0.02 * a.distance + 0.05);
      }
    }
    const double rate = static_cast<double>(agree) / pts.rows();
    std::printf("[ measured ] int8 vs float agreement (k=64 d=16, %s): %.4f\n", what, rate);
    return rate;
  };
  EXPECT_GE(agreement(1.0f, 1.0f, "in distribution"), 0.995);
  // Worst cases, reported: heavy overlap (points near boundaries between 64 segments) and points
  // 5x outside the centroid box (near-ties in direction; centroid rounding error grows with |x|).
  EXPECT_GE(agreement(2.0f, 1.0f, "heavy overlap"), 0.98);
  EXPECT_GE(agreement(1.0f, 5.0f, "5x outside"), 0.95);
}

TEST(QuantizedModelTest, CentroidsAreFourTimesSmaller) {
  const SegmentModel m = BlobModel(64, 16, 7);
  auto q = QuantizedModel::Create(m);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->CentroidBytes() * 4, static_cast<size_t>(m.centroids.size()) * sizeof(float));
  const size_t float_file = SerializeModel(m).size(), int8_file = q->Serialize().size();
  std::printf("[ measured ] model file bytes k=64 d=16: float32 %zu, int8 %zu (%.2fx)\n",
              float_file, int8_file, static_cast<double>(float_file) / int8_file);
  EXPECT_LT(int8_file * 3, float_file);
}

TEST(QuantizedModelTest, SerializeRoundTripAndFiles) {
  const SegmentModel m = BlobModel(8, 16, 9);
  auto q = QuantizedModel::Create(m);
  ASSERT_TRUE(q.ok());
  const std::string bytes = q->Serialize();
  auto back = QuantizedModel::Deserialize(bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->version(), 42u);
  EXPECT_EQ(back->Serialize(), bytes);
  auto pts = testing::MakeBlobs(8, 500, 16, 4.0f, 1.0f, 10).points;
  for (int i = 0; i < pts.rows(); ++i) {
    const Assignment a = q->Assign(pts.row(i).data()), b = back->Assign(pts.row(i).data());
    EXPECT_EQ(a.segment_id, b.segment_id);
    EXPECT_FLOAT_EQ(a.distance, b.distance);
  }
  const std::string path =
      (std::filesystem::temp_directory_path() / "strata_segment_model_test.stf4").string();
  ASSERT_TRUE(WriteFileBytes(path, SerializeModel(m)).ok());
  auto read = ReadFileBytes(path);
  ASSERT_TRUE(read.ok());
  auto fm = DeserializeModel(*read);
  ASSERT_TRUE(fm.ok()) << fm.status();
  EXPECT_TRUE(fm->centroids.isApprox(m.centroids, 0.0f));
  EXPECT_EQ(fm->ids, m.ids);
  EXPECT_EQ(fm->version, 42u);
  std::filesystem::remove(path);
  EXPECT_EQ(ReadFileBytes(path).status().code(), StatusCode::kNotFound);
}

TEST(QuantizedModelTest, RejectsCorruptTruncatedAndForeignFiles) {
  auto q = QuantizedModel::Create(BlobModel(8, 16, 9));
  ASSERT_TRUE(q.ok());
  const std::string good = q->Serialize();
  std::string flipped = good;
  flipped[good.size() / 2] ^= 0x10;
  auto r = QuantizedModel::Deserialize(flipped);
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("checksum"), std::string::npos);
  EXPECT_EQ(QuantizedModel::Deserialize(good.substr(0, good.size() - 7)).status().code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(QuantizedModel::Deserialize(good.substr(0, 10)).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(QuantizedModel::Deserialize("").status().code(), StatusCode::kDataLoss);
  std::string magic = good;
  magic[0] = 'X';
  EXPECT_EQ(QuantizedModel::Deserialize(magic).status().code(), StatusCode::kInvalidArgument);
  std::string version = good;
  version[4] = 9;
  r = QuantizedModel::Deserialize(version);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("version"), std::string::npos);
  EXPECT_EQ(QuantizedModel::Deserialize(good + "xx").status().code(), StatusCode::kInvalidArgument);
  // A float model file is not an int8 model file.
  EXPECT_EQ(QuantizedModel::Deserialize(SerializeModel(BlobModel(8, 16, 9))).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace strata::segment
