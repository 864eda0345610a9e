// LinkProxy against a real TCP echo/sink upstream on loopback. Timing assertions are only the
// lower bounds physics guarantees (a delayed byte is never early; a capped link is never faster).
#include "link_proxy.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <future>
#include <vector>

#include "link_test_util.h"
#include "strata/core/rng.h"

namespace strata::link {
namespace {

using namespace std::chrono_literals;
using namespace testutil;

std::unique_ptr<LinkProxy> StartProxy(int upstream_port, LinkSettings settings = {}) {
  auto p = LinkProxy::Start({.name = "test",
                             .upstream_host = "127.0.0.1",
                             .upstream_port = upstream_port,
                             .settings = settings});
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? std::move(p).value() : nullptr;
}

std::string RandomBytes(size_t n, uint64_t seed) {
  Rng rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng.Next() & 0xff);
  return s;
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// Counters are bumped just after send() returns, so the echo can overtake them by a moment:
// waits (bounded) until `value()` equals `want` and returns the last value seen.
template <typename F>
uint64_t Eventually(F value, uint64_t want) {
  uint64_t v = value();
  for (int i = 0; i < 100 && v != want; ++i) {
    std::this_thread::sleep_for(10ms);
    v = value();
  }
  return v;
}

TEST(LinkProxyTest, BytesArriveIntactAndInOrderOnConcurrentConnections) {
  EchoServer echo;
  auto proxy = StartProxy(echo.port());
  constexpr size_t kBytes = 1 << 20;
  constexpr int kConns = 4;
  std::vector<std::future<bool>> results;
  for (int c = 0; c < kConns; ++c) {
    results.push_back(std::async(std::launch::async, [&, c] {
      std::string data = RandomBytes(kBytes, 100 + c);
      int fd = ConnectTo(proxy->port());
      if (fd < 0) return false;
      std::thread sender([&] { SendAll(fd, data); });
      std::string back = RecvExactly(fd, kBytes, 10s);
      sender.join();
      close(fd);
      return back == data;
    }));
  }
  for (auto& r : results) EXPECT_TRUE(r.get());
  EXPECT_EQ(Eventually([&] { return proxy->stats().bytes[kUpstream]; }, kConns * kBytes),
            kConns * kBytes);
  EXPECT_EQ(Eventually([&] { return proxy->stats().bytes[kDownstream]; }, kConns * kBytes),
            kConns * kBytes);
  EXPECT_EQ(proxy->stats().connections_total, static_cast<uint64_t>(kConns));
  for (int i = 0; i < 100 && proxy->stats().connections_active > 0; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(proxy->stats().connections_active, 0u);
}

TEST(LinkProxyTest, EveryRoundTripTakesAtLeastTwiceTheOneWayLatency) {
  EchoServer echo;
  LinkSettings s;
  s.upstream.latency_ms = s.downstream.latency_ms = 15;
  auto proxy = StartProxy(echo.port(), s);
  int fd = ConnectTo(proxy->port());
  ASSERT_GE(fd, 0);
  for (int i = 0; i < 8; ++i) {
    auto t0 = Clock::now();
    ASSERT_TRUE(SendAll(fd, "ping" + std::to_string(i)));
    EXPECT_EQ(RecvExactly(fd, 5, 2s), "ping" + std::to_string(i));
    EXPECT_GE(Ms(Clock::now() - t0), 2 * 15 - 1);
  }
  // Run-time change: jitter never reorders, and the bound becomes 2·(L − J).
  s.upstream.jitter_ms = s.downstream.jitter_ms = 10;
  ASSERT_TRUE(proxy->SetSettings(s).ok());
  std::string sent;
  for (int i = 0; i < 20; ++i) sent += std::to_string(i % 10);
  auto t0 = Clock::now();
  for (char c : sent) ASSERT_TRUE(SendAll(fd, std::string(1, c)));  // 20 separate chunks
  EXPECT_EQ(RecvExactly(fd, sent.size(), 2s), sent);
  EXPECT_GE(Ms(Clock::now() - t0), 2 * (15 - 10) - 1);
  close(fd);
}

TEST(LinkProxyTest, ThroughputNeverExceedsTheBandwidthCap) {
  EchoServer sink(/*sink=*/true);
  LinkSettings s;
  s.upstream.bandwidth_bps = 4'000'000;  // 500 KB/s
  auto proxy = StartProxy(sink.port(), s);
  constexpr size_t kBytes = 256 * 1024;
  sink.ExpectBytes(kBytes);
  int fd = ConnectTo(proxy->port());
  ASSERT_GE(fd, 0);
  auto t0 = Clock::now();
  ASSERT_TRUE(SendAll(fd, RandomBytes(kBytes, 7)));
  for (int i = 0; i < 300 && sink.received() < kBytes; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(sink.received(), kBytes);
  double seconds = std::chrono::duration<double>(sink.ReachedAt(kBytes) - t0).count();
  EXPECT_GE(seconds, kBytes * 8.0 / 4'000'000 * 0.9);
  EXPECT_EQ(Eventually([&] { return proxy->stats().bytes[kUpstream]; }, kBytes), kBytes);
  close(fd);
}

TEST(LinkProxyTest, TheCapIsSharedByAllConnectionsOfTheLink) {
  EchoServer sink(/*sink=*/true);
  LinkSettings s;
  s.upstream.bandwidth_bps = 4'000'000;
  auto proxy = StartProxy(sink.port(), s);
  constexpr size_t kEach = 128 * 1024;
  sink.ExpectBytes(2 * kEach);
  int a = ConnectTo(proxy->port()), b = ConnectTo(proxy->port());
  auto t0 = Clock::now();
  std::thread other([&] { SendAll(b, RandomBytes(kEach, 9)); });
  ASSERT_TRUE(SendAll(a, RandomBytes(kEach, 8)));
  other.join();
  for (int i = 0; i < 300 && sink.received() < 2 * kEach; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(sink.received(), 2 * kEach);
  double seconds = std::chrono::duration<double>(sink.ReachedAt(2 * kEach) - t0).count();
  EXPECT_GE(seconds, 2 * kEach * 8.0 / 4'000'000 * 0.9);
  close(a);
  close(b);
}

TEST(LinkProxyTest, LossIsARetransmissionDelayNeverMissingBytes) {
  EchoServer echo;
  LinkSettings s;
  s.upstream.loss = 1.0;  // every segment "lost" once: each chunk waits one RTO (200 ms)
  auto proxy = StartProxy(echo.port(), s);
  int fd = ConnectTo(proxy->port());
  auto t0 = Clock::now();
  ASSERT_TRUE(SendAll(fd, "hello"));
  EXPECT_EQ(RecvExactly(fd, 5, 3s), "hello");
  EXPECT_GE(Ms(Clock::now() - t0), 200 - 1);
  EXPECT_GE(proxy->stats().retransmits[kUpstream], 1u);
  EXPECT_EQ(proxy->stats().retransmits[kDownstream], 0u);
  close(fd);
}

TEST(LinkProxyTest, BlackholePartitionStallsThenHealResumes) {
  EchoServer echo;
  auto proxy = StartProxy(echo.port());
  int fd = ConnectTo(proxy->port());
  ASSERT_TRUE(SendAll(fd, "before"));
  ASSERT_EQ(RecvExactly(fd, 6, 2s), "before");
  uint64_t up_before = proxy->stats().bytes[kUpstream];
  proxy->Partition(PartitionMode::kBlackhole);
  EXPECT_TRUE(proxy->partitioned());
  int status = 1;
  ASSERT_TRUE(SendAll(fd, "during"));
  EXPECT_EQ(RecvExactly(fd, 6, 300ms, &status), "");
  EXPECT_EQ(status, 0);  // timed out: no byte passed
  EXPECT_EQ(proxy->stats().bytes[kUpstream], up_before);
  int accepted = echo.accepted();
  int quitter = ConnectTo(proxy->port());  // gives up during the partition: dropped, never
  ASSERT_TRUE(SendAll(quitter, "lost"));   // forwarded after the heal
  close(quitter);
  int fresh = ConnectTo(proxy->port());  // held by the proxy: never reaches the upstream
  ASSERT_GE(fresh, 0);
  ASSERT_TRUE(SendAll(fresh, "new"));
  EXPECT_EQ(RecvExactly(fresh, 3, 200ms, &status), "");
  EXPECT_EQ(echo.accepted(), accepted);
  proxy->Heal();
  EXPECT_EQ(RecvExactly(fd, 6, 2s), "during");  // the stalled bytes resume
  EXPECT_EQ(RecvExactly(fresh, 3, 2s), "new");  // the held connection proceeds
  int after = ConnectTo(proxy->port());
  ASSERT_TRUE(SendAll(after, "after"));
  EXPECT_EQ(RecvExactly(after, 5, 2s), "after");
  EXPECT_EQ(proxy->stats().partitions_total, 1u);
  EXPECT_EQ(echo.accepted(), accepted + 2);  // fresh and after, not the quitter
  EXPECT_EQ(Eventually([&] { return proxy->stats().bytes[kUpstream]; }, 20), 6u + 6 + 3 + 5);
  EXPECT_EQ(Eventually([&] { return proxy->stats().bytes[kDownstream]; }, 20), 6u + 6 + 3 + 5);
  for (int f : {fd, fresh, after}) close(f);
}

TEST(LinkProxyTest, ResetPartitionResetsConnectionsThenHealAcceptsNewOnes) {
  EchoServer echo;
  auto proxy = StartProxy(echo.port());
  int fd = ConnectTo(proxy->port());
  ASSERT_TRUE(SendAll(fd, "ok"));
  ASSERT_EQ(RecvExactly(fd, 2, 2s), "ok");
  proxy->Partition(PartitionMode::kBlackhole);
  proxy->Partition(PartitionMode::kReset);  // switches the running partition to reset
  EXPECT_EQ(proxy->stats().partitions_total, 1u);
  EXPECT_EQ(proxy->partition_mode(), PartitionMode::kReset);
  int status = 1, err = 0;
  EXPECT_EQ(RecvExactly(fd, 1, 2s, &status, &err), "");
  EXPECT_EQ(status, -1);
  EXPECT_EQ(err, ECONNRESET);
  int accepted = echo.accepted();
  int fresh = ConnectTo(proxy->port());  // accepted by the kernel, then reset by the proxy
  if (fresh >= 0) {
    SendAll(fresh, "x");
    EXPECT_EQ(RecvExactly(fresh, 1, 2s, &status), "");
    EXPECT_EQ(status, -1);
    close(fresh);
  }
  EXPECT_EQ(echo.accepted(), accepted);
  proxy->Heal();
  int after = ConnectTo(proxy->port());
  ASSERT_TRUE(SendAll(after, "again"));
  EXPECT_EQ(RecvExactly(after, 5, 2s), "again");
  EXPECT_GE(proxy->stats().connections_refused, 1u);
  close(fd);
  close(after);
}

TEST(LinkProxyTest, SliceBytesOneForwardsEveryByteInItsOwnWrite) {
  EchoServer echo;
  LinkSettings s;
  s.upstream.slice_bytes = 1;  // only client -> upstream is sliced
  auto proxy = StartProxy(echo.port(), s);
  int fd = ConnectTo(proxy->port());
  const std::string data = RandomBytes(3000, 7);
  ASSERT_TRUE(SendAll(fd, data));
  EXPECT_EQ(RecvExactly(fd, data.size(), 5s), data);  // intact and in order
  EXPECT_EQ(Eventually([&] { return proxy->stats().bytes[kUpstream]; }, 3000), 3000u);
  EXPECT_EQ(proxy->stats().writes[kUpstream], 3000u);  // one send() per byte
  // The echo comes back unsliced: far fewer writes than bytes.
  EXPECT_EQ(Eventually([&] { return proxy->stats().bytes[kDownstream]; }, 3000), 3000u);
  EXPECT_LT(proxy->stats().writes[kDownstream], 3000u);
  close(fd);
}

TEST(LinkProxyTest, HalfOpenConnectionsForwardNothingAndCloseNothingNewOnesWork) {
  EchoServer echo;
  auto proxy = StartProxy(echo.port());
  int fd = ConnectTo(proxy->port());
  ASSERT_TRUE(SendAll(fd, "before"));
  ASSERT_EQ(RecvExactly(fd, 6, 2s), "before");
  const uint64_t up_before = proxy->stats().bytes[kUpstream];
  EXPECT_EQ(proxy->HalfOpen(), 1);
  int status = 1;
  ASSERT_TRUE(SendAll(fd, "lost"));  // the write succeeds ...
  EXPECT_EQ(RecvExactly(fd, 4, 300ms, &status), "");
  EXPECT_EQ(status, 0);  // ... no answer, and no FIN or RST either
  EXPECT_EQ(proxy->stats().bytes[kUpstream], up_before);
  EXPECT_EQ(proxy->stats().half_opened_total, 1u);
  EXPECT_EQ(proxy->stats().connections_active, 1u);
  int fresh = ConnectTo(proxy->port());  // new connections are not affected
  ASSERT_TRUE(SendAll(fresh, "new"));
  EXPECT_EQ(RecvExactly(fresh, 3, 2s), "new");
  close(fd);  // the client gives up: the proxy closes its half-open connection
  EXPECT_EQ(Eventually([&] { return proxy->stats().connections_active; }, 1), 1u);
  ASSERT_TRUE(SendAll(fresh, "still"));
  EXPECT_EQ(RecvExactly(fresh, 5, 2s), "still");
  close(fresh);
}

TEST(LinkProxyTest, AStalledReceiverPushesBackOnTheSender) {
  // An upstream that accepts and never reads: the proxy must stop reading once its queue is
  // full, so the sender blocks after kernel buffers + max_queue_bytes, never after all it has.
  int listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listen_fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(listen(listen_fd, 4), 0);
  socklen_t len = sizeof(a);
  getsockname(listen_fd, reinterpret_cast<sockaddr*>(&a), &len);
  auto proxy = LinkProxy::Start({.upstream_host = "127.0.0.1",
                                 .upstream_port = ntohs(a.sin_port),
                                 .max_queue_bytes = 64 * 1024});
  ASSERT_TRUE(proxy.ok());
  int fd = ConnectTo((*proxy)->port());
  fcntl(fd, F_SETFL, O_NONBLOCK);
  constexpr size_t kLimit = 64u << 20;
  std::string block(64 * 1024, 'x');
  size_t sent = 0;
  auto last_progress = Clock::now();
  while (sent < kLimit && Clock::now() - last_progress < 300ms) {
    ssize_t n = send(fd, block.data(), block.size(), MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      last_progress = Clock::now();
    } else {
      std::this_thread::sleep_for(5ms);
    }
  }
  EXPECT_LT(sent, kLimit) << "the proxy kept reading from a sender whose receiver is stalled";
  std::printf("[ info     ] sender blocked after %zu KiB (kernel buffers + 64 KiB queue)\n",
              sent / 1024);
  close(fd);
  (*proxy)->Stop();
  close(listen_fd);
}

TEST(LinkProxyTest, BadConfigIsRejected) {
  EXPECT_FALSE(LinkProxy::Start({.upstream_host = "127.0.0.1", .upstream_port = 0}).ok());
  EXPECT_FALSE(
      LinkProxy::Start({.name = "bad name", .upstream_host = "127.0.0.1", .upstream_port = 80})
          .ok());
  LinkSettings s;
  s.upstream.loss = 2;
  EXPECT_FALSE(
      LinkProxy::Start({.upstream_host = "127.0.0.1", .upstream_port = 80, .settings = s}).ok());
  EXPECT_FALSE(LinkProxy::Start(
                   {.listen_host = "not-an-ip", .upstream_host = "127.0.0.1", .upstream_port = 80})
                   .ok());
}

}  // namespace
}  // namespace strata::link
