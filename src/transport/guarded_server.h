// GuardedServer / GuardedSslServer: cpp-httplib's Server / SSLServer with an event-driven front
// (GuardFront, guard_front.h) for slow, idle and hostile clients. Internal to strata_transport;
// HttpServer uses them for every listener.
//
// httplib 0.11 gives each connection a worker thread for its whole life, so a few idle
// keep-alive, silent or trickling (slowloris) clients starve a fixed pool. These classes
// override process_and_close_socket (run on the accept thread through an InlineQueue) to hand
// every accepted socket to one epoll thread, which:
//   - caps live connections (max_connections): at the cap it closes the oldest idle connection
//     (or a request head that has been trickling for > 1 s); if there is none, the new
//     connection gets 503 + close (TLS: a plain close) without ever touching a worker;
//   - runs TLS handshakes and reads request heads without a worker, under a total deadline
//     (header_timeout → 408) and size limits (request line → 414, head bytes / fields → 431);
//   - parks idle keep-alive connections without a worker until keep_alive_timeout.
//   - with server.rate_limit, answers a complete head over its peer address's rate with 429
//     itself (GuardLimits::admit, rate_limit.h), keeping the connection when it can.
// Only complete heads go to the bounded worker pool (full → 503 from the poller); a worker runs
// httplib's process_request on a buffered GuardStream (body reads bounded by body_timeout) and
// hands the connection back. Usage: construct, configure like any httplib::Server, listen.
#pragma once

#include <httplib.h>

#include <memory>

#include "guard_front.h"

namespace strata::http {

class GuardedServer : public httplib::Server {
 public:
  explicit GuardedServer(GuardLimits limits);
  ~GuardedServer() override;
  // Re-issues listen() on the bound socket with a larger backlog (the Debian .so uses 5).
  void SetListenBacklog(int backlog);
  int live_connections() { return front_->live_connections(); }

 private:
  bool process_and_close_socket(socket_t sock) override;
  std::unique_ptr<GuardFront> front_;
};

class GuardedSslServer : public httplib::SSLServer {
 public:
  // Check is_valid() afterwards, as for httplib::SSLServer.
  GuardedSslServer(const char* cert_file, const char* key_file, GuardLimits limits);
  ~GuardedSslServer() override;
  void SetListenBacklog(int backlog);
  int live_connections() { return front_ ? front_->live_connections() : 0; }

 private:
  bool process_and_close_socket(socket_t sock) override;
  std::unique_ptr<GuardFront> front_;  // null when the certificate/key did not load
};

}  // namespace strata::http
