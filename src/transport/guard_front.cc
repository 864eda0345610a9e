// GuardFront implementation (see guard_front.h): the poller thread and its connection table,
// and the worker side that serves one request at a time on a GuardStream.
#include "guard_front.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "guard_stream.h"
#include "strata/metrics/metrics.h"
#include "strata/transport/http.h"
#include "task_queue.h"

namespace strata::http {

using Clock = std::chrono::steady_clock;

struct GuardFront::Impl {
  enum class Phase { kWaiting, kBusy, kClosing };
  struct Conn {
    Phase phase = Phase::kWaiting;
    std::string buf;              // received, not yet served
    Clock::time_point deadline;   // waiting: head or idle deadline; closing: end of linger
    Clock::time_point head_start;  // first byte of the current head (valid when !buf.empty())
    Clock::time_point last_active;
    int served = 0;
    SSL* ssl = nullptr;  // TLS only
    bool handshaken = false;
    std::string peer;    // remote address, only with lim.admit
    size_t discard = 0;  // body bytes of a request answered by the front, still to drop
  };

  Impl(GuardLimits limits, ServeFn serve_fn, SSL_CTX* ctx)
      : serve(std::move(serve_fn)),
        ctx(ctx),
        lim(std::move(limits)),
        pool(lim.workers, lim.max_queue,
             metrics::GetCounter("strata_http_shed_total",
                                 "Connections answered 503 because the queue was full",
                                 {{"service", lim.service}}),
             metrics::GetGauge("strata_http_queue_depth", "Connections waiting for a worker",
                               {{"service", lim.service}})),
        open_gauge(metrics::GetGauge("strata_http_open_connections",
                                     "Open HTTP connections (all phases but lingering close)",
                                     {{"service", lim.service}})) {
    epfd = ::epoll_create1(EPOLL_CLOEXEC);
    wakefd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wakefd;
    ::epoll_ctl(epfd, EPOLL_CTL_ADD, wakefd, &ev);
    poller = std::thread([this] { Loop(); });
  }

  ~Impl() {
    Shutdown();
    ::close(wakefd);
    ::close(epfd);
  }

  metrics::Counter Rejected(const std::string& reason) {
    return metrics::GetCounter("strata_http_rejected_connections_total",
                               "Connections answered or closed by the connection guard",
                               {{"service", lim.service}, {"reason", reason}});
  }

  void Watch(int fd) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    ::epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
  }

  void SetLive(int delta) {
    live += delta;
    open_gauge.Set(live);
  }

  // Accept thread: take ownership of a new connection.
  void Adopt(int fd) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard lock(mu);
    if (stopping) {
      ::close(fd);
      return;
    }
    Clock::time_point now = Clock::now();
    bool over = live >= lim.max_connections && !EvictOne(now);
    Conn& c = conns[fd];
    if (ctx) {
      c.ssl = SSL_new(ctx);
      if (c.ssl) {
        SSL_set_fd(c.ssl, fd);
        SSL_set_accept_state(c.ssl);
        SSL_set_mode(c.ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
      }
    }
    c.deadline = now + lim.header_timeout;
    c.last_active = now;
    if (lim.admit) c.peer = PeerAddress(fd);
    SetLive(+1);
    Watch(fd);
    if (over) {
      Rejected("max_connections").Inc();
      Reject(fd, c, 503, "too many connections (limit " + std::to_string(lim.max_connections) +
                             "); retry later");
    }
  }

  // At the connection cap: close the oldest idle connection, else the oldest head that has been
  // trickling for more than a second. False when every connection is doing real work.
  bool EvictOne(Clock::time_point now) {
    int idle_fd = -1, slow_fd = -1;
    Clock::time_point idle_t = Clock::time_point::max(), slow_t = now - std::chrono::seconds(1);
    for (auto& [fd, c] : conns) {
      if (c.phase != Phase::kWaiting) continue;
      if (c.buf.empty() && c.last_active < idle_t) idle_t = c.last_active, idle_fd = fd;
      if (!c.buf.empty() && c.head_start < slow_t) slow_t = c.head_start, slow_fd = fd;
    }
    int victim = idle_fd >= 0 ? idle_fd : slow_fd;
    if (victim < 0) return false;
    Rejected(idle_fd >= 0 ? "evicted_idle" : "evicted_slow").Inc();
    CloseNow(victim);
    return true;
  }

  void CloseNow(int fd) {
    auto it = conns.find(fd);
    if (it == conns.end()) return;
    if (it->second.phase != Phase::kClosing) SetLive(-1);
    else --lingering;
    ::epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nullptr);
    if (it->second.ssl) SSL_free(it->second.ssl);
    ::close(fd);
    conns.erase(it);
  }

  // Half-close and read until the peer closes (≤ 1 s) so it receives our answer, not a reset.
  void StartClosing(int fd, Conn& c) {
    if (lingering >= kMaxLingering) {  // bound the fds an attacker can park here
      ::shutdown(fd, SHUT_RDWR);
      CloseNow(fd);
      return;
    }
    if (c.phase == Phase::kBusy) Watch(fd);
    if (c.phase != Phase::kClosing) {
      SetLive(-1);
      ++lingering;
    }
    c.phase = Phase::kClosing;
    c.buf.clear();
    c.deadline = Clock::now() + std::chrono::seconds(1);
    if (c.ssl && c.handshaken) (void)SSL_shutdown(c.ssl);  // close_notify, best effort
    ::shutdown(fd, SHUT_WR);
  }

  void Reject(int fd, Conn& c, int status, const std::string& detail) {
    std::string path;
    size_t sp = c.buf.find(' ');
    if (sp != std::string::npos && sp < 16) {
      size_t end = c.buf.find_first_of(" \r\n", sp + 1);
      if (end != std::string::npos && end - sp - 1 <= 256) path = c.buf.substr(sp + 1, end - sp - 1);
    }
    Response r = Problem(status, detail, path);
    std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(StatusTitle(status)) +
                      "\r\nContent-Type: " + r.content_type +
                      "\r\nContent-Length: " + std::to_string(r.body.size()) +
                      (status == 503 ? "\r\nRetry-After: 1" : "") + "\r\nConnection: close\r\n\r\n" +
                      r.body;
    if (!c.ssl) (void)!::send(fd, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);  // best effort
    else if (c.handshaken) (void)SSL_write(c.ssl, out.data(), static_cast<int>(out.size()));
    StartClosing(fd, c);
  }

  // Non-blocking read: > 0 bytes, 0 end of stream, < 0 with errno (EAGAIN: nothing yet).
  static ssize_t Recv(Conn& c, int fd, char* buf, size_t size) {
    if (!c.ssl) return ::recv(fd, buf, size, MSG_DONTWAIT);
    int n = SSL_read(c.ssl, buf, static_cast<int>(size));
    if (n > 0) return n;
    int e = SSL_get_error(c.ssl, n);
    errno = (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) ? EAGAIN : ECONNRESET;
    return e == SSL_ERROR_ZERO_RETURN ? 0 : -1;
  }

  // Poller: bytes arrived on a waiting connection.
  void OnReadable(int fd, Conn& c, Clock::time_point now) {
    if (c.ssl && !c.handshaken) {
      int r = SSL_do_handshake(c.ssl);
      if (r != 1) {
        int e = SSL_get_error(c.ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
        Rejected("tls_handshake").Inc();
        CloseNow(fd);
        return;
      }
      c.handshaken = true;
    }
    char tmp[16384];
    bool eof = false;
    for (int i = 0; i < 16; ++i) {  // bounded per wake-up; level-triggered epoll brings us back
      ssize_t n = Recv(c, fd, tmp, sizeof tmp);
      if (n > 0) {
        if (c.buf.empty()) {
          c.head_start = now;
          if (c.served > 0) c.deadline = now + lim.header_timeout;  // was an idle keep-alive
        }
        size_t from = c.buf.size() < 3 ? 0 : c.buf.size() - 3;
        c.buf.append(tmp, static_cast<size_t>(n));
        // Stop at a complete head (the worker reads the body) or at the size limit.
        if (c.buf.size() > lim.max_header_bytes || c.buf.find("\r\n\r\n", from) != std::string::npos)
          break;
        continue;
      }
      if (n == 0) eof = true;
      else if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      else if (errno != EINTR) eof = true;
      if (eof) break;
    }
    c.last_active = now;
    if (!CheckHead(fd, c) && eof) CloseNow(fd);
  }

  static std::string PeerAddress(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    char text[INET6_ADDRSTRLEN] = "";
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "";
    if (ss.ss_family == AF_INET)
      ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr, text, sizeof text);
    else if (ss.ss_family == AF_INET6)
      ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr, text, sizeof text);
    return text;
  }

  // Validates the buffered heads; dispatches the first one not answered by the front. True when
  // the connection moved on (dispatched or rejected), false when it still waits for bytes.
  bool CheckHead(int fd, Conn& c) {
    while (true) {  // each round consumes a head from c.buf or ends
      size_t drop = std::min(c.discard, c.buf.size());
      c.buf.erase(0, drop);
      c.discard -= drop;
      if (c.discard > 0 || c.buf.empty()) return false;
      int r = CheckOneHead(fd, c);
      if (r != kAnsweredKeepAlive) return r != 0;
    }
  }

  static constexpr int kAnsweredKeepAlive = 2;
  static constexpr size_t kMaxDiscard = 64u << 10;

  // 0: waits for bytes; 1: dispatched or rejected; kAnsweredKeepAlive: 429/503 sent, still waiting.
  int CheckOneHead(int fd, Conn& c) {
    size_t eol = c.buf.find("\r\n");
    if (eol == std::string::npos ? c.buf.size() > lim.max_request_line : eol > lim.max_request_line) {
      Rejected("request_line").Inc();
      Reject(fd, c, 414, "request line exceeds " + std::to_string(lim.max_request_line) + " bytes");
      return 1;
    }
    size_t end = c.buf.find("\r\n\r\n");
    size_t head_len = end == std::string::npos ? c.buf.size() : end + 4;
    size_t lines = 0;
    for (size_t p = c.buf.find("\r\n"); p != std::string::npos && p < head_len;
         p = c.buf.find("\r\n", p + 2))
      ++lines;
    size_t fields = lines == 0 ? 0 : lines - 1 - (end == std::string::npos ? 0 : 1);
    if (head_len > lim.max_header_bytes || fields > static_cast<size_t>(lim.max_header_count)) {
      Rejected("header_size").Inc();
      Reject(fd, c, 431,
             "request header exceeds " + std::to_string(lim.max_header_bytes) + " bytes or " +
                 std::to_string(lim.max_header_count) + " fields");
      return 1;
    }
    if (end == std::string::npos) return 0;
    if (lim.admit) {
      HeadFacts h = ParseHead(std::string_view(c.buf).substr(0, end + 4));
      if (long retry = lim.admit(h, c.peer); retry > 0)
        return AnswerFromFront(fd, c, h, end + 4, 429,
                               "rate limit exceeded for this client; retry later", retry,
                               "rate_limited_unread");
    }
    return Dispatch(fd, c, end + 4);
  }

  // 429 (rate limit) or 503 (queue full) from the poller, without a worker. Keeps the connection
  // (the next pipelined head is then checked in order) unless the request closes it, carries a
  // body the poller cannot skip cheaply (chunked, > kMaxDiscard), reaches the keep-alive cap, or
  // the peer does not read its answers (counted as rejected{reason=unread_reason}).
  int AnswerFromFront(int fd, Conn& c, const HeadFacts& h, size_t head_len, int status,
                      const std::string& detail, long retry, const char* unread_reason) {
    Response r = Problem(status, detail, h.path);
    bool keep = h.keep_alive && h.body_known && h.content_length <= kMaxDiscard &&
                c.served + 1 < lim.keep_alive_max_requests;
    std::string out =
        "HTTP/1.1 " + std::to_string(status) + " " + std::string(StatusTitle(status)) +
        "\r\nContent-Type: " + r.content_type +
        "\r\nContent-Length: " + std::to_string(r.body.size()) +
        "\r\nRetry-After: " + std::to_string(retry) +
        (keep ? "\r\nConnection: keep-alive\r\n\r\n" : "\r\nConnection: close\r\n\r\n") +
        (h.method == "HEAD" ? "" : r.body);
    ssize_t sent = -1;
    if (!c.ssl)
      sent = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    else if (c.handshaken)
      sent = SSL_write(c.ssl, out.data(), static_cast<int>(out.size()));
    if (sent != static_cast<ssize_t>(out.size())) {  // peer not reading: no output buffering here
      Rejected(unread_reason).Inc();
      ::shutdown(fd, SHUT_RDWR);
      CloseNow(fd);
      return 1;
    }
    if (!keep) {
      StartClosing(fd, c);
      return 1;
    }
    c.buf.erase(0, head_len);
    c.discard = h.content_length;
    ++c.served;
    for (int i = 0; c.ssl && i < 16 && SSL_pending(c.ssl) > 0; ++i) {  // decrypted, not yet read
      char tmp[16384];
      int n = SSL_read(c.ssl, tmp, sizeof tmp);
      if (n <= 0) break;
      c.buf.append(tmp, static_cast<size_t>(n));
    }
    Clock::time_point now = Clock::now();
    c.head_start = c.last_active = now;
    c.deadline = now + (c.discard       ? lim.body_timeout
                        : c.buf.empty() ? lim.keep_alive_timeout
                                        : lim.header_timeout);
    return kAnsweredKeepAlive;
  }

  // Hands the head (and any bytes after it) to a worker: 1. Queue full: 503 + Retry-After from
  // the front, keeping the connection as for 429 (AnswerFromFront's return value).
  int Dispatch(int fd, Conn& c, size_t head_len) {
    ::epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nullptr);
    c.phase = Phase::kBusy;
    int served = c.served;
    std::string buf = c.buf;
    if (pool.TryEnqueue([this, fd, ssl = c.ssl, buf = std::move(buf), served]() mutable {
          Serve(fd, ssl, std::move(buf), served);
        })) {
      c.buf.clear();
      return 1;
    }
    c.phase = Phase::kWaiting;
    Watch(fd);
    HeadFacts h = ParseHead(std::string_view(c.buf).substr(0, head_len));
    return AnswerFromFront(fd, c, h, head_len, 503, "server is overloaded; retry later", 1,
                           "overloaded_unread");
  }

  // Worker: serve one request, then give the connection back to the poller.
  void Serve(int fd, SSL* ssl, std::string buf, int served) {
    GuardStream strm(fd, ssl, std::move(buf), lim.read_timeout, lim.write_timeout,
                     Clock::now() + lim.body_timeout);
    bool last = served + 1 >= lim.keep_alive_max_requests;
    bool closed = false;
    bool ok = serve(strm, last, closed, ssl);
    bool keep = ok && !closed && !last && !strm.failed() && !strm.response_closes();
    std::string rest = strm.TakeLeftover();
    std::lock_guard lock(mu);
    auto it = conns.find(fd);
    if (it == conns.end()) return;
    Conn& c = it->second;
    if (stopping || strm.failed()) {
      ::shutdown(fd, SHUT_RDWR);
      CloseNow(fd);
      return;
    }
    if (!keep) {
      StartClosing(fd, c);
      return;
    }
    Clock::time_point now = Clock::now();
    c.phase = Phase::kWaiting;
    c.served = served + 1;
    c.last_active = now;
    c.discard = 0;
    c.buf = std::move(rest);
    for (int i = 0; c.ssl && i < 16 && SSL_pending(c.ssl) > 0; ++i) {  // decrypted, not yet read
      char tmp[16384];
      int n = SSL_read(c.ssl, tmp, sizeof tmp);
      if (n <= 0) break;
      c.buf.append(tmp, static_cast<size_t>(n));
    }
    c.head_start = now;
    c.deadline = now + (c.buf.empty() ? lim.keep_alive_timeout : lim.header_timeout);
    Watch(fd);
    if (!c.buf.empty()) CheckHead(fd, c);
  }

  void Loop() {
    std::vector<epoll_event> events(128);
    while (true) {
      int n = ::epoll_wait(epfd, events.data(), static_cast<int>(events.size()), 50);
      std::lock_guard lock(mu);
      if (stopping) return;
      Clock::time_point now = Clock::now();
      for (int i = 0; i < n; ++i) {
        int fd = events[static_cast<size_t>(i)].data.fd;
        if (fd == wakefd) continue;
        auto it = conns.find(fd);
        if (it == conns.end()) continue;
        Conn& c = it->second;
        if (c.phase == Phase::kWaiting) {
          OnReadable(fd, c, now);
        } else if (c.phase == Phase::kClosing) {
          char sink[4096];
          ssize_t r = 0;
          for (int k = 0; k < 16 && (r = ::recv(fd, sink, sizeof sink, MSG_DONTWAIT)) > 0; ++k) {
          }
          if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) CloseNow(fd);
        }
      }
      std::vector<int> expired;
      for (auto& [fd, c] : conns)
        if (c.phase != Phase::kBusy && c.deadline <= now) expired.push_back(fd);
      for (int fd : expired) {
        Conn& c = conns[fd];
        if (c.phase == Phase::kWaiting && !c.buf.empty()) {
          Rejected("header_timeout").Inc();
          Reject(fd, c, 408, "request header not complete within " +
                                 std::to_string(lim.header_timeout.count()) + " ms");
        } else {
          if (c.phase == Phase::kWaiting) Rejected(c.served ? "idle_keep_alive" : "silent").Inc();
          CloseNow(fd);
        }
      }
    }
  }

  // Called once when httplib's accept loop ends: close waiting connections, let workers finish.
  void Shutdown() {
    {
      std::lock_guard lock(mu);
      if (stopping) return;
      stopping = true;
      uint64_t one = 1;
      (void)!::write(wakefd, &one, sizeof one);
    }
    if (poller.joinable()) poller.join();
    {
      std::lock_guard lock(mu);
      std::vector<int> idle;
      for (auto& [fd, c] : conns)
        if (c.phase != Phase::kBusy) idle.push_back(fd);
      for (int fd : idle) CloseNow(fd);
    }
    pool.shutdown();  // in-flight requests finish; Serve() then closes their sockets
  }

  ServeFn serve;
  SSL_CTX* ctx;
  const GuardLimits lim;
  BoundedTaskQueue pool;
  metrics::Gauge open_gauge;
  std::mutex mu;
  std::unordered_map<int, Conn> conns;
  int live = 0;
  int lingering = 0;  // connections in kClosing
  static constexpr int kMaxLingering = 256;
  bool stopping = false;
  int epfd = -1, wakefd = -1;
  std::thread poller;
};

GuardFront::GuardFront(GuardLimits limits, ServeFn serve, SSL_CTX* ctx)
    : impl_(std::make_unique<Impl>(std::move(limits), std::move(serve), ctx)) {}

GuardFront::~GuardFront() { impl_->Shutdown(); }

void GuardFront::Adopt(int fd) { impl_->Adopt(fd); }
void GuardFront::Shutdown() { impl_->Shutdown(); }

int GuardFront::live_connections() {
  std::lock_guard lock(impl_->mu);
  return impl_->live;
}

}  // namespace strata::http
