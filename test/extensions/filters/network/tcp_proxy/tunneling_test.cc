// tcp_proxy with tunneling_config, in process: each downstream connection becomes an HTTP/2
// CONNECT stream on the cluster's pooled connections to an H2ConnectServer (our nghttp2 server
// codec on real loopback sockets, scripted per test). The interop test against an independent
// HBONE server (Go) is test/integration/tcp_proxy_tunneling_integration_test.cc.

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "source/common/stream_info/stream_info.h"
#include "source/extensions/filters/network/tcp_proxy/tunneling_config.h"
#include "test/common/network/network_test_util.h"
#include "test/extensions/filters/network/tcp_proxy/h2_connect_server.h"
#include "test/extensions/filters/network/tcp_proxy/proxy_test_harness.h"

namespace waystone::extensions::network_filters::tcp_proxy::test {
namespace {

using Mode = H2ConnectServer::Mode;
using network::test::runFor;
using network::test::runUntil;
using std::chrono::milliseconds;

constexpr uint32_t kSmallBufferLimit = 16 * 1024;

class TunnelingTest : public TcpProxyTestBase {
 protected:
  void TearDown() override {
    TcpProxyTestBase::TearDown();
    server_.reset();
    dispatcher_.clearDeferredDeleteList();
  }

  // A proxy whose one cluster ("backend", HTTP/2) has the server as its host.
  void start(H2ConnectServer::Options options, const std::string& tunneling_yaml,
             const std::string& tcp_proxy_extra = "", const std::string& cluster_extra = "",
             const std::string& http2_options = "{}", uint32_t listener_buffer_limit = 0,
             std::vector<network::FilterFactoryCb> before = {}) {
    server_ = std::make_unique<H2ConnectServer>(dispatcher_, std::move(options));
    startProxyWithClusters(absl::StrCat("  - name: backend\n",
                                        h2Cluster({server_->port()}, cluster_extra, http2_options)),
                           absl::StrCat("stat_prefix: t\ncluster: backend\n", tcp_proxy_extra,
                                        "tunneling_config: ", tunneling_yaml, "\n"),
                           listener_buffer_limit, std::move(before));
  }

  const H2ConnectServer::Stream& stream(size_t i) { return *server_->streams().at(i); }

  std::unique_ptr<H2ConnectServer> server_;
};

TEST_F(TunnelingTest, BytesRoundTripOverAConnectStream) {
  start({}, R"({hostname: "%DOWNSTREAM_LOCAL_ADDRESS%", headers_to_add: [
             {header: {key: x-client, value: "%DOWNSTREAM_REMOTE_ADDRESS%"}},
             {header: {key: x-fixed, value: "yes"}}]})");
  TestClient& client = connectClient();
  client.write("hello through the tunnel", false);
  ASSERT_TRUE(
      runUntil(dispatcher_, [&] { return client.received().size() >= 24 || client.ended(); }));
  EXPECT_EQ(client.received(), "hello through the tunnel");
  EXPECT_FALSE(client.ended());
  ASSERT_EQ(server_->streams().size(), 1u);
  const auto& request = *stream(0).headers;
  // Classic CONNECT: :method and :authority only (RFC 9113 §8.5).
  EXPECT_EQ(request.method(), "CONNECT");
  EXPECT_EQ(request.host(), proxy_address_->asString());
  EXPECT_FALSE(request.has(":path"));
  EXPECT_FALSE(request.has(":scheme"));
  EXPECT_FALSE(request.has(":protocol"));
  EXPECT_EQ(request.getValue("x-client"), clients_.back()->connection().localAddress()->asString());
  EXPECT_EQ(request.getValue("x-fixed"), "yes");
  EXPECT_EQ(counter("cluster.backend.upstream_rq_total"), 1u);
  EXPECT_EQ(gauge("cluster.backend.upstream_rq_active"), 1u);
  EXPECT_EQ(counter("cluster.backend.upstream_rq_2xx"), 1u);
  EXPECT_EQ(counter("cluster.backend.upstream_cx_http2_total"), 1u);
  EXPECT_EQ(counter("tcp.t.downstream_cx_rx_bytes_total"), 24u);
  EXPECT_EQ(counter("tcp.t.downstream_cx_tx_bytes_total"), 24u);
}

TEST_F(TunnelingTest, HalfClosesPassBothWays) {
  start({}, "{hostname: tunnel.example:443}");
  TestClient& client = connectClient();
  // The client's FIN becomes END_STREAM; the server's echo of it becomes our FIN.
  client.write("last words", true);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client.endStreams() > 0 || client.closed(); }));
  EXPECT_EQ(client.received(), "last words");
  EXPECT_EQ(client.endStreams(), 1);
  ASSERT_EQ(server_->streams().size(), 1u);
  EXPECT_TRUE(stream(0).end_stream);
  EXPECT_FALSE(stream(0).reset);
  EXPECT_EQ(stream(0).headers->host(), "tunnel.example:443");
  // Both directions done: the downstream closes, the request completes, the pooled
  // connection stays for the next tunnel.
  ASSERT_TRUE(runUntil(dispatcher_, [&] {
    return client.closed() && listener_->numConnections() == 0 &&
           gauge("cluster.backend.upstream_rq_active") == 0;
  }));
  EXPECT_EQ(hosts()[0]->stats().rq_success.load(), 1u);
  EXPECT_EQ(counter("cluster.backend.upstream_rq_tx_reset"), 0u);
  EXPECT_EQ(gauge("cluster.backend.upstream_cx_active"), 1u);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return closed_.size() == 1; }));
  EXPECT_EQ(closed_[0].response_flags, 0u);
  EXPECT_EQ(closed_[0].upstream_host, absl::StrCat("127.0.0.1:", server_->port()));
}

TEST_F(TunnelingTest, ServerHalfClosesFirstAndStillReceives) {
  // The server answers, sends "bye" and ends its direction at once; the tunnel stays open the
  // other way (the stream is half-closed, not finished) and what the client sends next arrives.
  start({Mode::ByeFirst}, "{hostname: h:1}");
  TestClient& client = connectClient();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client.endStreams() > 0 || client.closed(); }));
  EXPECT_EQ(client.received(), "bye");
  EXPECT_FALSE(client.closed());
  client.write("after your FIN", true);
  ASSERT_TRUE(runUntil(dispatcher_,
                       [&] { return server_->streams().size() == 1 && stream(0).end_stream; }));
  EXPECT_EQ(stream(0).received, "after your FIN");
  EXPECT_FALSE(stream(0).reset);
  ASSERT_TRUE(runUntil(dispatcher_, [&] {
    return client.closed() && gauge("cluster.backend.upstream_rq_active") == 0;
  }));
  EXPECT_EQ(hosts()[0]->stats().rq_success.load(), 1u);
}

TEST_F(TunnelingTest, ServerEndsThenResetsTheStream) {
  // END_STREAM then RST_STREAM(NO_ERROR) (what Go's net/http sends when the handler returns
  // first): the client gets the bytes and the FIN, then the connection closes; later bytes go
  // nowhere, and nothing touches the freed stream.
  start({Mode::ByeThenReset}, "{hostname: h:1}");
  TestClient& client = connectClient();
  // The proxy closes its side after the FIN (the client sees only the FIN: it has not written).
  ASSERT_TRUE(runUntil(dispatcher_, [&] {
    return client.ended() && listener_->numConnections() == 0 &&
           gauge("cluster.backend.upstream_rq_active") == 0;
  }));
  EXPECT_EQ(client.received(), "bye");
  EXPECT_EQ(client.endStreams(), 1);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return closed_.size() == 1; }));
  EXPECT_EQ(stream_info::responseFlagsToString(closed_[0].response_flags), "UC");
  EXPECT_EQ(counter("cluster.backend.upstream_rq_rx_reset"), 1u);
  // The pooled connection is fine and carries the next tunnel.
  TestClient& next = connectClient();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return next.ended(); }));
  EXPECT_EQ(next.received(), "bye");
  EXPECT_EQ(server_->connections(), 1u);
}

TEST_F(TunnelingTest, RefusedConnectClosesTheClient) {
  start({Mode::Refuse, 503}, "{hostname: h:1}", "max_connect_attempts: 2\n");
  TestClient& client = connectClient();
  client.write("never delivered", false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client.ended(); }));
  EXPECT_EQ(client.received(), "");
  // Envoy treats a refused CONNECT as a failed connect: retried, then UF,URX.
  EXPECT_EQ(server_->streams().size(), 2u);
  EXPECT_EQ(counter("cluster.backend.upstream_rq_5xx"), 2u);
  EXPECT_EQ(counter("cluster.backend.upstream_rq_total"), 2u);
  EXPECT_EQ(hosts()[0]->stats().rq_error.load(), 2u);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return closed_.size() == 1; }));
  EXPECT_EQ(stream_info::responseFlagsToString(closed_[0].response_flags), "UF,URX");
  EXPECT_EQ(gauge("cluster.backend.upstream_rq_active"), 0u);
  EXPECT_EQ(counter("tcp.t.downstream_cx_tx_bytes_total"), 0u);
}

TEST_F(TunnelingTest, StreamResetBeforeTheResponseIsAConnectFailure) {
  start({Mode::ResetOnHeaders}, "{hostname: h:1}");
  TestClient& client = connectClient();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client.ended(); }));
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return closed_.size() == 1; }));
  EXPECT_EQ(stream_info::responseFlagsToString(closed_[0].response_flags), "UF,URX");
  EXPECT_EQ(counter("cluster.backend.upstream_rq_rx_reset"), 1u);
  EXPECT_EQ(gauge("cluster.backend.upstream_rq_active"), 0u);
}

TEST_F(TunnelingTest, StreamResetAfterTheResponseClosesTheClient) {
  start({Mode::ResetOnData}, "{hostname: h:1}");
  TestClient& client = connectClient();
  client.write("trigger", false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client.ended(); }));
  EXPECT_EQ(client.received(), "");
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return closed_.size() == 1; }));
  EXPECT_EQ(stream_info::responseFlagsToString(closed_[0].response_flags), "UC");
  EXPECT_EQ(counter("cluster.backend.upstream_rq_rx_reset"), 1u);
  EXPECT_EQ(hosts()[0]->stats().rq_error.load(), 1u);
}

TEST_F(TunnelingTest, DestinationDownIsAConnectFailure) {
  RefusingPort refusing;
  startProxyWithClusters(absl::StrCat("  - name: backend\n", h2Cluster({refusing.port()})),
                         "{stat_prefix: t, cluster: backend, tunneling_config: {hostname: h:1}}");
  TestClient& client = connectClient();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client.ended(); }));
  EXPECT_EQ(counter("cluster.backend.upstream_cx_connect_fail"), 1u);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return closed_.size() == 1; }));
  EXPECT_EQ(stream_info::responseFlagsToString(closed_[0].response_flags), "UF,URX");
  EXPECT_EQ(gauge("cluster.backend.upstream_rq_active"), 0u);
  EXPECT_EQ(gauge("cluster.backend.upstream_rq_pending_active"), 0u);
}

TEST_F(TunnelingTest, ClientResetResetsTheStream) {
  start({}, "{hostname: h:1}");
  TestClient& client = connectClient();
  client.write("ping", false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client.received() == "ping"; }));
  client.reset();
  ASSERT_TRUE(
      runUntil(dispatcher_, [&] { return server_->streams().size() == 1 && stream(0).reset; }));
  EXPECT_EQ(counter("cluster.backend.upstream_rq_tx_reset"), 1u);
  ASSERT_TRUE(
      runUntil(dispatcher_, [&] { return gauge("cluster.backend.upstream_rq_active") == 0; }));
  // Tunnels are never kept to flush.
  EXPECT_EQ(counter("tcp.t.upstream_flush_total"), 0u);
}

TEST_F(TunnelingTest, ManyTunnelsShareFewConnections) {
  // 150 tunnels at once, at most 50 streams per connection (the cluster's
  // max_concurrent_streams): the pool needs exactly three connections.
  start({}, "{hostname: h:1}", "", "", "{max_concurrent_streams: 50}");
  constexpr int kTunnels = 150;
  for (int i = 0; i < kTunnels; ++i) {
    connectClient().write(absl::StrCat("tunnel ", i, ";"), false);
  }
  ASSERT_TRUE(runUntil(dispatcher_, [&] {
    for (int i = 0; i < kTunnels; ++i) {
      if (clients_[i]->received().size() < absl::StrCat("tunnel ", i, ";").size() &&
          !clients_[i]->ended()) {
        return false;
      }
    }
    return true;
  }));
  for (int i = 0; i < kTunnels; ++i) {
    EXPECT_EQ(clients_[i]->received(), absl::StrCat("tunnel ", i, ";")) << i;
  }
  EXPECT_EQ(server_->streams().size(), static_cast<size_t>(kTunnels));
  EXPECT_EQ(server_->connections(), 3u);
  EXPECT_EQ(counter("cluster.backend.upstream_cx_total"), 3u);
  EXPECT_LE(server_->maxConcurrentStreamsSeen(), 50u);
  EXPECT_EQ(gauge("cluster.backend.upstream_rq_active"), static_cast<uint64_t>(kTunnels));
  // All end cleanly; the connections stay pooled.
  for (auto& client : clients_) {
    client->write("", true);
  }
  ASSERT_TRUE(runUntil(dispatcher_, [&] {
    return listener_->numConnections() == 0 && gauge("cluster.backend.upstream_rq_active") == 0;
  }));
  EXPECT_EQ(hosts()[0]->stats().rq_success.load(), static_cast<uint64_t>(kTunnels));
  EXPECT_EQ(gauge("cluster.backend.upstream_cx_active"), 3u);
}

TEST_F(TunnelingTest, PeerStreamLimitBelowTheClustersOpensMoreConnections) {
  // The server allows 10 streams per connection; the cluster would put 1024 on one. The pool
  // must follow the peer's SETTINGS_MAX_CONCURRENT_STREAMS, or tunnels beyond 10 would wait.
  H2ConnectServer::Options options;
  options.max_concurrent_streams = 10;
  start(options, "{hostname: h:1}");
  constexpr int kTunnels = 30;
  for (int i = 0; i < kTunnels; ++i) {
    connectClient().write(absl::StrCat("t", i, ";"), false);
  }
  ASSERT_TRUE(runUntil(
      dispatcher_,
      [&] {
        for (int i = 0; i < kTunnels; ++i) {
          if (clients_[i]->received() != absl::StrCat("t", i, ";")) {
            return false;
          }
        }
        return true;
      },
      milliseconds(10000)))
      << "connections: " << server_->connections();
  EXPECT_LE(server_->maxConcurrentStreamsSeen(), 10u);
  EXPECT_GE(server_->connections(), 3u);
}

TEST_F(TunnelingTest, SlowServerPausesTheClientAndMemoryStaysBounded) {
  // Small buffers and a 64 KiB stream window: a server that stops reading must stop the proxy
  // from reading the client, long before the 8 MiB are through.
  start({}, "{hostname: h:1}", "",
        absl::StrCat("    per_connection_buffer_limit_bytes: ", kSmallBufferLimit, "\n"), "{}",
        kSmallBufferLimit);
  const std::string payload = pattern(8 * 1024 * 1024);
  TestClient& client = connectClient(kSmallBufferLimit);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return server_->streams().size() == 1; }));
  server_->pauseReading(true);
  client.write(payload, false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] {
    return counter("tcp.t.downstream_flow_control_paused_reading_total") > 0;
  }));
  // Give a runaway reader every chance to show itself.
  runFor(dispatcher_, milliseconds(200));
  // Held by the proxy at most: the listener's read buffer, the stream's send buffer, the
  // connection's write buffer and the 64 KiB the server's window let through.
  EXPECT_LT(counter("tcp.t.downstream_cx_rx_bytes_total"), 512u * 1024);
  server_->pauseReading(false);
  ASSERT_TRUE(runUntil(
      dispatcher_, [&] { return client.received().size() >= payload.size() || client.ended(); },
      milliseconds(60000)))
      << "received " << client.received().size() << " of " << payload.size();
  EXPECT_TRUE(client.received() == payload) << "the echoed bytes differ";
  EXPECT_EQ(stream(0).received.size(), payload.size());
  EXPECT_GT(counter("tcp.t.downstream_flow_control_resumed_reading_total"), 0u);
}

TEST_F(TunnelingTest, SlowClientSurvivesALargeEcho) {
  start({}, "{hostname: h:1}", "",
        absl::StrCat("    per_connection_buffer_limit_bytes: ", kSmallBufferLimit, "\n"), "{}",
        kSmallBufferLimit);
  const std::string payload = pattern(4 * 1024 * 1024);
  TestClient& client = connectClient(kSmallBufferLimit);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client.connected(); }));
  // The client does not read while it sends: the echo backs up into the tunnel's receive
  // window, the proxy pauses the stream, and everything still arrives intact.
  client.connection().readDisable(true);
  client.write(payload, false);
  ASSERT_TRUE(runUntil(
      dispatcher_, [&] { return server_->streams().size() == 1 && !stream(0).received.empty(); }));
  client.connection().readDisable(false);
  ASSERT_TRUE(runUntil(
      dispatcher_, [&] { return client.received().size() >= payload.size() || client.ended(); },
      milliseconds(60000)))
      << "received " << client.received().size() << " of " << payload.size();
  EXPECT_TRUE(client.received() == payload) << "the echoed bytes differ";
}

TEST_F(TunnelingTest, PropagatesResponseHeadersToFilterState) {
  recorded_keys_ = {std::string(kPropagateResponseHeadersKey)};
  H2ConnectServer::Options options;
  options.response_headers = {{"baggage", "k8s.cluster.name=c1"}};
  start(options, "{hostname: h:1, propagate_response_headers: true}");
  TestClient& client = connectClient();
  client.write("x", true);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return closed_.size() == 1; }));
  EXPECT_TRUE(absl::StrContains(closed_[0].filter_state[0], "baggage: k8s.cluster.name=c1"))
      << closed_[0].filter_state[0];
  EXPECT_TRUE(absl::StrContains(closed_[0].filter_state[0], ":status: 200"));
}

TEST_F(TunnelingTest, ResponseHeadersAreNotStoredUnlessAsked) {
  recorded_keys_ = {std::string(kPropagateResponseHeadersKey)};
  start({}, "{hostname: h:1}");
  TestClient& client = connectClient();
  client.write("x", true);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return closed_.size() == 1; }));
  EXPECT_EQ(closed_[0].filter_state[0], "");
}

TEST_F(TunnelingTest, HeaderValuesReadConnectionFilterState) {
  start({}, R"({hostname: "%FILTER_STATE(dest:PLAIN)%",
               headers_to_add: [{header: {key: baggage, value: "%FILTER_STATE(io.istio.baggage:PLAIN)%"}}]})",
        "", "", "{}", 0,
        {setFilterStateFactory("dest", "10.0.0.7:8080"),
         setFilterStateFactory("io.istio.baggage", "service.name=a")});
  TestClient& client = connectClient();
  client.write("x", true);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client.endStreams() > 0 || client.closed(); }));
  ASSERT_EQ(server_->streams().size(), 1u);
  EXPECT_EQ(stream(0).headers->host(), "10.0.0.7:8080");
  EXPECT_EQ(stream(0).headers->getValue("baggage"), "service.name=a");
}

TEST_F(TunnelingTest, UpstreamConnectionLossResetsEveryTunnel) {
  start({}, "{hostname: h:1}");
  TestClient& a = connectClient();
  TestClient& b = connectClient();
  a.write("a", false);
  b.write("b", false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return a.received() == "a" && b.received() == "b"; }));
  server_->closeConnections();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return a.ended() && b.ended(); }));
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return closed_.size() == 2; }));
  EXPECT_EQ(stream_info::responseFlagsToString(closed_[0].response_flags), "UC");
  EXPECT_EQ(stream_info::responseFlagsToString(closed_[1].response_flags), "UC");
  EXPECT_EQ(gauge("cluster.backend.upstream_rq_active"), 0u);
}

TEST_F(TunnelingTest, HalfClosedTunnelIsResetWhenItsConnectionGoes) {
  // The server ended its direction; the tunnel still carries the client's. When the connection
  // under it goes away, the tunnel hears it (a reset) instead of losing its stream unannounced.
  start({Mode::ByeFirst}, "{hostname: h:1}");
  TestClient& client = connectClient();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client.endStreams() > 0 || client.closed(); }));
  EXPECT_EQ(client.received(), "bye");
  EXPECT_EQ(gauge("cluster.backend.upstream_rq_active"), 1u);
  server_->closeConnections();
  ASSERT_TRUE(runUntil(dispatcher_, [&] {
    return listener_->numConnections() == 0 && gauge("cluster.backend.upstream_rq_active") == 0;
  }));
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return closed_.size() == 1; }));
  EXPECT_EQ(stream_info::responseFlagsToString(closed_[0].response_flags), "UC");
  // Bytes the client sends now go nowhere (and touch nothing freed).
  client.write("too late", true);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return client.closed(); }));
}

TEST_F(TunnelingTest, PendingRequestsOverflowIsUo) {
  // No connection may be made and none exists: the pool refuses at once.
  start({}, "{hostname: h:1}", "", "    circuit_breakers: {thresholds: [{max_requests: 1}]}\n");
  TestClient& first = connectClient();
  first.write("first", false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return first.received() == "first"; }));
  TestClient& second = connectClient();
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return second.ended(); }));
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return closed_.size() == 1; }));
  EXPECT_EQ(stream_info::responseFlagsToString(closed_[0].response_flags), "UO");
  EXPECT_EQ(counter("cluster.backend.upstream_rq_pending_overflow"), 1u);
  EXPECT_EQ(server_->streams().size(), 1u);
}

}  // namespace
}  // namespace waystone::extensions::network_filters::tcp_proxy::test
