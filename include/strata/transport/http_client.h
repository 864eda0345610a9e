// HttpClient: calls another service over HTTP(S) with timeouts, retries and metering.
//
// Transport failures become Unavailable (connection refused/reset) or DeadlineExceeded
// (timeout); an HTTP answer of any status is returned as a ClientResponse. Idempotent calls
// (GET, PUT, DELETE, and POST marked idempotent) are retried with exponential backoff on transport
// failures and 502/503/504. Every request is recorded in the LinkMeter as (link_src, link_dst)
// with its body bytes and round-trip latency, and carries the bearer token when one is set.
// Thread-safety: safe to share between threads (calls are serialised on one keep-alive
// connection); use one client per thread for parallel requests.
//
//   STRATA_ASSIGN_OR_RETURN(auto fog, HttpClient::Create({.base_url = "http://127.0.0.1:8081",
//                                                         .link_src = "roof", .link_dst = "fog"}));
//   STRATA_ASSIGN_OR_RETURN(ClientResponse r, fog->Post("/api/v1/frames", jpeg, "image/jpeg"));
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "strata/core/status.h"

namespace httplib {
class Client;
}
namespace strata::auth {
class TokenFile;
}

namespace strata::http {

struct ClientConfig {
  std::string base_url;  // "http://host:port" or "https://host:port"
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds read_timeout{10000};
  std::chrono::milliseconds write_timeout{10000};
  int max_retries = 3;  // extra attempts for idempotent calls
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{2000};
  std::string token;    // bearer token; never logged
  // Bearer token read from this file (e.g. an st1.* service token) and re-read whenever the file
  // changes, so tokens rotate without a restart; takes precedence over `token`. Create fails
  // when it is unreadable or empty.
  std::string token_file;
  std::string ca_file;  // PEM bundle to verify an https server; empty = system store
  bool verify_tls = true;
  std::string link_src, link_dst;  // LinkMeter labels; empty = not metered
};

struct ClientResponse {
  int status = 0;
  std::string body;
  std::multimap<std::string, std::string> headers;  // keys lower-case
  std::string Header(std::string_view name) const;
  // InvalidArgument when the body is not JSON.
  Result<nlohmann::json> Json() const;
  // OK for 2xx; otherwise a Status whose code matches the HTTP status and whose message is the
  // problem+json `detail` (or the body).
  Status ToStatus() const;
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

class HttpClient {
 public:
  // InvalidArgument when base_url is not http(s)://host[:port].
  static Result<std::unique_ptr<HttpClient>> Create(const ClientConfig& config);
  ~HttpClient();

  Result<ClientResponse> Get(const std::string& path, const HeaderList& headers = {});
  Result<ClientResponse> Delete(const std::string& path, const HeaderList& headers = {});
  Result<ClientResponse> Put(const std::string& path, const std::string& body,
                             const std::string& content_type, const HeaderList& headers = {});
  // Not retried unless `idempotent` (e.g. the body carries an id the server dedupes on).
  Result<ClientResponse> Post(const std::string& path, const std::string& body,
                              const std::string& content_type, const HeaderList& headers = {},
                              bool idempotent = false);
  const ClientConfig& config() const { return config_; }

 private:
  explicit HttpClient(ClientConfig config);
  Result<ClientResponse> Send(const std::string& method, const std::string& path,
                              const std::string& body, const std::string& content_type,
                              const HeaderList& headers, bool idempotent);
  Result<ClientResponse> SendOnce(const std::string& method, const std::string& path,
                                  const std::string& body, const std::string& content_type,
                                  const HeaderList& headers);
  ClientConfig config_;
  std::mutex mu_;
  std::unique_ptr<httplib::Client> client_;
  std::unique_ptr<auth::TokenFile> token_file_;
};

// Maps an HTTP status to the Status code ToHttpStatus would produce it from.
StatusCode StatusCodeFromHttp(int http_status);

}  // namespace strata::http
