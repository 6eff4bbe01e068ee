// Listener filters and filter chain selection through the real binary: tls_inspector with
// classic filter_chain_match (SNI, transport protocol, per-chain TLS certificates),
// http_inspector with the unified filter_chain_matcher on ApplicationProtocolInput (istiod's
// 'h2c' / 'http/1.1' keys), filter_disabled, listener_filters_timeout with and without
// continue_on_listener_filters_timeout, and the config errors of --mode validate. Clients are
// curl, nghttp, an OpenSSL client written here (to see the certificate served) and raw sockets.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "source/common/common/c_ptr.h"
#include "test/integration/http/external_tool.h"
#include "test/integration/integration_util.h"
#include "test/test_common/child_process.h"
#include "test/test_common/file_util.h"
#include "test/test_common/http_client.h"
#include "test/test_common/network_utility.h"
#include "test/test_common/runfiles.h"
#include "test/test_common/temp_dir.h"
#include "test/test_common/test_certificate_authority.h"
#include "test/test_common/test_tcp_echo_server.h"
#include "test/test_common/wait_for.h"
#include "test/test_common/waystone_process.h"

namespace waystone::test {
namespace {

using ::testing::HasSubstr;

constexpr auto kTimeout = std::chrono::seconds(10);
constexpr auto kToolTimeout = std::chrono::seconds(30);

// ---- YAML pieces. Filter chain fields sit at 6 spaces, as do the items of their `filters`.

// An http_connection_manager answering every request with 200 and `body`.
std::string directResponseFilter(absl::string_view stat_prefix, absl::string_view body,
                                 absl::string_view codec_type = "AUTO") {
  return absl::StrCat(R"(      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: )",
                      stat_prefix, "\n          codec_type: ", codec_type, R"(
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                direct_response: { status: 200, body: { inline_string: ")",
                      body, R"(" } }
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
)");
}

std::string tcpProxyFilter(absl::string_view stat_prefix, absl::string_view cluster) {
  return absl::StrCat(R"(      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: )",
                      stat_prefix, "\n          cluster: ", cluster, "\n");
}

std::string tlsTransportSocket(const IssuedCertificate::Files& files) {
  return absl::StrCat(R"(      transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          common_tls_context:
            tls_certificates:
            - certificate_chain: { filename: ")",
                      files.cert_chain_path, R"(" }
              private_key: { filename: ")",
                      files.key_path, "\" }\n");
}

constexpr absl::string_view kTlsInspector = R"(    - name: envoy.filters.listener.tls_inspector
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector
)";

constexpr absl::string_view kHttpInspector = R"(    - name: envoy.filters.listener.http_inspector
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector
)";

std::string echoCluster(uint16_t port) {
  return absl::StrCat(R"(  - name: echo
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: echo
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: )",
                      port, " }\n");
}

// The start of a listener item: name, stat_prefix (= name) and address.
std::string listenerHead(absl::string_view name, uint16_t port = 0) {
  return absl::StrCat(
      "  - name: ", name, "\n    stat_prefix: ", name,
      "\n    address:\n      socket_address: { address: 127.0.0.1, port_value: ", port, " }\n");
}

std::string bootstrapYaml(absl::string_view listeners, absl::string_view clusters = "") {
  return absl::StrCat(R"(node: { id: listener-test, cluster: integration }
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: 0 }
static_resources:
  listeners:
)",
                      listeners, clusters.empty() ? "" : "  clusters:\n", clusters);
}

// istiod's shape for a plaintext port: http_inspector's verdict picks the chain by name through
// an exact map on ApplicationProtocolInput; anything else (on_no_match) is TCP to the echo
// server. Chain and stat names end in `suffix`, so that two such listeners count apart.
std::string protocolMatchingListener(absl::string_view name, uint16_t port,
                                     absl::string_view filter_disabled_yaml,
                                     absl::string_view suffix) {
  return absl::StrCat(listenerHead(name, port), "    listener_filters:\n", kHttpInspector,
                      filter_disabled_yaml, R"(    filter_chain_matcher:
      matcher_tree:
        input:
          name: application-protocol
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.ApplicationProtocolInput
        exact_match_map:
          map:
            "'h2c'":
              action:
                name: h2c
                typed_config:
                  "@type": type.googleapis.com/google.protobuf.StringValue
                  value: h2c
            "'http/1.1'":
              action:
                name: http1
                typed_config:
                  "@type": type.googleapis.com/google.protobuf.StringValue
                  value: http1
      on_no_match:
        action:
          name: tcp
          typed_config:
            "@type": type.googleapis.com/google.protobuf.StringValue
            value: tcp
    filter_chains:
    - name: h2c
      filters:
)",
                      // The codecs are forced: a request on the wrong chain would fail.
                      directResponseFilter(absl::StrCat("h2c", suffix), "h2c-chain", "HTTP2"),
                      "    - name: http1\n      filters:\n",
                      directResponseFilter(absl::StrCat("http1", suffix), "http1-chain", "HTTP1"),
                      "    - name: tcp\n      filters:\n",
                      tcpProxyFilter(absl::StrCat("echo", suffix), "echo"));
}

// ---- Clients.

using SslCtxPtr = CPtr<SSL_CTX, SSL_CTX_free>;
using SslPtr = CPtr<SSL, SSL_free>;
using BioPtr = CPtr<BIO, BIO_free_all>;

// One TLS handshake with an OpenSSL client that sends `sni` and verifies the server against
// `ca_pem` and the name `sni`.
struct TlsAttempt {
  bool handshake_ok = false;
  std::string error;  // when the handshake failed
  X509Ptr peer_certificate;
};

TlsAttempt tlsHandshake(uint16_t port, const std::string& sni, const std::string& ca_pem) {
  TlsAttempt attempt;
  auto fd = connectTcp("127.0.0.1", port, kTimeout);
  if (!fd.ok()) {
    attempt.error = std::string(fd.status().message());
    return attempt;
  }
  // The socket is blocking: bound every read and write so that a stuck server fails the test.
  const timeval limit{static_cast<time_t>(kTimeout.count()), 0};
  ::setsockopt(fd->get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
  ::setsockopt(fd->get(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));

  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  BioPtr bio(BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size())));
  X509Ptr ca(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (ctx == nullptr || ca == nullptr ||
      X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()), ca.get()) != 1) {
    attempt.error = "cannot set up the client context";
    return attempt;
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  SslPtr ssl(SSL_new(ctx.get()));
  if (ssl == nullptr || SSL_set_fd(ssl.get(), fd->get()) != 1 ||
      SSL_set_tlsext_host_name(ssl.get(), sni.c_str()) != 1 ||
      SSL_set1_host(ssl.get(), sni.c_str()) != 1) {
    attempt.error = "cannot set up the client connection";
    return attempt;
  }
  ERR_clear_error();
  const int rc = SSL_connect(ssl.get());
  if (rc != 1) {
    char reason[256] = "";
    ERR_error_string_n(ERR_get_error(), reason, sizeof(reason));
    attempt.error = absl::StrCat("SSL_connect: ", rc, " (SSL_get_error ",
                                 SSL_get_error(ssl.get(), rc), "): ", reason);
    return attempt;
  }
  attempt.handshake_ok = true;
  attempt.peer_certificate.reset(SSL_get1_peer_certificate(ssl.get()));
  return attempt;
}

// Reads until `size` bytes came or the peer closed; what came.
std::string receiveBytes(int fd, size_t size) {
  std::string received;
  while (received.size() < size) {
    auto chunk = receiveSome(fd, kTimeout, size - received.size());
    if (!chunk.ok() || chunk->empty()) {
      break;
    }
    received += *chunk;
  }
  return received;
}

ToolResult runOrFail(std::vector<std::string> argv) {
  auto result = runTool(std::move(argv), kToolTimeout);
  if (!result.ok()) {
    ADD_FAILURE() << result.status();
    return ToolResult{-1, "", ""};
  }
  return *result;
}

class ListenerFilterChainTest : public ::testing::Test {
 protected:
  void start(const std::string& yaml, absl::string_view listener) {
    auto process = WaystoneProcess::start({yaml});
    ASSERT_TRUE(process.ok()) << process.status();
    waystone_ = std::move(*process);
    ASSERT_TRUE(waystone_->waitReady(std::chrono::seconds(20))) << waystone_->logs();
    auto port = listenerPort(*waystone_, listener);
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
  }

  void startEcho() {
    auto echo = TestTcpEchoServer::start();
    ASSERT_TRUE(echo.ok()) << echo.status();
    echo_ = std::move(*echo);
  }

  std::optional<uint64_t> stat(absl::string_view name) { return statValue(*waystone_, name); }
  bool waitForStat(absl::string_view name, uint64_t value) {
    return waitFor([&] { return stat(name) == value; }, kTimeout);
  }

  TempDir dir_;
  std::unique_ptr<TestTcpEchoServer> echo_;
  std::unique_ptr<WaystoneProcess> waystone_;
  uint16_t port_ = 0;
};

// 1. tls_inspector + filter_chain_match: server_names picks the TLS chain and with it the
// certificate; transport_protocol raw_buffer takes plaintext; an unknown SNI is closed.
TEST_F(ListenerFilterChainTest, TlsInspectorSelectsChainAndCertificateBySni) {
  auto ca = TestCertificateAuthority::create();
  ASSERT_TRUE(ca.ok()) << ca.status();
  auto issue = [&](const std::string& host) {
    LeafOptions options;
    options.spiffe_uri_sans = {};
    options.dns_sans = {host};
    options.common_name = host;
    return ca->issueLeaf(options);
  };
  auto cert_a = issue("a.example.com");
  auto cert_b = issue("b.example.com");
  ASSERT_TRUE(cert_a.ok()) << cert_a.status();
  ASSERT_TRUE(cert_b.ok()) << cert_b.status();
  auto files_a = cert_a->writeFiles(dir_.path(), "a");
  auto files_b = cert_b->writeFiles(dir_.path(), "b");
  ASSERT_TRUE(files_a.ok()) << files_a.status();
  ASSERT_TRUE(files_b.ok()) << files_b.status();

  const std::string listener = absl::StrCat(
      listenerHead("sni"), "    listener_filters:\n", kTlsInspector, "    filter_chains:\n",
      "    - name: a\n      filter_chain_match: { server_names: [a.example.com] }\n",
      tlsTransportSocket(*files_a), "      filters:\n", directResponseFilter("a", "chain-a"),
      "    - name: b\n      filter_chain_match: { server_names: [b.example.com] }\n",
      tlsTransportSocket(*files_b), "      filters:\n", directResponseFilter("b", "chain-b"),
      "    - name: plain\n      filter_chain_match: { transport_protocol: raw_buffer }\n",
      "      filters:\n", directResponseFilter("plain", "plain"));
  start(bootstrapYaml(listener), "sni");

  struct Case {
    std::string host;
    std::string body;
    const IssuedCertificate* served;
    const IssuedCertificate* other;
  };
  for (const Case& c : {Case{"a.example.com", "chain-a", &*cert_a, &*cert_b},
                        Case{"b.example.com", "chain-b", &*cert_b, &*cert_a}}) {
    SCOPED_TRACE(c.host);
    // curl verifies the served certificate against the CA and the name it asked for.
    ToolResult curl =
        runOrFail({"curl", "-sS", "-v", "--max-time", "10", "--resolve",
                   absl::StrCat(c.host, ":", port_, ":127.0.0.1"), "--cacert",
                   files_a->ca_bundle_path, absl::StrCat("https://", c.host, ":", port_, "/")});
    EXPECT_EQ(curl.exit_status, 0) << curl.describe() << waystone_->logs();
    EXPECT_EQ(curl.out, c.body) << curl.describe();
    EXPECT_THAT(curl.err, HasSubstr(absl::StrCat("subjectAltName: host \"", c.host,
                                                 "\" matched cert's \"", c.host, "\"")));

    // The very certificate configured on that chain, not just one valid for the name.
    TlsAttempt tls = tlsHandshake(port_, c.host, ca->rootPem());
    ASSERT_TRUE(tls.handshake_ok) << tls.error;
    ASSERT_NE(tls.peer_certificate, nullptr);
    auto served = parseCertificatePem(c.served->cert_pem);
    auto other = parseCertificatePem(c.other->cert_pem);
    ASSERT_TRUE(served.ok() && other.ok());
    EXPECT_EQ(X509_cmp(tls.peer_certificate.get(), served->get()), 0);
    EXPECT_NE(X509_cmp(tls.peer_certificate.get(), other->get()), 0);
  }

  ToolResult plain =
      runOrFail({"curl", "-sS", "--max-time", "10", absl::StrCat("http://127.0.0.1:", port_, "/")});
  EXPECT_EQ(plain.exit_status, 0) << plain.describe();
  EXPECT_EQ(plain.out, "plain");
  // One request each from curl; the OpenSSL client only shook hands.
  EXPECT_EQ(stat("http.a.downstream_rq_total"), 1u);
  EXPECT_EQ(stat("http.b.downstream_rq_total"), 1u);
  EXPECT_EQ(stat("http.plain.downstream_rq_total"), 1u);
  EXPECT_EQ(stat("listener.sni.no_filter_chain_match"), 0u);

  // No chain for c.example.com and no default chain: the connection is closed during the
  // handshake, and counted.
  TlsAttempt unknown = tlsHandshake(port_, "c.example.com", ca->rootPem());
  EXPECT_FALSE(unknown.handshake_ok);
  EXPECT_EQ(unknown.peer_certificate, nullptr);
  EXPECT_TRUE(waitForStat("listener.sni.no_filter_chain_match", 1));
  // Neither does a ClientHello without SNI match anything (every TLS chain names a server).
  ToolResult no_sni = runOrFail(
      {"curl", "-sS", "-k", "--max-time", "10", absl::StrCat("https://127.0.0.1:", port_, "/")});
  EXPECT_NE(no_sni.exit_status, 0) << no_sni.describe();
  EXPECT_TRUE(waitForStat("listener.sni.no_filter_chain_match", 2));
  // The refused connections never became connections: only the 5 served ones count.
  EXPECT_EQ(stat("listener.sni.downstream_cx_total"), 5u);
}

// 2. http_inspector + filter_chain_matcher on ApplicationProtocolInput, keyed as istiod does.
TEST_F(ListenerFilterChainTest, HttpInspectorAndMatcherSelectByApplicationProtocol) {
  startEcho();
  start(bootstrapYaml(protocolMatchingListener("proto", 0, "", ""), echoCluster(echo_->port())),
        "proto");
  const std::string url = absl::StrCat("http://127.0.0.1:", port_, "/");

  ToolResult h2c = runOrFail({"curl", "-sS", "--max-time", "10", "--http2-prior-knowledge", "-w",
                              "\n%{http_version}", url});
  EXPECT_EQ(h2c.exit_status, 0) << h2c.describe() << waystone_->logs();
  EXPECT_EQ(h2c.out, "h2c-chain\n2");
  ToolResult nghttp = runOrFail({"nghttp", "-t", "10", url});
  EXPECT_EQ(nghttp.exit_status, 0) << nghttp.describe();
  EXPECT_EQ(nghttp.out, "h2c-chain");

  ToolResult http1 =
      runOrFail({"curl", "-sS", "--max-time", "10", "--http1.1", "-w", "\n%{http_version}", url});
  EXPECT_EQ(http1.exit_status, 0) << http1.describe();
  EXPECT_EQ(http1.out, "http1-chain\n1.1");

  // Not HTTP: no protocol, so on_no_match, the tcp_proxy chain to the echo server.
  auto fd = connectTcp("127.0.0.1", port_, kTimeout);
  ASSERT_TRUE(fd.ok()) << fd.status();
  ASSERT_TRUE(sendAll(fd->get(), "hello\n", kTimeout).ok());
  EXPECT_EQ(receiveBytes(fd->get(), 6), "hello\n");
  EXPECT_EQ(echo_->connectionCount(), 1u);

  EXPECT_EQ(stat("http.h2c.downstream_rq_total"), 2u);
  EXPECT_EQ(stat("http.http1.downstream_rq_total"), 1u);
  EXPECT_EQ(stat("tcp.echo.downstream_cx_total"), 1u);
  EXPECT_EQ(stat("listener.proto.no_filter_chain_match"), 0u);
}

// 3. filter_disabled: http_inspector is skipped on the listener's own port, so the application
// protocol stays empty and even HTTP takes on_no_match. A second listener with the very same
// predicate, on another port, still inspects: the predicate looks at the destination port.
TEST_F(ListenerFilterChainTest, FilterDisabledForTheListenersPortLeavesProtocolEmpty) {
  startEcho();
  // The predicate must name the port before Waystone binds it, so pick a free one (racy by
  // nature: try again if something else took it meanwhile).
  uint16_t fixed_port = 0;
  for (int attempt = 0; attempt < 3 && waystone_ == nullptr; ++attempt) {
    fixed_port = findFreeTcpPort();
    ASSERT_NE(fixed_port, 0);
    const std::string disabled = absl::StrCat(
        "      filter_disabled:\n        destination_port_range: { start: ", fixed_port,
        ", end: ", fixed_port + 1, " }\n");
    const std::string yaml = bootstrapYaml(
        absl::StrCat(protocolMatchingListener("disabled", fixed_port, disabled, "_disabled"),
                     protocolMatchingListener("enabled", 0, disabled, "_enabled")),
        echoCluster(echo_->port()));
    auto process = WaystoneProcess::start({yaml});
    if (process.ok()) {
      waystone_ = std::move(*process);
    } else {
      ASSERT_THAT(std::string(process.status().message()), HasSubstr("in use"));
    }
  }
  ASSERT_NE(waystone_, nullptr);
  ASSERT_TRUE(waystone_->waitReady(std::chrono::seconds(20))) << waystone_->logs();
  auto enabled_port = listenerPort(*waystone_, "enabled");
  ASSERT_TRUE(enabled_port.ok()) << enabled_port.status();
  ASSERT_NE(*enabled_port, fixed_port);

  // HTTP/1.1 and the HTTP/2 preface both reach the echo server unanswered by HTTP.
  for (const std::string request :
       {"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"}) {
    auto fd = connectTcp("127.0.0.1", fixed_port, kTimeout);
    ASSERT_TRUE(fd.ok()) << fd.status();
    ASSERT_TRUE(sendAll(fd->get(), request, kTimeout).ok());
    EXPECT_EQ(receiveBytes(fd->get(), request.size()), request);
  }
  EXPECT_EQ(echo_->connectionCount(), 2u);
  EXPECT_EQ(stat("tcp.echo_disabled.downstream_cx_total"), 2u);
  EXPECT_EQ(stat("http.http1_disabled.downstream_rq_total").value_or(0), 0u);
  EXPECT_EQ(stat("http.h2c_disabled.downstream_rq_total").value_or(0), 0u);

  HttpClient client("127.0.0.1", *enabled_port);
  auto response = client.get("/");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "http1-chain");
  EXPECT_EQ(stat("http.http1_enabled.downstream_rq_total"), 1u);
  EXPECT_EQ(stat("tcp.echo_enabled.downstream_cx_total").value_or(0), 0u);
}

// 4a. listener_filters_timeout: a client that sends nothing to a tls_inspector listener is
// closed when the timeout fires, before any filter chain.
TEST_F(ListenerFilterChainTest, ListenerFiltersTimeoutClosesASilentClient) {
  startEcho();
  const std::string listener = absl::StrCat(
      listenerHead("slow"), "    listener_filters_timeout: 0.2s\n", "    listener_filters:\n",
      kTlsInspector, "    filter_chains:\n", "    - filters:\n", tcpProxyFilter("echo", "echo"));
  start(bootstrapYaml(listener, echoCluster(echo_->port())), "slow");

  // A client that speaks at once is not affected.
  {
    auto fd = connectTcp("127.0.0.1", port_, kTimeout);
    ASSERT_TRUE(fd.ok()) << fd.status();
    ASSERT_TRUE(sendAll(fd->get(), "ping\n", kTimeout).ok());
    EXPECT_EQ(receiveBytes(fd->get(), 5), "ping\n");
  }
  EXPECT_EQ(echo_->connectionCount(), 1u);

  auto silent = connectTcp("127.0.0.1", port_, kTimeout);
  ASSERT_TRUE(silent.ok()) << silent.status();
  // The proxy closes: end of stream, well before our own deadline.
  auto received = receiveSome(silent->get(), kTimeout);
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(*received, "");
  EXPECT_TRUE(waitForStat("listener.slow.downstream_pre_cx_timeout", 1));
  EXPECT_TRUE(waitForStat("listener.slow.downstream_pre_cx_active", 0));
  EXPECT_EQ(stat("listener.slow.downstream_cx_total"), 1u);
  EXPECT_EQ(echo_->connectionCount(), 1u);
}

// 4b. continue_on_listener_filters_timeout: the silent client goes on to the default chain when
// the timeout fires, without the inspectors still to run (as in Envoy): a server-first protocol
// gets its upstream connection without the client saying anything, and what the client sends
// afterwards (HTTP, here) is no longer inspected.
TEST_F(ListenerFilterChainTest, ContinueOnListenerFiltersTimeoutTakesTheDefaultChain) {
  startEcho();
  const std::string listener = absl::StrCat(
      listenerHead("slow"), "    listener_filters_timeout: 0.2s\n",
      "    continue_on_listener_filters_timeout: true\n", "    listener_filters:\n", kTlsInspector,
      kHttpInspector, "    filter_chains:\n",
      "    - name: http\n      filter_chain_match: { application_protocols: [http/1.1] }\n",
      "      filters:\n", directResponseFilter("http", "http-chain"),
      "    default_filter_chain:\n      name: default\n      filters:\n",
      tcpProxyFilter("default", "echo"));
  start(bootstrapYaml(listener, echoCluster(echo_->port())), "slow");

  auto fd = connectTcp("127.0.0.1", port_, kTimeout);
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_TRUE(waitFor([&] { return echo_->connectionCount() == 1u; }, kTimeout))
      << waystone_->logs();
  EXPECT_TRUE(waitForStat("listener.slow.downstream_pre_cx_timeout", 1));
  EXPECT_TRUE(waitForStat("listener.slow.downstream_pre_cx_active", 0));
  EXPECT_EQ(stat("listener.slow.downstream_cx_total"), 1u);
  EXPECT_EQ(stat("tcp.default.downstream_cx_total"), 1u);

  const std::string request = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
  ASSERT_TRUE(sendAll(fd->get(), request, kTimeout).ok());
  EXPECT_EQ(receiveBytes(fd->get(), request.size()), request);
  EXPECT_EQ(stat("http.http.downstream_rq_total").value_or(0), 0u);

  // A prompt HTTP client on the same listener is inspected and gets the HTTP chain.
  HttpClient client("127.0.0.1", port_);
  auto response = client.get("/");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body, "http-chain");
}

// 5. Config errors, through --mode validate: exit 1 and a message naming the field.
class ListenerValidateTest : public ::testing::Test {
 protected:
  struct Result {
    int status = -1000;
    std::string err;
  };

  Result validate(const std::string& yaml) {
    const std::string path = dir_.file("bootstrap.yaml");
    EXPECT_TRUE(writeFile(path, yaml).ok());
    Result result;
    auto process = ChildProcess::start(
        {runfilesPath("source/exe/waystone"), "--mode", "validate", "-c", path});
    EXPECT_TRUE(process.ok()) << process.status();
    if (!process.ok()) {
      return result;
    }
    result.status = (*process)->waitForExit(std::chrono::seconds(20)).value_or(-1000);
    result.err = (*process)->stderrContents();
    return result;
  }

  TempDir dir_;
};

TEST_F(ListenerValidateTest, GoodListenerConfigIsAccepted) {
  Result r =
      validate(bootstrapYaml(protocolMatchingListener("proto", 0, "", ""), echoCluster(8080)));
  EXPECT_EQ(r.status, 0) << r.err;
}

TEST_F(ListenerValidateTest, MatcherActionNamingAMissingChain) {
  std::string listener = protocolMatchingListener("proto", 0, "", "");
  const std::string from = "value: tcp\n";
  const size_t at = listener.find(from);
  ASSERT_NE(at, std::string::npos);
  listener.replace(at, from.size(), "value: nowhere\n");
  Result r = validate(bootstrapYaml(listener, echoCluster(8080)));
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_THAT(r.err,
              HasSubstr("static_resources.listeners[0].filter_chain_matcher.on_no_match.action"
                        ".typed_config: no filter chain named 'nowhere' in filter_chains"));
}

TEST_F(ListenerValidateTest, UnknownListenerFilterType) {
  const std::string inspector_type =
      "envoy.extensions.filters.listener.http_inspector.v3.HttpInspector";
  auto withType = [&](absl::string_view type) {
    std::string listener = protocolMatchingListener("proto", 0, "", "");
    const size_t at = listener.find(inspector_type);
    EXPECT_NE(at, std::string::npos);
    listener.replace(at, inspector_type.size(), std::string(type));
    return bootstrapYaml(listener, echoCluster(8080));
  };
  // A type Waystone knows (the HTTP router filter), but not as a listener filter.
  Result r = validate(withType("envoy.extensions.filters.http.router.v3.Router"));
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("static_resources.listeners[0].listener_filters[0].typed_config: "
                               "unsupported listener filter type "
                               "\"envoy.extensions.filters.http.router.v3.Router\" "
                               "(name \"envoy.filters.listener.http_inspector\")"));
  // A listener filter Waystone does not have (Envoy's proxy_protocol): its type is unknown.
  r = validate(withType("envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol"));
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("static_resources.listeners[0].listener_filters[0].typed_config"));
  EXPECT_THAT(r.err,
              HasSubstr("envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol"));
}

}  // namespace
}  // namespace waystone::test
