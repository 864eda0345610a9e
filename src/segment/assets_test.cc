// Real retail event streams from ../shared/assets/retail (CTest label "assets"; skipped with a
// reason when absent): reader statistics against MANIFEST.md, streaming SSQ vs offline Lloyd's
// k-means with the same k and features, and int8 vs float assignment agreement.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <set>

#include "strata/segment/csv_sources.h"
#include "strata/segment/quantized_model.h"
#include "strata/segment/segmenter.h"
#include "test_util.h"

namespace strata::segment {
namespace {

std::string RetailFile(const std::string& name) { return testing::AssetsDir() + "/retail/" + name; }

struct Outcome {
  double stream_ssq = 0, lloyd_ssq = 0, agreement = 0;
  int k = 0;
};

// Replays the events through the pipeline, runs an idle refresh, then compares the streaming
// model with Lloyd's k-means (same k, same standardised features of every customer).
Outcome Evaluate(const std::vector<Event>& events, Segmenter::Config config, const char* name) {
  Outcome o;
  auto seg = Segmenter::Create(config);
  EXPECT_TRUE(seg.ok()) << seg.status();
  for (const Event& e : events) EXPECT_TRUE(seg->Process(e).ok());
  EXPECT_TRUE(seg->Train(seg->newest(), 300).ok());  // idle refresh: 19,200 points
  const SegmentModel model = seg->assigner()->model();
  const Matrix z = model.Standardize(seg->FeatureMatrix(seg->newest()));
  o.k = model.k();
  o.stream_ssq = Ssq(z, model.StandardizedCentroids());
  auto lloyd = LloydKMeans(z, o.k, {.restarts = 4, .seed = 3});
  EXPECT_TRUE(lloyd.ok());
  o.lloyd_ssq = lloyd->ssq;
  auto q = QuantizedModel::Create(model);
  EXPECT_TRUE(q.ok());
  const Matrix x = seg->FeatureMatrix(seg->newest());
  int agree = 0;
  for (int i = 0; i < x.rows(); ++i) {
    agree += q->Assign(x.row(i).data()).segment_id ==
             seg->assigner()->Assign(x.row(i).data()).segment_id;
  }
  o.agreement = static_cast<double>(agree) / x.rows();
  std::printf(
      "[ measured ] %s: %zu events, %zu customers, k=%d, streaming SSQ %.1f, Lloyd SSQ "
      "%.1f, ratio %.4f, int8 agreement %.4f\n",
      name, events.size(), seg->profiles().size(), o.k, o.stream_ssq, o.lloyd_ssq,
      o.stream_ssq / o.lloyd_ssq, o.agreement);
  return o;
}

TEST(SegmentAssetsTest, CdnowStreamingMatchesBatchKMeans) {
  const std::string path = RetailFile("CDNOW_master.txt");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "asset missing: " << path;
  auto read = ReadCdnowFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->stats.rows, 69659);
  EXPECT_EQ(read->stats.accepted, 69659);
  EXPECT_TRUE(read->stats.errors.empty());
  std::set<std::string> ids;
  double total = 0;
  for (const Event& e : read->events) ids.insert(e.customer_id), total += e.amount;
  EXPECT_EQ(ids.size(), 23544u);
  EXPECT_NEAR(total, 2500315.63, 0.01);  // the published CDNOW total
  SortEventsByTime(read->events);
  Segmenter::Config c;
  c.profiles.half_life_days = 90;
  c.clustering.k_init = 6;
  c.clustering.half_life_points = 20000;
  c.clustering.reservoir_window = 8192;
  c.clustering.seed = 5;
  c.train_every_events = 16;
  c.train_batch = 64;
  const Outcome o = Evaluate(read->events, c, "CDNOW");
  EXPECT_LE(o.stream_ssq, 1.05 * o.lloyd_ssq);
  EXPECT_GE(o.agreement, 0.995);
}

TEST(SegmentAssetsTest, OnlineRetailStreamingMatchesBatchKMeans) {
  const std::string path = RetailFile("online_retail_sample.csv");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "asset missing: " << path;
  auto read = ReadOnlineRetailFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->stats.rows, 20000);
  EXPECT_EQ(read->stats.skipped_no_customer, 5078);
  EXPECT_EQ(read->stats.accepted + static_cast<int64_t>(read->stats.errors.size()), 20000 - 5078);
  for (const auto& err : read->stats.errors) {
    std::printf("[ info ] online retail line %lld: %s\n", static_cast<long long>(err.line),
                err.reason.c_str());
  }
  std::set<std::string> ids;
  int returns = 0;
  for (const Event& e : read->events) {
    ids.insert(e.customer_id);
    returns += e.type == EventType::kReturn;
  }
  EXPECT_EQ(ids.size(), 3049u);
  EXPECT_GT(returns, 300);
  SortEventsByTime(read->events);
  Segmenter::Config c;
  c.profiles.half_life_days = 60;
  c.clustering.k_init = 6;
  c.clustering.reservoir_size = 2048;
  c.clustering.warmup_points = 1024;
  c.clustering.half_life_points = 20000;
  c.clustering.reservoir_window = 8192;
  c.clustering.seed = 5;
  c.train_every_events = 4;
  c.train_batch = 64;
  const Outcome o = Evaluate(read->events, c, "Online Retail");
  EXPECT_LE(o.stream_ssq, 1.05 * o.lloyd_ssq);
  EXPECT_GE(o.agreement, 0.995);
}

}  // namespace
}  // namespace strata::segment
