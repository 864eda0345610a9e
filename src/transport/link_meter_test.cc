#include "strata/transport/link_meter.h"

#include <gtest/gtest.h>

#include "strata/metrics/metrics.h"
#include "strata/transport/http.h"
#include "strata/transport/http_client.h"

namespace strata {
namespace {

TEST(LinkMeterTest, CountsExactBytesAndQuantiles) {
  LinkMeter m;
  m.Record("a", "b", std::string(100, 'x'), 0.010);
  m.Record("a", "b", std::string(2000, 'y'), 0.020);
  m.Record("a", "b", "", 0.030);
  m.Record("b", "a", "zz", 0.001);
  m.Record("", "b", "ignored", 0.001);
  LinkStats ab = m.Get("a", "b");
  EXPECT_EQ(ab.messages, 3u);
  EXPECT_EQ(ab.bytes, 2100u);
  EXPECT_NEAR(ab.latency_ms_p50, 20, 1e-9);
  EXPECT_NEAR(ab.latency_ms_p99, 30, 1e-9);
  EXPECT_EQ(m.Get("b", "a").bytes, 2u);
  EXPECT_EQ(m.Get("x", "y").messages, 0u);
  EXPECT_EQ(m.Snapshot().size(), 2u);
}

TEST(LinkMeterTest, TapSeesEveryPayload) {
  LinkMeter m;
  std::string seen;
  int id = m.AddTap([&](std::string_view, std::string_view, std::string_view p) { seen += p; });
  m.Record("n1", "agg", "abc", 0);
  m.Record("n1", "agg", "de", 0);
  m.RemoveTap(id);
  m.Record("n1", "agg", "ZZ", 0);
  EXPECT_EQ(seen, "abcde");
}

TEST(LinkMeterTest, HttpClientMetersExactBodyBytes) {
  auto server = http::HttpServer::Create({.service = "t_meter"});
  ASSERT_TRUE(server.ok());
  (*server)->Route("POST", "/api/v1/sink", [](const http::Request&) -> Result<http::Response> {
    return http::Response::NoContent();
  });
  ASSERT_TRUE((*server)->Start().ok());
  auto client = http::HttpClient::Create(
      {.base_url = "http://127.0.0.1:" + std::to_string((*server)->port()),
       .link_src = "meter_src",
       .link_dst = "meter_dst"});
  ASSERT_TRUE(client.ok());
  size_t total = 0;
  for (size_t n : {0, 1, 777, 50000}) {
    ASSERT_EQ((*client)->Post("/api/v1/sink", std::string(n, 'q'), "application/octet-stream")
                  ->status,
              204);
    total += n;
  }
  LinkStats s = LinkMeter::Global().Get("meter_src", "meter_dst");
  EXPECT_EQ(s.messages, 4u);
  EXPECT_EQ(s.bytes, total);
  EXPECT_GT(s.latency_ms_p50, 0);
  std::string text = metrics::SerializeText();
  EXPECT_NE(text.find("strata_link_bytes_total{dst=\"meter_dst\",src=\"meter_src\"} " +
                      std::to_string(total)),
            std::string::npos);
}

}  // namespace
}  // namespace strata
