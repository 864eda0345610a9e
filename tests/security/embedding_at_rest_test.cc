// Face templates at rest: no 16-byte window of a plaintext template may be found in the gallery's
// SQLite files (db, -wal, -shm), with the library (known float vectors) and with the REAL
// strata-identify binary (its LBPH template, learned from a plaintext-mode run of the same image —
// which is also the positive control: there the windows ARE found). After DELETE the person's
// wrapped key is gone from every file (crypto-shredding), while another person's is still there.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgproc.hpp>

#include "security_harness.h"
#include "strata/store/sqlite.h"
#include "strata/vision/gallery.h"
#include "strata/vision/image_io.h"

namespace strata::security_test {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// db + WAL + shm bytes (missing files are empty).
std::string DbFiles(const std::string& db) {
  return ReadAll(db) + ReadAll(db + "-wal") + ReadAll(db + "-shm");
}

struct WindowScan {
  int windows = 0;  // distinctive 16-byte windows of the template
  int found = 0;    // of those, found in the bytes
};

// Every float-aligned 16-byte window of `tmpl` with >= 8 distinct byte values (runs of zeros
// or repeated values would match unrelated bytes), looked up in `bytes`.
WindowScan ScanWindows(const std::string& tmpl, const std::string& bytes) {
  WindowScan s;
  for (size_t i = 0; i + 16 <= tmpl.size(); i += 4) {
    std::string w = tmpl.substr(i, 16);
    std::sort(w.begin(), w.end());
    if (std::unique(w.begin(), w.end()) - w.begin() < 8) continue;
    ++s.windows;
    if (bytes.find(tmpl.substr(i, 16)) != std::string::npos) ++s.found;
  }
  return s;
}

std::string Blob(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

// One column blob of one row via a second connection ("" when absent).
std::string QueryBlob(const std::string& db, const std::string& sql) {
  auto d = store::Database::Open(db);
  if (!d.ok()) return "";
  auto st = (*d)->Prepare(sql);
  if (!st.ok()) return "";
  auto row = st->Step();
  return row.ok() && *row ? Blob(st->ColumnBlob(0)) : "";
}

std::vector<float> KnownTemplate(int dim, uint32_t seed) {
  std::vector<float> t(static_cast<size_t>(dim));
  for (float& v : t) {
    seed = seed * 1664525u + 1013904223u;
    v = 0.001f + static_cast<float>(seed >> 8) / static_cast<float>(1u << 24);
  }
  return t;
}

TEST(EmbeddingAtRest, GalleryLibraryStoresNoPlaintextWindowAndShredsOnDelete) {
  testing::TempDir dir;
  const std::vector<float> alice = KnownTemplate(256, 7), bob = KnownTemplate(256, 8);
  const std::string alice_bytes(reinterpret_cast<const char*>(alice.data()), alice.size() * 4);
  // Positive control: a plaintext gallery does hold the windows.
  {
    vision::GalleryConfig cfg{.path = dir.File("plain.db"), .allow_plaintext = true};
    auto g = vision::Gallery::Open(cfg);
    ASSERT_TRUE(g.ok()) << g.status();
    ASSERT_TRUE((*g)->Enrol("alice", alice).ok());
    WindowScan s = ScanWindows(alice_bytes, DbFiles(cfg.path));
    EXPECT_GT(s.windows, 200);
    EXPECT_EQ(s.found, s.windows) << "the scan cannot see a plaintext template";
  }
  vision::GalleryConfig cfg{.path = dir.File("gallery.db"), .master_key = vision::GenerateGalleryKey()};
  auto g = vision::Gallery::Open(cfg);
  ASSERT_TRUE(g.ok()) << g.status();
  ASSERT_TRUE((*g)->Enrol("alice", alice).ok());
  ASSERT_TRUE((*g)->Enrol("alice", KnownTemplate(256, 9)).ok());
  ASSERT_TRUE((*g)->Enrol("bob", bob).ok());
  auto who = (*g)->Identify(alice);
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->name, "alice");  // the template really is in there, encrypted
  // Scanned while open: the WAL is not checkpointed yet.
  WindowScan s = ScanWindows(alice_bytes, DbFiles(cfg.path));
  EXPECT_GT(s.windows, 200);
  EXPECT_EQ(s.found, 0) << "plaintext template bytes in the encrypted gallery";
  const std::string master(cfg.master_key.begin(), cfg.master_key.end());
  EXPECT_EQ(FindSecret(DbFiles(cfg.path), SecretForms(master)), "") << "master key in the db";
  const std::string alice_key =
      QueryBlob(cfg.path, "SELECT wrapped_key FROM gallery_person WHERE name = 'alice'");
  const std::string bob_key =
      QueryBlob(cfg.path, "SELECT wrapped_key FROM gallery_person WHERE name = 'bob'");
  ASSERT_GE(alice_key.size(), 32u);
  ASSERT_GE(bob_key.size(), 32u);
  ASSERT_NE(DbFiles(cfg.path).find(alice_key), std::string::npos);
  ASSERT_TRUE((*g)->Delete("alice").ok());
  const std::string after = DbFiles(cfg.path);
  EXPECT_EQ(after.find(alice_key), std::string::npos) << "alice's wrapped key survives Delete";
  EXPECT_NE(after.find(bob_key), std::string::npos) << "control: bob's wrapped key is kept";
}

// A synthetic 96x112 grey "face" (no face is found in it, so the whole image is the face).
std::string TestJpeg() {
  cv::Mat img(112, 96, CV_8UC1);
  for (int y = 0; y < img.rows; ++y)
    for (int x = 0; x < img.cols; ++x)
      img.at<uint8_t>(y, x) = static_cast<uint8_t>((x * 7 + y * 13 + (x * y) % 31) % 256);
  cv::circle(img, {30, 40}, 8, cv::Scalar(20), -1);
  cv::circle(img, {66, 40}, 8, cv::Scalar(20), -1);
  cv::rectangle(img, {30, 80}, {66, 88}, cv::Scalar(240), -1);
  auto jpeg = vision::EncodeJpeg(img, 90);
  return jpeg.ok() ? std::string(jpeg->begin(), jpeg->end()) : "";
}

// Starts a real strata-identify (auth off, loopback) whose gallery is <tmp>/<name>.db, with
// `gallery_yaml` appended under identify.gallery.
RunningService StartIdentify(const SecurityHarness& h, const std::string& name,
                             const std::string& gallery_yaml) {
  Result<RunningService> s = h.StartService(
      "identify", "identify:\n  gallery:\n    path: " + h.dir().File(name + ".db") + "\n" +
                      gallery_yaml);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? std::move(s).value() : RunningService{};
}

int Post(int port, const std::string& path, const std::string& jpeg) {
  return RawRequestTyped(port, "POST", path, jpeg, "image/jpeg").status;
}

TEST(EmbeddingAtRest, IdentifyProcessStoresNoPlaintextTemplate) {
  SecurityHarness h;
  ASSERT_EQ(h.error(), "");
  const std::string jpeg = TestJpeg();
  ASSERT_FALSE(jpeg.empty());
  // 1. Plaintext mode (development only) to learn the exact template bytes the service stores.
  RunningService plain = StartIdentify(h, "plain", "    allow_plaintext: true\n");
  ASSERT_NE(plain.port, 0);
  ASSERT_EQ(Post(plain.port, "/api/v1/gallery/alice", jpeg), 201) << plain.proc->Stderr();
  const std::string tmpl =
      QueryBlob(h.dir().File("plain.db"), "SELECT data FROM gallery_template WHERE person = 'alice'");
  ASSERT_GE(tmpl.size(), 256u);
  WindowScan control = ScanWindows(tmpl, DbFiles(h.dir().File("plain.db")));
  EXPECT_GT(control.windows, 32);
  EXPECT_EQ(control.found, control.windows);
  plain.proc->Signal(SIGTERM);
  (void)plain.proc->Wait(std::chrono::seconds(10));
  // 2. The shipped default: encrypted. Same image → same LBPH template.
  RunningService enc = StartIdentify(h, "enc", "");
  ASSERT_NE(enc.port, 0);
  ASSERT_EQ(Post(enc.port, "/api/v1/gallery/alice", jpeg), 201) << enc.proc->Stderr();
  ASSERT_EQ(Post(enc.port, "/api/v1/gallery/bob", TestJpeg()), 201);
  const std::string db = h.dir().File("enc.db");
  WindowScan s = ScanWindows(tmpl, DbFiles(db));
  EXPECT_EQ(s.windows, control.windows);
  EXPECT_EQ(s.found, 0) << "plaintext template windows in the encrypted gallery files";
  const std::string alice_key = QueryBlob(db, "SELECT wrapped_key FROM gallery_person WHERE name = 'alice'");
  ASSERT_GE(alice_key.size(), 32u);
  RawResponse del = RawRequest(enc.port, "DELETE", "/api/v1/gallery/alice", "");
  EXPECT_TRUE(del.status == 200 || del.status == 204) << del.status << " " << del.body;
  const std::string after = DbFiles(db);
  EXPECT_EQ(after.find(alice_key), std::string::npos) << "wrapped key survives DELETE";
  EXPECT_EQ(ScanWindows(tmpl, after).found, 0);
  const std::string key = ReadAll(h.dir().File("identify-data/gallery.key"));
  ASSERT_EQ(key.size(), 32u);
  enc.proc->Signal(SIGTERM);
  ASSERT_TRUE(enc.proc->Wait(std::chrono::seconds(10)).ok());
  EXPECT_EQ(FindSecret(enc.proc->Stdout() + enc.proc->Stderr(), SecretForms(key)), "");
  EXPECT_EQ(FindSecret(DbFiles(db), SecretForms(key)), "") << "gallery key in the db";
  std::printf("[at-rest] %d template windows, 0 found encrypted, %d found plaintext\n", s.windows,
              control.found);
}

}  // namespace
}  // namespace strata::security_test
