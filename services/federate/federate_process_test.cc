// The strata-federate binary end to end: a cloud process and two edge processes (configs written
// by the test; each edge's customers come from its own events file, folded into strata-segment
// profiles), one edge installing every global model into a real strata-segment process through
// PUT /api/v1/model.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "strata/codec/event_json.h"
#include "strata/segment/generator.h"
#include "strata/testing/fixtures.h"
#include "strata/transport/http_client.h"

namespace strata::federate {
namespace {

using Ms = std::chrono::milliseconds;

std::string Bin(const std::string& name) { return std::string(STRATA_BINARY_DIR) + "/bin/" + name; }

TEST(FederateProcessTest, CloudAndEdgeProcessesInstallTheModelInStrataSegment) {
  for (const char* b : {"strata-federate", "strata-segment"})
    if (!std::filesystem::exists(Bin(b))) GTEST_SKIP() << Bin(b) << " is not built";
  testing::TempDir dir;
  const std::string tok0(64, '0'), tok1(64, '1');
  for (int i = 0; i < 2; ++i) {  // each edge's own customers' events (strata-segment's schema)
    auto gen = segment::Generator::Create({.customers = 150, .events = 3000, .k = 3, .seed = 5u + i});
    ASSERT_TRUE(gen.ok());
    std::ofstream out(dir.File("edge" + std::to_string(i) + ".ndjson"));
    segment::Event e;
    while (gen->Next(&e)) out << codec::EventToJson(e).dump() << "\n";
  }
  std::ofstream(dir.File("cloud.yaml"))
      << "federate:\n  role: cloud\n  k: 3\n  d: 16\n  rounds: 2\n  round_timeout: 20s\n"
         "  poll_interval: 20ms\n  nodes:\n    - {id: edge-0, token: \"" << tok0 << "\"}\n"
         "    - {id: edge-1, token: \"" << tok1 << "\"}\n";
  auto cloud = testing::Subprocess::Start({Bin("strata-federate"), "--config", dir.File("cloud.yaml"),
                                           "--port", "0", "--port-file", dir.File("cloud.port"),
                                           "--data-dir", dir.File("cloud-data")});
  ASSERT_TRUE(cloud.ok());
  auto cport = testing::WaitForPortFile(dir.File("cloud.port"), Ms(10000));
  ASSERT_TRUE(cport.ok()) << (*cloud)->Stderr();
  std::filesystem::create_directories(dir.File("seg"));
  auto seg = testing::Subprocess::Start({Bin("strata-segment"), "--data-dir", dir.File("seg"),
                                         "--port", "0", "--port-file", dir.File("seg.port")});
  ASSERT_TRUE(seg.ok());
  auto sport = testing::WaitForPortFile(dir.File("seg.port"), Ms(10000));
  ASSERT_TRUE(sport.ok()) << (*seg)->Stderr();
  std::vector<std::unique_ptr<testing::Subprocess>> edges;
  for (int i = 0; i < 2; ++i) {
    const std::string cfg = dir.File("edge" + std::to_string(i) + ".yaml");
    std::ofstream(cfg) << "federate:\n  role: edge\n  id: edge-" << i << "\n  token: \""
                       << (i ? tok1 : tok0) << "\"\n  aggregator_url: http://127.0.0.1:" << *cport
                       << "\n  events_ndjson: " << dir.File("edge" + std::to_string(i) + ".ndjson")
                       << "\n  poll_interval: 20ms\n"
                       << (i == 0 ? "  segment_url: http://127.0.0.1:" + std::to_string(*sport) + "\n" : "");
    auto e = testing::Subprocess::Start({Bin("strata-federate"), "--config", cfg});
    ASSERT_TRUE(e.ok());
    edges.push_back(std::move(e).value());
  }
  for (auto& e : edges) {
    auto code = e->Wait(Ms(30000));  // an edge exits when the cloud is done
    ASSERT_TRUE(code.ok()) << e->Stderr();
    EXPECT_EQ(*code, 0) << e->Stderr();
  }
  auto c = http::HttpClient::Create({.base_url = "http://127.0.0.1:" + std::to_string(*cport)});
  auto round = (*c)->Get("/api/v1/round");
  ASSERT_TRUE(round.ok());
  auto j = round->Json();
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["state"], "done");
  EXPECT_EQ((*j)["completed_rounds"], 2);
  const uint64_t version = (*j)["model_version"].get<uint64_t>();
  EXPECT_EQ(version, 3u);  // k-FED v1 + two FedLloyd rounds
  auto s = http::HttpClient::Create({.base_url = "http://127.0.0.1:" + std::to_string(*sport)});
  auto model = (*s)->Get("/api/v1/model");
  ASSERT_TRUE(model.ok());
  ASSERT_EQ(model->status, 200) << model->body;
  EXPECT_EQ(model->Header("x-strata-model-version"), std::to_string(version));
}

}  // namespace
}  // namespace strata::federate
