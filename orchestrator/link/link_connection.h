// Internal to strata_link: the state a LinkProxy shares with its connections, and one proxied
// connection (two pump threads, one per direction). Not part of the public API.
// Thread-safety: LinkShared is read and updated from every thread (mutex + atomics); a
// Connection is driven by its own threads, and Abort()/done() may be called from any thread.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "link_proxy.h"
#include "strata/metrics/metrics.h"
#include "token_bucket.h"

namespace strata::link {

struct LinkShared {
  LinkProxyConfig config;
  sockaddr_storage upstream_addr{};
  socklen_t upstream_len = 0;

  mutable std::mutex mu;
  LinkSettings settings;  // guarded by mu
  std::atomic<bool> partitioned{false};
  std::atomic<int> partition_mode{0};  // PartitionMode of the current/next partition
  std::atomic<bool> stopping{false};
  TokenBucket bucket[2];

  std::atomic<uint64_t> bytes[2] = {0, 0};
  std::atomic<uint64_t> retransmits[2] = {0, 0};
  std::atomic<uint64_t> writes[2] = {0, 0};  // send() calls that delivered bytes
  std::atomic<uint64_t> connections_total{0}, connections_active{0}, connections_refused{0};
  std::atomic<uint64_t> partitions_total{0};
  std::atomic<uint64_t> half_opened_total{0};

  metrics::Counter m_bytes[2], m_retransmits[2], m_connections, m_refused, m_partitions;
  metrics::Gauge m_active, m_partitioned;

  DirectionSettings Settings(Direction d) const {
    std::lock_guard<std::mutex> lock(mu);
    return d == kUpstream ? settings.upstream : settings.downstream;
  }
  JitterDistribution Distribution() const {
    std::lock_guard<std::mutex> lock(mu);
    return settings.jitter_distribution;
  }
  bool Blackholed() const {
    return partitioned.load() &&
           partition_mode.load() == static_cast<int>(PartitionMode::kBlackhole);
  }
};

class Connection {
 public:
  Connection(LinkShared* shared, int client_fd, uint64_t id);
  ~Connection();  // joins the thread
  // Starts the connection's thread: connect upstream (held while blackholed), then pump.
  void Start();
  // Ends the connection from outside: `reset` → RST to both ends, else FIN. Idempotent.
  void Abort(bool reset);
  // Makes the connection half-open: nothing more is forwarded either way and nothing is closed
  // by the proxy; bytes either end sends are read and discarded (its writes succeed) until an
  // end closes or resets, which then closes both sockets. Idempotent.
  void HalfOpen() { half_open_ = true; }
  bool done() const { return done_.load(); }

 private:
  void Run();
  bool ConnectUpstream();
  void Pump(Direction dir, int src, int dst);
  void CloseAll();

  LinkShared* shared_;
  uint64_t id_;
  std::mutex fd_mu_;  // guards the fds against Abort racing CloseAll
  int client_fd_, upstream_fd_ = -1;
  std::atomic<bool> aborted_{false}, done_{false}, half_open_{false};
  std::atomic<int> pumps_finished_{0};
  std::thread thread_;
};

}  // namespace strata::link
