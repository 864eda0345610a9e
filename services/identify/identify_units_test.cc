// Unit tests of strata-identify's pieces: crop header parsing, hops, traceparent, the key file.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "crop_headers.h"
#include "gallery_key.h"
#include "strata/testing/fixtures.h"

namespace strata::identify_service {
namespace {

http::Request Crop(std::initializer_list<std::pair<std::string, std::string>> extra) {
  http::Request r;
  r.headers = {
      {"x-strata-camera", "porch"}, {"x-strata-track-id", "12"}, {"x-strata-kind", "face"}};
  for (const auto& [k, v] : extra) {
    r.headers.erase(k);
    r.headers.emplace(k, v);
  }
  return r;
}

std::string ManyHops(int n) {
  std::string h;
  for (int i = 0; i < n; ++i) h += (i ? ", " : "") + std::string("node;bytes=1;ms=1.00");
  return h;
}

TEST(CropHeadersTest, ParsesEveryHeaderDetectSends) {
  auto m = ParseCropMeta(
      Crop({{"x-strata-frame-id", "f:1.2"},
            {"x-strata-captured-at", "2026-11-30T10:00:00.123Z"},
            {"x-strata-box", "0.1000,0.2000,0.5000,0.9000"},
            {"x-strata-score", "0.876543"},
            {"x-strata-hops", "roof;bytes=51234;ms=3.10, detect;bytes=8123;ms=41.25"},
            {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->camera, "porch");
  EXPECT_EQ(m->track_id, 12);
  EXPECT_EQ(m->kind, "face");
  EXPECT_EQ(m->box, "0.1000,0.2000,0.5000,0.9000");
  EXPECT_EQ(m->traceparent, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
}

TEST(CropHeadersTest, MalformedHeadersNameTheHeader) {
  struct Case {
    std::string header, value;
  };
  for (const Case& c : std::vector<Case>{{"x-strata-camera", "Porch"},
                                         {"x-strata-camera", ""},
                                         {"x-strata-track-id", "0"},
                                         {"x-strata-track-id", "12a"},
                                         {"x-strata-track-id", ""},
                                         {"x-strata-kind", "Face"},
                                         {"x-strata-frame-id", "a b"},
                                         {"x-strata-captured-at", "2026-13-45"},
                                         {"x-strata-box", "0.1,0.2,0.3,0.4,"},
                                         {"x-strata-box", "0.1,0.2,0.3,1.01"},
                                         {"x-strata-score", "2"},
                                         {"x-strata-hops", "roof;bytes=1;ms=2,,"},
                                         {"x-strata-hops", ManyHops(33)},
                                         {"x-strata-camera", std::string(5000, 'a')},
                                         {"x-strata-box", std::string(5000, '0')}}) {
    auto m = ParseCropMeta(Crop({{c.header, c.value}}));
    ASSERT_FALSE(m.ok()) << c.header << "=" << c.value;
    EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
    std::string lower = m.status().message();
    for (char& ch : lower) ch = static_cast<char>(std::tolower(ch));
    EXPECT_NE(lower.find(c.header), std::string::npos) << m.status();
  }
  EXPECT_TRUE(ParseCropMeta(Crop({{"x-strata-hops", ManyHops(32)}})).ok());
  auto bad_trace = ParseCropMeta(Crop({{"traceparent", "garbage"}}));
  ASSERT_TRUE(bad_trace.ok());  // W3C: an invalid traceparent is ignored, not an error
  EXPECT_EQ(bad_trace->traceparent, "");
}

TEST(CropHeadersTest, ForwardHeadersCarryIdentityHopsAndAChildTrace) {
  auto m = ParseCropMeta(
      Crop({{"x-strata-hops", "detect;bytes=9;ms=1.00"},
            {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}));
  ASSERT_TRUE(m.ok());
  http::HeaderList h = ForwardHeaders(*m, {"known", "alice", 42.5, 80, "chi_square"}, 1234, 5.5);
  std::map<std::string, std::string> map(h.begin(), h.end());
  EXPECT_EQ(map["X-Strata-Camera"], "porch");
  EXPECT_EQ(map["X-Strata-Track-Id"], "12");
  EXPECT_EQ(map["X-Strata-Identity-Status"], "known");
  EXPECT_EQ(map["X-Strata-Identity-Name"], "alice");
  EXPECT_EQ(map["X-Strata-Identity-Score"], "42.5000");
  EXPECT_EQ(map["X-Strata-Identity-Threshold"], "80.0000");
  EXPECT_EQ(map["X-Strata-Identity-Metric"], "chi_square");
  EXPECT_EQ(map["X-Strata-Hops"], "detect;bytes=9;ms=1.00, identify;bytes=1234;ms=5.50");
  ASSERT_EQ(map["traceparent"].size(), 55u);
  EXPECT_EQ(map["traceparent"].substr(0, 36), "00-4bf92f3577b34da6a3ce929d0e0e4736-");
  EXPECT_NE(map["traceparent"].substr(36, 16), "00f067aa0ba902b7");
  EXPECT_EQ(map["traceparent"].substr(52), "-01");
  http::HeaderList none = ForwardHeaders(*m, {"no_face", "", 0, 80, "chi_square"}, 1, 1);
  for (const auto& [k, v] : none) EXPECT_NE(k, "X-Strata-Identity-Name");
  EXPECT_EQ(AppendHop("", 10, 2), "identify;bytes=10;ms=2.00");
}

TEST(GalleryKeyTest, CreatedOnceWithMode0600ThenReadBack) {
  strata::testing::TempDir dir;
  const std::string path = dir.File("sub/gallery.key");
  auto first = LoadOrCreateGalleryKey(path);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->size(), 32u);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = LoadOrCreateGalleryKey(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *first);
  ::chmod(path.c_str(), 0640);
  EXPECT_FALSE(LoadOrCreateGalleryKey(path).ok());
}

}  // namespace
}  // namespace strata::identify_service
