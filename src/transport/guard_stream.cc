// GuardStream implementation: see guard_stream.h.
#include "guard_stream.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace strata::http {
namespace {

void AddrToString(const sockaddr_storage& addr, std::string& ip, int& port) {
  char text[INET6_ADDRSTRLEN] = {0};
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    port = ntohs(a->sin6_port);
  }
  ip = text;
}

}  // namespace

GuardStream::GuardStream(int fd, SSL* ssl, std::string buffered, std::chrono::milliseconds read_timeout,
                         std::chrono::milliseconds write_timeout, Clock::time_point body_deadline)
    : fd_(fd),
      ssl_(ssl),
      buf_(std::move(buffered)),
      read_timeout_(read_timeout),
      write_timeout_(write_timeout),
      body_deadline_(body_deadline) {}

bool GuardStream::Wait(short events, std::chrono::milliseconds timeout) const {
  pollfd p{fd_, events, 0};
  int ms = static_cast<int>(std::max<int64_t>(0, timeout.count()));
  for (int tries = 0; tries < 8; ++tries) {  // bounded retries on EINTR
    int r = ::poll(&p, 1, ms);
    if (r > 0) return (p.revents & (events | POLLHUP | POLLERR)) != 0;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
  return false;
}

// One non-blocking read/write: > 0 bytes, 0 end of stream, -1 with *wait_for set when it
// would block (POLLIN/POLLOUT: TLS may need either direction), -1 with *wait_for 0 on error.
ssize_t GuardStream::ReadSome(char* ptr, size_t size, short* wait_for) {
  *wait_for = 0;
  if (!ssl_) {
    ssize_t n = ::recv(fd_, ptr, size, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) *wait_for = POLLIN;
    return n;
  }
  int n = SSL_read(ssl_, ptr, static_cast<int>(std::min<size_t>(size, 1 << 30)));
  if (n > 0) return n;
  int e = SSL_get_error(ssl_, n);
  if (e == SSL_ERROR_ZERO_RETURN) return 0;
  if (e == SSL_ERROR_WANT_READ) *wait_for = POLLIN;
  if (e == SSL_ERROR_WANT_WRITE) *wait_for = POLLOUT;
  return -1;
}

ssize_t GuardStream::WriteSome(const char* ptr, size_t size, short* wait_for) {
  *wait_for = 0;
  if (!ssl_) {
    ssize_t n = ::send(fd_, ptr, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) *wait_for = POLLOUT;
    return n;
  }
  int n = SSL_write(ssl_, ptr, static_cast<int>(std::min<size_t>(size, 1 << 30)));
  if (n > 0) return n;
  int e = SSL_get_error(ssl_, n);
  if (e == SSL_ERROR_WANT_READ) *wait_for = POLLIN;
  if (e == SSL_ERROR_WANT_WRITE) *wait_for = POLLOUT;
  return -1;
}

bool GuardStream::is_readable() const {
  if (pos_ < buf_.size() || (ssl_ && SSL_pending(ssl_) > 0)) return true;
  return !failed_ && Wait(POLLIN, read_timeout_);
}

bool GuardStream::is_writable() const { return !failed_ && Wait(POLLOUT, write_timeout_); }

ssize_t GuardStream::read(char* ptr, size_t size) {
  if (pos_ < buf_.size()) {
    size_t n = std::min(size, buf_.size() - pos_);
    std::memcpy(ptr, buf_.data() + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  if (failed_) return -1;
  for (int tries = 0; tries < 64; ++tries) {  // bounded: spurious wake-ups only
    short wait_for = 0;
    ssize_t n = ReadSome(ptr, size, &wait_for);
    if (n > 0) return n;
    if (n == 0) {
      failed_ = true;
      return 0;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(body_deadline_ - Clock::now());
    if (wait_for == 0 || left.count() <= 0 || !Wait(wait_for, std::min(left, read_timeout_))) break;
  }
  failed_ = true;  // read timeout, body deadline, or socket error: the connection is done
  return -1;
}

ssize_t GuardStream::write(const char* ptr, size_t size) {
  if (failed_) return -1;
  if (!head_seen_) {  // the first write of a response is its status line and headers
    head_seen_ = true;
    std::string_view w(ptr, size);
    size_t end = w.find("\r\n\r\n");
    std::string_view head = w.substr(0, end == std::string_view::npos ? w.size() : end + 2);
    response_closes_ = head.find("\r\nConnection: close\r\n") != std::string_view::npos;
  }
  size_t off = 0;
  int stalls = 0;
  while (off < size) {
    short wait_for = 0;
    ssize_t n = WriteSome(ptr + off, size - off, &wait_for);
    if (n > 0) {
      off += static_cast<size_t>(n);
      stalls = 0;
      continue;
    }
    if (wait_for != 0 && stalls++ < 2 && Wait(wait_for, write_timeout_)) continue;
    failed_ = true;
    return -1;
  }
  return static_cast<ssize_t>(size);
}

void GuardStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  port = 0;
  if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) AddrToString(addr, ip, port);
}

void GuardStream::get_local_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  port = 0;
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) AddrToString(addr, ip, port);
}

std::string GuardStream::TakeLeftover() {
  std::string rest = buf_.substr(std::min(pos_, buf_.size()));
  buf_.clear();
  pos_ = 0;
  return rest;
}

}  // namespace strata::http
