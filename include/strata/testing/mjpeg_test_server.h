// MjpegTestServer (tests only): a live camera on 127.0.0.1 (port 0) that serves JPEG frames as an
// MJPEG-over-HTTP multipart stream (`http://127.0.0.1:<port>/stream.mjpg`, what many IP cameras
// send; OpenCV's FFmpeg backend reads it as mpjpeg) and can be told to misbehave:
//   kServe: every connection gets frames at `fps`, cycling through `frames`.
//   kStall: connections stay open and new ones are accepted, but nothing is sent (a hung camera).
//   kDown:  every connection is closed, new ones are closed right after accept (camera rebooting).
// Back to kServe, stalled connections carry on where they stopped. SendOnce(): each connection
// gets every frame once and is then closed (a finite stream, to account for every frame). Every
// loop is bounded by Stop() (the destructor) and polls with short timeouts. Thread-safety: SetMode
// / counters from any thread; one thread per connection inside.
//
//   strata::testing::MjpegTestServer cam(jpegs, /*fps=*/10);
//   VideoSource::Open({.uri = cam.url()});
//   cam.SetMode(MjpegTestServer::kStall);
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace strata::testing {

class MjpegTestServer {
 public:
  enum Mode { kServe, kStall, kDown };

  MjpegTestServer(std::vector<std::string> frames, double fps)
      : frames_(std::move(frames)), period_(std::chrono::microseconds(int64_t(1e6 / fps))) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listen_fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~MjpegTestServer() {
    stop_ = true;
    if (acceptor_.joinable()) acceptor_.join();
    std::lock_guard lock(mu_);
    for (auto& t : conns_)
      if (t.joinable()) t.join();
    ::close(listen_fd_);
  }
  MjpegTestServer(const MjpegTestServer&) = delete;
  MjpegTestServer& operator=(const MjpegTestServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/stream.mjpg"; }
  void SetMode(Mode m) { mode_ = m; }
  void SendOnce() { once_ = true; }
  int64_t frames_sent() const { return frames_sent_; }
  int64_t connections() const { return connections_; }

 private:
  // Sends all of `data`; false when the peer went away, the server stops or must go down.
  bool SendAll(int fd, const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      if (stop_ || mode_ == kDown) return false;
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, 50) <= 0) continue;  // bounded by stop_
      ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  // Waits while stalled; false when the connection must end.
  bool WaitWhileStalled() {
    while (mode_ == kStall && !stop_) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return !stop_ && mode_ != kDown;
  }
  void Serve(int fd) {
    std::string req;  // read the request head (bounded: 8 KiB or 2 s)
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (req.find("\r\n\r\n") == std::string::npos && req.size() < 8192 &&
           std::chrono::steady_clock::now() < deadline && !stop_) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buf[1024];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      req.append(buf, static_cast<size_t>(n));
    }
    bool ok =
        WaitWhileStalled() &&
        SendAll(fd,
                "HTTP/1.0 200 OK\r\nContent-Type: multipart/x-mixed-replace; "
                "boundary=strataframe\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n");
    for (size_t i = 0; ok && !(once_ && i >= frames_.size()); ++i) {
      ok = WaitWhileStalled();
      const std::string& jpeg = frames_[i % frames_.size()];
      ok = ok && SendAll(fd, "--strataframe\r\nContent-Type: image/jpeg\r\nContent-Length: " +
                                 std::to_string(jpeg.size()) + "\r\n\r\n" + jpeg + "\r\n");
      if (ok) ++frames_sent_;
      auto until = std::chrono::steady_clock::now() + period_;
      while (ok && !stop_ && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ::close(fd);
  }
  void AcceptLoop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      ++connections_;
      if (mode_ == kDown) {
        ::close(fd);
        continue;
      }
      std::lock_guard lock(mu_);
      conns_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  std::vector<std::string> frames_;
  std::chrono::microseconds period_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false}, once_{false};
  std::atomic<Mode> mode_{kServe};
  std::atomic<int64_t> frames_sent_{0}, connections_{0};
  std::mutex mu_;
  std::vector<std::thread> conns_;
  std::thread acceptor_;
};

}  // namespace strata::testing
