// segment_peer_tool OUT_DIR: runs the C++ pipeline on a synthetic stream, exports the same
// training stream and final customer features for the python3-sklearn peer
// (benchmarks/peers/segment_sklearn.py), and prints the C++ numbers as "key value" lines.
//   OUT_DIR/train.f32  rows x 16 float32: the feature rows the trainer fed to StreamKMeans
//   OUT_DIR/final.f32  customers x 16 float32: every customer's features at the end
//   OUT_DIR/scale.f32  2 x 16 float32: the model's standardisation (mean, scale)
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "strata/segment/generator.h"
#include "strata/segment/kmeans_reference.h"
#include "strata/segment/segmenter.h"

using namespace strata;
using namespace strata::segment;

namespace {

double Seconds(std::chrono::steady_clock::time_point a) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
}

bool WriteF32(const std::string& path, const float* data, size_t n) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n * sizeof(float)));
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: segment_peer_tool OUT_DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  constexpr int kCustomers = 20000, kEvents = 300000, kK = 8, kBatch = 64, kEvery = 64;
  auto gen = Generator::Create(
      {.customers = kCustomers, .events = kEvents, .k = kK, .events_per_day = 6000, .seed = 7});
  std::vector<Event> events;
  Event e;
  while (gen->Next(&e)) events.push_back(e);

  // 1) The whole stage, timed: validation + profile update + training + assignment.
  Segmenter::Config c;
  c.clustering.k_init = kK;
  c.clustering.lifecycle = false;  // same k as the peer
  c.clustering.seed = 3;
  c.train_every_events = kEvery;
  c.train_batch = kBatch;
  auto seg = Segmenter::Create(c);
  auto t0 = std::chrono::steady_clock::now();
  uint64_t sink = 0;
  for (const Event& ev : events) sink += seg->Process(ev)->segment_id;
  const double pipeline_s = Seconds(t0);

  // 2) Record the training stream the same way (uniform customer samples at the newest time).
  auto table = ProfileTable::Create({});
  Rng rng(c.seed);
  std::vector<float> train;
  WallTime newest{};
  for (size_t i = 0; i < events.size(); ++i) {
    table->UpdateUnchecked(events[i]);
    newest = std::max(newest, events[i].timestamp);
    if ((i + 1) % kEvery == 0) {
      for (int b = 0; b < kBatch; ++b) {
        const auto idx = static_cast<uint32_t>(rng.UniformInt(0, table->size() - 1));
        float x[kNumFeatures];
        table->FeaturesInto(idx, newest, x);
        train.insert(train.end(), x, x + kNumFeatures);
      }
    }
  }
  const Eigen::Index rows = static_cast<Eigen::Index>(train.size() / kNumFeatures);
  const Matrix train_m = Eigen::Map<const Matrix>(train.data(), rows, kNumFeatures);

  // 3) StreamKMeans alone on that stream, timed.
  auto km = StreamKMeans::Create(c.clustering);
  t0 = std::chrono::steady_clock::now();
  for (Eigen::Index i = 0; i + 256 <= rows; i += 256) (void)km->Update(train_m.middleRows(i, 256));
  const double kmeans_s = Seconds(t0);

  const SegmentModel model = km->Model();
  Matrix final_x(static_cast<Eigen::Index>(table->size()), kNumFeatures);
  for (uint32_t i = 0; i < table->size(); ++i)
    table->FeaturesInto(i, newest, final_x.row(i).data());
  const Matrix z = model.Standardize(final_x);
  const double ssq = Ssq(z, model.StandardizedCentroids());
  auto lloyd = LloydKMeans(z, model.k(), {.restarts = 3, .seed = 1});

  std::vector<float> scale(model.mean.data(), model.mean.data() + kNumFeatures);
  scale.insert(scale.end(), model.scale.data(), model.scale.data() + kNumFeatures);
  if (!WriteF32(dir + "/train.f32", train.data(), train.size()) ||
      !WriteF32(dir + "/final.f32", final_x.data(), final_x.size()) ||
      !WriteF32(dir + "/scale.f32", scale.data(), scale.size())) {
    std::fprintf(stderr, "cannot write into %s\n", dir.c_str());
    return 1;
  }
  std::printf("events %zu\n", events.size());
  std::printf("customers %zu\n", table->size());
  std::printf("train_rows %lld\n", static_cast<long long>(rows));
  std::printf("k %d\n", model.k());
  std::printf("cpp_pipeline_events_per_s %.0f\n", static_cast<double>(events.size()) / pipeline_s);
  std::printf("cpp_kmeans_points_per_s %.0f\n", static_cast<double>(rows) / kmeans_s);
  std::printf("cpp_ssq %.2f\n", ssq);
  std::printf("lloyd_ssq %.2f\n", lloyd.ok() ? lloyd->ssq : -1.0);
  std::printf("sink %llu\n", static_cast<unsigned long long>(sink % 2));
  return 0;
}
