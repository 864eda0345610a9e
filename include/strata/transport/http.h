// HTTP types and the service HTTP server (cpp-httplib stays behind this interface).
//
// HttpServer routes "/api/v1/items/{id}"-style patterns to handlers that return Result<Response>;
// an error Status becomes an RFC 9457 problem+json body with ToHttpStatus(status). It answers
// 404 for unknown paths and 405 (with Allow) for known paths with the wrong method, enforces a
// body limit (413, checked from Content-Length before the body is read), read/write timeouts, a
// bounded worker pool that sheds excess connections with 503, optional auth (static bearer token
// with constant-time compare, or signed service tokens with principals/expiry/rotation and
// `allow` rules → 401/403, brute-force throttling → 429; see docs/security.md; an optional
// per-client rate limit → 429 (RateLimitConfig); Create refuses a
// non-loopback host without auth unless auth is explicitly off), optional TLS, and serves GET /healthz, /readyz, /metrics and
// /api/v1/openapi.json. Every request is timed into strata_http_request_duration_seconds and
// counted in strata_http_requests_total{route,method,code}.
// Thread-safety: register routes before Start(); handlers run concurrently on worker threads and
// must not keep per-request state in shared objects. Stop() may be called from any thread.
//
//   STRATA_ASSIGN_OR_RETURN(auto server, HttpServer::Create({.service = "hello"}));
//   server->Route("GET", "/api/v1/hello/{name}", [](const Request& r) -> Result<Response> {
//     return Response::Json({{"hello", r.PathParam("name")}});
//   });
//   STRATA_RETURN_IF_ERROR(server->Start());
//   return RunUntilSignal(*server);  // SIGTERM/SIGINT → finish in-flight requests, exit
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "strata/core/status.h"

namespace strata::http {

struct Request {
  std::string method;
  std::string path;   // decoded path, without the query string
  std::string route;  // the matched pattern, e.g. "/api/v1/items/{id}"
  std::string body;
  std::string remote_addr;
  std::map<std::string, std::string> path_params;
  std::multimap<std::string, std::string> query;
  std::multimap<std::string, std::string> headers;  // keys lower-case
  std::string principal;  // `sub` of a verified service token; "" without one

  // Case-insensitive header lookup; "" when absent.
  std::string Header(std::string_view name) const;
  // First value of a query parameter, or nullopt.
  std::optional<std::string> Query(std::string_view name) const;
  // Value of a {name} segment of the route; "" when the route has none. A trailing
  // {name...} segment matches one or more remaining segments, joined by '/'.
  std::string PathParam(std::string_view name) const;
};

// Where a streaming response writes (Server-Sent Events and the like).
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  // Sends `data` as one chunk now. False once the client has gone or the server is stopping.
  virtual bool Write(std::string_view data) = 0;
  // False once the client has gone or the server is stopping.
  virtual bool Open() const = 0;
};
// Called repeatedly (on the connection's worker thread) while it returns true and the stream is
// open; returning false ends the response. Each call should return within ~1 s (e.g. wait for
// data with a timeout), so that Stop() is noticed.
using StreamProvider = std::function<bool(StreamSink&)>;

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  StreamProvider stream;  // set by Stream(): the body is produced by it, chunk by chunk

  static Response Json(const nlohmann::json& body, int status = 200);
  static Response Text(std::string body, std::string content_type = "text/plain; charset=utf-8",
                       int status = 200);
  static Response Bytes(std::string body, std::string content_type, int status = 200);
  static Response NoContent();
  // A chunked, never-buffered response (e.g. "text/event-stream"; exactly that type is never
  // compressed). A body carrying its own Content-Encoding header is also sent as is.
  static Response Stream(std::string content_type, StreamProvider provider);
};

// RFC 9457 problem+json: {"type","title","status","detail","instance"} plus `errors` when given
// (each {"line"|"field", "reason"}).
Response Problem(int status, std::string_view detail, std::string_view instance = "",
                 nlohmann::json errors = nullptr);
Response ProblemFromStatus(const Status& status, std::string_view instance = "");
// Standard title for an HTTP status ("Not Found", "Payload Too Large", ...).
std::string_view StatusTitle(int status);

// Parses the request body as JSON. InvalidArgument naming the byte offset when malformed or empty.
Result<nlohmann::json> ParseJsonBody(const Request& req);
// nullopt when the request's Content-Type is `type` (or absent and `allow_missing`); otherwise
// a 415 problem response to return.
std::optional<Response> CheckContentType(const Request& req, std::string_view type,
                                         bool allow_missing = true);

using Handler = std::function<Result<Response>(const Request&)>;

struct AuthConfig {
  bool enabled = false;
  // The token is read from this environment variable, or from token_file when set. It is never
  // logged, never echoed in errors, and never taken from argv.
  std::string token_env = "STRATA_TOKEN";
  std::string token_file;
  std::string token;  // for embedding programs and tests; takes precedence when non-empty
  bool metrics_public = false;  // /metrics without a token (health probes are always public)
  // Paths served without a token: exact ("/"), or a prefix when ending in '*' ("/assets/*").
  std::vector<std::string> public_paths;
  // Signed service tokens (st1.*, see docs/security.md): verified with the keys in key_file,
  // which is re-read when it changes. With key_file set, a static token is also accepted when
  // `token` or token_file is given (not from token_env).
  std::string key_file;
  // Principals ("roof") and/or "tier:<t>" allowed to call; empty = every valid token. A valid
  // token that matches no rule → 403.
  std::vector<std::string> allow;
  // Set when the config says `auth: {enabled: false}`: only then may a server without auth bind
  // a non-loopback host (otherwise Create refuses).
  bool explicitly_disabled = false;
  // Brute-force throttling: this many failed authentications (401) from one remote address
  // within a minute block that address for 60 s (429 + Retry-After; probes stay public).
  // 0 = off.
  int max_failures_per_minute = 30;
};

// Per-client rate limit (token bucket per client). Requests are charged once: by peer address in
// the epoll front before they are queued (no worker used), except requests carrying a signed
// service token, which are charged to their verified principal after authentication and before
// routing (see src/transport/rate_limit.h); over the limit →
// 429 problem+json with Retry-After (seconds until a token is available, >= 1), counted in
// strata_http_rate_limited_total{service}. Off while requests_per_second is 0.
struct RateLimitConfig {
  double requests_per_second = 0;  // refill rate per client; 0 = off
  double burst = 0;                // bucket size (requests at once); 0 = max(1, requests_per_second)
  // Paths never limited: exact, or a prefix when ending in '*'.
  std::vector<std::string> exempt = {"/healthz", "/readyz", "/metrics"};
  size_t max_clients = 10000;  // clients tracked; the least recently seen is forgotten beyond
};

struct TlsConfig {
  std::string cert_file;  // PEM; TLS is on when both are set
  std::string key_file;
};

struct ServerConfig {
  std::string service = "strata";  // label in metrics and logs
  std::string host = "127.0.0.1";
  int port = 0;                     // 0 = any free port; see HttpServer::port()
  size_t max_body_bytes = 8u << 20;  // 8 MiB → 413 beyond
  std::chrono::milliseconds read_timeout{5000};
  std::chrono::milliseconds write_timeout{5000};
  std::chrono::milliseconds keep_alive_timeout{5000};
  int keep_alive_max_requests = 100;
  int workers = 8;       // connections served concurrently
  int max_queue = 64;    // connections waiting for a worker; beyond → 503
  // Slow/hostile-client guard (plaintext listeners; see docs/reliability.md). Connections wait
  // for a complete request head without holding a worker.
  int max_connections = 512;                   // open connections; beyond → 503 + close
  std::chrono::milliseconds header_timeout{10000};  // whole request head → else 408 + close
  std::chrono::milliseconds body_timeout{30000};    // whole request body → else close
  size_t max_header_bytes = 64u << 10;         // request line + headers → else 431
  int max_header_count = 100;                  // header fields → else 431
  AuthConfig auth;
  TlsConfig tls;
  RateLimitConfig rate_limit;
};

struct RouteInfo {
  std::string method;
  std::string pattern;
};

class HttpServer {
 public:
  // InvalidArgument for bad limits, missing auth token or unreadable TLS files.
  static Result<std::unique_ptr<HttpServer>> Create(const ServerConfig& config);
  ~HttpServer();

  void Route(std::string method, std::string pattern, Handler handler);
  // Serves `json_text` at GET /api/v1/openapi.json.
  void SetOpenApi(std::string json_text);
  // /readyz answers 200 only when every check returns OK (and no check is registered → ready).
  void AddReadinessCheck(std::string name, std::function<Status()> check);

  // Binds and starts serving on a background thread; returns once the port is bound.
  // Unavailable when the address cannot be bound.
  Status Start();
  // Stops accepting, lets in-flight requests finish, joins workers. Idempotent.
  void Stop();
  // Blocks until the server has stopped.
  void Wait();
  int port() const;
  bool tls() const;
  const ServerConfig& config() const;
  std::vector<RouteInfo> routes() const;

 private:
  HttpServer();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Blocks SIGTERM and SIGINT, waits for one, then stops `server` gracefully (in-flight requests
// finish) and waits for it. Returns OK after a clean stop. Call before starting other threads
// (or call BlockTerminationSignals() first) so that the signal is delivered to the waiter.
Status RunUntilSignal(HttpServer& server);
void BlockTerminationSignals();

// Routes registered on `server` (excluding the built-in ones) whose path is missing from the
// OpenAPI document `spec_json` ("METHOD /path" strings), plus spec paths with no route.
std::vector<std::string> OpenApiMismatches(const HttpServer& server, std::string_view spec_json);

}  // namespace strata::http
