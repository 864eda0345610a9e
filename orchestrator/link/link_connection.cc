// One proxied connection: connect to the upstream (held during a blackhole partition), then one
// pump thread per direction that reads, timestamps, delays, rate-limits and writes the bytes.
//
// Per direction, every read() becomes a chunk with a release time
//   max(previous release, now + latency + jitter [+ RTO when a segment of it is "lost"])
// so bytes are never reordered; released chunks are written in slices booked on the shared
// TokenBucket. Reading pauses while the queue holds max_queue_bytes. A FIN is forwarded (as
// shutdown(SHUT_WR)) after the bytes before it, with the same delay; errors reset both ends.
// slice_bytes > 0 caps every send() (1 = byte by byte). A half-open connection drops its queue,
// reads and discards whatever arrives and forwards nothing, until an end closes it.
#include "link_connection.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <deque>
#include <string>

#include "strata/core/rng.h"

namespace strata::link {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr size_t kReadBytes = 64 * 1024;
constexpr size_t kSegmentBytes = 1448;  // a typical TCP MSS: loss is drawn per segment
constexpr milliseconds kTick{50};       // longest poll with bytes queued: heal is noticed within it
constexpr milliseconds kIdle{1000};     // longest poll with nothing queued (Abort wakes it earlier)

struct Chunk {
  std::string data;
  size_t offset = 0;
  Clock::time_point release;
  bool fin = false;
};

Clock::duration Ms(double ms) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(ms));
}

int PollMs(Clock::duration d) {
  auto ms = std::chrono::ceil<milliseconds>(std::max(d, Clock::duration::zero())).count();
  return static_cast<int>(std::min<int64_t>(ms, kIdle.count()));
}

// poll() with a nanosecond timeout (ppoll), so a release time is met to timer slack (~50 µs)
// rather than rounded up to the next millisecond.
int PollFor(pollfd* fds, nfds_t n, Clock::duration d) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::clamp<Clock::duration>(d, Clock::duration::zero(), kIdle))
                .count();
  timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  return ppoll(fds, n, &ts, nullptr);
}

void SetNoDelayNonBlocking(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK);
}

// False once the peer has closed (FIN → CLOSE_WAIT) or reset the connection.
bool PeerStillConnected(int fd) {
  tcp_info info{};
  socklen_t len = sizeof(info);
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return false;
  return info.tcpi_state == TCP_ESTABLISHED;
}

void SetLingerZero(int fd) {
  linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

// One-way delay of a chunk of `bytes` read now.
Clock::duration ChunkDelay(const DirectionSettings& s, JitterDistribution dist, size_t bytes,
                           Rng& rng, bool* lost) {
  double ms = s.latency_ms;
  if (s.jitter_ms > 0)
    ms += dist == JitterDistribution::kNormal ? rng.Normal(0, s.jitter_ms)
                                              : rng.Uniform(-s.jitter_ms, s.jitter_ms);
  *lost = false;
  if (s.loss > 0) {
    double segments = std::ceil(static_cast<double>(bytes) / kSegmentBytes);
    double p_any = 1 - std::pow(1 - s.loss, segments);
    if (rng.Bernoulli(p_any)) {
      *lost = true;
      ms += std::max(200.0, 2 * s.latency_ms);  // one retransmission timeout
    }
  }
  return Ms(std::max(0.0, ms));
}

}  // namespace

Connection::Connection(LinkShared* shared, int client_fd, uint64_t id)
    : shared_(shared), id_(id), client_fd_(client_fd) {}

Connection::~Connection() {
  if (thread_.joinable()) thread_.join();
}

void Connection::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Connection::Abort(bool reset) {
  std::lock_guard<std::mutex> lock(fd_mu_);
  if (aborted_.exchange(true)) return;
  for (int fd : {client_fd_, upstream_fd_}) {
    if (fd < 0) continue;
    if (reset) SetLingerZero(fd);
    shutdown(fd, SHUT_RD);  // wakes the pumps' poll; the close in CloseAll sends FIN or RST
  }
}

void Connection::CloseAll() {
  std::lock_guard<std::mutex> lock(fd_mu_);
  for (int* fd : {&client_fd_, &upstream_fd_}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
}

bool Connection::ConnectUpstream() {
  // Blackhole: the connection is held (the client sees a silent link) until heal or stop. A
  // client that gives up meanwhile is dropped: its SYN never got through, so nothing it sent
  // may reach the upstream after the heal (a retried request must not arrive twice).
  while (shared_->Blackholed() && !shared_->stopping && !aborted_) {
    if (!PeerStillConnected(client_fd_)) return false;
    std::this_thread::sleep_for(milliseconds(10));
  }
  if (shared_->stopping || aborted_) return false;
  if (shared_->partitioned) return false;  // reset mode
  int fd = socket(shared_->upstream_addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  SetNoDelayNonBlocking(fd);
  {
    std::lock_guard<std::mutex> lock(fd_mu_);
    upstream_fd_ = fd;
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&shared_->upstream_addr), shared_->upstream_len) == 0)
    return true;
  if (errno != EINPROGRESS) return false;
  auto deadline = Clock::now() + shared_->config.connect_timeout;
  while (!shared_->stopping && !aborted_ && Clock::now() < deadline) {
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, std::min<int>(PollMs(deadline - Clock::now()), kTick.count())) > 0) {
      int err = 0;
      socklen_t len = sizeof(err);
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      return err == 0;
    }
  }
  return false;
}

void Connection::Run() {
  SetNoDelayNonBlocking(client_fd_);
  if (!ConnectUpstream()) {
    if (!shared_->stopping) {
      shared_->connections_refused++;
      shared_->m_refused.Inc();
    }
    Abort(/*reset=*/true);
  } else {
    std::thread down([this] { Pump(kDownstream, upstream_fd_, client_fd_); });
    Pump(kUpstream, client_fd_, upstream_fd_);
    down.join();
  }
  CloseAll();
  shared_->connections_active--;
  shared_->m_active.Dec();
  done_ = true;
}

void Connection::Pump(Direction dir, int src, int dst) {
  Rng rng = Rng(shared_->config.seed).Fork(id_ * 2 + static_cast<uint64_t>(dir));
  TokenBucket& bucket = shared_->bucket[dir];
  const size_t max_queue = std::max<size_t>(shared_->config.max_queue_bytes, kReadBytes);
  std::deque<Chunk> queue;
  size_t queued = 0;
  bool src_eof = false;
  Clock::time_point last_release{};
  size_t granted = 0;  // bytes of the head chunk already booked on the bucket
  Clock::time_point grant_at{};
  std::string buf(kReadBytes, '\0');

  while (!aborted_ && !shared_->stopping) {
    if (half_open_) {
      queue.clear();
      pollfd p{src, POLLIN, 0};
      if (PollFor(&p, 1, kIdle) < 0 && errno != EINTR) break;
      if (p.revents != 0) {
        ssize_t n = recv(src, buf.data(), buf.size(), 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
          Abort(/*reset=*/false);  // an end closed it: close both, quietly
          return;
        }
      }
      continue;
    }
    auto now = Clock::now();
    Clock::duration wait = queue.empty() ? Clock::duration(kIdle) : Clock::duration(kTick);
    bool want_write = false;
    if (!queue.empty() && !shared_->Blackholed()) {
      Chunk& head = queue.front();
      if (head.release > now) {
        wait = std::min(wait, head.release - now);
      } else if (head.fin) {
        shutdown(dst, SHUT_WR);  // every byte before the FIN has been delivered
        return;
      } else {
        if (granted == 0) {
          granted = std::min(head.data.size() - head.offset, bucket.SliceBytes());
          const int64_t slice = shared_->Settings(dir).slice_bytes;
          if (slice > 0) granted = std::min(granted, static_cast<size_t>(slice));
          grant_at = bucket.Reserve(granted, now);
        }
        if (grant_at <= now)
          want_write = true;
        else
          wait = std::min(wait, grant_at - now);
      }
    }
    bool want_read = !src_eof && queued < max_queue;
    pollfd fds[2] = {{want_read ? src : -1, POLLIN, 0}, {want_write ? dst : -1, POLLOUT, 0}};
    int ready = PollFor(fds, 2, wait);
    if (ready < 0 && errno != EINTR) break;
    if (want_read && fds[0].revents != 0) {
      ssize_t n = recv(src, buf.data(), buf.size(), 0);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) break;
      if (n >= 0) {
        DirectionSettings s = shared_->Settings(dir);
        bool lost = false;
        auto delay = ChunkDelay(s, shared_->Distribution(), static_cast<size_t>(n), rng, &lost);
        if (lost) {
          shared_->retransmits[dir]++;
          shared_->m_retransmits[dir].Inc();
        }
        last_release = std::max(last_release, Clock::now() + delay);
        if (n == 0) src_eof = true;
        queue.push_back({buf.substr(0, static_cast<size_t>(n)), 0, last_release, n == 0});
        queued += static_cast<size_t>(n);
      }
    }
    if (want_write && fds[1].revents != 0) {
      Chunk& head = queue.front();
      ssize_t k = send(dst, head.data.data() + head.offset, granted, MSG_NOSIGNAL);
      if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) break;
      if (k > 0) {
        head.offset += static_cast<size_t>(k);
        granted -= static_cast<size_t>(k);
        queued -= static_cast<size_t>(k);
        shared_->bytes[dir] += static_cast<uint64_t>(k);
        shared_->writes[dir]++;
        shared_->m_bytes[dir].Inc(static_cast<double>(k));
        if (head.offset == head.data.size()) queue.pop_front();
      }
    }
  }
  // An error, an abort or a stop ends the whole connection; a peer's error is passed on as RST.
  Abort(/*reset=*/!shared_->stopping);
}

}  // namespace strata::link
