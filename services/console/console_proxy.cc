// ConsoleService::Proxy: GET|POST|PUT|DELETE /api/v1/svc/{service}/{rest...} → the upstream's
// /api/v1/{rest...} with the query string, the body and its Content-Type, and the console's own
// upstream token (never the caller's). The upstream's status, body and Content-Type come back
// unchanged, except: unknown service → 404, unreachable upstream → 502, an upstream 401 (the
// console's token was refused; passing it on would make the UI ask the operator for a token) →
// 502, an answer larger than the console's max_body_bytes → 502.
#include <spdlog/spdlog.h>

#include "console_service.h"
#include "strata/transport/http_client.h"

namespace strata::console {
namespace {

std::string Encode(std::string_view s, bool keep_slash) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && (c == '/' || c == ':' || c == '@'))) {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

Result<http::Response> ConsoleService::Proxy(const http::Request& req) {
  const std::string name = req.PathParam("service");
  const Upstream* up = nullptr;
  for (const Upstream& u : options_.console.upstreams)
    if (u.name == name) up = &u;
  if (!up) return NotFoundError("unknown service '" + name + "' (GET /api/v1/services lists them)");
  const std::string rest = req.PathParam("rest");
  for (size_t pos = 0; pos <= rest.size();) {
    size_t slash = std::min(rest.find('/', pos), rest.size());
    std::string_view seg = std::string_view(rest).substr(pos, slash - pos);
    if (seg == "." || seg == "..")
      return InvalidArgumentError("path must not contain '.' or '..' segments");
    pos = slash + 1;
  }
  std::string path = "/api/v1/" + Encode(rest, true);
  char sep = '?';
  for (const auto& [k, v] : req.query) {
    path += sep + Encode(k, false) + "=" + Encode(v, false);
    sep = '&';
  }
  const ConsoleConfig& c = options_.console;
  auto client = http::HttpClient::Create({.base_url = up->url,
                                          .connect_timeout = c.poll_timeout * 2,
                                          .read_timeout = c.proxy_timeout,
                                          .write_timeout = c.proxy_timeout,
                                          .max_retries = 0,
                                          .token = c.upstream_token,
                                          .ca_file = c.upstream_ca_file});
  if (!client.ok()) return client.status();
  http::HeaderList headers;
  if (std::string accept = req.Header("accept"); !accept.empty())
    headers.emplace_back("Accept", accept);
  std::string type = req.Header("content-type");
  Result<http::ClientResponse> res = UnavailableError("unsupported method");
  if (req.method == "GET" || req.method == "HEAD")
    res = (*client)->Get(path, headers);
  else if (req.method == "DELETE")
    res = (*client)->Delete(path, headers);
  else if (req.method == "PUT")
    res = (*client)->Put(path, req.body, type, headers);
  else if (req.method == "POST")
    res = (*client)->Post(path, req.body, type, headers);
  if (!res.ok()) {
    spdlog::warn("console: {} {} → upstream '{}': {}", req.method, req.path, name,
                 res.status().message());
    return http::Problem(502, "upstream '" + name + "' is unreachable: " + res.status().message(),
                         req.path);
  }
  if (res->status == 401)
    return http::Problem(502, "upstream '" + name + "' refused the console's upstream token",
                         req.path);
  const size_t limit = options_.server.max_body_bytes;
  if (res->body.size() > limit)
    return http::Problem(502,
                         "upstream '" + name + "' answered " + std::to_string(res->body.size()) +
                             " bytes, more than the console's limit of " + std::to_string(limit),
                         req.path);
  std::string answer_type = res->Header("content-type");
  if (answer_type.empty()) answer_type = "application/octet-stream";
  return http::Response::Bytes(std::move(res->body), answer_type, res->status);
}

}  // namespace strata::console
