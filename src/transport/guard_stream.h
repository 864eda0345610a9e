// GuardStream: the httplib::Stream a GuardedServer worker serves one request on.
//
// Reads first replay the bytes the poller already buffered (the whole request head, maybe the
// start of the body), then come from the non-blocking socket (through `ssl` when it is set)
// with a per-read timeout and a total body deadline. Writes poll for writability with the write timeout. It notes whether
// the response head says "Connection: close" so the connection is not reused after a handler
// answered early without reading the body. Internal to strata_transport.
#pragma once

#include <httplib.h>
#include <openssl/ssl.h>

#include <chrono>
#include <string>

namespace strata::http {

class GuardStream : public httplib::Stream {
 public:
  using Clock = std::chrono::steady_clock;
  GuardStream(int fd, SSL* ssl, std::string buffered, std::chrono::milliseconds read_timeout,
              std::chrono::milliseconds write_timeout, Clock::time_point body_deadline);

  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override { return fd_; }

  bool failed() const { return failed_; }
  bool response_closes() const { return response_closes_; }
  // Bytes received but not consumed (a pipelined next request).
  std::string TakeLeftover();

 private:
  bool Wait(short events, std::chrono::milliseconds timeout) const;
  ssize_t ReadSome(char* ptr, size_t size, short* wait_for);
  ssize_t WriteSome(const char* ptr, size_t size, short* wait_for);

  int fd_;
  SSL* ssl_;
  std::string buf_;
  size_t pos_ = 0;
  std::chrono::milliseconds read_timeout_, write_timeout_;
  Clock::time_point body_deadline_;
  bool failed_ = false;
  bool head_seen_ = false;
  bool response_closes_ = false;
};

}  // namespace strata::http
