// Test helpers for strata_link tests: a real TCP echo/sink upstream on loopback and blocking
// socket helpers with deadlines. Header-only, tests only.
// Thread-safety: an EchoServer runs its own threads; its counters are atomics.
//
//   EchoServer echo;                       // echoes every byte back on 127.0.0.1:echo.port()
//   int fd = ConnectTo(proxy->port());
//   SendAll(fd, "ping"); std::string back = RecvExactly(fd, 4, 1000ms);
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <thread>

namespace strata::link::testutil {

using Clock = std::chrono::steady_clock;

inline int ConnectTo(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

inline bool SendAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// Reads until `n` bytes, EOF/error, or the timeout; returns what arrived. *status: 1 complete,
// 0 timeout, -1 EOF or error (errno kept in *err).
inline std::string RecvExactly(int fd, size_t n, std::chrono::milliseconds timeout,
                               int* status = nullptr, int* err = nullptr) {
  std::string out;
  auto deadline = Clock::now() + timeout;
  char buf[65536];
  int st = 1;
  while (out.size() < n) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) == 0) {
      st = 0;
      break;
    }
    ssize_t k = recv(fd, buf, std::min(sizeof(buf), n - out.size()), 0);
    if (k <= 0) {
      if (err) *err = k < 0 ? errno : 0;
      st = -1;
      break;
    }
    out.append(buf, static_cast<size_t>(k));
  }
  if (status) *status = st;
  return out;
}

// A TCP upstream on 127.0.0.1: echoes every byte back (or, as a sink, only counts them).
class EchoServer {
 public:
  explicit EchoServer(bool sink = false) : sink_(sink) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    listen(listen_fd_, 64);
    socklen_t len = sizeof(a);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~EchoServer() {
    stop_ = true;
    acceptor_.join();
    close(listen_fd_);
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& t : workers_) t.join();
  }
  int port() const { return port_; }
  int accepted() const { return accepted_; }
  uint64_t received() const { return received_; }
  // When the sink had received `bytes` in total (set once reached).
  Clock::time_point ReachedAt(uint64_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    return received_ >= bytes ? reached_at_ : Clock::time_point::max();
  }
  void ExpectBytes(uint64_t bytes) { expect_ = bytes; }

 private:
  void AcceptLoop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      accepted_++;
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      std::lock_guard<std::mutex> lock(mu_);
      workers_.emplace_back([this, fd] { Serve(fd); });
    }
  }
  void Serve(int fd) {
    char buf[65536];
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      uint64_t total = received_ += static_cast<uint64_t>(n);
      if (expect_ > 0 && total >= expect_) {
        std::lock_guard<std::mutex> lock(mu_);
        if (reached_at_ == Clock::time_point{}) reached_at_ = Clock::now();
      }
      if (!sink_ && !SendAll(fd, std::string(buf, static_cast<size_t>(n)))) break;
    }
    shutdown(fd, SHUT_WR);
    close(fd);
  }

  bool sink_;
  int listen_fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::atomic<uint64_t> received_{0}, expect_{0};
  std::mutex mu_;
  Clock::time_point reached_at_{};
  std::list<std::thread> workers_;
  std::thread acceptor_;
};

}  // namespace strata::link::testutil
