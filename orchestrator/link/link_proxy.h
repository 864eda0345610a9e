// LinkProxy: a userspace WAN link emulator (tc netem is not available). It listens on a local
// address, forwards every accepted TCP connection to one upstream host:port in both directions,
// and applies per direction: one-way latency + jitter (never reordering bytes), a bandwidth cap
// shared by all connections (token bucket), loss (modelled as a retransmission delay, since TCP
// cannot lose bytes) and partitions (blackhole: stall; reset: RST). Settings change at run time.
//
// Each connection runs on two threads (one per direction) that poll their sockets; a direction
// stops reading when its queue holds max_queue_bytes (back-pressure reaches the sender through
// TCP flow control). Counters go to a LinkStats snapshot and to Prometheus:
// strata_link_proxy_bytes_total{link,direction}, strata_link_proxy_connections_total{link},
// strata_link_proxy_connections_active{link}, strata_link_proxy_connections_refused_total{link},
// strata_link_proxy_retransmits_total{link,direction}, strata_link_proxy_partitions_total{link},
// strata_link_proxy_partitioned{link}.
// Thread-safety: every method is safe to call from any thread; Stop() is idempotent and the
// destructor calls it.
//
//   STRATA_ASSIGN_OR_RETURN(auto proxy, LinkProxy::Start({.name = "fog-cloud",
//       .upstream_host = "127.0.0.1", .upstream_port = 8081,
//       .settings = {.upstream = {.latency_ms = 20}, .downstream = {.latency_ms = 20}}}));
//   Connect(proxy->port());  // every round trip now takes >= 40 ms
//   proxy->Partition();      // ... and now none completes
//   proxy->Heal();
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "link_settings.h"
#include "strata/core/status.h"

namespace strata::link {

struct LinkProxyConfig {
  std::string name = "link";              // the `link` metrics label: [A-Za-z0-9_.:-]{1,64}
  std::string listen_host = "127.0.0.1";  // an IPv4 address or "localhost"
  int listen_port = 0;                    // 0 = any free port, see LinkProxy::port()
  std::string upstream_host;              // resolved once at Start
  int upstream_port = 0;
  LinkSettings settings;
  bool start_partitioned = false;
  size_t max_queue_bytes = 4u << 20;  // per connection and direction; reading pauses beyond
  int max_connections = 1024;         // beyond → new connections are reset (and counted refused)
  std::chrono::milliseconds connect_timeout{5000};
  uint64_t seed = 1;  // jitter and loss draws; one seed gives one sequence per connection
};

enum Direction { kUpstream = 0, kDownstream = 1 };

struct LinkStats {
  uint64_t bytes[2] = {0, 0};        // delivered, indexed by Direction
  uint64_t retransmits[2] = {0, 0};  // emulated losses (chunks held for one RTO)
  uint64_t writes[2] = {0, 0};       // send() calls that delivered bytes (slice_bytes 1: = bytes)
  uint64_t connections_total = 0;    // accepted
  uint64_t connections_active = 0;
  uint64_t connections_refused = 0;  // closed without reaching the upstream: reset-mode
                                     // partition, max_connections, upstream unreachable, or a
                                     // client that gave up while held by a blackhole
  uint64_t partitions_total = 0;
  uint64_t half_opened_total = 0;  // connections made half-open by HalfOpen()
  bool partitioned = false;
};

class LinkProxy {
 public:
  // Binds, resolves the upstream and starts accepting. InvalidArgument for a bad config,
  // NotFound when the upstream host does not resolve, Unavailable when the address can't be bound.
  static Result<std::unique_ptr<LinkProxy>> Start(const LinkProxyConfig& config);
  ~LinkProxy();

  int port() const;
  const LinkProxyConfig& config() const;
  LinkSettings settings() const;
  // Replaces the settings; new values apply to bytes read from now on. InvalidArgument (naming
  // the field) when out of range.
  Status SetSettings(const LinkSettings& settings);
  // Starts a partition in `mode` or the settings' mode. When already partitioned: no-op, unless
  // `mode` names the other mode, which then applies (blackhole → reset resets connections).
  void Partition(std::optional<PartitionMode> mode = std::nullopt);
  // Ends a partition: stalled connections resume, held connections proceed to the upstream.
  void Heal();
  // Makes every open connection half-open (as when a peer vanishes without FIN or RST): nothing
  // more passes on it and the proxy closes neither end; bytes sent into it are discarded. It
  // ends when an end closes it. New connections are not affected. Returns how many.
  int HalfOpen();
  bool partitioned() const;
  // The mode of the current partition (or of the next one when healed).
  PartitionMode partition_mode() const;
  LinkStats stats() const;
  // Stops accepting, closes every connection (FIN) and joins all threads. Idempotent.
  void Stop();

  struct Impl;

 private:
  explicit LinkProxy(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace strata::link
