// LinkProxy: listening socket, acceptor thread, connection registry and run-time control (see
// link_proxy.h; the per-connection byte pumps are in link_connection.cc).
#include "link_proxy.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <list>
#include <regex>

#include "link_connection.h"

namespace strata::link {

struct LinkProxy::Impl {
  LinkShared shared;
  int listen_fd = -1;
  int port = 0;
  std::thread acceptor;
  std::mutex conns_mu;
  std::list<std::unique_ptr<Connection>> conns;  // guarded by conns_mu
  uint64_t next_id = 0;
  std::once_flag stop_once;

  void AcceptLoop();
  void Reap(bool all);
};

namespace {

Status ResolveUpstream(const LinkProxyConfig& c, LinkShared* shared) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port = std::to_string(c.upstream_port);
  int rc = getaddrinfo(c.upstream_host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0 || res == nullptr)
    return NotFoundError("upstream host '" + c.upstream_host +
                         "' does not resolve: " + gai_strerror(rc));
  std::memcpy(&shared->upstream_addr, res->ai_addr, res->ai_addrlen);
  shared->upstream_len = static_cast<socklen_t>(res->ai_addrlen);
  freeaddrinfo(res);
  return Status::Ok();
}

Status CheckConfig(const LinkProxyConfig& c) {
  static const std::regex kName("[A-Za-z0-9_.:-]{1,64}");
  if (!std::regex_match(c.name, kName))
    return InvalidArgumentError("link name '" + c.name + "': expected [A-Za-z0-9_.:-]{1,64}");
  if (c.listen_port < 0 || c.listen_port > 65535)
    return InvalidArgumentError("listen port must be in [0, 65535]");
  if (c.upstream_host.empty()) return InvalidArgumentError("upstream host is empty");
  if (c.upstream_port < 1 || c.upstream_port > 65535)
    return InvalidArgumentError("upstream port must be in [1, 65535]");
  if (c.max_connections < 1) return InvalidArgumentError("max_connections must be >= 1");
  return Validate(c.settings);
}

Result<int> Listen(const LinkProxyConfig& c, int* port) {
  std::string host = c.listen_host == "localhost" ? "127.0.0.1" : c.listen_host;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(c.listen_port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1)
    return InvalidArgumentError("listen address '" + c.listen_host + "': expected an IPv4 address");
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return UnavailableError("socket: " + std::string(strerror(errno)));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, 128) != 0) {
    std::string err = strerror(errno);
    close(fd);
    return UnavailableError("cannot listen on " + c.listen_host + ":" +
                            std::to_string(c.listen_port) + ": " + err);
  }
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port = ntohs(addr.sin_port);
  return fd;
}

}  // namespace

Result<std::unique_ptr<LinkProxy>> LinkProxy::Start(const LinkProxyConfig& config) {
  STRATA_RETURN_IF_ERROR(CheckConfig(config));
  auto impl = std::make_unique<Impl>();
  LinkShared& s = impl->shared;
  s.config = config;
  STRATA_RETURN_IF_ERROR(ResolveUpstream(config, &s));
  s.settings = config.settings;
  s.partition_mode = static_cast<int>(config.settings.partition_mode);
  s.bucket[kUpstream].SetRate(config.settings.upstream.bandwidth_bps);
  s.bucket[kDownstream].SetRate(config.settings.downstream.bandwidth_bps);
  const metrics::Labels link{{"link", config.name}};
  const char* dirs[2] = {"upstream", "downstream"};
  for (int d = 0; d < 2; ++d) {
    metrics::Labels l = link;
    l["direction"] = dirs[d];
    s.m_bytes[d] = metrics::GetCounter("strata_link_proxy_bytes_total",
                                       "Bytes delivered through an emulated link", l);
    s.m_retransmits[d] = metrics::GetCounter("strata_link_proxy_retransmits_total",
                                             "Emulated segment losses (held one RTO)", l);
  }
  s.m_connections = metrics::GetCounter("strata_link_proxy_connections_total",
                                        "Connections accepted by a link proxy", link);
  s.m_refused =
      metrics::GetCounter("strata_link_proxy_connections_refused_total",
                          "Connections closed by a link proxy without reaching the upstream", link);
  s.m_partitions = metrics::GetCounter("strata_link_proxy_partitions_total",
                                       "Partitions started on a link", link);
  s.m_active = metrics::GetGauge("strata_link_proxy_connections_active",
                                 "Connections open through a link proxy", link);
  s.m_partitioned =
      metrics::GetGauge("strata_link_proxy_partitioned", "1 while the link is partitioned", link);
  STRATA_ASSIGN_OR_RETURN(impl->listen_fd, Listen(config, &impl->port));
  std::unique_ptr<LinkProxy> proxy(new LinkProxy(std::move(impl)));
  if (config.start_partitioned) proxy->Partition();
  Impl* raw = proxy->impl_.get();
  raw->acceptor = std::thread([raw] { raw->AcceptLoop(); });
  return proxy;
}

LinkProxy::LinkProxy(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LinkProxy::~LinkProxy() { Stop(); }

void LinkProxy::Impl::Reap(bool all) {
  std::list<std::unique_ptr<Connection>> finished;
  {
    std::lock_guard<std::mutex> lock(conns_mu);
    for (auto it = conns.begin(); it != conns.end();) {
      if (all || (*it)->done())
        finished.splice(finished.end(), conns, it++);
      else
        ++it;
    }
  }
  finished.clear();  // joins outside the lock
}

void LinkProxy::Impl::AcceptLoop() {
  while (!shared.stopping) {
    pollfd p{listen_fd, POLLIN, 0};
    int ready = poll(&p, 1, 50);
    Reap(false);
    if (ready <= 0 || shared.stopping) continue;
    int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    shared.connections_total++;
    shared.m_connections.Inc();
    shared.connections_active++;
    shared.m_active.Inc();
    auto conn = std::make_unique<Connection>(&shared, fd, next_id++);
    std::lock_guard<std::mutex> lock(conns_mu);
    if (conns.size() >= static_cast<size_t>(shared.config.max_connections)) conn->Abort(true);
    conn->Start();  // an aborted connection counts itself refused and closes at once
    conns.push_back(std::move(conn));
  }
}

int LinkProxy::port() const { return impl_->port; }
const LinkProxyConfig& LinkProxy::config() const { return impl_->shared.config; }

LinkSettings LinkProxy::settings() const {
  std::lock_guard<std::mutex> lock(impl_->shared.mu);
  return impl_->shared.settings;
}

Status LinkProxy::SetSettings(const LinkSettings& settings) {
  STRATA_RETURN_IF_ERROR(Validate(settings));
  LinkShared& s = impl_->shared;
  std::lock_guard<std::mutex> lock(s.mu);
  s.settings = settings;
  s.bucket[kUpstream].SetRate(settings.upstream.bandwidth_bps);
  s.bucket[kDownstream].SetRate(settings.downstream.bandwidth_bps);
  if (!s.partitioned) s.partition_mode = static_cast<int>(settings.partition_mode);
  return Status::Ok();
}

void LinkProxy::Partition(std::optional<PartitionMode> mode) {
  LinkShared& s = impl_->shared;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    int m = static_cast<int>(mode.value_or(s.settings.partition_mode));
    if (s.partitioned && (!mode || s.partition_mode == m)) return;
    s.partition_mode = m;  // an explicit other mode switches a running partition
    if (!s.partitioned.exchange(true)) {
      s.partitions_total++;
      s.m_partitions.Inc();
      s.m_partitioned.Set(1);
    }
  }
  if (s.partition_mode == static_cast<int>(PartitionMode::kReset)) {
    std::lock_guard<std::mutex> lock(impl_->conns_mu);
    for (auto& c : impl_->conns) c->Abort(/*reset=*/true);
  }
}

void LinkProxy::Heal() {
  LinkShared& s = impl_->shared;
  std::lock_guard<std::mutex> lock(s.mu);
  s.partitioned = false;
  s.partition_mode = static_cast<int>(s.settings.partition_mode);
  s.m_partitioned.Set(0);
}

int LinkProxy::HalfOpen() {
  int n = 0;
  std::lock_guard<std::mutex> lock(impl_->conns_mu);
  for (auto& c : impl_->conns)
    if (!c->done()) {
      c->HalfOpen();
      ++n;
    }
  impl_->shared.half_opened_total += static_cast<uint64_t>(n);
  return n;
}

bool LinkProxy::partitioned() const { return impl_->shared.partitioned; }
PartitionMode LinkProxy::partition_mode() const {
  return static_cast<PartitionMode>(impl_->shared.partition_mode.load());
}

LinkStats LinkProxy::stats() const {
  const LinkShared& s = impl_->shared;
  LinkStats out;
  for (int d = 0; d < 2; ++d) {
    out.bytes[d] = s.bytes[d];
    out.retransmits[d] = s.retransmits[d];
    out.writes[d] = s.writes[d];
  }
  out.connections_total = s.connections_total;
  out.connections_active = s.connections_active;
  out.connections_refused = s.connections_refused;
  out.partitions_total = s.partitions_total;
  out.half_opened_total = s.half_opened_total;
  out.partitioned = s.partitioned;
  return out;
}

void LinkProxy::Stop() {
  std::call_once(impl_->stop_once, [this] {
    impl_->shared.stopping = true;
    if (impl_->acceptor.joinable()) impl_->acceptor.join();
    close(impl_->listen_fd);
    {
      std::lock_guard<std::mutex> lock(impl_->conns_mu);
      for (auto& c : impl_->conns) c->Abort(/*reset=*/false);
    }
    impl_->Reap(true);
  });
}

}  // namespace strata::link
