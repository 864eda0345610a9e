// Signed service tokens (st1.*), key files and token files; see service_token.h.
#include "service_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cctype>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace strata::auth {
namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

bool SafeName(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'))
      return false;
  return true;
}

std::string Hmac(const std::string& key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

Result<std::string> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status Invalid() { return UnauthenticatedError("invalid token"); }

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  size_t i = 0;
  auto b = [&](size_t k) { return static_cast<unsigned char>(bytes[k]); };
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (b(i) << 16) | (b(i + 1) << 8) | b(i + 2);
    for (int s = 18; s >= 0; s -= 6) out += kB64[(v >> s) & 63];
  }
  if (bytes.size() - i == 1) {
    uint32_t v = b(i) << 16;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    uint32_t v = (b(i) << 16) | (b(i + 1) << 8);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
  }
  return out;
}

Result<std::string> Base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) return InvalidArgumentError("bad base64url length");
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '-') v = 62;
    else if (c == '_') v = 63;
    else return InvalidArgumentError("bad base64url character");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)  // non-canonical trailing bits
    return InvalidArgumentError("bad base64url padding bits");
  return out;
}

Result<KeySet> KeySet::Parse(std::string_view text, const std::string& source) {
  KeySet ks;
  int line_no = 0;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    ++line_no;
    std::string t = Trim(line);
    if (t.empty() || t[0] == '#') continue;
    std::string where = source + ":" + std::to_string(line_no);
    size_t sp = t.find_first_of(" \t");
    if (sp == std::string::npos)
      return InvalidArgumentError(where + ": expected '<kid> <64 hex characters>'");
    std::string kid = t.substr(0, sp);
    std::string hex = Trim(std::string_view(t).substr(sp));
    if (!SafeName(kid)) return InvalidArgumentError(where + ": key id must match [A-Za-z0-9._-]+");
    if (hex.size() != 64)
      return InvalidArgumentError(where + ": key '" + kid + "' must be 64 hex characters (32 bytes)");
    std::string secret;
    for (size_t i = 0; i < 64; i += 2) {
      int hi = HexValue(hex[i]), lo = HexValue(hex[i + 1]);
      if (hi < 0 || lo < 0)
        return InvalidArgumentError(where + ": key '" + kid + "' is not hexadecimal");
      secret += static_cast<char>(hi * 16 + lo);
    }
    if (ks.Find(kid)) return InvalidArgumentError(where + ": duplicate key id '" + kid + "'");
    ks.keys_.push_back({std::move(kid), std::move(secret)});
  }
  if (ks.keys_.empty()) return InvalidArgumentError(source + ": no keys");
  return ks;
}

Result<KeySet> KeySet::LoadFile(const std::string& path) {
  STRATA_ASSIGN_OR_RETURN(std::string text, ReadAll(path));
  return Parse(text, path);
}

const SigningKey* KeySet::Find(std::string_view kid) const {
  for (const auto& k : keys_)
    if (k.kid == kid) return &k;
  return nullptr;
}

Result<std::string> NewKeyLine() {
  unsigned char secret[32], tag[2];
  if (RAND_bytes(secret, sizeof secret) != 1 || RAND_bytes(tag, sizeof tag) != 1)
    return InternalError("no randomness available for a key");
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char kid[40];
  std::snprintf(kid, sizeof kid, "k%04d%02d%02d%02d%02d%02d%02x%02x", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tag[0], tag[1]);
  std::string line = kid;
  line += ' ';
  static const char* hex = "0123456789abcdef";
  for (unsigned char c : secret) {
    line += hex[c >> 4];
    line += hex[c & 15];
  }
  OPENSSL_cleanse(secret, sizeof secret);
  return line + "\n";
}

Result<std::string> IssueToken(const KeySet& keys, const std::string& sub, const std::string& tier,
                               std::chrono::seconds ttl, std::chrono::system_clock::time_point now) {
  const SigningKey* key = keys.Newest();
  if (!key) return InvalidArgumentError("no signing key");
  if (!SafeName(sub)) return InvalidArgumentError("sub must match [A-Za-z0-9._-]{1,128}");
  if (!tier.empty() && !SafeName(tier))
    return InvalidArgumentError("tier must match [A-Za-z0-9._-]{1,128}");
  if (ttl.count() <= 0) return InvalidArgumentError("ttl must be > 0");
  int64_t iat = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  nlohmann::json claims = {
      {"sub", sub}, {"tier", tier}, {"iat", iat}, {"exp", iat + ttl.count()}, {"kid", key->kid}};
  std::string signed_part = std::string(kTokenPrefix) + Base64UrlEncode(claims.dump());
  return signed_part + "." + Base64UrlEncode(Hmac(key->secret, signed_part));
}

Result<TokenClaims> VerifyToken(std::string_view token, const KeySet& keys,
                                std::chrono::system_clock::time_point now) {
  if (token.size() > kMaxTokenBytes || token.substr(0, kTokenPrefix.size()) != kTokenPrefix)
    return Invalid();
  size_t dot = token.rfind('.');
  if (dot < kTokenPrefix.size()) return Invalid();
  std::string_view signed_part = token.substr(0, dot);
  std::string_view claims_b64 = signed_part.substr(kTokenPrefix.size());
  if (claims_b64.find('.') != std::string_view::npos) return Invalid();
  auto sig = Base64UrlDecode(token.substr(dot + 1));
  auto claims_text = Base64UrlDecode(claims_b64);
  if (!sig.ok() || !claims_text.ok() || sig->size() != 32) return Invalid();
  nlohmann::json j = nlohmann::json::parse(*claims_text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Invalid();
  auto str = [&](const char* k) {
    auto it = j.find(k);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto num = [&](const char* k, int64_t* out) {
    auto it = j.find(k);
    if (it == j.end() || !it->is_number_integer()) return false;
    *out = it->get<int64_t>();
    return true;
  };
  TokenClaims c{.sub = str("sub"), .tier = str("tier"), .kid = str("kid")};
  if (c.sub.empty() || !num("iat", &c.iat) || !num("exp", &c.exp)) return Invalid();
  const SigningKey* key = keys.Find(c.kid);
  if (!key) return Invalid();
  std::string expected = Hmac(key->secret, signed_part);
  if (CRYPTO_memcmp(expected.data(), sig->data(), 32) != 0) return Invalid();
  int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (c.exp <= t) return UnauthenticatedError("token expired");
  return c;
}

bool Allowed(const TokenClaims& claims, const std::vector<std::string>& allow) {
  if (allow.empty()) return true;
  for (const std::string& rule : allow) {
    if (rule == "*" || rule == claims.sub) return true;
    if (rule.rfind("tier:", 0) == 0 && !claims.tier.empty() && rule.substr(5) == claims.tier)
      return true;
  }
  return false;
}

Result<FileStamp> StatFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return NotFoundError("cannot stat '" + path + "'");
  return FileStamp{st.st_ino, st.st_size,
                   int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec};
}

Result<std::unique_ptr<KeyFileVerifier>> KeyFileVerifier::Create(const std::string& path) {
  std::unique_ptr<KeyFileVerifier> v(new KeyFileVerifier(path));
  STRATA_ASSIGN_OR_RETURN(v->stamp_, StatFile(path));
  STRATA_ASSIGN_OR_RETURN(v->keys_, KeySet::LoadFile(path));
  return v;
}

Result<TokenClaims> KeyFileVerifier::Verify(std::string_view token,
                                            std::chrono::system_clock::time_point now) {
  std::lock_guard lock(mu_);
  auto stamp = StatFile(path_);
  if (stamp.ok() && !(*stamp == stamp_)) {
    stamp_ = *stamp;
    auto keys = KeySet::LoadFile(path_);
    if (keys.ok()) {
      keys_ = std::move(keys).value();
      spdlog::info("reloaded {} signing key(s) from {}", keys_.keys().size(), path_);
    } else {
      spdlog::warn("keeping previous keys: {}", keys.status().message());
    }
  }
  return VerifyToken(token, keys_, now);
}

Result<std::unique_ptr<TokenFile>> TokenFile::Open(const std::string& path) {
  std::unique_ptr<TokenFile> f(new TokenFile(path));
  STRATA_RETURN_IF_ERROR(f->Reload());
  return f;
}

Status TokenFile::Reload() {
  STRATA_ASSIGN_OR_RETURN(FileStamp stamp, StatFile(path_));
  STRATA_ASSIGN_OR_RETURN(std::string text, ReadAll(path_));
  std::string v = Trim(text);
  if (v.empty()) return InvalidArgumentError("token file '" + path_ + "' is empty");
  value_ = std::move(v);
  stamp_ = stamp;
  return Status::Ok();
}

std::string TokenFile::Get() {
  std::lock_guard lock(mu_);
  auto stamp = StatFile(path_);
  if (stamp.ok() && !(*stamp == stamp_)) {
    Status s = Reload();
    if (!s.ok()) spdlog::warn("keeping previous token: {}", s.message());
  }
  return value_;
}

}  // namespace strata::auth
