// `strata segment generate|replay|report|serve` as a user runs them: real processes, a real
// strata-segment service on port 0, the real UCI sample when present. No timing assertions.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "strata/codec/event_json.h"
#include "strata/testing/fixtures.h"
#include "strata/transport/http_client.h"
#include "strata/version.h"

namespace strata {
namespace {

const std::string kStrata = std::string(STRATA_BINARY_DIR) + "/bin/strata";
const std::string kSegmentService = std::string(STRATA_BINARY_DIR) + "/bin/strata-segment";
const std::string kUciSample =
    std::string(STRATA_SOURCE_DIR) + "/../shared/assets/retail/online_retail_sample.csv";
constexpr int kCustomers = 300;
constexpr int kEvents = 10000;  // > 8192 so the service's model is seeded (512 events/mini-batch)

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

testing::RunResult Strata(std::vector<std::string> args) {
  args.insert(args.begin(), kStrata);
  auto r = testing::Run(args, std::chrono::seconds(60));
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : testing::RunResult{};
}

nlohmann::json JsonOf(const testing::RunResult& r) {
  auto j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON: " << r.out << "\nstderr: " << r.err;
  return j;
}

void ExpectOneErrorLine(const testing::RunResult& r, int code, const std::string& what) {
  EXPECT_EQ(r.exit_code, code) << what << "\n" << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << what << "\n" << r.err;
  EXPECT_EQ(r.err.rfind("strata: error: ", 0), 0u) << what << "\n" << r.err;
}

// One generated data set shared by the tests of this file (generation is part of what is tested).
class SegmentCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    generate_ = new testing::RunResult(
        Strata({"segment", "generate", "--customers", std::to_string(kCustomers), "--events",
                std::to_string(kEvents), "--k", "4", "--noise", "0.05", "--seed", "11", "--drift",
                "move:1@6000", "--out", Events(), "--truth", Truth(), "--json"}));
  }
  static void TearDownTestSuite() {
    delete generate_;
    delete dir_;
  }
  static std::string Events() { return dir_->File("events.ndjson"); }
  static std::string Truth() { return dir_->File("truth.csv"); }
  static std::set<std::string> CustomersInEvents() {
    std::set<std::string> ids;
    for (const auto& line : Lines(Events())) ids.insert(nlohmann::json::parse(line)["customer_id"]);
    return ids;
  }
  static testing::TempDir* dir_;
  static testing::RunResult* generate_;
};
testing::TempDir* SegmentCliTest::dir_ = nullptr;
testing::RunResult* SegmentCliTest::generate_ = nullptr;

TEST_F(SegmentCliTest, GenerateWritesValidEventsAndTruth) {
  ASSERT_EQ(generate_->exit_code, 0) << generate_->err;
  nlohmann::json summary = JsonOf(*generate_);
  EXPECT_EQ(summary["events"], kEvents);
  EXPECT_EQ(summary["customers"], kCustomers);
  std::vector<std::string> lines = Lines(Events());
  ASSERT_EQ(lines.size(), static_cast<size_t>(kEvents));
  for (size_t i = 0; i < lines.size(); ++i)
    ASSERT_TRUE(codec::DecodeEventJson(lines[i]).ok()) << "line " << i + 1 << ": " << lines[i];
  std::vector<std::string> truth = Lines(Truth());
  ASSERT_EQ(truth.size(), static_cast<size_t>(kCustomers) + 1);
  EXPECT_EQ(truth[0], "customer_id,segment");
  std::set<std::string> ids;
  for (size_t i = 1; i < truth.size(); ++i) {
    size_t comma = truth[i].find(',');
    ASSERT_NE(comma, std::string::npos) << truth[i];
    ids.insert(truth[i].substr(0, comma));
    int seg = std::stoi(truth[i].substr(comma + 1));
    EXPECT_TRUE(seg >= 0 && seg < 4) << truth[i];
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kCustomers));
  for (const auto& id : CustomersInEvents()) EXPECT_TRUE(ids.count(id)) << id;
  // Same seed, same bytes.
  auto again = Strata({"segment", "generate", "--customers", std::to_string(kCustomers), "--events",
                       std::to_string(kEvents), "--k", "4", "--noise", "0.05", "--seed", "11",
                       "--drift", "move:1@6000", "--out", dir_->File("again.ndjson")});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(Slurp(dir_->File("again.ndjson")), Slurp(Events()));
}

TEST_F(SegmentCliTest, ReplayInProcessPrintsSummaryAndSegments) {
  auto r = Strata({"segment", "replay", Events(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json s = JsonOf(r);
  EXPECT_EQ(s["format"], "ndjson");
  EXPECT_EQ(s["mode"], "in-process");
  EXPECT_EQ(s["rows"], kEvents);
  EXPECT_EQ(s["accepted"], kEvents);
  EXPECT_EQ(s["rejected"], 0);
  EXPECT_EQ(s["parse_errors"], 0);
  EXPECT_EQ(s["customers"], CustomersInEvents().size());
  ASSERT_GE(s["segments"].size(), 2u);
  int64_t assigned = 0;
  for (const auto& seg : s["segments"]) {
    EXPECT_FALSE(seg["label"].get<std::string>().empty());
    EXPECT_FALSE(seg["top_features"].empty());
    assigned += seg["customers"].get<int64_t>();
  }
  EXPECT_EQ(assigned, s["customers"].get<int64_t>());
  // Text mode: the summary line and the table header.
  auto text = Strata({"segment", "replay", Events()});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find(std::to_string(kEvents) + " accepted, 0 rejected"), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("top features"), std::string::npos) << text.out;
}

TEST_F(SegmentCliTest, ReplayReportsBadLinesWithLineNumbers) {
  std::vector<std::string> lines = Lines(Events());
  std::ofstream(dir_->File("mixed.ndjson")) << lines[0] << "\n{\"customer_id\": \"x\"}\n"
                                            << lines[1] << "\nnot json\n";
  auto r = Strata({"segment", "replay", dir_->File("mixed.ndjson"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json s = JsonOf(r);
  EXPECT_EQ(s["rows"], 4);
  EXPECT_EQ(s["accepted"], 2);
  EXPECT_EQ(s["parse_errors"], 2);
  ASSERT_EQ(s["errors"].size(), 2u);
  EXPECT_EQ(s["errors"][0]["line"], 2);
  EXPECT_EQ(s["errors"][1]["line"], 4);
}

TEST_F(SegmentCliTest, ReplayIntoRealServiceThenReport) {
  testing::TempDir data;
  auto service = testing::Subprocess::Start({kSegmentService, "--port", "0", "--port-file",
                                             data.File("port"), "--data-dir", data.path()});
  ASSERT_TRUE(service.ok()) << service.status();
  auto port = testing::WaitForPortFile(data.File("port"), std::chrono::seconds(10));
  ASSERT_TRUE(port.ok()) << port.status() << (*service)->Stderr();
  const std::string url = "http://127.0.0.1:" + std::to_string(*port);

  auto r = Strata({"segment", "replay", Events(), "--url", url, "--batch", "2000", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json s = JsonOf(r);
  EXPECT_EQ(s["mode"], "http");
  EXPECT_EQ(s["accepted"], kEvents);
  EXPECT_EQ(s["rejected"], 0);

  auto client = http::HttpClient::Create({.base_url = url});
  ASSERT_TRUE(client.ok());
  auto segments = (*client)->Get("/api/v1/segments");
  ASSERT_TRUE(segments.ok()) << segments.status();
  ASSERT_EQ(segments->status, 200) << segments->body;
  nlohmann::json body = nlohmann::json::parse(segments->body);
  EXPECT_EQ(body["customers"], CustomersInEvents().size());
  ASSERT_GE(body["items"].size(), 1u) << "the service's model should be seeded after " << kEvents;

  auto report =
      Strata({"segment", "report", "--url", url, "--svg", data.File("now.svg"), "--json"});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  nlohmann::json rep = JsonOf(report);
  EXPECT_EQ(rep["customers"], body["customers"]);
  ASSERT_EQ(rep["segments"].size(), body["items"].size());
  std::string svg = Slurp(data.File("now.svg"));
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_EQ(Count(svg, "<rect class=\"bar\""), body["items"].size());
  for (const auto& item : body["items"])
    EXPECT_NE(svg.find(item["label"].get<std::string>()), std::string::npos) << item["label"];

  // Real-time pacing path (fast factor, tiny gap cap): everything still arrives exactly once more.
  auto paced = Strata({"segment", "replay", dir_->File("events.ndjson"), "--url", url, "--speed",
                       "1e9", "--max-gap-s", "0.0001", "--json"});
  ASSERT_EQ(paced.exit_code, 0) << paced.err;
  EXPECT_EQ(JsonOf(paced)["accepted"], kEvents);
}

TEST_F(SegmentCliTest, ReportFromEventsWritesReadableSvg) {
  const std::string out = dir_->File("report.svg");
  auto r = Strata({"segment", "report", "--events", Events(), "--svg", out, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json rep = JsonOf(r);
  const size_t customers = CustomersInEvents().size();
  EXPECT_EQ(rep["customers"], customers);
  EXPECT_EQ(rep["plotted_points"], customers);  // fewer than --max-points: all plotted
  EXPECT_GE(rep["samples"].get<int>(), 2);
  std::string svg = Slurp(out);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  EXPECT_EQ(Count(svg, "<circle"), customers);
  EXPECT_EQ(Count(svg, "</circle>"), customers);
  EXPECT_GE(Count(svg, "<rect class=\"swatch\""), rep["segments"].size());
  EXPECT_GE(Count(svg, "<polyline"), 1u);
  for (const char* text :
       {"Segment sizes over the replay", "principal component 1", "events processed"})
    EXPECT_NE(svg.find(text), std::string::npos) << text;
  for (const auto& seg : rep["segments"])
    EXPECT_NE(svg.find(">#" + std::to_string(seg["id"].get<int>()) + " " +
                       seg["label"].get<std::string>() + "<"),
              std::string::npos)
        << "legend label for segment " << seg["id"];
  // --max-points caps the projection.
  auto capped = Strata({"segment", "report", "--events", Events(), "--svg",
                        dir_->File("capped.svg"), "--max-points", "50", "--json"});
  ASSERT_EQ(capped.exit_code, 0) << capped.err;
  const int plotted = JsonOf(capped)["plotted_points"];
  EXPECT_LE(plotted, 50);
  EXPECT_EQ(Count(Slurp(dir_->File("capped.svg")), "<circle"), static_cast<size_t>(plotted));
}

TEST(SegmentCliRealData, ReplayUciSampleCountsRowsWithoutCustomer) {
  if (!std::filesystem::exists(kUciSample))
    GTEST_SKIP() << "UCI Online Retail sample not found at " << kUciSample
                 << " (see ../shared/assets/MANIFEST.md)";
  auto r = Strata({"segment", "replay", kUciSample, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json s = JsonOf(r);
  EXPECT_EQ(s["format"], "uci");
  EXPECT_EQ(s["skipped_no_customer"], 5078);
  EXPECT_EQ(s["accepted"].get<int64_t>() + s["skipped_no_customer"].get<int64_t>() +
                s["parse_errors"].get<int64_t>(),
            s["rows"].get<int64_t>());
  auto text = Strata({"segment", "replay", kUciSample, "--format", "uci"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("5078 skipped without customer"), std::string::npos) << text.out;
}

TEST(SegmentCliErrors, MissingFileExits1WithOneLine) {
  testing::TempDir dir;
  ExpectOneErrorLine(Strata({"segment", "replay", dir.File("nope.csv")}), 1, "replay missing");
  ExpectOneErrorLine(Strata({"segment", "report", "--events", dir.File("nope.ndjson")}), 1,
                     "report missing");
  ExpectOneErrorLine(Strata({"segment", "generate", "--out", dir.File("no/such/dir/x.ndjson"),
                             "--events", "10", "--customers", "5"}),
                     1, "generate unwritable");
}

TEST(SegmentCliErrors, UsageAndCorruptInputExit2WithOneLine) {
  testing::TempDir dir;
  std::ofstream(dir.File("junk.bin"), std::ios::binary)
      << std::string("\x01\x02\xff\xfe garbage\n", 13);
  std::ofstream(dir.File("other.csv")) << "a,b,c\n1,2,3\n";
  std::ofstream(dir.File("bad.ndjson")) << "{\"nope\": 1}\nnot json\n";
  const std::vector<std::vector<std::string>> cases = {
      {"segment", "replay", dir.File("other.csv"), "--bogus"},
      {"segment", "replay", dir.File("other.csv"), "--format", "xml"},
      {"segment", "replay", dir.File("junk.bin")},
      {"segment", "replay", dir.File("other.csv")},
      {"segment", "replay", dir.File("other.csv"), "--format", "uci"},
      {"segment", "replay", dir.File("bad.ndjson")},
      {"segment", "replay", dir.path()},
      {"segment", "replay", dir.File("other.csv"), "--url", "not-a-url"},
      {"segment", "generate", "--events", "10"},
      {"segment", "generate", "--out", dir.File("x"), "--drift", "sideways:1@5"},
      {"segment", "generate", "--out", dir.File("x"), "--drift", "grow:9@5"},
      {"segment", "generate", "--out", dir.File("x"), "--k", "9"},
      {"segment", "report"},
      {"segment", "report", "--url", "http://127.0.0.1:1", "--events", dir.File("x")},
      {"segment"},
  };
  for (const auto& args : cases) {
    std::string what;
    for (const auto& a : args) what += a + " ";
    ExpectOneErrorLine(Strata(args), 2, what);
  }
}

TEST(SegmentCliErrors, ReplayToDeadServiceExits1) {
  auto port = testing::FreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  testing::TempDir dir;
  std::ofstream(dir.File("one.ndjson"))
      << R"({"customer_id":"c1","ts":"2024-01-01T10:00:00Z","type":"purchase","amount":3})"
      << "\n";
  ExpectOneErrorLine(Strata({"segment", "replay", dir.File("one.ndjson"), "--url",
                             "http://127.0.0.1:" + std::to_string(*port)}),
                     1, "dead service");
}

TEST(SegmentCliServe, ExecsSiblingServiceOrExplains) {
  auto v = Strata({"segment", "serve", "--version"});
  EXPECT_EQ(v.exit_code, 0) << v.err;
  EXPECT_NE(v.out.find(kVersion), std::string::npos) << v.out;
  // A copy of strata without strata-segment beside it.
  testing::TempDir dir;
  const std::string lone = dir.File("strata");
  std::filesystem::copy_file(kStrata, lone);
  std::filesystem::permissions(lone, std::filesystem::perms::owner_all);
  auto r = testing::Run({lone, "segment", "serve", "--port", "0"});
  ASSERT_TRUE(r.ok());
  ExpectOneErrorLine(*r, 1, "serve without strata-segment");
  EXPECT_NE(r->err.find("strata-segment"), std::string::npos) << r->err;
}

}  // namespace
}  // namespace strata
