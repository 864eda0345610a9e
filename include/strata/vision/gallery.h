// Gallery: enrolled identities as face templates (embeddings or LBP histograms) plus metadata in
// SQLite — never raw photos. Each gallery is bound to one encoder backend (its metric and template
// dimension); templates of another backend are rejected. Identify() returns the best-matching
// person or "unknown" with the score and the threshold that decided it.
// Encryption at rest (face data is biometric): each person gets a random 32-byte key, stored
// wrapped (XChaCha20-Poly1305) under the gallery's master key; each template is sealed with its
// person's key (associated data = person + backend). Delete() drops the wrapped key, so deleted
// templates are unreadable even if their pages survive in the file (crypto-shredding).
// Thread-safety: NOT thread-safe (wraps one strata::store::Database); guard with a mutex or give
// it to one thread.
//
//   GalleryConfig cfg;  // lbph, chi-square, threshold 80
//   cfg.master_key = ReadSecretFile(key_path);  // 32 bytes; see GenerateGalleryKey()
//   STRATA_ASSIGN_OR_RETURN(auto g, Gallery::Open(cfg));
//   STRATA_RETURN_IF_ERROR(g->Enrol("alice", tmpl, "upload-1.jpg"));
//   STRATA_ASSIGN_OR_RETURN(Identity who, g->Identify(probe));
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "strata/core/status.h"
#include "strata/store/sqlite.h"
#include "strata/vision/face_recognition.h"

namespace strata::vision {

inline constexpr size_t kGalleryKeyBytes = 32;
// 32 random bytes for GalleryConfig::master_key (store it in a secret file, never in argv/logs).
std::vector<uint8_t> GenerateGalleryKey();

struct GalleryConfig {
  std::string path = "var/gallery.db";  // ":memory:" for tests
  std::vector<uint8_t> master_key;      // kGalleryKeyBytes; required unless allow_plaintext
  bool allow_plaintext = false;         // development only: templates stored unencrypted
  std::string backend = "lbph";         // encoder name stored with every template
  FaceMetric metric = FaceMetric::kChiSquare;
  double threshold = 80.0;  // same-person decision, in the metric's units
  int max_templates_per_person = 50;
};

struct PersonInfo {
  std::string name;
  int templates = 0;
  std::string created_at;  // RFC 3339 UTC
};

struct Identity {
  bool known = false;
  std::string name;  // best candidate (also reported when unknown, for diagnostics)
  double score = 0;  // best score in the metric's units
  double threshold = 0;
  FaceMetric metric = FaceMetric::kCosine;
  std::string status() const { return known ? "known" : "unknown"; }
};

class Gallery {
 public:
  using Config = GalleryConfig;
  // Opens/creates the database and loads the templates of `backend`. InvalidArgument for a bad
  // name/threshold/key size, PermissionDenied when the master key does not open the stored keys,
  // store errors otherwise.
  static Result<std::unique_ptr<Gallery>> Open(const Config& config);
  ~Gallery();  // wipes the unwrapped keys from memory

  // Adds one template for `name` ([A-Za-z0-9 _.-], 1..64 chars). InvalidArgument for a bad name or
  // a template of the wrong size; ResourceExhausted past max_templates_per_person.
  Status Enrol(const std::string& name, const std::vector<float>& tmpl,
               const std::string& source = "");
  std::vector<PersonInfo> List() const;
  // NotFound when the person is not enrolled. Removes all of their templates and their key, then
  // truncates the WAL (crypto-shredding).
  Status Delete(const std::string& name);
  // Best match over all templates. An empty gallery gives unknown with score 0.
  Result<Identity> Identify(const std::vector<float>& probe) const;
  size_t size() const { return people_.size(); }

 private:
  struct Entry {
    std::string name;
    std::vector<float> tmpl;
  };
  Gallery(Config c, std::unique_ptr<store::Database> db)
      : config_(std::move(c)), db_(std::move(db)) {}
  Status Load();
  Config config_;
  std::unique_ptr<store::Database> db_;
  std::vector<Entry> entries_;
  std::vector<PersonInfo> people_;
  std::map<std::string, std::vector<uint8_t>> keys_;  // person → unwrapped key (encrypted mode)
  int dim_ = 0;
};

}  // namespace strata::vision
