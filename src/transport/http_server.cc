#include <arpa/inet.h>
#include <httplib.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include <strings.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "strata/metrics/metrics.h"
#include "strata/transport/http.h"
#include "service_token.h"
#include "guarded_server.h"
#include "rate_limit.h"
#include "task_queue.h"

namespace strata::http {
namespace {

thread_local std::string t_route;
thread_local std::chrono::steady_clock::time_point t_start;

std::vector<std::string> Split(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

bool Match(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
           std::map<std::string, std::string>* params) {
  // A trailing "{name...}" takes one or more remaining segments, joined by '/'.
  bool rest = !pattern.empty() && pattern.back().size() > 5 && pattern.back().front() == '{' &&
              pattern.back().ends_with("...}");
  if (rest ? path.size() < pattern.size() : pattern.size() != path.size()) return false;
  std::map<std::string, std::string> p;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const std::string& seg = pattern[i];
    if (rest && i + 1 == pattern.size()) {
      std::string joined = path[i];
      for (size_t j = i + 1; j < path.size(); ++j) joined += "/" + path[j];
      p[seg.substr(1, seg.size() - 5)] = std::move(joined);
      break;
    }
    if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
      if (path[i].empty()) return false;
      p[seg.substr(1, seg.size() - 2)] = path[i];
    } else if (seg != path[i]) {
      return false;
    }
  }
  *params = std::move(p);
  return true;
}

// Constant-time comparison independent of the token lengths: compare SHA-256 digests.
bool TokenEquals(std::string_view given, std::string_view expected) {
  unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(given.data()), given.size(), a);
  SHA256(reinterpret_cast<const unsigned char*>(expected.data()), expected.size(), b);
  return CRYPTO_memcmp(a, b, sizeof a) == 0;
}

// A StreamSink over httplib's chunked DataSink; closed when the client or the server goes.
class ChunkSink : public StreamSink {
 public:
  ChunkSink(httplib::DataSink& sink, const std::atomic<bool>& stopping)
      : sink_(sink), stopping_(stopping) {}
  bool Write(std::string_view data) override {
    ok_ = ok_ && Open() && (data.empty() || sink_.write(data.data(), data.size()));
    return ok_;
  }
  bool Open() const override { return ok_ && !stopping_ && sink_.is_writable(); }

 private:
  httplib::DataSink& sink_;
  const std::atomic<bool>& stopping_;
  bool ok_ = true;
};

void Write(const Response& r, httplib::Response& out,
           std::shared_ptr<const std::atomic<bool>> stopping = nullptr) {
  out.status = r.status;
  for (const auto& [k, v] : r.headers) out.set_header(k, v);
  if (r.stream && stopping) {
    out.set_chunked_content_provider(
        r.content_type, [provider = r.stream, stopping](size_t, httplib::DataSink& sink) {
          ChunkSink chunks(sink, *stopping);
          if (!chunks.Open() || !provider(chunks)) sink.done();  // end with the last chunk
          return chunks.Open() || *stopping;
        });
    return;
  }
  bool encoded = std::any_of(r.headers.begin(), r.headers.end(), [](const auto& h) {
    return strcasecmp(h.first.c_str(), "Content-Encoding") == 0;
  });
  if (encoded && r.status != 204 && r.status != 304) {
    // Already encoded (e.g. pre-gzipped assets): a sized provider keeps httplib from
    // compressing it a second time.
    auto body = std::make_shared<const std::string>(r.body);
    out.set_content_provider(body->size(), r.content_type,
                             [body](size_t offset, size_t length, httplib::DataSink& sink) {
                               return sink.write(body->data() + offset, length);
                             });
    return;
  }
  if (r.status != 204) out.set_content(r.body, r.content_type.c_str());
}

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  in_addr a{};
  return inet_pton(AF_INET, host.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

}  // namespace

struct HttpServer::Impl {
  struct RouteEntry {
    std::string method, pattern;
    std::vector<std::string> segments;
    Handler handler;
  };
  ServerConfig config;
  std::unique_ptr<httplib::Server> server;
  std::vector<RouteEntry> routes;
  std::string openapi;
  std::mutex checks_mu;
  std::vector<std::pair<std::string, std::function<Status()>>> checks;
  std::string token;
  std::unique_ptr<auth::KeyFileVerifier> verifier;  // signed tokens (auth.key_file)
  // Brute-force throttling: failed authentications per remote address in a 1-minute window.
  struct Failures {
    int count = 0;
    std::chrono::steady_clock::time_point window_start, banned_until;
  };
  std::mutex failures_mu;
  std::map<std::string, Failures> failures;
  // Seconds `addr` is still banned for (0 = not banned).
  long BannedFor(const std::string& addr);
  void RecordFailure(const std::string& addr);
  std::shared_ptr<RateLimiter> limiter;  // server.rate_limit; null when off (shared with the front)
  // nullopt when `req` is exempt or within its client's rate, else 429.
  std::optional<Response> RateLimited(const Request& req);
  std::thread thread;
  int port = 0;
  std::once_flag stop_once;
  // Set by Stop(): open streams end within a provider call (~1 s).
  std::shared_ptr<std::atomic<bool>> stopping = std::make_shared<std::atomic<bool>>(false);

  Response Dispatch(Request& req);
  // nullopt when the request may proceed (req.principal set for service tokens), else 401/403.
  std::optional<Response> Authorized(Request& req);
  Response Builtin(const Request& req, bool* handled);
};

long HttpServer::Impl::BannedFor(const std::string& addr) {
  if (config.auth.max_failures_per_minute <= 0) return 0;
  std::lock_guard lock(failures_mu);
  auto it = failures.find(addr);
  if (it == failures.end()) return 0;
  auto left = it->second.banned_until - std::chrono::steady_clock::now();
  return left.count() > 0 ? std::chrono::duration_cast<std::chrono::seconds>(left).count() + 1 : 0;
}

void HttpServer::Impl::RecordFailure(const std::string& addr) {
  if (config.auth.max_failures_per_minute <= 0) return;
  const auto now = std::chrono::steady_clock::now();
  const auto minute = std::chrono::seconds(60);
  std::lock_guard lock(failures_mu);
  if (failures.size() >= 10000) {  // bound memory: forget addresses that are not banned
    std::erase_if(failures, [&](const auto& kv) { return kv.second.banned_until <= now; });
    if (failures.size() >= 10000) failures.clear();
  }
  Failures& f = failures[addr];
  if (now - f.window_start >= minute) f = {.count = 0, .window_start = now, .banned_until = {}};
  if (++f.count >= config.auth.max_failures_per_minute) {
    spdlog::warn("{}: {} failed authentications from {} within a minute: blocked for 60 s",
                 config.service, f.count, addr);
    f = {.count = 0, .window_start = now, .banned_until = now + minute};
  }
}

std::optional<Response> HttpServer::Impl::Authorized(Request& req) {
  if (!config.auth.enabled) return std::nullopt;
  if (req.path == "/healthz" || req.path == "/readyz" || req.path == "/api/v1/openapi.json")
    return std::nullopt;
  if (req.path == "/metrics" && config.auth.metrics_public) return std::nullopt;
  for (const std::string& p : config.auth.public_paths)
    if (p == req.path || (p.ends_with('*') && req.path.starts_with(p.substr(0, p.size() - 1))))
      return std::nullopt;
  auto count = [&](const char* result) {
    metrics::GetCounter("strata_http_auth_total", "Authentication decisions by result",
                        {{"service", config.service}, {"result", result}})
        .Inc();
  };
  if (long wait = BannedFor(req.remote_addr); wait > 0) {
    count("throttled");
    Response r = Problem(429, "too many failed authentication attempts; retry later", req.path);
    r.headers.emplace_back("Retry-After", std::to_string(wait));
    return r;
  }
  auto unauthorized = [&](std::string_view detail) {
    // The reason is logged, the token never is.
    spdlog::debug("{}: 401 for {} {} from {}: {}", config.service, req.method, req.path,
                  req.remote_addr, detail);
    count(detail == "token expired" ? "expired" : "invalid");
    RecordFailure(req.remote_addr);
    Response r = Problem(401, detail, req.path);
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"strata\"");
    return r;
  };
  std::string h = req.Header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (h.size() <= kBearer.size() || h.compare(0, kBearer.size(), kBearer) != 0)
    return unauthorized("missing or invalid bearer token");
  std::string_view given = std::string_view(h).substr(kBearer.size());
  if (!token.empty() && TokenEquals(given, token)) return std::nullopt;
  if (!verifier) return unauthorized("missing or invalid bearer token");
  Result<auth::TokenClaims> claims = verifier->Verify(given);
  if (!claims.ok()) return unauthorized(claims.status().message());
  if (!auth::Allowed(*claims, config.auth.allow)) {
    count("forbidden");
    spdlog::warn("{}: 403 for principal '{}' (tier '{}') on {} {}", config.service, claims->sub,
                 claims->tier, req.method, req.path);
    return Problem(403,
                   "principal '" + claims->sub + "' is not allowed to call " + config.service,
                   req.path);
  }
  req.principal = claims->sub;
  count("ok");
  return std::nullopt;
}

std::optional<Response> HttpServer::Impl::RateLimited(const Request& req) {
  // The front (guard_front.h) charged every request but those with an Authorization field under
  // signed tokens: only these are charged here, once their principal is known (rate_limit.h).
  if (!limiter || !verifier || req.Header("authorization").empty()) return std::nullopt;
  if (RateLimitExempt(req.path, config.rate_limit.exempt)) return std::nullopt;
  const std::string key = req.principal.empty() ? "ip:" + req.remote_addr : "p:" + req.principal;
  RateLimiter::Decision d = limiter->Admit(key, std::chrono::steady_clock::now());
  if (d.allowed) return std::nullopt;
  metrics::GetCounter("strata_http_rate_limited_total",
                      "Requests refused with 429 by the per-client rate limit",
                      {{"service", config.service}})
      .Inc();
  Response r = Problem(429, "rate limit exceeded for this client; retry later", req.path);
  r.headers.emplace_back("Retry-After", std::to_string(d.retry_after_seconds));
  return r;
}

Response HttpServer::Impl::Builtin(const Request& req, bool* handled) {
  *handled = true;
  if (req.method == "GET" || req.method == "HEAD") {
    if (req.path == "/healthz") {
      t_route = "/healthz";
      return Response::Json({{"status", "ok"}, {"service", config.service}});
    }
    if (req.path == "/readyz") {
      t_route = "/readyz";
      nlohmann::json failing = nlohmann::json::object();
      {
        std::lock_guard lock(checks_mu);
        for (auto& [name, check] : checks) {
          Status s = check();
          if (!s.ok()) failing[name] = s.message();
        }
      }
      if (failing.empty()) return Response::Json({{"status", "ready"}});
      Response r = Problem(503, "not ready", req.path);
      nlohmann::json body = nlohmann::json::parse(r.body);
      body["checks"] = failing;
      r.body = body.dump();
      return r;
    }
    if (req.path == "/metrics") {
      t_route = "/metrics";
      return Response::Text(metrics::SerializeText(), "text/plain; version=0.0.4");
    }
    if (req.path == "/api/v1/openapi.json" && !openapi.empty()) {
      t_route = "/api/v1/openapi.json";
      return Response::Text(openapi, "application/json");
    }
  }
  *handled = false;
  return {};
}

Response HttpServer::Impl::Dispatch(Request& req) {
  if (std::optional<Response> denied = Authorized(req)) return std::move(*denied);
  if (std::optional<Response> limited = RateLimited(req)) return std::move(*limited);
  bool handled = false;
  Response builtin = Builtin(req, &handled);
  if (handled) return builtin;

  std::vector<std::string> segs = Split(req.path);
  std::string method = req.method == "HEAD" ? "GET" : req.method;
  std::set<std::string> allowed;
  for (const RouteEntry& route : routes) {
    std::map<std::string, std::string> params;
    if (!Match(route.segments, segs, &params)) continue;
    if (route.method != method) {
      allowed.insert(route.method);
      continue;
    }
    t_route = route.pattern;
    req.route = route.pattern;
    req.path_params = std::move(params);
    try {
      Result<Response> r = route.handler(req);
      if (r.ok()) return std::move(r).value();
      if (ToHttpStatus(r.status()) >= 500)
        spdlog::error("{} {}: {}", req.method, route.pattern, r.status().ToString());
      return ProblemFromStatus(r.status(), req.path);
    } catch (const std::exception& e) {
      spdlog::error("{} {}: unhandled exception: {}", req.method, route.pattern, e.what());
      return Problem(500, "internal error", req.path);
    }
  }
  if (!allowed.empty()) {
    std::string allow;
    for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
    Response r = Problem(405, "method " + req.method + " is not allowed on " + req.path +
                                  " (allowed: " + allow + ")",
                         req.path);
    r.headers.emplace_back("Allow", allow);
    return r;
  }
  return Problem(404, "no route for " + req.path, req.path);
}

HttpServer::HttpServer() : impl_(std::make_unique<Impl>()) {}

Response Response::Stream(std::string content_type, StreamProvider provider) {
  Response r;
  r.content_type = std::move(content_type);
  r.stream = std::move(provider);
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

HttpServer::~HttpServer() {
  Stop();
  Wait();
}

Result<std::unique_ptr<HttpServer>> HttpServer::Create(const ServerConfig& config) {
  if (config.port < 0 || config.port > 65535)
    return InvalidArgumentError("port " + std::to_string(config.port) + " is out of range");
  if (config.workers < 1 || config.workers > 1024)
    return InvalidArgumentError("workers must be in [1, 1024]");
  if (config.max_queue < 0) return InvalidArgumentError("max_queue must be >= 0");
  if (config.max_connections < 1) return InvalidArgumentError("max_connections must be >= 1");
  if (config.max_header_bytes < 1024 || config.max_header_count < 1)
    return InvalidArgumentError("max_header_bytes must be >= 1024 and max_header_count >= 1");
  if (config.max_body_bytes == 0) return InvalidArgumentError("max_body_bytes must be > 0");
  const RateLimitConfig& rl = config.rate_limit;
  if (!(rl.requests_per_second >= 0) || !(rl.burst >= 0) || rl.max_clients < 1)
    return InvalidArgumentError(
        "rate_limit needs requests_per_second >= 0, burst >= 0 and max_clients >= 1");
  std::unique_ptr<HttpServer> s(new HttpServer());
  Impl& impl = *s->impl_;
  impl.config = config;
  if (rl.requests_per_second > 0) {
    impl.limiter = std::make_shared<RateLimiter>(RateLimiter::Options{
        .requests_per_second = rl.requests_per_second,
        .burst = rl.burst,
        .max_clients = rl.max_clients});
    metrics::GetCounter("strata_http_rate_limited_total",  // exported as 0 from the start
                        "Requests refused with 429 by the per-client rate limit",
                        {{"service", config.service}});
  }
  if (!config.auth.enabled && !config.auth.explicitly_disabled && !IsLoopbackHost(config.host))
    return InvalidArgumentError(
        "refusing to serve " + config.service + " on non-loopback host '" + config.host +
        "' without authentication: set server.auth.key_file (or a token), or say "
        "server.auth: {enabled: false} explicitly");
  if (config.auth.enabled && !config.auth.key_file.empty()) {
    STRATA_ASSIGN_OR_RETURN(impl.verifier, auth::KeyFileVerifier::Create(config.auth.key_file));
  }
  if (config.auth.enabled) {
    std::string token = config.auth.token;
    if (token.empty() && !config.auth.token_file.empty()) {
      std::ifstream in(config.auth.token_file);
      if (!in) return InvalidArgumentError("cannot read token file '" + config.auth.token_file + "'");
      std::stringstream ss;
      ss << in.rdbuf();
      token = Trim(ss.str());
    }
    if (token.empty() && !config.auth.token_env.empty() && !impl.verifier) {
      const char* env = std::getenv(config.auth.token_env.c_str());
      if (env) token = Trim(env);
    }
    if (token.empty() && !impl.verifier)
      return InvalidArgumentError("auth is enabled but no token was found in $" +
                                  config.auth.token_env + " or a token file");
    impl.token = std::move(token);
  }
  // Every listener gets the guarded front (guarded_server.h): connection cap, request-head
  // deadline and limits, idle keep-alives and TLS handshakes without a worker.
  GuardLimits limits{.service = config.service,
                     .workers = config.workers,
                     .max_queue = config.max_queue,
                     .max_connections = config.max_connections,
                     .max_header_bytes = config.max_header_bytes,
                     .max_header_count = config.max_header_count,
                     .keep_alive_max_requests = config.keep_alive_max_requests,
                     .header_timeout = config.header_timeout,
                     .body_timeout = config.body_timeout,
                     .keep_alive_timeout = config.keep_alive_timeout,
                     .read_timeout = config.read_timeout,
                     .write_timeout = config.write_timeout};
  if (impl.limiter) {  // per-IP layer in the poller, before the queue (see RateLimited)
    metrics::Counter limited = metrics::GetCounter(
        "strata_http_rate_limited_total", "Requests refused with 429 by the per-client rate limit",
        {{"service", config.service}});
    limits.admit = [limiter = impl.limiter, exempt = config.rate_limit.exempt,
                    signed_tokens = impl.verifier != nullptr,
                    limited](const HeadFacts& h, const std::string& peer) mutable -> long {
      if ((signed_tokens && h.authorization) || RateLimitExempt(h.path, exempt)) return 0;
      RateLimiter::Decision d = limiter->Admit("ip:" + peer, std::chrono::steady_clock::now());
      if (d.allowed) return 0;
      limited.Inc();
      return d.retry_after_seconds;
    };
  }
  if (!config.tls.cert_file.empty() || !config.tls.key_file.empty()) {
    if (config.tls.cert_file.empty() || config.tls.key_file.empty())
      return InvalidArgumentError("TLS needs both cert_file and key_file");
    auto ssl = std::make_unique<GuardedSslServer>(config.tls.cert_file.c_str(),
                                                  config.tls.key_file.c_str(), limits);
    if (!ssl->is_valid())
      return InvalidArgumentError("cannot load TLS certificate '" + config.tls.cert_file +
                                  "' / key '" + config.tls.key_file + "'");
    impl.server = std::move(ssl);
  } else {
    impl.server = std::make_unique<GuardedServer>(limits);
  }
  return s;
}

void HttpServer::Route(std::string method, std::string pattern, Handler handler) {
  std::vector<std::string> segs = Split(pattern);
  impl_->routes.push_back({std::move(method), std::move(pattern), std::move(segs),
                           std::move(handler)});
}

void HttpServer::SetOpenApi(std::string json_text) { impl_->openapi = std::move(json_text); }

void HttpServer::AddReadinessCheck(std::string name, std::function<Status()> check) {
  std::lock_guard lock(impl_->checks_mu);
  impl_->checks.emplace_back(std::move(name), std::move(check));
}

Status HttpServer::Start() {
  Impl& impl = *impl_;
  httplib::Server& svr = *impl.server;
  const ServerConfig& c = impl.config;
  const std::string service = c.service;
  svr.set_tcp_nodelay(true);  // without it, Nagle + delayed ACK add ~40 ms per response
  svr.set_payload_max_length(c.max_body_bytes);
  svr.set_read_timeout(std::chrono::duration_cast<std::chrono::seconds>(c.read_timeout).count(),
                       (c.read_timeout.count() % 1000) * 1000);
  svr.set_write_timeout(std::chrono::duration_cast<std::chrono::seconds>(c.write_timeout).count(),
                        (c.write_timeout.count() % 1000) * 1000);
  svr.set_keep_alive_timeout(
      std::max<long>(1, std::chrono::duration_cast<std::chrono::seconds>(c.keep_alive_timeout).count()));
  svr.set_keep_alive_max_count(static_cast<size_t>(c.keep_alive_max_requests));
  // Worker pool, queue bound (→ 503) and shedding metrics live in the guarded front.

  const size_t max_body = c.max_body_bytes;
  svr.set_pre_routing_handler([max_body](const httplib::Request& req, httplib::Response& res) {
    t_start = std::chrono::steady_clock::now();
    t_route = "unmatched";
    if (BoundedTaskQueue::IsShedding()) {
      Write(Problem(503, "server is overloaded; retry later", req.path), res);
      res.set_header("Retry-After", "1");
      res.set_header("Connection", "close");
      return httplib::Server::HandlerResponse::Handled;
    }
    std::string te = req.get_header_value("Transfer-Encoding");
    if (!te.empty() && te != "identity") {
      Write(Problem(411, "chunked request bodies are not accepted; send Content-Length",
                    req.path), res);
      res.set_header("Connection", "close");
      return httplib::Server::HandlerResponse::Handled;
    }
    std::string ce = req.get_header_value("Content-Encoding");
    if (!ce.empty() && ce != "identity") {
      Write(Problem(415, "compressed request bodies are not accepted", req.path), res);
      res.set_header("Connection", "close");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.has_header("Content-Length")) {
      std::string cl = req.get_header_value("Content-Length");
      uint64_t len = 0;
      bool numeric = !cl.empty() && cl.size() <= 19 &&
                     std::all_of(cl.begin(), cl.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
      if (numeric) len = std::stoull(cl);
      if (!numeric) {
        Write(Problem(400, "invalid Content-Length", req.path), res);
        res.set_header("Connection", "close");
        return httplib::Server::HandlerResponse::Handled;
      }
      // Modest excess: let httplib drain the body and answer 413, so the client reads the
      // answer. Absurd sizes: answer now and close rather than read gigabytes.
      if (len > max_body && len > 4 * static_cast<uint64_t>(max_body) + (16u << 20)) {
        Write(Problem(413, "request body of " + cl + " bytes exceeds the limit of " +
                               std::to_string(max_body) + " bytes",
                      req.path), res);
        res.set_header("Connection", "close");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  auto handle = [this](const httplib::Request& in, httplib::Response& out) {
    Request req;
    req.method = in.method;
    req.path = in.path;
    req.body = in.body;
    req.remote_addr = in.remote_addr;
    for (const auto& [k, v] : in.headers) {
      std::string key = k;
      std::transform(key.begin(), key.end(), key.begin(),
                     [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      // Ignore client-supplied REMOTE_*/LOCAL_* headers (they shadow socket facts in httplib).
      if (key.rfind("remote_", 0) == 0 || key.rfind("local_", 0) == 0) continue;
      req.headers.emplace(std::move(key), v);
    }
    for (const auto& [k, v] : in.params) req.query.emplace(k, v);
    Write(impl_->Dispatch(req), out, impl_->stopping);
  };
  const std::string any = ".*";
  svr.Get(any, handle);
  svr.Post(any, handle);
  svr.Put(any, handle);
  svr.Patch(any, handle);
  svr.Delete(any, handle);
  svr.Options(any, handle);

  httplib::Server::HandlerWithResponse on_error = [max_body](const httplib::Request& req,
                                                             httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string detail = std::string(StatusTitle(res.status));
    if (res.status == 413)
      detail = "request body exceeds the limit of " + std::to_string(max_body) + " bytes";
    Write(Problem(res.status, detail, req.path), res);
    return httplib::Server::HandlerResponse::Handled;
  };
  svr.set_error_handler(on_error);
  svr.set_exception_handler([](const httplib::Request& req, httplib::Response& res,
                               std::exception_ptr ep) {
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      spdlog::error("{} {}: exception: {}", req.method, req.path, e.what());
    } catch (...) {
      spdlog::error("{} {}: unknown exception", req.method, req.path);
    }
    Write(Problem(500, "internal error", req.path), res);
  });
  svr.set_logger([service](const httplib::Request& req, const httplib::Response& res) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    std::string route = t_route.empty() ? "unmatched" : t_route;
    metrics::GetHistogram("strata_http_request_duration_seconds", "HTTP request latency",
                          {{"service", service}, {"route", route}, {"method", req.method}})
        .Observe(secs);
    metrics::GetCounter("strata_http_requests_total", "HTTP requests by status code",
                        {{"service", service},
                         {"route", route},
                         {"method", req.method},
                         {"code", std::to_string(res.status)}})
        .Inc();
    t_route.clear();
  });

  int port = c.port == 0 ? svr.bind_to_any_port(c.host) : (svr.bind_to_port(c.host, c.port) ? c.port : -1);
  if (port <= 0)
    return UnavailableError("cannot bind " + c.host + ":" + std::to_string(c.port));
  impl.port = port;
  // httplib's .so listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG only reaches headers).
  if (auto* guarded = dynamic_cast<GuardedServer*>(&svr)) guarded->SetListenBacklog(512);
  if (auto* guarded = dynamic_cast<GuardedSslServer*>(&svr)) guarded->SetListenBacklog(512);
  impl.thread = std::thread([&svr] { svr.listen_after_bind(); });
  // Stop() is a no-op until httplib's accept loop runs, so do not return before it does.
  while (!svr.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  spdlog::info("{} listening on {}://{}:{}", service, tls() ? "https" : "http", c.host, port);
  return Status::Ok();
}

void HttpServer::Stop() {
  if (!impl_->server) return;
  std::call_once(impl_->stop_once, [this] {
    *impl_->stopping = true;
    impl_->server->stop();
  });
}

void HttpServer::Wait() {
  if (impl_->thread.joinable()) impl_->thread.join();
}

int HttpServer::port() const { return impl_->port; }
bool HttpServer::tls() const { return !impl_->config.tls.cert_file.empty(); }
const ServerConfig& HttpServer::config() const { return impl_->config; }

std::vector<RouteInfo> HttpServer::routes() const {
  std::vector<RouteInfo> out;
  for (const auto& r : impl_->routes) out.push_back({r.method, r.pattern});
  return out;
}

void BlockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

Status RunUntilSignal(HttpServer& server) {
  BlockTerminationSignals();
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  if (sigwait(&set, &sig) != 0) return InternalError("sigwait failed");
  spdlog::info("signal {} received: finishing in-flight requests", sig);
  server.Stop();
  server.Wait();
  spdlog::info("stopped cleanly");
  return Status::Ok();
}

std::vector<std::string> OpenApiMismatches(const HttpServer& server, std::string_view spec_json) {
  std::vector<std::string> out;
  nlohmann::json spec;
  try {
    spec = nlohmann::json::parse(spec_json);
  } catch (const std::exception& e) {
    return {std::string("OpenAPI document is not JSON: ") + e.what()};
  }
  std::set<std::string> in_spec, in_server;
  if (spec.contains("paths") && spec["paths"].is_object()) {
    for (auto& [path, ops] : spec["paths"].items()) {
      if (!ops.is_object()) continue;
      for (auto& [method, op] : ops.items()) {
        std::string m = method;
        std::transform(m.begin(), m.end(), m.begin(), ::toupper);
        if (m == "PARAMETERS" || m == "SUMMARY" || m == "DESCRIPTION") continue;
        in_spec.insert(m + " " + path);
      }
    }
  }
  for (const auto& r : server.routes()) in_server.insert(r.method + " " + r.pattern);
  for (const auto& r : in_server)
    if (!in_spec.count(r)) out.push_back("route missing from OpenAPI: " + r);
  for (const auto& r : in_spec)
    if (!in_server.count(r) && r.find("/api/v1/openapi.json") == std::string::npos &&
        r.find("/healthz") == std::string::npos && r.find("/readyz") == std::string::npos &&
        r.find("/metrics") == std::string::npos)
      out.push_back("OpenAPI path without a route: " + r);
  return out;
}

}  // namespace strata::http
