// Gallery unit tests: enrol/identify/delete, encryption at rest, limits, idempotent enrolment by
// message id (EnrolOnce) and the schema migration; real SQLite files under the test temp dir.
#include "strata/vision/gallery.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <opencv2/imgproc.hpp>

namespace strata::vision {
namespace {

// One key per test process; a real service reads it from a secret file.
std::vector<uint8_t> TestKey() {
  static const std::vector<uint8_t> key = GenerateGalleryKey();
  return key;
}

std::string TempDb(const std::string& name) {
  std::string p = ::testing::TempDir() + "/strata_gallery_" + name + ".db";
  std::filesystem::remove(p);
  std::filesystem::remove(p + "-wal");
  std::filesystem::remove(p + "-shm");
  return p;
}

std::vector<float> Unit(std::vector<float> v) {
  double n = 0;
  for (float x : v) n += x * x;
  for (float& x : v) x = static_cast<float>(x / std::sqrt(n));
  return v;
}

TEST(VisionGalleryTest, EnrolIdentifyListDeleteAndPersist) {
  std::string path = TempDb("persist");
  GalleryConfig cfg{.path = path,
                    .master_key = TestKey(),
                    .backend = "test",
                    .metric = FaceMetric::kCosine,
                    .threshold = 0.5};
  {
    auto g = Gallery::Open(cfg);
    ASSERT_TRUE(g.ok()) << g.status();
    ASSERT_TRUE((*g)->Enrol("alice", Unit({1, 0, 0, 0}), "a1.jpg").ok());
    ASSERT_TRUE((*g)->Enrol("alice", Unit({1, 0.2f, 0, 0}), "a2.jpg").ok());
    ASSERT_TRUE((*g)->Enrol("bob", Unit({0, 1, 0, 0})).ok());
    EXPECT_EQ((*g)->Enrol("carol", {1, 2, 3}).code(), StatusCode::kInvalidArgument);  // dim
    EXPECT_EQ((*g)->Enrol("bad/name", Unit({0, 0, 1, 0})).code(), StatusCode::kInvalidArgument);
  }
  auto g = Gallery::Open(cfg);  // reopened: everything came back from SQLite
  ASSERT_TRUE(g.ok());
  auto list = (*g)->List();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].name, "alice");
  EXPECT_EQ(list[0].templates, 2);
  EXPECT_EQ(list[1].name, "bob");

  auto a = (*g)->Identify(Unit({0.9f, 0.1f, 0.1f, 0}));
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->known);
  EXPECT_EQ(a->name, "alice");
  EXPECT_GT(a->score, 0.9);
  EXPECT_EQ(a->status(), "known");
  auto u = (*g)->Identify(Unit({0, 0, 1, 0.2f}));
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->known);
  EXPECT_EQ(u->status(), "unknown");
  EXPECT_DOUBLE_EQ(u->threshold, 0.5);

  ASSERT_TRUE((*g)->Delete("alice").ok());
  EXPECT_EQ((*g)->Delete("alice").code(), StatusCode::kNotFound);
  auto after = (*g)->Identify(Unit({1, 0, 0, 0}));
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->known);
  EXPECT_EQ(after->name, "bob");
  g->reset();
  auto g2 = Gallery::Open(cfg);
  ASSERT_TRUE(g2.ok());
  EXPECT_EQ((*g2)->List().size(), 1u);
}

TEST(VisionGalleryTest, ChiSquareIsADistance) {
  auto g = Gallery::Open({.path = TempDb("chi"),
                          .master_key = TestKey(),
                          .backend = "lbph",
                          .metric = FaceMetric::kChiSquare,
                          .threshold = 0.5});
  ASSERT_TRUE(g.ok());
  ASSERT_TRUE((*g)->Enrol("p", {0.5f, 0.5f, 0, 0}).ok());
  auto same = (*g)->Identify({0.5f, 0.5f, 0, 0});
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->known);
  EXPECT_DOUBLE_EQ(same->score, 0.0);
  auto other = (*g)->Identify({0, 0, 0.5f, 0.5f});
  EXPECT_FALSE(other->known);
  EXPECT_DOUBLE_EQ(other->score, 2.0 * (0.5 + 0.5 + 0.5 + 0.5));
}

TEST(VisionGalleryTest, PerPersonLimitAndEmptyGallery) {
  auto g = Gallery::Open({.path = TempDb("limit"),
                          .master_key = TestKey(),
                          .backend = "t",
                          .metric = FaceMetric::kCosine,
                          .threshold = 0.4,
                          .max_templates_per_person = 2});
  ASSERT_TRUE(g.ok());
  auto empty = (*g)->Identify({1, 0});
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->known);
  ASSERT_TRUE((*g)->Enrol("p", {1, 0}).ok());
  ASSERT_TRUE((*g)->Enrol("p", {1, 0}).ok());
  EXPECT_EQ((*g)->Enrol("p", {1, 0}).code(), StatusCode::kResourceExhausted);
  EXPECT_FALSE(Gallery::Open({.path = TempDb("x"), .master_key = TestKey(), .threshold = -1}).ok());
}

TEST(VisionGalleryTest, TemplatesAreEncryptedAtRestAndKeysAreChecked) {
  std::string path = TempDb("crypto");
  std::vector<float> tmpl = Unit({0.11f, 0.22f, 0.33f, 0.44f, 0.55f, 0.66f, 0.77f, 0.88f});
  GalleryConfig cfg;
  cfg.path = path;
  cfg.master_key = TestKey();
  cfg.backend = "test";
  cfg.metric = FaceMetric::kCosine;
  cfg.threshold = 0.5;
  {
    auto g = Gallery::Open(cfg);
    ASSERT_TRUE(g.ok()) << g.status();
    ASSERT_TRUE((*g)->Enrol("alice", tmpl).ok());
    ASSERT_TRUE((*g)->Enrol("bob", Unit({1, 0, 0, 0, 0, 0, 0, 0})).ok());
    // Bob's wrapped key, read with a second connection, must be gone from every file after Delete.
    std::string bob_key;
    {
      auto raw_db = store::Database::Open(path);
      ASSERT_TRUE(raw_db.ok());
      auto st = (*raw_db)->Prepare("SELECT wrapped_key FROM gallery_person WHERE name = 'bob'");
      ASSERT_TRUE(st.ok());
      ASSERT_TRUE(*st->Step());
      std::vector<uint8_t> k = st->ColumnBlob(0);
      bob_key.assign(k.begin(), k.end());
    }
    ASSERT_EQ(bob_key.size(), 32u + 24u + 16u);  // key + nonce + tag
    ASSERT_TRUE((*g)->Delete("bob").ok());
    for (const char* suffix : {"", "-wal"}) {
      std::ifstream in(path + suffix, std::ios::binary);
      std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      EXPECT_EQ(file.find(bob_key), std::string::npos) << "wrapped key survives in " << suffix;
    }
  }
  // The raw bytes of the template never reach the file (or its WAL).
  std::string raw(reinterpret_cast<const char*>(tmpl.data()), tmpl.size() * sizeof(float));
  for (const char* suffix : {"", "-wal"}) {
    std::ifstream in(path + suffix, std::ios::binary);
    std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(file.find(raw), std::string::npos) << "plaintext template found in " << suffix;
  }
  // The right key reads it back; a wrong key is PermissionDenied; no key / plaintext is refused.
  auto again = Gallery::Open(cfg);
  ASSERT_TRUE(again.ok()) << again.status();
  auto who = (*again)->Identify(tmpl);
  ASSERT_TRUE(who.ok());
  EXPECT_TRUE(who->known);
  EXPECT_EQ(who->name, "alice");
  EXPECT_NEAR(who->score, 1.0, 1e-5);
  again->reset();
  GalleryConfig wrong = cfg;
  wrong.master_key = GenerateGalleryKey();
  EXPECT_EQ(Gallery::Open(wrong).status().code(), StatusCode::kPermissionDenied);
  GalleryConfig none = cfg;
  none.master_key.clear();
  EXPECT_NE(Gallery::Open(none).status().message().find("gallery.master_key: required"),
            std::string::npos);
  none.allow_plaintext = true;
  EXPECT_EQ(Gallery::Open(none).status().code(), StatusCode::kFailedPrecondition);
  GalleryConfig short_key = cfg;
  short_key.master_key.resize(16);
  EXPECT_EQ(Gallery::Open(short_key).status().code(), StatusCode::kInvalidArgument);
}

TEST(VisionGalleryTest, PlaintextModeWhenExplicitlyAllowed) {
  GalleryConfig cfg;
  cfg.path = TempDb("plain");
  cfg.allow_plaintext = true;
  cfg.backend = "test";
  cfg.metric = FaceMetric::kCosine;
  cfg.threshold = 0.5;
  auto g = Gallery::Open(cfg);
  ASSERT_TRUE(g.ok()) << g.status();
  std::vector<float> tmpl = Unit({0.11f, 0.22f, 0.33f, 0.44f, 0.55f, 0.66f, 0.77f, 0.88f});
  ASSERT_TRUE((*g)->Enrol("p", tmpl).ok());
  // Control for the encryption test: in plaintext mode the raw bytes are findable.
  std::string raw(reinterpret_cast<const char*>(tmpl.data()), tmpl.size() * sizeof(float));
  bool found = false;
  for (const char* suffix : {"", "-wal"}) {
    std::ifstream in(cfg.path + suffix, std::ios::binary);
    std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    found |= file.find(raw) != std::string::npos;
  }
  EXPECT_TRUE(found);
  g->reset();
  auto again = Gallery::Open(cfg);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)->Identify(tmpl)->known);
}

// The embedded default end to end without any asset: LBPH templates of two synthetic "faces",
// enrolled, then identified from noisy, shifted copies; a third pattern is unknown.
TEST(VisionGalleryTest, LbphEmbeddedDefaultOnSyntheticFaces) {
  auto enc = CreateFaceEncoder(FaceEncoderConfig());
  ASSERT_TRUE(enc.ok());
  EXPECT_EQ((*enc)->name(), "lbph");
  auto face = [](int variant) {
    cv::Mat m(112, 92, CV_8UC1, cv::Scalar(120));
    cv::RNG rng(variant);
    for (int k = 0; k < 40; ++k) {  // a fixed random texture per identity
      cv::Point c(rng.uniform(0, 92), rng.uniform(0, 112));
      cv::circle(m, c, rng.uniform(2, 9), cv::Scalar(rng.uniform(0, 255)), cv::FILLED);
    }
    return m;
  };
  auto probe = [&](int variant, int seed) {
    cv::Mat m = face(variant), noise(m.size(), CV_8SC1), out;
    cv::RNG(seed).fill(noise, cv::RNG::NORMAL, 0, 4);
    cv::add(m, noise, out, cv::noArray(), CV_8U);
    cv::Mat shift = (cv::Mat_<double>(2, 3) << 1, 0, 2, 0, 1, -1);
    cv::warpAffine(out, out, shift, out.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
    return out;
  };
  auto g = Gallery::Open({.path = TempDb("lbph_synth"),
                          .master_key = TestKey(),
                          .backend = "lbph",
                          .metric = (*enc)->metric(),
                          .threshold = (*enc)->default_threshold()});
  ASSERT_TRUE(g.ok());
  // Every image carries sensor noise (enrolment, probes and the stranger alike).
  ASSERT_TRUE((*g)->Enrol("one", *(*enc)->Encode(probe(1, 1), nullptr)).ok());
  ASSERT_TRUE((*g)->Enrol("two", *(*enc)->Encode(probe(2, 1), nullptr)).ok());
  double worst_genuine = 0;
  for (int seed = 10; seed < 15; ++seed) {
    auto a = (*g)->Identify(*(*enc)->Encode(probe(1, seed), nullptr));
    auto b = (*g)->Identify(*(*enc)->Encode(probe(2, seed), nullptr));
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->name, "one");
    EXPECT_EQ(b->name, "two");
    worst_genuine = std::max({worst_genuine, a->score, b->score});
  }
  auto stranger = (*g)->Identify(*(*enc)->Encode(probe(3, 99), nullptr));
  ASSERT_TRUE(stranger.ok());
  // Chi-square distance: the stranger is farther than every genuine probe.
  EXPECT_GT(stranger->score, worst_genuine);
}

// Rows in gallery_template / gallery_message, read with a second connection.
int64_t CountRows(const std::string& path, const std::string& table) {
  auto db = store::Database::Open(path);
  if (!db.ok()) return -1;
  auto st = (*db)->Prepare("SELECT COUNT(*) FROM " + table);
  if (!st.ok() || !st->Step().ok()) return -1;
  return st->ColumnInt(0);
}

std::string Answer(int templates) { return "{\"templates\":" + std::to_string(templates) + "}"; }

TEST(VisionGalleryTest, EnrolOnceStoresARepeatedMessageIdOnceAcrossReopens) {
  std::string path = TempDb("once");
  GalleryConfig cfg{.path = path,
                    .master_key = TestKey(),
                    .backend = "test",
                    .metric = FaceMetric::kCosine,
                    .threshold = 0.5,
                    .max_templates_per_person = 2};
  {
    auto g = Gallery::Open(cfg);
    ASSERT_TRUE(g.ok()) << g.status();
    auto first = (*g)->EnrolOnce("m-1", "alice", Unit({1, 0, 0}), "a.jpg", Answer);
    ASSERT_TRUE(first.ok()) << first.status();
    EXPECT_FALSE(first->duplicate);
    EXPECT_EQ(first->templates, 1);
    EXPECT_EQ(first->answer, Answer(1));
    auto again = (*g)->EnrolOnce("m-1", "alice", Unit({1, 0, 0}), "a.jpg", Answer);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_TRUE(again->duplicate);
    EXPECT_EQ(again->answer, Answer(1));
    EXPECT_EQ((*g)->List().at(0).templates, 1);
    // A different id is a different enrolment.
    auto second = (*g)->EnrolOnce("m-2", "alice", Unit({1, 0.1f, 0}), "b.jpg", Answer);
    ASSERT_TRUE(second.ok()) << second.status();
    EXPECT_FALSE(second->duplicate);
    EXPECT_EQ(second->answer, Answer(2));
    EXPECT_EQ((*g)->List().at(0).templates, 2);
  }
  EXPECT_EQ(CountRows(path, "gallery_template"), 2);
  EXPECT_EQ(CountRows(path, "gallery_message"), 2);
  {  // reopened (a restart): the ids are still known, even with alice at her template limit
    auto g = Gallery::Open(cfg);
    ASSERT_TRUE(g.ok()) << g.status();
    auto seen = (*g)->MessageAnswer("m-1");
    ASSERT_TRUE(seen.ok());
    ASSERT_TRUE(seen->has_value());
    EXPECT_EQ(**seen, Answer(1));
    auto again = (*g)->EnrolOnce("m-1", "alice", Unit({1, 0, 0}), "a.jpg", Answer);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_TRUE(again->duplicate);
    EXPECT_EQ(again->answer, Answer(1));
    EXPECT_EQ((*g)->EnrolOnce("m-3", "alice", Unit({0, 1, 0}), "", Answer).status().code(),
              StatusCode::kResourceExhausted);
    // Bad ids and names record nothing.
    EXPECT_EQ((*g)->EnrolOnce("", "bob", Unit({0, 1, 0}), "", Answer).status().code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(
        (*g)->EnrolOnce(std::string(129, 'x'), "bob", Unit({0, 1, 0}), "", Answer).status().code(),
        StatusCode::kInvalidArgument);
    EXPECT_EQ((*g)->EnrolOnce("m-4", "bad/name", Unit({0, 1, 0}), "", Answer).status().code(),
              StatusCode::kInvalidArgument);
    auto unknown = (*g)->MessageAnswer("m-4");
    ASSERT_TRUE(unknown.ok());
    EXPECT_FALSE(unknown->has_value());
    // Delete forgets the person's message ids with the templates (crypto-shredding).
    ASSERT_TRUE((*g)->Delete("alice").ok());
    auto forgotten = (*g)->MessageAnswer("m-1");
    ASSERT_TRUE(forgotten.ok());
    EXPECT_FALSE(forgotten->has_value());
  }
  EXPECT_EQ(CountRows(path, "gallery_template"), 0);
  EXPECT_EQ(CountRows(path, "gallery_message"), 0);
}

TEST(VisionGalleryTest, OpeningASchemaOneGalleryAddsTheMessageTable) {
  std::string path = TempDb("schema1");
  {  // the tables as they were before message ids, with one plaintext template
    auto db = store::Database::Open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("CREATE TABLE gallery_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                            "INSERT INTO gallery_meta VALUES('encryption', 'plaintext');"
                            "CREATE TABLE gallery_person(name TEXT PRIMARY KEY,"
                            "  created_at TEXT NOT NULL, wrapped_key BLOB);"
                            "CREATE TABLE gallery_template(id INTEGER PRIMARY KEY AUTOINCREMENT,"
                            "  person TEXT NOT NULL, backend TEXT NOT NULL, dim INTEGER NOT NULL,"
                            "  data BLOB NOT NULL, source TEXT, created_at TEXT NOT NULL);"
                            "INSERT INTO gallery_person VALUES('old', '2026-01-01T00:00:00Z',"
                            "  NULL);")
                    .ok());
    std::vector<float> t = {1, 0};
    auto ins = (*db)->Prepare(
        "INSERT INTO gallery_template(person, backend, dim, data, created_at) "
        "VALUES('old', 'test', 2, ?, '2026-01-01T00:00:00Z')");
    ASSERT_TRUE(ins.ok());
    ins->BindBlob(1, t.data(), t.size() * sizeof(float));
    ASSERT_TRUE(ins->Run().ok());
  }
  EXPECT_EQ(CountRows(path, "gallery_message"), -1);  // no such table yet
  auto g = Gallery::Open({.path = path,
                          .allow_plaintext = true,
                          .backend = "test",
                          .metric = FaceMetric::kCosine,
                          .threshold = 0.5});
  ASSERT_TRUE(g.ok()) << g.status();
  ASSERT_EQ((*g)->size(), 1u);
  auto once = (*g)->EnrolOnce("m-1", "old", {0.9f, 0.1f}, "", Answer);
  ASSERT_TRUE(once.ok()) << once.status();
  EXPECT_EQ(once->templates, 2);
  auto again = (*g)->EnrolOnce("m-1", "old", {0.9f, 0.1f}, "", Answer);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(CountRows(path, "gallery_template"), 2);
  EXPECT_EQ(CountRows(path, "gallery_message"), 1);
}

}  // namespace
}  // namespace strata::vision
