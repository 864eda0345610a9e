// GuardedServer / GuardedSslServer: wiring of httplib's accept loop to GuardFront. See
// guarded_server.h.
#include "guarded_server.h"

#include <sys/socket.h>
#include <unistd.h>

namespace strata::http {

GuardedServer::GuardedServer(GuardLimits limits) {
  front_ = std::make_unique<GuardFront>(
      std::move(limits),
      [this](httplib::Stream& strm, bool close, bool& closed, SSL*) {
        return process_request(strm, close, closed, nullptr);
      },
      nullptr);
  new_task_queue = [f = front_.get()] { return new InlineQueue(f); };
}

GuardedServer::~GuardedServer() { front_->Shutdown(); }

bool GuardedServer::process_and_close_socket(socket_t sock) {
  front_->Adopt(sock);
  return true;
}

void GuardedServer::SetListenBacklog(int backlog) {
  if (svr_sock_ != INVALID_SOCKET) ::listen(svr_sock_, backlog);
}

GuardedSslServer::GuardedSslServer(const char* cert_file, const char* key_file, GuardLimits limits)
    : httplib::SSLServer(cert_file, key_file) {
  if (!ssl_context()) return;  // invalid certificate or key: is_valid() is false, never serve
  front_ = std::make_unique<GuardFront>(
      std::move(limits),
      [this](httplib::Stream& strm, bool close, bool& closed, SSL* ssl) {
        return process_request(strm, close, closed, [ssl](httplib::Request& req) { req.ssl = ssl; });
      },
      ssl_context());
  new_task_queue = [f = front_.get()] { return new InlineQueue(f); };
}

GuardedSslServer::~GuardedSslServer() {
  if (front_) front_->Shutdown();
}

bool GuardedSslServer::process_and_close_socket(socket_t sock) {
  if (!front_) {
    ::close(sock);
    return false;
  }
  front_->Adopt(sock);
  return true;
}

void GuardedSslServer::SetListenBacklog(int backlog) {
  if (svr_sock_ != INVALID_SOCKET) ::listen(svr_sock_, backlog);
}

}  // namespace strata::http
