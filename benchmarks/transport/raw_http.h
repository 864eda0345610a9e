// RawHttp: a minimal blocking HTTP/1.1 client over a loopback socket for the load tools
// (http_overload_bench): keep-alive, one request at a time, bounded waits, Content-Length bodies
// only. Also Percentile() for the reports. Header-only; benchmarks only.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace strata::bench {

class RawHttp {
 public:
  explicit RawHttp(int port) : port_(port) {}
  ~RawHttp() { Close(); }
  RawHttp(const RawHttp&) = delete;
  RawHttp& operator=(const RawHttp&) = delete;

  bool Connect() {
    Close();
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      Close();
      return false;
    }
    return true;
  }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buf_.clear();
  }
  bool open() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  bool Send(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  // Status of the next response (0 = connection failed, -1 = timed out); `closes` is set when the
  // server announced Connection: close.
  int Read(std::chrono::milliseconds timeout, bool* closes) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      size_t end = buf_.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t cl = buf_.find("Content-Length: ");
        size_t len = cl < end ? std::stoul(buf_.substr(cl + 16)) : 0;
        if (buf_.size() >= end + 4 + len) {
          *closes = buf_.substr(0, end).find("Connection: close") != std::string::npos;
          int status = buf_.size() > 12 ? std::atoi(buf_.c_str() + 9) : 0;
          buf_.erase(0, end + 4 + len);
          return status;
        }
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return -1;
      pollfd p{fd_, POLLIN, 0};
      int r = ::poll(&p, 1, static_cast<int>(left.count()));
      if (r == 0) return -1;
      char b[16384];
      ssize_t n = r > 0 ? ::recv(fd_, b, sizeof b, 0) : -1;
      if (n <= 0) return 0;
      buf_.append(b, static_cast<size_t>(n));
    }
  }

 private:
  int port_;
  int fd_ = -1;
  std::string buf_;
};

// q in [0, 1]; `v` is sorted in place. 0 for an empty sample.
inline double Percentile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  return v[i];
}

}  // namespace strata::bench
