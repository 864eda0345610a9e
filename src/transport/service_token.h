// Signed service tokens: who is calling (principal + tier), until when, signed with a rotating key.
//
// Format: st1.<base64url(claims JSON)>.<base64url(HMAC-SHA256(key, "st1.<claims>"))>, claims
// {"sub": principal, "tier": tier, "iat": unix s, "exp": unix s, "kid": key id}. A key file holds
// one key per line, "<kid> <64 hex chars = 32-byte secret>" ('#' comments); the LAST key signs and
// every listed key verifies, so rotation = append a key (new tokens), wait for old tokens to
// expire, delete the old line. Secrets and tokens never appear in any Status message.
// Thread-safety: KeySet is an immutable value; KeyFileVerifier and TokenFile are thread-safe and
// re-read their file when it changes on disk (rotation without restart).
//
//   STRATA_ASSIGN_OR_RETURN(KeySet keys, KeySet::LoadFile("var/keys"));
//   STRATA_ASSIGN_OR_RETURN(std::string t, IssueToken(keys, "detect", "fog", std::chrono::hours(24)));
//   Result<TokenClaims> c = VerifyToken(t, keys);  // Unauthenticated "token expired" / "invalid token"
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "strata/core/status.h"

namespace strata::auth {

inline constexpr std::string_view kTokenPrefix = "st1.";
inline constexpr size_t kMaxTokenBytes = 4096;

struct TokenClaims {
  std::string sub;   // principal: service name, e.g. "detect"
  std::string tier;  // edge | roof | fog | cloud (free text, matched by `tier:<t>` allow rules)
  int64_t iat = 0, exp = 0;
  std::string kid;
};

struct SigningKey {
  std::string kid;
  std::string secret;  // 32 raw bytes
};

class KeySet {
 public:
  // Parses key-file text; InvalidArgument naming `source` and the line (never the secret).
  static Result<KeySet> Parse(std::string_view text, const std::string& source);
  // NotFound when unreadable, InvalidArgument when malformed or empty.
  static Result<KeySet> LoadFile(const std::string& path);
  const SigningKey* Newest() const { return keys_.empty() ? nullptr : &keys_.back(); }
  const SigningKey* Find(std::string_view kid) const;
  const std::vector<SigningKey>& keys() const { return keys_; }

 private:
  std::vector<SigningKey> keys_;
};

// A new random key line "<kid> <hex>\n" (kid = "k" + UTC yyyymmddhhmmss + 4 random hex).
Result<std::string> NewKeyLine();

// Signs claims {sub, tier, iat=now, exp=now+ttl, kid=newest key}. InvalidArgument for an empty
// key set, empty sub, a sub/tier with characters outside [A-Za-z0-9._-], or ttl <= 0.
Result<std::string> IssueToken(const KeySet& keys, const std::string& sub, const std::string& tier,
                               std::chrono::seconds ttl,
                               std::chrono::system_clock::time_point now =
                                   std::chrono::system_clock::now());

// Unauthenticated("invalid token") for anything malformed, an unknown kid or a bad signature;
// Unauthenticated("token expired") for a correctly signed token with exp <= now.
Result<TokenClaims> VerifyToken(std::string_view token, const KeySet& keys,
                                std::chrono::system_clock::time_point now =
                                    std::chrono::system_clock::now());

// True when `claims` match an allow rule: a principal name equal to sub, or "tier:<t>" equal to
// "tier:" + tier, or "*". An empty list allows every valid token.
bool Allowed(const TokenClaims& claims, const std::vector<std::string>& allow);

// File identity used to notice changes (inode, size, mtime in ns).
struct FileStamp {
  ino_t ino = 0;
  off_t size = -1;
  int64_t mtime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};
Result<FileStamp> StatFile(const std::string& path);

// Verifies with the keys of a key file, reloading it when it changes. A reload that fails keeps
// the previous keys (logged once per change, without secrets).
class KeyFileVerifier {
 public:
  static Result<std::unique_ptr<KeyFileVerifier>> Create(const std::string& path);
  Result<TokenClaims> Verify(std::string_view token,
                             std::chrono::system_clock::time_point now =
                                 std::chrono::system_clock::now());

 private:
  explicit KeyFileVerifier(std::string path) : path_(std::move(path)) {}
  std::string path_;
  std::mutex mu_;
  KeySet keys_;
  FileStamp stamp_;
};

// A token (or any secret) kept in a file, trimmed, re-read when the file changes.
class TokenFile {
 public:
  // NotFound when unreadable; InvalidArgument when empty.
  static Result<std::unique_ptr<TokenFile>> Open(const std::string& path);
  // The current contents; when the file vanished or became unreadable, the last good value.
  std::string Get();

 private:
  explicit TokenFile(std::string path) : path_(std::move(path)) {}
  Status Reload();
  std::string path_;
  std::mutex mu_;
  std::string value_;
  FileStamp stamp_;
};

// Base64url without padding (RFC 4648 §5). Decode fails on any other character or bad length.
std::string Base64UrlEncode(std::string_view bytes);
Result<std::string> Base64UrlDecode(std::string_view text);

}  // namespace strata::auth
