// HBONE out through the real binary, in the shape of Istio's connect_originate: a TCP listener
// whose tcp_proxy tunnels every connection as an HTTP/2 CONNECT (authority formatted from
// %DOWNSTREAM_LOCAL_ADDRESS%) on pooled mutual-TLS 1.3 connections (ALPN h2, SPIFFE identities)
// to the destination's port 15008 stand-in. (The cluster is STATIC here: ORIGINAL_DST needs an
// address restored by the original_dst listener filter, which waypoint_integration_test covers
// through internal listeners.) The destination is the Go HBONE server ztunnel_dest (Go's TLS and
// HTTP/2, no code shared with Waystone), which forwards each tunnel to a TCP echo backend and
// logs what it saw: the CONNECT authority, the headers, and the SPIFFE identity we presented.

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include <sys/socket.h>

#include "test/integration/integration_util.h"
#include "test/interop/ztunnel_peers.h"
#include "test/test_common/network_utility.h"
#include "test/test_common/temp_dir.h"
#include "test/test_common/test_certificate_authority.h"
#include "test/test_common/test_tcp_echo_server.h"
#include "test/test_common/wait_for.h"
#include "test/test_common/waystone_process.h"

namespace waystone::test {
namespace {

using std::chrono::seconds;

constexpr absl::string_view kWaypointId = "spiffe://cluster.local/ns/default/sa/waypoint";
constexpr absl::string_view kDestinationId = "spiffe://cluster.local/ns/default/sa/echo";

std::string patternBytes(size_t size, uint32_t seed) {
  std::string data(size, '\0');
  uint32_t state = seed;
  for (char& c : data) {
    state = state * 1103515245u + 12345u;
    c = static_cast<char>(state >> 23);
  }
  return data;
}

// Reads until the peer's FIN (or an error / the deadline); returns what arrived.
std::string readToEnd(int fd, bool& saw_end, std::chrono::milliseconds timeout = seconds(20)) {
  std::string out;
  saw_end = false;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    absl::StatusOr<std::string> chunk = receiveSome(fd, seconds(20));
    if (!chunk.ok()) {
      return out;
    }
    if (chunk->empty()) {
      saw_end = true;
      return out;
    }
    out += *chunk;
  }
  return out;
}

// Reads exactly `size` bytes (or fewer, on an end, an error or the deadline).
std::string readExactly(int fd, size_t size) {
  std::string out;
  while (out.size() < size) {
    absl::StatusOr<std::string> chunk = receiveSome(fd, seconds(20), size - out.size());
    if (!chunk.ok() || chunk->empty()) {
      break;
    }
    out += *chunk;
  }
  return out;
}

class TcpProxyTunnelingIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TestCertificateAuthority> ca = TestCertificateAuthority::create();
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_ = std::make_unique<TestCertificateAuthority>(std::move(*ca));
    waypoint_certs_ = issue(kWaypointId, "waypoint");
    destination_certs_ = issue(kDestinationId, "destination");
    auto echo = TestTcpEchoServer::start();
    ASSERT_TRUE(echo.ok()) << echo.status();
    echo_ = std::move(*echo);
  }

  IssuedCertificate::Files issue(absl::string_view id, absl::string_view name) {
    LeafOptions leaf;
    leaf.spiffe_uri_sans = {std::string(id)};
    absl::StatusOr<IssuedCertificate> cert = ca_->issueLeaf(leaf);
    EXPECT_TRUE(cert.ok()) << cert.status();
    if (!cert.ok()) {
      return {};
    }
    absl::StatusOr<IssuedCertificate::Files> files = cert->writeFiles(dir_.path(), name);
    EXPECT_TRUE(files.ok()) << files.status();
    return files.ok() ? *files : IssuedCertificate::Files{};
  }

  // The destination ztunnel: accepts only our exact SPIFFE identity, forwards to the echo.
  void startDestination() {
    ZtunnelDestOptions options;
    options.certs = destination_certs_;
    options.expect_peer_prefix = std::string(kWaypointId);
    options.forward_to = absl::StrCat("127.0.0.1:", echo_->port());
    absl::StatusOr<std::unique_ptr<ZtunnelDest>> dest = ZtunnelDest::start(std::move(options));
    ASSERT_TRUE(dest.ok()) << dest.status();
    dest_ = std::move(*dest);
  }

  // Listener "originate" (plain TCP) -> tcp_proxy tunneling -> cluster "connect_originate"
  // (127.0.0.1:`destination_port`, the pod's 15008) with connect_originate's TLS and HTTP/2
  // options. `san_prefix`: what the destination's identity must start with.
  void startProxy(uint16_t destination_port,
                  absl::string_view san_prefix = "spiffe://cluster.local/ns/default/") {
    const std::string yaml = absl::StrCat(R"(
admin:
  address: {socket_address: {address: 127.0.0.1, port_value: 0}}
static_resources:
  listeners:
  - name: originate
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: connect_originate
          cluster: connect_originate
          tunneling_config:
            hostname: "%DOWNSTREAM_LOCAL_ADDRESS%"
            headers_to_add:
            - header: {key: x-istio-source, value: waypoint}
            - header: {key: x-client, value: "%DOWNSTREAM_REMOTE_ADDRESS%"}
  clusters:
  - name: connect_originate
    type: STATIC
    connect_timeout: 5s
    load_assignment:
      cluster_name: connect_originate
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: )",
                                          destination_port, R"(}}}
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        common_http_protocol_options: {idle_timeout: 3600s}
        explicit_http_config:
          http2_protocol_options: {allow_connect: true, max_concurrent_streams: 100}
    transport_socket:
      name: tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        common_tls_context:
          alpn_protocols: [h2]
          tls_params: {tls_minimum_protocol_version: TLSv1_3, tls_maximum_protocol_version: TLSv1_3}
          tls_certificates:
          - certificate_chain: {filename: )",
                                          waypoint_certs_.cert_chain_path, R"(}
            private_key: {filename: )",
                                          waypoint_certs_.key_path, R"(}
          validation_context:
            trusted_ca: {filename: )",
                                          waypoint_certs_.ca_bundle_path, R"(}
            match_typed_subject_alt_names:
            - san_type: URI
              matcher: {prefix: ")",
                                          san_prefix, R"("}
)");
    WaystoneOptions options;
    options.bootstrap_yaml = yaml;
    absl::StatusOr<std::unique_ptr<WaystoneProcess>> process = WaystoneProcess::start(options);
    ASSERT_TRUE(process.ok()) << process.status();
    proxy_ = std::move(*process);
    ASSERT_TRUE(proxy_->waitReady(seconds(30))) << proxy_->logs();
    absl::StatusOr<uint16_t> port = listenerPort(*proxy_, "originate");
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
  }

  absl::StatusOr<FileDescriptor> connect() { return connectTcp("127.0.0.1", port_, seconds(10)); }

  uint64_t stat(absl::string_view name) { return statValue(*proxy_, name).value_or(0); }

  std::string diagnostics() {
    return absl::StrCat(proxy_ != nullptr ? proxy_->logs() : "",
                        dest_ != nullptr ? dest_->logs() : "");
  }

  TempDir dir_;
  std::unique_ptr<TestCertificateAuthority> ca_;
  IssuedCertificate::Files waypoint_certs_;
  IssuedCertificate::Files destination_certs_;
  std::unique_ptr<TestTcpEchoServer> echo_;
  std::unique_ptr<ZtunnelDest> dest_;
  std::unique_ptr<WaystoneProcess> proxy_;
  uint16_t port_ = 0;
};

// One tunnel, 2 MiB each way, ended by the client's half-close: the bytes come back intact, and
// the destination saw CONNECT <our listener address> from the waypoint's SPIFFE identity.
TEST_F(TcpProxyTunnelingIntegrationTest, BytesRoundTripWithHalfCloseAndIdentity) {
  startDestination();
  startProxy(dest_->port());
  absl::StatusOr<FileDescriptor> client = connect();
  ASSERT_TRUE(client.ok()) << client.status();
  const std::string input = patternBytes(2 * 1024 * 1024 + 7, 1);
  // Send and read concurrently would need a thread; 2 MiB fits the buffers along the way
  // (kernel, proxy, stream windows), so sending everything first is safe.
  ASSERT_TRUE(sendAll(client->get(), input, seconds(20)).ok()) << diagnostics();
  ASSERT_EQ(::shutdown(client->get(), SHUT_WR), 0);
  bool saw_end = false;
  const std::string output = readToEnd(client->get(), saw_end);
  ASSERT_EQ(output.size(), input.size()) << diagnostics();
  EXPECT_TRUE(output == input) << "echoed bytes differ";
  EXPECT_TRUE(saw_end) << "the echo's FIN did not come back as ours";

  absl::StatusOr<std::vector<DestTunnelRecord>> records = dest_->waitForRecords(1);
  ASSERT_TRUE(records.ok()) << records.status() << diagnostics();
  ASSERT_EQ(records->size(), 1u);
  const DestTunnelRecord& record = (*records)[0];
  EXPECT_EQ(record.method, "CONNECT");
  EXPECT_EQ(record.status, 200);
  // %DOWNSTREAM_LOCAL_ADDRESS%: the address the client connected to.
  EXPECT_EQ(record.authority, absl::StrCat("127.0.0.1:", port_));
  EXPECT_EQ(record.peer_uri_san, kWaypointId);
  EXPECT_EQ(record.headers.count("x-istio-source"), 1u);
  EXPECT_EQ(record.headers.at("x-istio-source"), "waypoint");
  EXPECT_EQ(record.headers.count("x-client"), 1u);
  EXPECT_EQ(record.bytes_up, static_cast<int64_t>(input.size()));
  EXPECT_EQ(record.bytes_down, static_cast<int64_t>(input.size()));
  EXPECT_TRUE(record.error.empty()) << record.error;

  EXPECT_EQ(stat("tcp.connect_originate.downstream_cx_total"), 1u);
  EXPECT_EQ(stat("tcp.connect_originate.downstream_cx_rx_bytes_total"), input.size());
  EXPECT_EQ(stat("tcp.connect_originate.downstream_cx_tx_bytes_total"), input.size());
  EXPECT_EQ(stat("cluster.connect_originate.upstream_cx_total"), 1u);
  EXPECT_EQ(stat("cluster.connect_originate.upstream_rq_2xx"), 1u);
  EXPECT_TRUE(waitFor([&] { return stat("cluster.connect_originate.upstream_rq_active") == 0; },
                      seconds(10)));
}

// 120 tunnels open at once (each has echoed its first message before any is ended) share a few
// pooled HTTP/2 connections. Pools are per worker and a connection carries at most 100
// streams (the cluster's max_concurrent_streams), so 2 workers need at most 2 each.
TEST_F(TcpProxyTunnelingIntegrationTest, ManyConcurrentTunnelsShareFewConnections) {
  startDestination();
  startProxy(dest_->port());
  constexpr int kTunnels = 120;
  std::vector<FileDescriptor> clients;
  for (int i = 0; i < kTunnels; ++i) {
    absl::StatusOr<FileDescriptor> client = connect();
    ASSERT_TRUE(client.ok()) << client.status();
    ASSERT_TRUE(sendAll(client->get(), absl::StrCat("hello ", i, "\n"), seconds(10)).ok());
    clients.push_back(std::move(*client));
  }
  for (int i = 0; i < kTunnels; ++i) {
    const std::string expected = absl::StrCat("hello ", i, "\n");
    ASSERT_EQ(readExactly(clients[i].get(), expected.size()), expected)
        << "tunnel " << i << diagnostics();
  }
  // All 120 are open now.
  EXPECT_EQ(stat("cluster.connect_originate.upstream_rq_active"), static_cast<uint64_t>(kTunnels));
  const uint64_t connections = stat("cluster.connect_originate.upstream_cx_total");
  EXPECT_GE(connections, 1u);
  EXPECT_LE(connections, 4u);
  for (auto& client : clients) {
    ASSERT_EQ(::shutdown(client.get(), SHUT_WR), 0);
  }
  for (int i = 0; i < kTunnels; ++i) {
    bool saw_end = false;
    EXPECT_EQ(readToEnd(clients[i].get(), saw_end), "") << i;
    EXPECT_TRUE(saw_end) << i;
  }
  absl::StatusOr<std::vector<DestTunnelRecord>> records = dest_->waitForRecords(kTunnels);
  ASSERT_TRUE(records.ok()) << records.status() << diagnostics();
  std::set<uint64_t> conn_ids;
  for (const auto& record : *records) {
    conn_ids.insert(record.conn_id);
    EXPECT_EQ(record.peer_uri_san, kWaypointId);
  }
  // The destination counted the same connections we did.
  EXPECT_EQ(conn_ids.size(), connections);
  EXPECT_TRUE(waitFor([&] { return stat("cluster.connect_originate.upstream_rq_active") == 0; },
                      seconds(10)));
}

// Nothing listens at the destination: the client's connection is closed and the failure is
// counted (a failed connect, no tunnel).
TEST_F(TcpProxyTunnelingIntegrationTest, DestinationDownClosesTheClient) {
  const uint16_t closed_port = findFreeTcpPort();
  ASSERT_NE(closed_port, 0);
  startProxy(closed_port);
  absl::StatusOr<FileDescriptor> client = connect();
  ASSERT_TRUE(client.ok()) << client.status();
  // (Nothing sent: bytes the proxy never read would turn its close into a reset.)
  bool saw_end = false;
  EXPECT_EQ(readToEnd(client->get(), saw_end), "");
  EXPECT_TRUE(saw_end);
  EXPECT_TRUE(waitFor(
      [&] { return stat("cluster.connect_originate.upstream_cx_connect_fail") == 1; }, seconds(10)))
      << diagnostics();
  EXPECT_EQ(stat("cluster.connect_originate.upstream_rq_2xx"), 0u);
  EXPECT_EQ(stat("tcp.connect_originate.downstream_cx_total"), 1u);
}

// A destination whose identity the cluster does not accept: the TLS handshake fails on our side
// (SAN check), so no tunnel is made and the client is closed.
TEST_F(TcpProxyTunnelingIntegrationTest, WrongDestinationIdentityIsRefused) {
  startDestination();
  startProxy(dest_->port(), "spiffe://cluster.local/ns/other/");
  absl::StatusOr<FileDescriptor> client = connect();
  ASSERT_TRUE(client.ok()) << client.status();
  bool saw_end = false;
  EXPECT_EQ(readToEnd(client->get(), saw_end), "");
  EXPECT_TRUE(saw_end);
  EXPECT_TRUE(waitFor(
      [&] { return stat("cluster.connect_originate.upstream_cx_connect_fail") >= 1; }, seconds(10)))
      << diagnostics();
  absl::StatusOr<std::vector<DestTunnelRecord>> records = dest_->records();
  ASSERT_TRUE(records.ok()) << records.status();
  EXPECT_TRUE(records->empty());
}

}  // namespace
}  // namespace waystone::test
