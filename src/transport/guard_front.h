// GuardFront: the epoll front of GuardedServer / GuardedSslServer (guarded_server.h). It owns
// every connection between requests: connection cap, TLS handshake, request-head reading with
// deadline and size limits, idle keep-alives, the per-IP rate limit (GuardLimits::admit → 429);
// complete heads go to a bounded worker pool that calls `serve` (httplib's process_request) on a
// GuardStream; when its queue is full the front answers 503 + Retry-After itself and keeps the
// connection under the same rules as the 429 (see `admit`). Internal to strata_transport.
#pragma once

#include <httplib.h>
#include <openssl/ssl.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "rate_limit.h"

namespace strata::http {

struct GuardLimits {
  std::string service = "strata";  // metrics label
  int workers = 8;
  int max_queue = 64;
  int max_connections = 512;
  size_t max_header_bytes = 64u << 10;
  size_t max_request_line = 8u << 10;
  int max_header_count = 100;
  int keep_alive_max_requests = 100;
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds body_timeout{30000};
  std::chrono::milliseconds keep_alive_timeout{5000};
  std::chrono::milliseconds read_timeout{5000};
  std::chrono::milliseconds write_timeout{5000};
  // server.rate_limit in the front: called on the poller with each complete head and the peer
  // address before it is queued; 0 → queue it, else answer 429 + Retry-After: <returned seconds>
  // right there, without a worker (the connection stays open when the request has no body or a
  // body <= 64 KiB, which is discarded). Null = off.
  std::function<long(const HeadFacts& head, const std::string& peer)> admit;
};

class GuardFront {
 public:
  // Serves one request on `strm`; arguments as httplib::Server::process_request, plus the
  // connection's SSL (nullptr for plaintext). Returns false when the connection is broken.
  using ServeFn =
      std::function<bool(httplib::Stream& strm, bool close_connection, bool& connection_closed,
                         SSL* ssl)>;
  // `ctx` non-null → TLS: handshakes run on the poller thread, non-blocking.
  GuardFront(GuardLimits limits, ServeFn serve, SSL_CTX* ctx);
  ~GuardFront();
  GuardFront(const GuardFront&) = delete;
  GuardFront& operator=(const GuardFront&) = delete;

  // Takes ownership of an accepted socket (any thread; cheap, never blocks on the peer).
  void Adopt(int fd);
  // Closes waiting connections, lets in-flight requests finish, joins all threads. Idempotent.
  void Shutdown();
  int live_connections();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// httplib TaskQueue that runs accept-loop jobs inline (they only call Adopt) and shuts the
// front down when httplib's accept loop ends.
class InlineQueue : public httplib::TaskQueue {
 public:
  explicit InlineQueue(GuardFront* front) : front_(front) {}
  void enqueue(std::function<void()> fn) override { fn(); }
  void shutdown() override { front_->Shutdown(); }

 private:
  GuardFront* front_;
};

}  // namespace strata::http
