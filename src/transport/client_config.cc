// Parsing of outbound-link client credentials (see strata/transport/client_config.h).
#include "strata/transport/client_config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "service_token.h"

namespace strata {
namespace {

// A named file must be a readable regular file; the message names the key, never the contents.
Status CheckReadable(const ConfigNode& node, std::string_view key, const std::string& path) {
  std::ifstream in(path);
  if (path.empty() || !in) return NotFoundError(node.Where(key) + ": cannot read '" + path + "'");
  return Status::Ok();
}

Status GetFile(const ConfigNode& node, std::string_view key, std::string* out) {
  if (!node.Has(key)) return Status::Ok();
  STRATA_RETURN_IF_ERROR(node.Get(key, out));
  return CheckReadable(node, key, *out);
}

// A secret from the environment variable named by `key`. The value is checked, never echoed.
Status GetEnvSecret(const ConfigNode& node, std::string_view key, std::string* out) {
  std::string name;
  STRATA_RETURN_IF_ERROR(node.Get(key, &name));
  if (name.empty()) return InvalidArgumentError(node.Where(key) + ": empty variable name");
  const char* v = std::getenv(name.c_str());
  if (v == nullptr || *v == '\0')
    return InvalidArgumentError(node.Where(key) + ": environment variable " + name +
                                " is not set or empty");
  std::string value(v);
  for (char ch : value)
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f)
      return InvalidArgumentError(node.Where(key) + ": environment variable " + name +
                                  " contains control characters");
  *out = std::move(value);
  return Status::Ok();
}

Status OnlyOne(const ConfigNode& node, std::string_view a, std::string_view b) {
  if (node.Has(a) && node.Has(b))
    return InvalidArgumentError(node.Where(b) + ": set only one of '" + std::string(a) +
                                "' and '" + std::string(b) + "'");
  return Status::Ok();
}

}  // namespace

Status ParseHttpClientAuth(const ConfigNode& node, http::ClientConfig* out) {
  if (node.IsNull()) return Status::Ok();
  STRATA_RETURN_IF_ERROR(OnlyOne(node, "token_file", "token_env"));
  if (node.Has("token_file")) {
    std::string path;
    STRATA_RETURN_IF_ERROR(node.Get("token_file", &path));
    // Same rules as HttpClient (readable, non-empty), reported against the config key.
    auto f = auth::TokenFile::Open(path);
    if (!f.ok())
      return Status(f.status().code(), node.Where("token_file") + ": " + f.status().message());
    out->token_file = path;
  }
  if (node.Has("token_env")) STRATA_RETURN_IF_ERROR(GetEnvSecret(node, "token_env", &out->token));
  return GetFile(node, "ca_file", &out->ca_file);
}

void CopyHttpClientAuth(const http::ClientConfig& from, http::ClientConfig* to) {
  if (!from.token.empty()) to->token = from.token;
  if (!from.token_file.empty()) to->token_file = from.token_file;
  if (!from.ca_file.empty()) to->ca_file = from.ca_file;
}

Status ParseMqttAuth(const ConfigNode& node, mqtt::Config* out) {
  if (node.IsNull()) return Status::Ok();
  STRATA_RETURN_IF_ERROR(OnlyOne(node, "password_file", "password_env"));
  STRATA_RETURN_IF_ERROR(node.Get("username", &out->username));
  if (node.Has("password_file")) {
    std::string path;
    STRATA_RETURN_IF_ERROR(node.Get("password_file", &path));
    STRATA_RETURN_IF_ERROR(CheckReadable(node, "password_file", path));
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string pw = ss.str();
    while (!pw.empty() && (pw.back() == '\n' || pw.back() == '\r')) pw.pop_back();
    if (pw.empty())
      return InvalidArgumentError(node.Where("password_file") + ": '" + path + "' is empty");
    out->password = std::move(pw);
  }
  if (node.Has("password_env"))
    STRATA_RETURN_IF_ERROR(GetEnvSecret(node, "password_env", &out->password));
  if (!out->password.empty() && out->username.empty())
    return InvalidArgumentError(node.Where("username") + ": required when a password is set");
  STRATA_RETURN_IF_ERROR(GetFile(node, "ca_file", &out->ca_file));
  STRATA_RETURN_IF_ERROR(GetFile(node, "cert_file", &out->cert_file));
  STRATA_RETURN_IF_ERROR(GetFile(node, "key_file", &out->key_file));
  if (out->cert_file.empty() != out->key_file.empty())
    return InvalidArgumentError(node.Where(out->cert_file.empty() ? "cert_file" : "key_file") +
                                ": cert_file and key_file go together");
  return Status::Ok();
}

void CopyMqttAuth(const mqtt::Config& from, mqtt::Config* to) {
  if (!from.username.empty()) to->username = from.username;
  if (!from.password.empty()) to->password = from.password;
  if (!from.ca_file.empty()) to->ca_file = from.ca_file;
  if (!from.cert_file.empty()) to->cert_file = from.cert_file;
  if (!from.key_file.empty()) to->key_file = from.key_file;
}

}  // namespace strata
