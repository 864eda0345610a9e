// Segmentation micro-benchmarks: ingest (profile update -> features -> assign) events/s on one
// core, assignment ns/customer at k=64, d=16 (float single, float batched, int8), and the full
// Segmenter (validation + training share). Results: docs/segment.md, "Measured".
#include <benchmark/benchmark.h>

#include <vector>

#include "strata/segment/assign.h"
#include "strata/segment/generator.h"
#include "strata/segment/profile.h"
#include "strata/segment/quantized_model.h"
#include "strata/segment/segmenter.h"

namespace strata::segment {
namespace {

const std::vector<Event>& Events() {
  static const std::vector<Event> events = [] {
    auto g = Generator::Create(
        {.customers = 100000, .events = 1000000, .k = 8, .events_per_day = 20000, .seed = 1});
    std::vector<Event> out;
    out.reserve(1000000);
    Event e;
    while (g->Next(&e)) out.push_back(e);
    return out;
  }();
  return events;
}

SegmentModel RandomModel(int k, uint64_t seed) {
  Rng rng(seed);
  SegmentModel m;
  m.centroids.resize(k, kNumFeatures);
  for (int j = 0; j < k; ++j) {
    for (int f = 0; f < kNumFeatures; ++f) {
      m.centroids(j, f) = static_cast<float>(rng.Normal(1.0, 1.0));
    }
    m.ids.push_back(j + 1);
  }
  m.mean = Eigen::RowVectorXf::Constant(kNumFeatures, 1.0f);
  m.scale = Eigen::RowVectorXf::Constant(kNumFeatures, 1.0f);
  return m;
}

Matrix Queries(int n) {
  Rng rng(9);
  Matrix x(n, kNumFeatures);
  for (int i = 0; i < n; ++i) {
    for (int f = 0; f < kNumFeatures; ++f) x(i, f) = static_cast<float>(rng.Normal(1.0, 1.5));
  }
  return x;
}

// Profile update + feature extraction + float assignment, per event.
void BM_IngestUpdateAssign(benchmark::State& state) {
  const auto& events = Events();
  auto assigner = Assigner::Create(RandomModel(static_cast<int>(state.range(0)), 3));
  auto table = ProfileTable::Create({.reserve_customers = 100000});
  size_t i = 0;
  uint64_t sink = 0;
  alignas(32) float x[kNumFeatures];
  for (auto _ : state) {
    const Event& e = events[i];
    const uint32_t idx = table->UpdateUnchecked(e);
    table->FeaturesInto(idx, e.timestamp, x);
    sink += assigner->Assign(x).segment_id;
    if (++i == events.size()) i = 0;
  }
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(state.iterations());
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_IngestUpdateAssign)->Arg(16)->Arg(64);

// The whole stage: validation, profile update, training mini-batches, assignment.
void BM_SegmenterProcess(benchmark::State& state) {
  const auto& events = Events();
  Segmenter::Config c;
  c.profiles.reserve_customers = 100000;
  c.clustering.k_init = 8;
  auto seg = Segmenter::Create(c);
  for (size_t w = 0; w < 100000; ++w) (void)seg->Process(events[w]);  // warm-up: model seeded
  size_t i = 100000;
  uint64_t sink = 0;
  for (auto _ : state) {
    sink += seg->Process(events[i])->segment_id;
    if (++i == events.size()) i = 0;
  }
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(state.iterations());
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SegmenterProcess);

void BM_AssignFloat(benchmark::State& state) {
  auto a = Assigner::Create(RandomModel(static_cast<int>(state.range(0)), 4));
  const Matrix q = Queries(4096);
  Eigen::Index i = 0;
  uint64_t sink = 0;
  for (auto _ : state) {
    sink += a->Assign(q.row(i).data()).segment_id;
    i = (i + 1) & 4095;
  }
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AssignFloat)->Arg(16)->Arg(64);

void BM_AssignFloatBatch(benchmark::State& state) {
  auto a = Assigner::Create(RandomModel(static_cast<int>(state.range(0)), 4));
  const Matrix q = Queries(1024);
  std::vector<Assignment> out;
  for (auto _ : state) {
    (void)a->AssignBatch(q, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * q.rows());
}
BENCHMARK(BM_AssignFloatBatch)->Arg(16)->Arg(64);

void BM_AssignInt8(benchmark::State& state) {
  auto m = QuantizedModel::Create(RandomModel(static_cast<int>(state.range(0)), 4));
  const Matrix q = Queries(4096);
  Eigen::Index i = 0;
  uint64_t sink = 0;
  for (auto _ : state) {
    sink += m->Assign(q.row(i).data()).segment_id;
    i = (i + 1) & 4095;
  }
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AssignInt8)->Arg(16)->Arg(64);

void BM_ProfileUpdateOnly(benchmark::State& state) {
  const auto& events = Events();
  auto table = ProfileTable::Create({.reserve_customers = 100000});
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(table->UpdateUnchecked(events[i]));
    if (++i == events.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ProfileUpdateOnly);

}  // namespace
}  // namespace strata::segment

BENCHMARK_MAIN();
