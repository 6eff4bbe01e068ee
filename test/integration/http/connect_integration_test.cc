// CONNECT termination through the real binary, in the shape of Istio's connect_terminate
// listener: HTTP/2 over mutual TLS 1.3 (ALPN h2), every CONNECT routed with connect_config to a
// cluster of plain TCP backends. The client is the Go HBONE peer ztunnel_source (Go's HTTP/2 and
// TLS, no code shared with Waystone): bytes round-trip through tunnels, half-closes cross both
// ways, many tunnels share one TLS connection, and a backend that is down gives 503.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include <sys/socket.h>

#include "test/integration/integration_util.h"
#include "test/interop/ztunnel_peers.h"
#include "test/test_common/file_util.h"
#include "test/test_common/network_utility.h"
#include "test/test_common/temp_dir.h"
#include "test/test_common/test_certificate_authority.h"
#include "test/test_common/test_tcp_echo_server.h"
#include "test/test_common/threaded_tcp_server.h"
#include "test/test_common/wait_for.h"
#include "test/test_common/waystone_process.h"

namespace waystone::test {
namespace {

constexpr absl::string_view kWaypointId = "spiffe://cluster.local/ns/default/sa/waypoint";
constexpr absl::string_view kSourceId = "spiffe://cluster.local/ns/foo/sa/sleep";

std::string patternBytes(size_t size) {
  std::string data(size, '\0');
  uint32_t state = 777;
  for (char& c : data) {
    state = state * 1103515245u + 12345u;
    c = static_cast<char>(state >> 23);
  }
  return data;
}

// A backend that speaks first: sends a greeting and half-closes at once, then records what the
// client sends until the client half-closes too.
class GreetingBackend {
 public:
  static std::unique_ptr<GreetingBackend> start() {
    auto backend = std::unique_ptr<GreetingBackend>(new GreetingBackend());
    GreetingBackend* self = backend.get();
    auto server = ThreadedTcpServer::listenTcp([self](ServerConnection& connection) {
      if (!connection.write("hello from backend")) {
        return;
      }
      connection.shutdownWrite();
      std::string received;
      while (connection.read(received)) {
      }
      absl::MutexLock lock(&self->mutex_);
      self->received_.push_back(received);
    });
    EXPECT_TRUE(server.ok()) << server.status();
    if (!server.ok()) {
      return nullptr;
    }
    backend->server_ = std::move(*server);
    return backend;
  }

  uint16_t port() const { return server_->port(); }
  std::vector<std::string> received() {
    absl::MutexLock lock(&mutex_);
    return received_;
  }

 private:
  GreetingBackend() = default;

  absl::Mutex mutex_;
  std::vector<std::string> received_ ABSL_GUARDED_BY(mutex_);
  std::unique_ptr<ThreadedTcpServer> server_;  // last: threads joined first
};

class ConnectIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TestCertificateAuthority> ca = TestCertificateAuthority::create();
    ASSERT_TRUE(ca.ok()) << ca.status();
    waypoint_certs_ = issue(*ca, kWaypointId, "waypoint");
    source_certs_ = issue(*ca, kSourceId, "source");
  }

  IssuedCertificate::Files issue(const TestCertificateAuthority& ca, absl::string_view id,
                                 absl::string_view name) {
    LeafOptions leaf;
    leaf.spiffe_uri_sans = {std::string(id)};
    absl::StatusOr<IssuedCertificate> cert = ca.issueLeaf(leaf);
    EXPECT_TRUE(cert.ok()) << cert.status();
    if (!cert.ok()) {
      return {};
    }
    absl::StatusOr<IssuedCertificate::Files> files = cert->writeFiles(dir_.path(), name);
    EXPECT_TRUE(files.ok()) << files.status();
    return files.ok() ? *files : IssuedCertificate::Files{};
  }

  // connect_terminate as istiod writes it (mTLS 1.3, h2, CONNECT with connect_config), routing
  // to the STATIC cluster "backend" of 127.0.0.1:<backend_port>.
  void startProxy(uint16_t backend_port) {
    const std::string yaml = absl::StrCat(R"(
admin:
  address: {socket_address: {address: 127.0.0.1, port_value: 0}}
static_resources:
  listeners:
  - name: connect_terminate
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - name: default
      transport_socket:
        name: tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          require_client_certificate: true
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
                matcher: {prefix: "spiffe://cluster.local/"}
      filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: connect_terminate
          use_remote_address: false
          stream_idle_timeout: 0s
          upgrade_configs: [{upgrade_type: CONNECT}]
          http2_protocol_options:
            allow_connect: true
            max_concurrent_streams: 100
          route_config:
            name: default
            virtual_hosts:
            - name: default
              domains: ["*"]
              routes:
              - match: {connect_matcher: {}}
                route:
                  cluster: backend
                  upgrade_configs: [{upgrade_type: CONNECT, connect_config: {}}]
          http_filters:
          - name: connect_authority
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.set_filter_state.v3.Config
              on_request_headers:
              - object_key: io.istio.connect_authority
                factory_key: envoy.string
                format_string: {text_format_source: {inline_string: "%REQ(:AUTHORITY)%"}}
                shared_with_upstream: ONCE
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: backend
    type: STATIC
    connect_timeout: 2s
    load_assignment:
      cluster_name: backend
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: )",
                                          backend_port, "}}}\n");
    WaystoneOptions options;
    options.bootstrap_yaml = yaml;
    absl::StatusOr<std::unique_ptr<WaystoneProcess>> process = WaystoneProcess::start(options);
    ASSERT_TRUE(process.ok()) << process.status();
    proxy_ = std::move(*process);
    ASSERT_TRUE(proxy_->waitReady(std::chrono::seconds(30))) << proxy_->logs();
    absl::StatusOr<uint16_t> port = listenerPort(*proxy_, "connect_terminate");
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
  }

  ZtunnelSourceOptions source(std::string authority, std::vector<std::string> args) {
    ZtunnelSourceOptions options;
    options.certs = source_certs_;
    options.waypoint = absl::StrCat("127.0.0.1:", port_);
    options.authority = std::move(authority);
    options.args = std::move(args);
    return options;
  }

  SourceRun run(const ZtunnelSourceOptions& options) {
    absl::StatusOr<SourceRun> result = runZtunnelSource(options, std::chrono::seconds(120));
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *std::move(result) : SourceRun{.exit_status = -1000};
  }

  uint64_t stat(absl::string_view name) { return statValue(*proxy_, name).value_or(0); }

  TempDir dir_;
  IssuedCertificate::Files waypoint_certs_;
  IssuedCertificate::Files source_certs_;
  std::unique_ptr<WaystoneProcess> proxy_;
  uint16_t port_ = 0;
};

// One tunnel, 3 MiB each way: the source sends its input and half-closes; the echo backend sees
// the end, echoes the rest and closes; the source exits once the tunnel's far end has ended.
TEST_F(ConnectIntegrationTest, BytesRoundTripWithHalfClose) {
  auto echo = TestTcpEchoServer::start();
  ASSERT_TRUE(echo.ok()) << echo.status();
  startProxy((*echo)->port());
  const std::string input = patternBytes(3 * 1024 * 1024 + 17);
  ASSERT_TRUE(writeFile(dir_.file("in"), input).ok());

  const SourceRun result = run(source(
      "10.96.0.10:9000", {"--mode", "tcp", "--in", dir_.file("in"), "--out", dir_.file("out")}));
  ASSERT_EQ(result.exit_status, 0) << result.describe() << proxy_->logs();
  absl::StatusOr<std::string> output = readFile(dir_.file("out"));
  ASSERT_TRUE(output.ok()) << output.status();
  ASSERT_EQ(output->size(), input.size());
  EXPECT_TRUE(*output == input) << "echoed bytes differ";
  EXPECT_EQ((*echo)->bytesEchoed(), input.size());

  EXPECT_EQ(stat("cluster.backend.upstream_cx_total"), 1u);
  EXPECT_EQ(stat("cluster.backend.upstream_rq_2xx"), 1u);
  EXPECT_EQ(stat("cluster.backend.upstream_cx_tx_bytes_total"), input.size());
  EXPECT_EQ(stat("cluster.backend.upstream_cx_rx_bytes_total"), input.size());
  EXPECT_EQ(stat("http.connect_terminate.downstream_rq_2xx"), 1u);
  EXPECT_TRUE(waitFor([&] { return stat("cluster.backend.upstream_cx_active") == 0; },
                      std::chrono::seconds(10)));
}

// The backend speaks first and half-closes; the client reads it all, then sends and
// half-closes: the backend gets the client's bytes after its own FIN. (Through the source's
// listen mode, which maps each accepted socket to a tunnel, half-closes included.)
TEST_F(ConnectIntegrationTest, BackendHalfClosesFirst) {
  std::unique_ptr<GreetingBackend> backend = GreetingBackend::start();
  ASSERT_NE(backend, nullptr);
  startProxy(backend->port());
  absl::StatusOr<std::unique_ptr<ZtunnelSourceListener>> listener =
      ZtunnelSourceListener::start(source("10.96.0.10:25", {}));
  ASSERT_TRUE(listener.ok()) << listener.status();

  absl::StatusOr<FileDescriptor> client =
      connectTcp("127.0.0.1", (*listener)->port(), std::chrono::seconds(10));
  ASSERT_TRUE(client.ok()) << client.status();
  std::string greeting;
  while (true) {
    absl::StatusOr<std::string> chunk = receiveSome(client->get(), std::chrono::seconds(10));
    ASSERT_TRUE(chunk.ok()) << chunk.status() << " after \"" << greeting << "\"";
    if (chunk->empty()) {
      break;  // the backend's FIN, carried as END_STREAM and back to a FIN
    }
    greeting += *chunk;
  }
  EXPECT_EQ(greeting, "hello from backend");
  ASSERT_TRUE(sendAll(client->get(), "late words", std::chrono::seconds(10)).ok());
  ASSERT_EQ(::shutdown(client->get(), SHUT_WR), 0);
  ASSERT_TRUE(waitFor([&] { return !backend->received().empty(); }, std::chrono::seconds(10)))
      << (*listener)->logs() << proxy_->logs();
  EXPECT_EQ(backend->received()[0], "late words");
}

// Many tunnels over one TLS connection, concurrently: each echoes its own payload exactly.
TEST_F(ConnectIntegrationTest, ManyTunnelsOnOneConnection) {
  auto echo = TestTcpEchoServer::start();
  ASSERT_TRUE(echo.ok()) << echo.status();
  startProxy((*echo)->port());
  const SourceRun result =
      run(source("10.96.0.10:9000", {"--mode", "echo", "--requests", "40", "--concurrency", "20",
                                     "--payload-bytes", "65536", "--tunnels", "1"}));
  ASSERT_EQ(result.exit_status, 0) << result.describe() << proxy_->logs();
  absl::StatusOr<SourceSummary> summary = parseSourceSummary(result.out);
  ASSERT_TRUE(summary.ok()) << summary.status() << "\n" << result.out;
  EXPECT_EQ(summary->ok, 40) << result.out;
  EXPECT_TRUE(summary->errors.empty()) << result.out;
  EXPECT_EQ(summary->connections, 1);
  EXPECT_EQ(stat("http.connect_terminate.downstream_cx_total"), 1u);
  EXPECT_EQ(stat("cluster.backend.upstream_cx_total"), 40u);
  EXPECT_EQ((*echo)->connectionCount(), 40u);
}

// The backend is down: the CONNECT is answered 503 (the source exits "refused" with the status).
TEST_F(ConnectIntegrationTest, BackendDownIs503) {
  const uint16_t closed_port = findFreeTcpPort();
  ASSERT_NE(closed_port, 0);
  startProxy(closed_port);
  ASSERT_TRUE(writeFile(dir_.file("in"), "ping").ok());
  const SourceRun result =
      run(source("10.96.0.10:9000", {"--mode", "tcp", "--in", dir_.file("in")}));
  EXPECT_EQ(result.exit_status, kSourceExitRefused) << result.describe();
  EXPECT_TRUE(absl::StrContains(result.err, "503")) << result.describe();
  EXPECT_EQ(stat("cluster.backend.upstream_cx_connect_fail"), 1u);
  EXPECT_EQ(stat("http.connect_terminate.downstream_rq_5xx"), 1u);
  EXPECT_EQ(stat("cluster.backend.upstream_rq_retry"), 0u);
}

}  // namespace
}  // namespace waystone::test
