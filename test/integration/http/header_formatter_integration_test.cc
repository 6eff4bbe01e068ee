// Route header mutations and the header_mutation filter through the real binary, their values
// evaluated by the substitution formatter against the request's StreamInfo: a filter state
// entry set by the HTTP set_filter_state filter reaches the backend through a route's
// request_headers_to_add, and over mutual TLS the peer's SPIFFE identity becomes istiod's opt-in
// x-forwarded-client-cert value (header_mutation) and a %DOWNSTREAM_PEER_URI_SAN% route header.

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "test/integration/http/bootstrap_builder.h"
#include "test/integration/http/external_tool.h"
#include "test/integration/http/http_proxy.h"
#include "test/integration/integration_util.h"
#include "test/test_common/temp_dir.h"
#include "test/test_common/test_certificate_authority.h"
#include "test/test_common/test_http_server.h"
#include "test/test_common/waystone_process.h"

namespace waystone::test {
namespace {

constexpr absl::string_view kWaypointId = "spiffe://cluster.local/ns/default/sa/waypoint";
constexpr absl::string_view kClientId = "spiffe://cluster.local/ns/foo/sa/sleep";

class HeaderFormatterIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto backend = TestHttpServer::start();
    ASSERT_TRUE(backend.ok()) << backend.status();
    backend_ = std::move(*backend);
  }

  std::unique_ptr<TestHttpServer> backend_;
};

// set_filter_state stores a request header's value; the route, the virtual host and the route
// configuration read it back with %FILTER_STATE(k:PLAIN)% on the way up and down.
TEST_F(HeaderFormatterIntegrationTest, FilterStateInRouteHeaders) {
  BootstrapBuilder bootstrap;
  bootstrap.addCluster("backend", {backend_->port()});
  bootstrap.addHttpFilter(R"(
    - name: envoy.filters.http.set_filter_state
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.filters.http.set_filter_state.v3.Config
        on_request_headers:
        - object_key: io.istio.peer_principal
          factory_key: envoy.string
          format_string:
            text_format_source: {inline_string: "principal-of-%REQ(x-client-id)%"}
  )");
  bootstrap.setRouteConfig(R"(
    request_headers_to_add:
    - header: {key: x-config-level, value: "%FILTER_STATE(io.istio.peer_principal:PLAIN):12%"}
    virtual_hosts:
    - name: all
      domains: ["*"]
      request_headers_to_add:
      - header: {key: x-client-ip, value: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"}
      routes:
      - match: {prefix: /}
        route: {cluster: backend}
        request_headers_to_add:
        - header: {key: x-peer-principal, value: "%FILTER_STATE(io.istio.peer_principal:PLAIN)%"}
        - header: {key: x-peer-typed, value: "%FILTER_STATE(io.istio.peer_principal)%"}
        - header: {key: x-absent, value: "%FILTER_STATE(io.istio.nothing:PLAIN)%"}
        - header: {key: x-literal, value: "100%% sure"}
          append_action: OVERWRITE_IF_EXISTS_OR_ADD
        response_headers_to_add:
        - header: {key: x-echo, value: "%FILTER_STATE(io.istio.peer_principal:PLAIN)%/%RESP(x-backend)%"}
  )");
  auto proxy = HttpProxy::start(bootstrap);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  backend_->setResponse(200, "ok", {{"X-Backend", "b1"}});

  HttpClient client = (*proxy)->client();
  auto response =
      client.request("GET", "/state", {{"X-Client-Id", "alice"}, {"X-Literal", "client"}});
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->header("x-echo"), "principal-of-alice/b1");

  std::optional<TestHttpRequest> seen = backend_->lastRequest();
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->header("x-peer-principal"), "principal-of-alice");
  EXPECT_EQ(seen->header("x-peer-typed"), "\"principal-of-alice\"");
  EXPECT_EQ(seen->header("x-config-level"), "principal-of");
  EXPECT_EQ(seen->header("x-client-ip"), "127.0.0.1");
  EXPECT_EQ(seen->header("x-literal"), "100% sure");
  // A value that formats to nothing is not added (and never as the access log's "-").
  EXPECT_EQ(findHeader(seen->headers, "x-absent"), "");
  for (const auto& [name, value] : seen->headers) {
    EXPECT_FALSE(absl::EqualsIgnoreCase(name, "x-absent")) << "empty header added";
  }
}

class MutualTlsHeaderTest : public HeaderFormatterIntegrationTest {
 protected:
  void SetUp() override {
    HeaderFormatterIntegrationTest::SetUp();
    absl::StatusOr<TestCertificateAuthority> ca = TestCertificateAuthority::create();
    ASSERT_TRUE(ca.ok()) << ca.status();
    waypoint_ = issue(*ca, kWaypointId, "waypoint");
    client_ = issue(*ca, kClientId, "client");
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

  // A mutual-TLS listener: a network set_filter_state records the client's IP on the connection;
  // the HTTP filters are istiod's: connect_authority's principals (set_filter_state), then the
  // opt-in XFCC header_mutation, then the router.
  void startProxy() {
    const std::string yaml = absl::StrCat(R"(
admin:
  address: {socket_address: {address: 127.0.0.1, port_value: 0}}
static_resources:
  listeners:
  - name: mtls
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - name: default
      transport_socket:
        name: tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          require_client_certificate: true
          common_tls_context:
            tls_certificates:
            - certificate_chain: {filename: )",
                                          waypoint_.cert_chain_path, R"(}
              private_key: {filename: )",
                                          waypoint_.key_path, R"(}
            validation_context:
              trusted_ca: {filename: )",
                                          waypoint_.ca_bundle_path, R"(}
      filters:
      - name: connection_state
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.set_filter_state.v3.Config
          on_new_connection:
          - object_key: test.connection_client_ip
            factory_key: envoy.string
            format_string: {text_format_source: {inline_string: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"}}
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: mtls
          route_config:
            name: default
            virtual_hosts:
            - name: default
              domains: ["*"]
              routes:
              - match: {prefix: /}
                route: {cluster: backend}
                request_headers_to_add:
                - header: {key: x-peer-san, value: "%DOWNSTREAM_PEER_URI_SAN%"}
                - header: {key: x-connection-ip, value: "%FILTER_STATE(test.connection_client_ip:PLAIN)%"}
          http_filters:
          - name: connect_authority
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.set_filter_state.v3.Config
              on_request_headers:
              - object_key: io.istio.peer_principal
                factory_key: istio.hashable_string
                format_string: {text_format_source: {inline_string: "%DOWNSTREAM_PEER_URI_SAN%"}}
                shared_with_upstream: ONCE
              - object_key: io.istio.local_principal
                factory_key: istio.hashable_string
                format_string: {text_format_source: {inline_string: "%DOWNSTREAM_LOCAL_URI_SAN%"}}
                shared_with_upstream: ONCE
          - name: xfcc
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation
              mutations:
                request_mutations:
                - append:
                    header:
                      key: x-forwarded-client-cert
                      value: "By=%FILTER_STATE(io.istio.local_principal:PLAIN)%;URI=%FILTER_STATE(io.istio.peer_principal:PLAIN)%"
                    append_action: OVERWRITE_IF_EXISTS_OR_ADD
                response_mutations:
                - append:
                    header: {key: x-served-by, value: "%DOWNSTREAM_LOCAL_URI_SAN%"}
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
                                          backend_->port(), "}}}\n");
    WaystoneOptions options;
    options.bootstrap_yaml = yaml;
    absl::StatusOr<std::unique_ptr<WaystoneProcess>> process = WaystoneProcess::start(options);
    ASSERT_TRUE(process.ok()) << process.status();
    proxy_ = std::move(*process);
    ASSERT_TRUE(proxy_->waitReady(std::chrono::seconds(30))) << proxy_->logs();
    absl::StatusOr<uint16_t> port = listenerPort(*proxy_, "mtls");
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
  }

  TempDir dir_;
  IssuedCertificate::Files waypoint_;
  IssuedCertificate::Files client_;
  std::unique_ptr<WaystoneProcess> proxy_;
  uint16_t port_ = 0;
};

// curl presents the client's SPIFFE certificate (it does not check the waypoint's, which has no
// name for 127.0.0.1) and a forged x-forwarded-client-cert, which the mutation replaces.
TEST_F(MutualTlsHeaderTest, IstioXfccFromPeerPrincipal) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  absl::StatusOr<ToolResult> curl = runTool(
      {"curl", "-sS", "--insecure", "--max-time", "10", "--cert", client_.cert_chain_path, "--key",
       client_.key_path, "-H", "x-forwarded-client-cert: By=spoofed;URI=spiffe://evil", "-D", "-",
       absl::StrCat("https://127.0.0.1:", port_, "/xfcc")},
      std::chrono::seconds(20));
  ASSERT_TRUE(curl.ok()) << curl.status();
  ASSERT_EQ(curl->exit_status, 0) << curl->describe() << proxy_->logs();
  EXPECT_NE(curl->out.find(absl::StrCat("x-served-by: ", kWaypointId)), std::string::npos)
      << curl->out;

  std::optional<TestHttpRequest> seen = backend_->lastRequest();
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->header("x-forwarded-client-cert"),
            absl::StrCat("By=", kWaypointId, ";URI=", kClientId));
  int xfcc_count = 0;
  for (const auto& [name, value] : seen->headers) {
    xfcc_count += absl::EqualsIgnoreCase(name, "x-forwarded-client-cert") ? 1 : 0;
  }
  EXPECT_EQ(xfcc_count, 1);
  EXPECT_EQ(seen->header("x-peer-san"), kClientId);
  // Set on the connection by a network filter: the request's filter state falls back to it.
  EXPECT_EQ(seen->header("x-connection-ip"), "127.0.0.1");
}

}  // namespace
}  // namespace waystone::test
