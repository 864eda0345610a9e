// EpollOpenLoop: a single-threaded open-loop load generator for http_overload_bench --service.
// Requests leave on a fixed schedule over a pool of non-blocking keep-alive connections (at most
// `max_conns`; a request with no free connection waits in a FIFO, its latency still counted from
// its scheduled time), so a cheap endpoint can be offered 2x its rate without one thread per
// request in flight. Reuses OpenLoopResult (overload_load.h): ok latency from the schedule,
// rejection (503/429) latency from the actual send, timeouts after 5 s. OVERLOAD_DEBUG=1 prints
// the first few errors (broken connections, other statuses) to stderr. Benchmarks only.
//
//   OpenLoopResult r = EpollOpenLoop(port, 30000, 450000, 480, request);
#pragma once

#include <fcntl.h>
#include <sys/epoll.h>

#include <cerrno>
#include <deque>
#include <unordered_map>

#include "overload_load.h"

namespace strata::bench {

inline OpenLoopResult EpollOpenLoop(int port, double rate, int total, int max_conns,
                                    const RequestFn& request) {
  using namespace std::chrono_literals;
  struct Conn {
    int fd = -1;
    bool connected = false, busy = false;
    std::string out, in;
    size_t off = 0;
    Clock::time_point sched, sent;
  };
  OpenLoopResult res;
  std::vector<double> ok_ms, rej_ms;
  std::unordered_map<int, Conn> conns;
  std::vector<int> idle;
  std::deque<std::pair<int, Clock::time_point>> pending;  // index, scheduled time
  const int ep = epoll_create1(0);
  const auto start = Clock::now() + 100ms;
  const auto interval = std::chrono::duration<double>(1.0 / rate);
  auto sched_of = [&](int i) {
    return start + std::chrono::duration_cast<Clock::duration>(interval * i);
  };
  const auto hard_end = sched_of(total) + 7s;
  auto close_conn = [&](int fd) {
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    conns.erase(fd);
    std::erase(idle, fd);
  };
  auto finish = [&](Conn& c, int status) {  // records one answer (0 = broken, -1 = timeout)
    auto now = Clock::now();
    res.sent++;
    if (status == 200) {
      res.ok++;
      ok_ms.push_back(std::chrono::duration<double, std::milli>(now - c.sched).count());
    } else if (status == 503 || status == 429) {
      res.rejected++;
      (status == 503 ? res.r503 : res.r429)++;
      rej_ms.push_back(std::chrono::duration<double, std::milli>(now - c.sent).count());
    } else if (status == -1) {
      res.timeouts++;
    } else {
      res.errors++;
      if (std::getenv("OVERLOAD_DEBUG") && res.errors < 6)
        std::fprintf(stderr, "error status %d connected %d off %zu/%zu in '%s'\n", status,
                     c.connected, c.off, c.out.size(), c.in.substr(0, 80).c_str());
    }
    c.busy = false;
  };
  auto try_send = [&](Conn& c) {  // false when the connection broke
    while (c.connected && c.off < c.out.size()) {
      ssize_t n = ::send(c.fd, c.out.data() + c.off, c.out.size() - c.off, MSG_NOSIGNAL);
      if (n > 0) c.off += static_cast<size_t>(n);
      else return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
    return true;
  };
  auto dispatch = [&](int i, Clock::time_point sched) {  // false when no connection is free
    int fd = -1;
    if (!idle.empty()) {
      fd = idle.back();
      idle.pop_back();
    } else if (static_cast<int>(conns.size()) < max_conns) {
      fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<uint16_t>(port));
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      int r = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
      Conn& c = conns[fd];
      c.fd = fd;
      c.connected = r == 0;
      epoll_event ev{.events = EPOLLIN | EPOLLOUT | EPOLLET, .data = {.fd = fd}};
      epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    } else {
      return false;
    }
    Conn& c = conns[fd];
    c.busy = true;
    c.out = request(i);
    c.off = 0;
    c.in.clear();
    c.sched = sched;
    c.sent = Clock::now();
    if (!try_send(c)) {
      finish(c, 0);
      close_conn(fd);
    }
    return true;
  };
  auto on_readable = [&](Conn& c) {  // false when the connection must be closed
    char buf[16384];
    bool eof = false;
    while (true) {
      ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n > 0) {
        c.in.append(buf, static_cast<size_t>(n));
        continue;
      }
      eof = !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
      break;
    }
    size_t end = c.in.find("\r\n\r\n");
    if (c.busy && end != std::string::npos) {
      size_t cl = c.in.find("Content-Length: ");
      size_t len = cl < end ? std::stoul(c.in.substr(cl + 16)) : 0;
      if (c.in.size() >= end + 4 + len || eof) {  // a rejection may close right after its head
        bool closes = c.in.substr(0, end).find("Connection: close") != std::string::npos;
        finish(c, c.in.size() > 12 ? std::atoi(c.in.c_str() + 9) : 0);
        c.in.erase(0, std::min(c.in.size(), end + 4 + len));
        if (closes || eof) return false;
        idle.push_back(c.fd);
        return true;
      }
    }
    if (eof && c.busy) finish(c, 0);
    return !eof;
  };
  int next = 0;
  auto last_scan = Clock::now();
  std::vector<epoll_event> events(1024);
  while (Clock::now() < hard_end) {
    auto now = Clock::now();
    while (next < total && sched_of(next) <= now) pending.emplace_back(next, sched_of(next)), ++next;
    while (!pending.empty() && dispatch(pending.front().first, pending.front().second))
      pending.pop_front();
    if (next >= total && pending.empty() &&
        std::none_of(conns.begin(), conns.end(), [](const auto& kv) { return kv.second.busy; }))
      break;
    auto wait = next < total ? std::chrono::duration_cast<std::chrono::milliseconds>(
                                   sched_of(next) - now)
                             : 10ms;
    long timeout = std::clamp<long>(wait.count(), pending.empty() ? 0 : 1, 10);
    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), static_cast<int>(timeout));
    for (int k = 0; k < n; ++k) {
      auto it = conns.find(events[k].data.fd);
      if (it == conns.end()) continue;
      Conn& c = it->second;
      bool alive = true;
      if (!c.connected && (events[k].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        c.connected = err == 0;
        alive = c.connected;
        if (!alive && c.busy) finish(c, 0);
      }
      if (alive && (events[k].events & EPOLLOUT)) alive = try_send(c);
      if (alive && (events[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) alive = on_readable(c);
      if (!alive) {
        if (c.busy) finish(c, 0);
        close_conn(c.fd);
      }
    }
    if (Clock::now() - last_scan > 100ms) {  // 5 s timeouts
      last_scan = Clock::now();
      std::vector<int> late;
      for (auto& [fd, c] : conns)
        if (c.busy && last_scan - c.sent > 5s) late.push_back(fd);
      for (int fd : late) {
        finish(conns[fd], -1);
        close_conn(fd);
      }
    }
  }
  for (auto& [fd, c] : conns) {
    if (c.busy) finish(c, -1);  // still unanswered at the hard end
    ::close(fd);
  }
  ::close(ep);
  res.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  res.achieved = res.ok / res.seconds;
  res.ok_p50 = Percentile(ok_ms, 0.50);
  res.ok_p99 = Percentile(ok_ms, 0.99);
  res.rej_p50 = Percentile(rej_ms, 0.50);
  res.rej_p99 = Percentile(rej_ms, 0.99);
  return res;
}

}  // namespace strata::bench
