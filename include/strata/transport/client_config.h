// Client credentials for a service's OUTBOUND links, read from the config section that holds the
// link's url (docs/security.md "Client credentials").
//
// HTTP (an `http(s)://` upstream): token_file (bearer token file, e.g. an st1.* service token,
// re-read when it changes), token_env (name of an environment variable holding the token), ca_file
// (PEM CA that verifies an https:// upstream). MQTT (a broker url): username, password_file (file
// holding the password, trailing newline stripped), password_env, ca_file (verify an ssl:// or
// mqtts:// broker), cert_file + key_file (optional TLS client certificate). Every key is optional;
// files must exist when named, env vars must be set and non-empty. Errors name file, line and key
// and never contain a token or password. A service lists kHttpClientAuthKeys / kMqttAuthKeys in
// its CheckKeys call (spelled out there, as CheckKeys takes an initializer list).
// Thread-safety: pure functions (they read files and the environment).
//
//   http::ClientConfig auth;
//   STRATA_RETURN_IF_ERROR(ParseHttpClientAuth(cloud_node, &auth));
//   http::ClientConfig c{.base_url = url, .link_src = "fog"};
//   CopyHttpClientAuth(auth, &c);  // token, token_file, ca_file
#pragma once

#include <array>
#include <string_view>

#include "strata/core/config.h"
#include "strata/core/status.h"
#include "strata/transport/http_client.h"
#include "strata/transport/mqtt.h"

namespace strata {

inline constexpr std::array<std::string_view, 3> kHttpClientAuthKeys = {"token_file", "token_env",
                                                                        "ca_file"};
inline constexpr std::array<std::string_view, 6> kMqttAuthKeys = {
    "username", "password_file", "password_env", "ca_file", "cert_file", "key_file"};

// Sets out->token_file, out->token (from token_env) and out->ca_file from `node`; other fields
// stay. token_file and token_env together are an error.
Status ParseHttpClientAuth(const ConfigNode& node, http::ClientConfig* out);
// Copies the non-empty credential fields (token, token_file, ca_file) of `from` into `to`.
void CopyHttpClientAuth(const http::ClientConfig& from, http::ClientConfig* to);

// Sets out->username, out->password (from password_file or password_env), out->ca_file,
// out->cert_file and out->key_file from `node`. A password needs a username; cert_file and
// key_file go together.
Status ParseMqttAuth(const ConfigNode& node, mqtt::Config* out);
// Copies the non-empty credential fields (username, password, ca_file, cert_file, key_file).
void CopyMqttAuth(const mqtt::Config& from, mqtt::Config* to);

}  // namespace strata
