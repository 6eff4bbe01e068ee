// tcp_proxy to plain TCP upstreams, in process: the real listener, filter, per-worker cluster
// manager and upstream connections on the test thread's dispatcher, threaded echo servers as
// backends, real loopback sockets.

#include "source/extensions/filters/network/tcp_proxy/tcp_proxy_filter.h"

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "source/common/stream_info/stream_info.h"
#include "test/common/network/network_test_util.h"
#include "test/extensions/filters/network/tcp_proxy/proxy_test_harness.h"
#include "test/test_common/test_tcp_echo_server.h"

namespace waystone::extensions::network_filters::tcp_proxy::test {
namespace {

using network::ConnectionEvent;
using network::test::runUntil;
using std::chrono::milliseconds;

constexpr uint32_t kSmallBufferLimit = 16 * 1024;

class TcpProxyFilterTest : public TcpProxyTestBase {
 protected:
  void SetUp() override {
    auto echo = waystone::test::TestTcpEchoServer::start();
    ASSERT_TRUE(echo.ok()) << echo.status();
    echo_ = std::move(*echo);
  }

  // A client that sends `message` and waits for its echo; false if it did not come back.
  bool roundTrip(const std::string& message) {
    TestClient& client = connectClient();
    client.write(message, false);
    const bool ok = runUntil(
        dispatcher_, [&] { return client.received().size() >= message.size() || client.ended(); });
    return ok && client.received() == message;
  }

  std::unique_ptr<waystone::test::TestTcpEchoServer> echo_;
};

TEST_F(TcpProxyFilterTest, EchoesSmallPayload) {
  startProxy(staticCluster({echo_->port()}), "{ stat_prefix: p, cluster: backend }");
  TestClient& client = connectClient();
  client.write("hello through the proxy", false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client.received().size() >= 23; }));
  EXPECT_EQ(client.received(), "hello through the proxy");
  EXPECT_FALSE(client.ended());
  EXPECT_EQ(counter("tcp.p.downstream_cx_total"), 1u);
  EXPECT_EQ(counter("cluster.backend.upstream_cx_total"), 1u);
  EXPECT_EQ(gauge("cluster.backend.upstream_cx_active"), 1u);
  EXPECT_EQ(hosts()[0]->stats().cx_active.load(), 1u);
  EXPECT_EQ(echo_->connectionCount(), 1u);
  // The connection's stream info names the cluster and host, for access logs.
  client.connection().close(network::ConnectionCloseType::NoFlush);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return closed_.size() == 1; }));
  EXPECT_EQ(closed_[0].upstream_cluster, "backend");
  EXPECT_EQ(closed_[0].upstream_host, absl::StrCat("127.0.0.1:", echo_->port()));
  EXPECT_EQ(closed_[0].response_flags, 0u);
  EXPECT_EQ(closed_[0].bytes_received, 23u);
  EXPECT_EQ(closed_[0].bytes_sent, 23u);
}

TEST_F(TcpProxyFilterTest, LargePayloadWithSmallBuffersArrivesIntact) {
  // 16 KiB limits everywhere: the 4 MiB can only get through if each side pauses the other
  // when its write buffer fills, and resumes it when it drains.
  startProxy(staticCluster({echo_->port()}, absl::StrCat("    per_connection_buffer_limit_bytes: ",
                                                         kSmallBufferLimit, "\n")),
             "{ stat_prefix: p, cluster: backend }", kSmallBufferLimit);
  const std::string payload = pattern(4 * 1024 * 1024);
  TestClient& client = connectClient(kSmallBufferLimit);
  client.write(payload, false);
  ASSERT_TRUE(runUntil(
      dispatcher_, [&] { return client.received().size() >= payload.size() || client.ended(); },
      milliseconds(60000)))
      << "received " << client.received().size() << " of " << payload.size();
  ASSERT_EQ(client.received().size(), payload.size());
  EXPECT_TRUE(client.received() == payload) << "the echoed bytes differ";
  EXPECT_FALSE(client.ended());
  EXPECT_EQ(echo_->bytesEchoed(), payload.size());
  EXPECT_EQ(counter("tcp.p.downstream_cx_rx_bytes_total"), payload.size());
  EXPECT_EQ(counter("tcp.p.downstream_cx_tx_bytes_total"), payload.size());
  EXPECT_EQ(counter("cluster.backend.upstream_cx_tx_bytes_total"), payload.size());
  EXPECT_EQ(counter("cluster.backend.upstream_cx_rx_bytes_total"), payload.size());
  // Every pause was undone.
  EXPECT_EQ(counter("tcp.p.downstream_flow_control_paused_reading_total"),
            counter("tcp.p.downstream_flow_control_resumed_reading_total"));
}

TEST_F(TcpProxyFilterTest, LargePayloadSurvivesAPausedReader) {
  startProxy(staticCluster({echo_->port()}, absl::StrCat("    per_connection_buffer_limit_bytes: ",
                                                         kSmallBufferLimit, "\n")),
             "{ stat_prefix: p, cluster: backend }", kSmallBufferLimit);
  const std::string payload = pattern(4 * 1024 * 1024);
  TestClient& client = connectClient(kSmallBufferLimit);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client.connected(); }));
  // The client stops reading: the echo backs up through the proxy in both directions.
  client.connection().readDisable(true);
  client.write(payload, false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return echo_->bytesEchoed() > 0; }));
  client.connection().readDisable(false);
  ASSERT_TRUE(runUntil(
      dispatcher_, [&] { return client.received().size() >= payload.size() || client.ended(); },
      milliseconds(60000)))
      << "received " << client.received().size() << " of " << payload.size();
  EXPECT_TRUE(client.received() == payload) << "the echoed bytes differ";
  EXPECT_EQ(counter("tcp.p.downstream_flow_control_paused_reading_total"),
            counter("tcp.p.downstream_flow_control_resumed_reading_total"));
}

TEST_F(TcpProxyFilterTest, ClientHalfCloseReachesTheBackend) {
  startProxy(staticCluster({echo_->port()}), "{ stat_prefix: p, cluster: backend }");
  TestClient& client = connectClient();
  // Data and FIN together. The echo server answers and mirrors the FIN only once it has seen
  // the FIN, so the end of stream at the client proves the proxy passed the half-close on.
  client.write("last words", true);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client.endStreams() > 0; }));
  EXPECT_EQ(client.received(), "last words");
  EXPECT_EQ(client.endStreams(), 1);
  // Both directions are finished: everything closes and is released.
  ASSERT_TRUE(runUntil(dispatcher_, [&] {
    return client.closed() && listener_->numConnections() == 0 &&
           gauge("cluster.backend.upstream_cx_active") == 0;
  }));
  EXPECT_EQ(hosts()[0]->stats().cx_active.load(), 0u);
  EXPECT_EQ(gauge("listener.proxy.downstream_cx_active"), 0u);
  // A clean end: nothing was left to flush.
  EXPECT_EQ(counter("tcp.p.upstream_flush_total"), 0u);
}

TEST_F(TcpProxyFilterTest, RefusedBackendClosesTheClientWithUfUrx) {
  RefusingPort refusing;
  startProxy(staticCluster({refusing.port()}), "{ stat_prefix: p, cluster: backend }");
  TestClient& client = connectClient();
  client.write("nobody is listening", false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client.ended(); }));
  EXPECT_EQ(client.count(ConnectionEvent::LocalClose), 0);
  EXPECT_EQ(client.received(), "");
  EXPECT_EQ(counter("cluster.backend.upstream_cx_total"), 1u);
  EXPECT_EQ(counter("cluster.backend.upstream_cx_connect_fail"), 1u);
  EXPECT_EQ(gauge("cluster.backend.upstream_cx_active"), 0u);
  EXPECT_EQ(hosts()[0]->stats().cx_connect_fail.load(), 1u);
  EXPECT_EQ(hosts()[0]->stats().cx_active.load(), 0u);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return closed_.size() == 1; }));
  // Envoy's flags for a failed connect with attempts exhausted.
  EXPECT_EQ(stream_info::responseFlagsToString(closed_[0].response_flags), "UF,URX");
  EXPECT_EQ(closed_[0].upstream_host, absl::StrCat("127.0.0.1:", refusing.port()));
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return listener_->numConnections() == 0; }));
}

TEST_F(TcpProxyFilterTest, RetriesTheOtherHostWhenTheFirstRefuses) {
  RefusingPort refusing;
  startProxy(staticCluster({refusing.port(), echo_->port()}),
             "{ stat_prefix: p, cluster: backend, max_connect_attempts: 2 }");
  const upstream::Host& refusing_host = *hosts()[0];
  const upstream::Host& echo_host = *hosts()[1];
  // The first attempt picks either host. Connect until the refusing host has been tried first
  // at least once: every connection must still reach the echo server, on its first or second
  // attempt.
  int connections = 0;
  while (refusing_host.stats().cx_total.load() == 0 && connections < 64) {
    ++connections;
    ASSERT_TRUE(roundTrip(absl::StrCat("attempt ", connections)))
        << "connection " << connections << " was not proxied";
    clients_.back()->connection().close(network::ConnectionCloseType::NoFlush);
  }
  EXPECT_GE(refusing_host.stats().cx_total.load(), 1u);
  EXPECT_EQ(refusing_host.stats().cx_connect_fail.load(), refusing_host.stats().cx_total.load());
  EXPECT_EQ(echo_host.stats().cx_total.load(), static_cast<uint64_t>(connections));
  EXPECT_EQ(echo_host.stats().cx_connect_fail.load(), 0u);
  EXPECT_EQ(counter("cluster.backend.upstream_cx_connect_fail"),
            refusing_host.stats().cx_total.load());
  EXPECT_EQ(counter("cluster.backend.upstream_cx_total"),
            static_cast<uint64_t>(connections) + refusing_host.stats().cx_total.load());
}

TEST_F(TcpProxyFilterTest, GivesUpAfterMaxConnectAttempts) {
  RefusingPort first;
  RefusingPort second;
  startProxy(staticCluster({first.port(), second.port()}),
             "{ stat_prefix: p, cluster: backend, max_connect_attempts: 2 }");
  TestClient& client = connectClient();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client.ended(); }));
  EXPECT_EQ(client.received(), "");
  EXPECT_EQ(counter("cluster.backend.upstream_cx_total"), 2u);
  EXPECT_EQ(counter("cluster.backend.upstream_cx_connect_fail"), 2u);
  // The retry goes to the other host, not to the one that just refused.
  EXPECT_EQ(hosts()[0]->stats().cx_connect_fail.load(), 1u);
  EXPECT_EQ(hosts()[1]->stats().cx_connect_fail.load(), 1u);
  EXPECT_EQ(gauge("cluster.backend.upstream_cx_active"), 0u);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return closed_.size() == 1; }));
  EXPECT_EQ(stream_info::responseFlagsToString(closed_[0].response_flags), "UF,URX");
}

TEST_F(TcpProxyFilterTest, IdleTimeoutClosesAnIdleConnection) {
  startProxy(staticCluster({echo_->port()}),
             "{ stat_prefix: idle, cluster: backend, idle_timeout: 0.05s }");
  TestClient& client = connectClient();
  client.write("ping", false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client.received() == "ping" || client.ended(); }));
  EXPECT_EQ(client.received(), "ping");
  // Nothing more is sent: the proxy closes after 50 ms of silence.
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client.ended(); }));
  EXPECT_EQ(client.count(ConnectionEvent::LocalClose), 0);
  EXPECT_EQ(counter("tcp.idle.idle_timeout"), 1u);
  ASSERT_TRUE(runUntil(dispatcher_, [&] {
    return listener_->numConnections() == 0 && gauge("cluster.backend.upstream_cx_active") == 0;
  }));
}

TEST_F(TcpProxyFilterTest, TrafficKeepsTheIdleTimerAway) {
  startProxy(staticCluster({echo_->port()}),
             "{ stat_prefix: idle, cluster: backend, idle_timeout: 1s }");
  TestClient& client = connectClient();
  // A byte every 100 ms for 2.5 s: well past the 1 s timeout in total, never 1 s of silence.
  int sent = 0;
  event::TimerPtr ticker;
  ticker = dispatcher_.createTimer([&] {
    client.write("x", false);
    if (++sent < 25) {
      ticker->enableTimer(milliseconds(100));
    }
  });
  ticker->enableTimer(milliseconds(0));
  ASSERT_TRUE(runUntil(
      dispatcher_, [&] { return client.received().size() == 25 || client.ended(); },
      milliseconds(30000)));
  EXPECT_EQ(client.received(), std::string(25, 'x'));
  EXPECT_FALSE(client.ended());
  EXPECT_EQ(counter("tcp.idle.idle_timeout"), 0u);
  // Then silence: it goes.
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client.ended(); }));
  EXPECT_EQ(counter("tcp.idle.idle_timeout"), 1u);
}

TEST_F(TcpProxyFilterTest, IdleTimeoutZeroDisablesIt) {
  startProxy(staticCluster({echo_->port()}),
             "{ stat_prefix: idle, cluster: backend, idle_timeout: 0s, "
             "max_downstream_connection_duration: 0.3s }");
  ASSERT_TRUE(roundTrip("ping"));
  TestClient& client = *clients_.back();
  // Only the duration limit ends it; no idle timer ran.
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client.ended(); }));
  EXPECT_EQ(counter("tcp.idle.idle_timeout"), 0u);
  EXPECT_EQ(counter("tcp.idle.max_downstream_connection_duration"), 1u);
}

TEST_F(TcpProxyFilterTest, MaxDownstreamConnectionDurationClosesABusyConnection) {
  startProxy(staticCluster({echo_->port()}),
             "{ stat_prefix: p, cluster: backend, max_downstream_connection_duration: 0.2s }");
  TestClient& client = connectClient();
  // Traffic does not extend it (unlike the idle timeout).
  event::TimerPtr ticker;
  ticker = dispatcher_.createTimer([&] {
    client.write("x", false);
    ticker->enableTimer(milliseconds(20));
  });
  ticker->enableTimer(milliseconds(0));
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client.ended(); }));
  ticker.reset();
  EXPECT_FALSE(client.received().empty());
  EXPECT_EQ(counter("tcp.p.max_downstream_connection_duration"), 1u);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return closed_.size() == 1; }));
  EXPECT_EQ(stream_info::responseFlagsToString(closed_[0].response_flags), "DT");
  ASSERT_TRUE(
      runUntil(dispatcher_, [&] { return gauge("cluster.backend.upstream_cx_active") == 0; }));
}

TEST_F(TcpProxyFilterTest, EmptyClusterClosesTheClientWithUh) {
  startProxy("    type: STATIC\n", "{ stat_prefix: p, cluster: backend }");
  TestClient& client = connectClient();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client.ended(); }));
  EXPECT_EQ(counter("cluster.backend.upstream_cx_none_healthy"), 1u);
  EXPECT_EQ(counter("cluster.backend.upstream_cx_total"), 0u);
  // The route (the cluster) exists; it just has no host.
  EXPECT_EQ(counter("tcp.p.downstream_cx_no_route"), 0u);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return closed_.size() == 1; }));
  EXPECT_EQ(stream_info::responseFlagsToString(closed_[0].response_flags), "UH");
  EXPECT_EQ(closed_[0].upstream_cluster, "backend");
}

TEST_F(TcpProxyFilterTest, MaxConnectionsCircuitBreakerOverflows) {
  startProxy(staticCluster({echo_->port()},
                           "    circuit_breakers: {thresholds: [{max_connections: 1}]}\n"),
             "{ stat_prefix: p, cluster: backend, max_connect_attempts: 3 }");
  ASSERT_TRUE(roundTrip("first"));
  // The first connection holds the only upstream connection allowed.
  TestClient& second = connectClient();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return second.ended(); }));
  EXPECT_EQ(second.received(), "");
  EXPECT_EQ(counter("cluster.backend.upstream_cx_overflow"), 1u);
  EXPECT_EQ(counter("cluster.backend.upstream_cx_total"), 1u);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return closed_.size() == 1; }));
  // An overflow is not retried.
  EXPECT_EQ(stream_info::responseFlagsToString(closed_[0].response_flags), "UO");
  // The first one is unaffected, and once it is gone there is room again.
  clients_.front()->connection().close(network::ConnectionCloseType::NoFlush);
  ASSERT_TRUE(
      runUntil(dispatcher_, [&] { return gauge("cluster.backend.upstream_cx_active") == 0; }));
  EXPECT_TRUE(roundTrip("third"));
}

TEST_F(TcpProxyFilterTest, WeightedClustersSpreadConnectionsByWeight) {
  auto other = waystone::test::TestTcpEchoServer::start();
  ASSERT_TRUE(other.ok()) << other.status();
  startProxyWithClusters(absl::StrCat("  - name: backend\n", staticCluster({echo_->port()}),
                                      "  - name: other\n", staticCluster({(*other)->port()}),
                                      "  - name: never\n", staticCluster({echo_->port()})),
                         R"EOF(
stat_prefix: p
weighted_clusters:
  clusters:
  - { name: backend, weight: 1 }
  - { name: other, weight: 1 }
)EOF");
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(roundTrip(absl::StrCat("connection ", i)));
    clients_.back()->connection().close(network::ConnectionCloseType::NoFlush);
  }
  const uint64_t backend = counter("cluster.backend.upstream_cx_total");
  const uint64_t others = counter("cluster.other.upstream_cx_total");
  EXPECT_EQ(backend + others, 40u);
  // 1:1, picked per connection: all 40 on one side has probability 2^-39.
  EXPECT_GT(backend, 0u);
  EXPECT_GT(others, 0u);
  EXPECT_EQ(counter("cluster.never.upstream_cx_total"), 0u);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return closed_.size() == 40; }));
  std::map<std::string, int> by_cluster;
  for (const auto& c : closed_) {
    ++by_cluster[c.upstream_cluster];
  }
  EXPECT_EQ(by_cluster["backend"], static_cast<int>(backend));
  EXPECT_EQ(by_cluster["other"], static_cast<int>(others));
}

TEST_F(TcpProxyFilterTest, PerConnectionClusterFromFilterState) {
  auto other = waystone::test::TestTcpEchoServer::start();
  ASSERT_TRUE(other.ok()) << other.status();
  startProxyWithClusters(absl::StrCat("  - name: backend\n", staticCluster({echo_->port()}),
                                      "  - name: other\n", staticCluster({(*other)->port()})),
                         "{ stat_prefix: p, cluster: backend }", 0,
                         {setFilterStateFactory("envoy.tcp_proxy.cluster", "other")});
  ASSERT_TRUE(roundTrip("where to?"));
  EXPECT_EQ(counter("cluster.other.upstream_cx_total"), 1u);
  EXPECT_EQ(counter("cluster.backend.upstream_cx_total"), 0u);
  EXPECT_EQ((*other)->connectionCount(), 1u);
}

TEST_F(TcpProxyFilterTest, UnknownPerConnectionClusterIsNoRoute) {
  startProxyWithClusters(absl::StrCat("  - name: backend\n", staticCluster({echo_->port()})),
                         "{ stat_prefix: p, cluster: backend }", 0,
                         {setFilterStateFactory("envoy.tcp_proxy.cluster", "nope")});
  TestClient& client = connectClient();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client.ended(); }));
  EXPECT_EQ(counter("tcp.p.downstream_cx_no_route"), 1u);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return closed_.size() == 1; }));
  EXPECT_EQ(stream_info::responseFlagsToString(closed_[0].response_flags), "NC");
  EXPECT_EQ(closed_[0].upstream_cluster, "nope");
}

std::string originalDstCluster(uint16_t port_override) {
  return absl::StrCat(
      "  - name: original\n"
      "    type: ORIGINAL_DST\n"
      "    lb_policy: CLUSTER_PROVIDED\n"
      "    connect_timeout: 5s\n"
      "    original_dst_lb_config: {upstream_port_override: ",
      port_override, "}\n");
}

TEST_F(TcpProxyFilterTest, OriginalDstClusterConnectsToTheRestoredLocalAddress) {
  // ORIGINAL_DST picks the host from the downstream connection's local address once the
  // original_dst listener filter restored it (here the proxy's own listener, 127.0.0.1:<proxy
  // port>, marked restored by a test filter), with the port overridden to the echo's.
  startProxyWithClusters(originalDstCluster(echo_->port()), "{ stat_prefix: p, cluster: original }",
                         0, {markLocalAddressRestoredFactory()});
  ASSERT_TRUE(roundTrip("to the original destination"));
  ASSERT_EQ(echo_->connectionCount(), 1u);
  clients_.back()->connection().close(network::ConnectionCloseType::NoFlush);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return closed_.size() == 1; }));
  EXPECT_EQ(closed_[0].upstream_host, absl::StrCat("127.0.0.1:", echo_->port()));
}

TEST_F(TcpProxyFilterTest, OriginalDstClusterWithoutARestoredAddressHasNoHost) {
  // As Envoy: the listener's own address is not an original destination.
  startProxyWithClusters(originalDstCluster(echo_->port()),
                         "{ stat_prefix: p, cluster: original }");
  TestClient& client = connectClient();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client.ended(); }));
  EXPECT_EQ(echo_->connectionCount(), 0u);
  EXPECT_EQ(counter("cluster.original.upstream_cx_none_healthy"), 1u);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return closed_.size() == 1; }));
  EXPECT_EQ(stream_info::responseFlagsToString(closed_[0].response_flags), "UH");
}

TEST_F(TcpProxyFilterTest, SourceIpHashPolicyKeepsAClientOnOneHost) {
  std::vector<std::unique_ptr<waystone::test::TestTcpEchoServer>> echoes;
  std::vector<uint16_t> ports;
  for (int i = 0; i < 4; ++i) {
    auto echo = waystone::test::TestTcpEchoServer::start();
    ASSERT_TRUE(echo.ok()) << echo.status();
    ports.push_back((*echo)->port());
    echoes.push_back(std::move(*echo));
  }
  startProxy(staticCluster(ports, "    lb_policy: RING_HASH\n"),
             "{ stat_prefix: p, cluster: backend, hash_policy: [{source_ip: {}}] }");
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE(roundTrip(absl::StrCat("hash ", i)));
    clients_.back()->connection().close(network::ConnectionCloseType::NoFlush);
  }
  // Every connection comes from 127.0.0.1: one host takes them all.
  std::set<uint64_t> used;
  int with_connections = 0;
  for (const auto& echo : echoes) {
    if (echo->connectionCount() > 0) {
      ++with_connections;
      used.insert(echo->connectionCount());
    }
  }
  EXPECT_EQ(with_connections, 1);
  EXPECT_EQ(*used.begin(), 12u);
}

TEST_F(TcpProxyFilterTest, ClientCloseClosesTheUpstream) {
  startProxy(staticCluster({echo_->port()}), "{ stat_prefix: p, cluster: backend }");
  TestClient& client = connectClient();
  client.write("ping", false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client.received() == "ping"; }));
  EXPECT_EQ(gauge("cluster.backend.upstream_cx_active"), 1u);
  // A FIN: passed on to the backend, which closes; then everything is released.
  client.connection().close(network::ConnectionCloseType::NoFlush);
  ASSERT_TRUE(runUntil(dispatcher_, [&] {
    return listener_->numConnections() == 0 && gauge("cluster.backend.upstream_cx_active") == 0;
  }));
  EXPECT_EQ(hosts()[0]->stats().cx_active.load(), 0u);
  EXPECT_EQ(gauge("listener.proxy.downstream_cx_active"), 0u);
}

TEST_F(TcpProxyFilterTest, ClientResetClosesTheUpstream) {
  startProxy(staticCluster({echo_->port()}), "{ stat_prefix: p, cluster: backend }");
  TestClient& client = connectClient();
  client.write("ping", false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client.received() == "ping"; }));
  // A reset: the proxy sees the downstream go away at once, while its upstream is still open.
  // The upstream has nothing left to write, so there is nothing to flush: it closes at once.
  client.reset();
  ASSERT_TRUE(runUntil(dispatcher_, [&] {
    return listener_->numConnections() == 0 && gauge("cluster.backend.upstream_cx_active") == 0;
  }));
  EXPECT_EQ(counter("tcp.p.upstream_flush_total"), 0u);
  EXPECT_EQ(gauge("tcp.p.upstream_flush_active"), 0u);
  EXPECT_EQ(hosts()[0]->stats().cx_active.load(), 0u);
}

TEST_F(TcpProxyFilterTest, DestroyingTheListenerWithOpenConnections) {
  startProxy(staticCluster({echo_->port()}), "{ stat_prefix: p, cluster: backend }");
  TestClient& client = connectClient();
  client.write("ping", false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client.received() == "ping"; }));
  ASSERT_EQ(listener_->numConnections(), 1u);
  // As a worker can at shutdown: the listener goes with a live connection, which deferred
  // deletion frees afterwards.
  listener_.reset();
  dispatcher_.run(event::Dispatcher::RunType::NonBlock);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client.ended(); }));
  EXPECT_EQ(gauge("listener.proxy.downstream_cx_active"), 0u);
  EXPECT_EQ(counter("listener.proxy.downstream_cx_destroy"), 1u);
  EXPECT_EQ(gauge("cluster.backend.upstream_cx_active"), 0u);
}

}  // namespace
}  // namespace waystone::extensions::network_filters::tcp_proxy::test
