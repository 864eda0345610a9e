// Gallery: enrolled identities as face templates (embeddings or LBP histograms) plus metadata in
// SQLite — never raw photos. Each gallery is bound to one encoder backend (its metric and template
// dimension); templates of another backend are rejected. Identify() returns the best-matching
// person or "unknown" with the score and the threshold that decided it.
// Encryption at rest (face data is biometric): each person gets a random 32-byte key, stored
// wrapped (XChaCha20-Poly1305) under the gallery's master key; each template is sealed with its
// person's key (associated data = person + backend). Delete() drops the wrapped key, so deleted
// templates are unreadable even if their pages survive in the file (crypto-shredding).
// Idempotent enrolment: EnrolOnce(message_id, ...) records the sender's message id and the answer
// it got in `gallery_message` in the same transaction as the template row, so a resend of an id
// whose first answer was lost (crash, partition) returns that answer and adds no template.
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
#include <functional>
#include <map>
#include <optional>
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

struct EnrolOnceResult {
  bool duplicate = false;  // the id was already recorded: nothing was added
  int templates = 0;       // the person's templates after this enrolment (0 for a duplicate)
  std::string answer;      // the stored answer (the first one, for a duplicate)
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
  // Enrol keyed by a sender's message id (1..128 chars): the template row and (message_id, person,
  // answer(templates after it)) are committed in one transaction. An id already recorded returns
  // its stored answer with duplicate = true and changes nothing (checked before the name, size and
  // limit checks, so a resend gets the first answer even if the person is now at the limit).
  Result<EnrolOnceResult> EnrolOnce(const std::string& message_id, const std::string& name,
                                    const std::vector<float>& tmpl, const std::string& source,
                                    const std::function<std::string(int templates)>& answer);
  // The answer recorded for `message_id`, nullopt when it is unknown.
  Result<std::optional<std::string>> MessageAnswer(const std::string& message_id) const;
  std::vector<PersonInfo> List() const;
  // NotFound when the person is not enrolled. Removes all of their templates, their key and the
  // message ids that enrolled them, then truncates the WAL (crypto-shredding). A later resend of
  // such an id enrols again.
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
  // Validates and seals one template; runs the inserts (plus `extra`, inside the transaction)
  // and updates the in-memory state after the commit.
  Status AddTemplate(const std::string& name, const std::vector<float>& tmpl,
                     const std::string& source, const std::function<Status(int templates)>& extra);
  Config config_;
  std::unique_ptr<store::Database> db_;
  std::vector<Entry> entries_;
  std::vector<PersonInfo> people_;
  std::map<std::string, std::vector<uint8_t>> keys_;  // person → unwrapped key (encrypted mode)
  int dim_ = 0;
};

}  // namespace strata::vision
