// Gallery implementation: schema (with the gallery_message migration), sealing, enrolment
// (plain and idempotent by message id), crypto-shredding delete and matching. See gallery.h.
#include "strata/vision/gallery.h"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "strata/core/clock.h"

namespace strata::vision {

namespace {

using Bytes = std::vector<uint8_t>;
constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;

Status InitSodium() {
  static const int rc = sodium_init();
  return rc < 0 ? InternalError("gallery: libsodium initialisation failed") : Status::Ok();
}

// nonce || ciphertext+tag. An empty key means plaintext mode: the data is stored as is.
Bytes Seal(const Bytes& key, const uint8_t* data, size_t size, const std::string& ad) {
  if (key.empty()) return Bytes(data, data + size);
  Bytes out(kNonce + size + kTag);
  randombytes_buf(out.data(), kNonce);
  unsigned long long len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + kNonce, &len, data, size,
                                             reinterpret_cast<const uint8_t*>(ad.data()), ad.size(),
                                             nullptr, out.data(), key.data());
  out.resize(kNonce + len);
  return out;
}

Result<Bytes> Unseal(const Bytes& key, const Bytes& blob, const std::string& ad) {
  if (key.empty()) return blob;
  if (blob.size() < kNonce + kTag) return DataLossError("gallery: sealed blob too short");
  Bytes out(blob.size() - kNonce - kTag);
  unsigned long long len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          out.data(), &len, nullptr, blob.data() + kNonce, blob.size() - kNonce,
          reinterpret_cast<const uint8_t*>(ad.data()), ad.size(), blob.data(), key.data()) != 0) {
    return PermissionDeniedError("gallery: cannot decrypt (" + ad + "): wrong key or tampered");
  }
  out.resize(len);
  return out;
}

Status CheckName(const std::string& name) {
  if (name.empty() || name.size() > 64) {
    return InvalidArgumentError("gallery: person name must be 1..64 characters");
  }
  for (char c : name) {
    bool ok =
        std::isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == '_' || c == '.' || c == '-';
    if (!ok) {
      return InvalidArgumentError("gallery: person name '" + name +
                                  "' may only contain letters, digits, space, '_', '.', '-'");
    }
  }
  return Status::Ok();
}

}  // namespace

std::vector<uint8_t> GenerateGalleryKey() {
  (void)InitSodium();
  Bytes key(kGalleryKeyBytes);
  randombytes_buf(key.data(), key.size());
  return key;
}

Gallery::~Gallery() {
  for (auto& [name, key] : keys_) sodium_memzero(key.data(), key.size());
}

Result<std::unique_ptr<Gallery>> Gallery::Open(const Config& config) {
  STRATA_RETURN_IF_ERROR(CheckName(config.backend).WithContext("gallery.backend"));
  if (!(config.threshold >= 0)) return InvalidArgumentError("gallery.threshold: must be >= 0");
  if (config.max_templates_per_person < 1) {
    return InvalidArgumentError("gallery.max_templates_per_person: must be >= 1");
  }
  if (config.master_key.empty() && !config.allow_plaintext) {
    return InvalidArgumentError(
        "gallery.master_key: required (face templates are encrypted at rest); set "
        "allow_plaintext only for development");
  }
  if (!config.master_key.empty() && config.master_key.size() != kGalleryKeyBytes) {
    return InvalidArgumentError("gallery.master_key: must be " + std::to_string(kGalleryKeyBytes) +
                                " bytes, got " + std::to_string(config.master_key.size()));
  }
  STRATA_RETURN_IF_ERROR(InitSodium());
  STRATA_ASSIGN_OR_RETURN(auto db, store::Database::Open(config.path));
  STRATA_RETURN_IF_ERROR(
      db->Exec("PRAGMA secure_delete = ON;"
               "CREATE TABLE IF NOT EXISTS gallery_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
               "CREATE TABLE IF NOT EXISTS gallery_person("
               "  name TEXT PRIMARY KEY, created_at TEXT NOT NULL, wrapped_key BLOB);"
               "CREATE TABLE IF NOT EXISTS gallery_template("
               "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
               "  person TEXT NOT NULL REFERENCES gallery_person(name) ON DELETE CASCADE,"
               "  backend TEXT NOT NULL, dim INTEGER NOT NULL, data BLOB NOT NULL,"
               "  source TEXT, created_at TEXT NOT NULL);"
               "CREATE INDEX IF NOT EXISTS gallery_template_person ON gallery_template(person);"
               // Schema 2 (added to older files at open): message ids of idempotent enrolments.
               "CREATE TABLE IF NOT EXISTS gallery_message("
               "  id TEXT PRIMARY KEY, person TEXT NOT NULL, answer TEXT NOT NULL,"
               "  created_at TEXT NOT NULL);"
               "CREATE INDEX IF NOT EXISTS gallery_message_person ON gallery_message(person);"
               "INSERT OR REPLACE INTO gallery_meta(key, value) VALUES('schema', '2');"));
  const std::string mode = config.master_key.empty() ? "plaintext" : "xchacha20poly1305";
  STRATA_ASSIGN_OR_RETURN(
      auto ins,
      db->Prepare("INSERT OR IGNORE INTO gallery_meta(key, value) VALUES('encryption', ?)"));
  ins.Bind(1, mode);
  STRATA_RETURN_IF_ERROR(ins.Run());
  STRATA_ASSIGN_OR_RETURN(auto q,
                          db->Prepare("SELECT value FROM gallery_meta WHERE key = 'encryption'"));
  STRATA_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row || q.ColumnText(0) != mode) {
    return FailedPreconditionError("gallery '" + config.path + "' is stored " +
                                   (row ? q.ColumnText(0) : std::string("?")) + " but was opened " +
                                   mode);
  }
  std::unique_ptr<Gallery> g(new Gallery(config, std::move(db)));
  STRATA_RETURN_IF_ERROR(g->Load());
  return g;
}

Status Gallery::Load() {
  entries_.clear();
  people_.clear();
  keys_.clear();
  const bool encrypted = !config_.master_key.empty();
  STRATA_ASSIGN_OR_RETURN(
      auto ps,
      db_->Prepare(
          "SELECT p.name, p.created_at, p.wrapped_key, "
          "  (SELECT COUNT(*) FROM gallery_template t WHERE t.person = p.name AND t.backend = ?) "
          "FROM gallery_person p ORDER BY p.name"));
  ps.Bind(1, config_.backend);
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool row, ps.Step());
    if (!row) break;
    std::string name = ps.ColumnText(0);
    if (encrypted) {
      auto key = Unseal(config_.master_key, ps.ColumnBlob(2), "person-key|" + name);
      if (!key.ok()) {
        return PermissionDeniedError("gallery '" + config_.path +
                                     "': the master key does not open the stored person keys");
      }
      keys_[name] = std::move(*key);
    }
    people_.push_back({name, static_cast<int>(ps.ColumnInt(3)), ps.ColumnText(1)});
  }
  STRATA_ASSIGN_OR_RETURN(
      auto st,
      db_->Prepare("SELECT person, dim, data FROM gallery_template WHERE backend = ? ORDER BY id"));
  st.Bind(1, config_.backend);
  while (true) {
    STRATA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    Entry e;
    e.name = st.ColumnText(0);
    int dim = static_cast<int>(st.ColumnInt(1));
    const Bytes& key = encrypted ? keys_[e.name] : Bytes();
    STRATA_ASSIGN_OR_RETURN(Bytes blob,
                            Unseal(key, st.ColumnBlob(2), e.name + "|" + config_.backend));
    if (blob.size() != dim * sizeof(float)) {
      return DataLossError("gallery: template of '" + e.name + "' has a wrong size");
    }
    e.tmpl.resize(dim);
    std::memcpy(e.tmpl.data(), blob.data(), blob.size());
    sodium_memzero(blob.data(), blob.size());
    dim_ = dim;
    entries_.push_back(std::move(e));
  }
  return Status::Ok();
}

Status Gallery::Enrol(const std::string& name, const std::vector<float>& tmpl,
                      const std::string& source) {
  return AddTemplate(name, tmpl, source, nullptr);
}

Result<std::optional<std::string>> Gallery::MessageAnswer(const std::string& message_id) const {
  STRATA_ASSIGN_OR_RETURN(auto st, db_->Prepare("SELECT answer FROM gallery_message WHERE id = ?"));
  st.Bind(1, message_id);
  STRATA_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(st.ColumnText(0));
}

Result<EnrolOnceResult> Gallery::EnrolOnce(
    const std::string& message_id, const std::string& name, const std::vector<float>& tmpl,
    const std::string& source, const std::function<std::string(int templates)>& answer) {
  if (message_id.empty() || message_id.size() > 128)
    return InvalidArgumentError("gallery: message id must be 1..128 characters");
  EnrolOnceResult out;
  STRATA_ASSIGN_OR_RETURN(std::optional<std::string> prior, MessageAnswer(message_id));
  if (prior) {
    out.duplicate = true;
    out.answer = std::move(*prior);
    return out;
  }
  STRATA_RETURN_IF_ERROR(AddTemplate(name, tmpl, source, [&](int templates) -> Status {
    out.templates = templates;
    out.answer = answer ? answer(templates) : std::string();
    STRATA_ASSIGN_OR_RETURN(
        auto m, db_->Prepare("INSERT INTO gallery_message(id, person, answer, created_at) "
                             "VALUES(?, ?, ?, ?)"));
    m.Bind(1, message_id).Bind(2, name).Bind(3, out.answer);
    m.Bind(4, FormatRfc3339(Clock::Real()->Now()));
    return m.Run();  // a recorded id violates the primary key: the whole enrolment rolls back
  }));
  return out;
}

Status Gallery::AddTemplate(const std::string& name, const std::vector<float>& tmpl,
                            const std::string& source,
                            const std::function<Status(int templates)>& extra) {
  STRATA_RETURN_IF_ERROR(CheckName(name));
  if (tmpl.empty()) return InvalidArgumentError("gallery: empty template");
  if (dim_ != 0 && static_cast<int>(tmpl.size()) != dim_) {
    return InvalidArgumentError("gallery: template has " + std::to_string(tmpl.size()) +
                                " values, this " + config_.backend + " gallery holds " +
                                std::to_string(dim_));
  }
  auto it = std::find_if(people_.begin(), people_.end(),
                         [&](const PersonInfo& p) { return p.name == name; });
  if (it != people_.end() && it->templates >= config_.max_templates_per_person) {
    return ResourceExhaustedError("gallery: '" + name + "' already has " +
                                  std::to_string(it->templates) + " templates (limit)");
  }
  const bool encrypted = !config_.master_key.empty();
  Bytes key;
  if (encrypted) {
    auto k = keys_.find(name);
    key = k != keys_.end() ? k->second : GenerateGalleryKey();
  }
  Bytes wrapped =
      encrypted ? Seal(config_.master_key, key.data(), key.size(), "person-key|" + name) : Bytes();
  Bytes sealed = Seal(key, reinterpret_cast<const uint8_t*>(tmpl.data()),
                      tmpl.size() * sizeof(float), name + "|" + config_.backend);
  std::string now = FormatRfc3339(Clock::Real()->Now());
  STRATA_RETURN_IF_ERROR(db_->Transaction([&]() -> Status {
    STRATA_ASSIGN_OR_RETURN(
        auto p,
        db_->Prepare(
            "INSERT OR IGNORE INTO gallery_person(name, created_at, wrapped_key) VALUES(?, ?, ?)"));
    p.Bind(1, name).Bind(2, now);
    if (encrypted) {
      p.BindBlob(3, wrapped.data(), wrapped.size());
    } else {
      p.BindNull(3);
    }
    STRATA_RETURN_IF_ERROR(p.Run());
    STRATA_ASSIGN_OR_RETURN(
        auto t,
        db_->Prepare("INSERT INTO gallery_template(person, backend, dim, data, source, created_at) "
                     "VALUES(?, ?, ?, ?, ?, ?)"));
    t.Bind(1, name).Bind(2, config_.backend).Bind(3, static_cast<int>(tmpl.size()));
    t.BindBlob(4, sealed.data(), sealed.size()).Bind(5, source).Bind(6, now);
    STRATA_RETURN_IF_ERROR(t.Run());
    return extra ? extra((it != people_.end() ? it->templates : 0) + 1) : Status::Ok();
  }));
  if (encrypted) keys_[name] = std::move(key);
  dim_ = static_cast<int>(tmpl.size());
  entries_.push_back({name, tmpl});
  if (it != people_.end()) {
    ++it->templates;
  } else {
    people_.push_back({name, 1, now});
    std::sort(people_.begin(), people_.end(),
              [](const PersonInfo& a, const PersonInfo& b) { return a.name < b.name; });
  }
  return Status::Ok();
}

std::vector<PersonInfo> Gallery::List() const { return people_; }

Status Gallery::Delete(const std::string& name) {
  STRATA_RETURN_IF_ERROR(CheckName(name));
  STRATA_RETURN_IF_ERROR(db_->Transaction([&]() -> Status {
    STRATA_ASSIGN_OR_RETURN(auto t, db_->Prepare("DELETE FROM gallery_template WHERE person = ?"));
    t.Bind(1, name);
    STRATA_RETURN_IF_ERROR(t.Run());
    STRATA_ASSIGN_OR_RETURN(auto m, db_->Prepare("DELETE FROM gallery_message WHERE person = ?"));
    m.Bind(1, name);
    STRATA_RETURN_IF_ERROR(m.Run());
    STRATA_ASSIGN_OR_RETURN(auto p, db_->Prepare("DELETE FROM gallery_person WHERE name = ?"));
    p.Bind(1, name);
    STRATA_RETURN_IF_ERROR(p.Run());
    if (db_->Changes() == 0) return NotFoundError("gallery: '" + name + "' is not enrolled");
    return Status::Ok();
  }));
  if (auto k = keys_.find(name); k != keys_.end()) {
    sodium_memzero(k->second.data(), k->second.size());
    keys_.erase(k);
  }
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [&](const Entry& e) { return e.name == name; }),
                 entries_.end());
  people_.erase(std::remove_if(people_.begin(), people_.end(),
                               [&](const PersonInfo& p) { return p.name == name; }),
                people_.end());
  if (entries_.empty()) dim_ = 0;
  // Older copies of the deleted wrapped key may sit in the WAL; truncate it so the shred is final.
  return db_->Checkpoint();
}

Result<Identity> Gallery::Identify(const std::vector<float>& probe) const {
  if (probe.empty()) return InvalidArgumentError("gallery: empty probe template");
  if (dim_ != 0 && static_cast<int>(probe.size()) != dim_) {
    return InvalidArgumentError("gallery: probe has " + std::to_string(probe.size()) +
                                " values, expected " + std::to_string(dim_));
  }
  Identity id;
  id.metric = config_.metric;
  id.threshold = config_.threshold;
  bool higher = config_.metric == FaceMetric::kCosine;
  bool first = true;
  for (const Entry& e : entries_) {
    double s = CompareTemplates(config_.metric, probe, e.tmpl);
    if (first || (higher ? s > id.score : s < id.score)) {
      id.score = s;
      id.name = e.name;
      first = false;
    }
  }
  id.known = !first && IsMatch(config_.metric, id.score, config_.threshold);
  return id;
}

}  // namespace strata::vision
