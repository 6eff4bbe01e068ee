// Self-test of the Go HBONE peers (ztunnel_source -> ztunnel_dest -> backend), without Waystone:
// proves the peers before tests put Waystone between them. Certificates come from
// TestCertificateAuthority; backends are the test servers of test_common and nginx.

#include "test/interop/ztunnel_peers.h"

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "re2/re2.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "test/integration/http/external_tool.h"
#include "test/integration/http/nginx_process.h"
#include "test/test_common/file_util.h"
#include "test/test_common/network_utility.h"
#include "test/test_common/temp_dir.h"
#include "test/test_common/test_certificate_authority.h"
#include "test/test_common/test_http_server.h"
#include "test/test_common/test_tcp_echo_server.h"
#include "test/test_common/wait_for.h"

namespace waystone::test {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr absl::string_view kDestId = "spiffe://cluster.local/ns/default/sa/dest";
constexpr absl::string_view kSourceId = "spiffe://cluster.local/ns/foo/sa/sleep";

class ZtunnelPeersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TestCertificateAuthority> ca = TestCertificateAuthority::create();
    ASSERT_TRUE(ca.ok()) << ca.status();
    absl::StatusOr<TestCertificateAuthority> other_ca =
        TestCertificateAuthority::create({.common_name = "Some Other Mesh CA"});
    ASSERT_TRUE(other_ca.ok()) << other_ca.status();
    dest_certs_ = issue(*ca, kDestId, "dest");
    source_certs_ = issue(*ca, kSourceId, "source");
    foreign_source_certs_ = issue(*other_ca, kSourceId, "foreign-source");
    foreign_dest_certs_ = issue(*other_ca, kDestId, "foreign-dest");
    // A destination with a certificate of the other mesh that still trusts our clients.
    foreign_dest_certs_.ca_bundle_path = dest_certs_.ca_bundle_path;
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

  std::unique_ptr<ZtunnelDest> startDest(ZtunnelDestOptions options = {}) {
    if (options.certs.cert_chain_path.empty()) {
      options.certs = dest_certs_;
    }
    absl::StatusOr<std::unique_ptr<ZtunnelDest>> dest = ZtunnelDest::start(std::move(options));
    EXPECT_TRUE(dest.ok()) << dest.status();
    return dest.ok() ? *std::move(dest) : nullptr;
  }

  ZtunnelSourceOptions sourceOptions(const ZtunnelDest& dest, std::string authority,
                                     std::vector<std::string> args) {
    ZtunnelSourceOptions options;
    options.certs = source_certs_;
    options.waypoint = dest.address();
    options.authority = std::move(authority);
    options.args = std::move(args);
    return options;
  }

  SourceRun run(const ZtunnelSourceOptions& options) {
    absl::StatusOr<SourceRun> result = runZtunnelSource(options, std::chrono::seconds(120));
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *std::move(result) : SourceRun{.exit_status = -1000};
  }

  std::vector<DestTunnelRecord> records(const ZtunnelDest& dest) {
    absl::StatusOr<std::vector<DestTunnelRecord>> records = dest.records();
    EXPECT_TRUE(records.ok()) << records.status();
    return records.ok() ? *std::move(records) : std::vector<DestTunnelRecord>{};
  }

  TempDir dir_;
  IssuedCertificate::Files dest_certs_;
  IssuedCertificate::Files source_certs_;
  IssuedCertificate::Files foreign_source_certs_;
  IssuedCertificate::Files foreign_dest_certs_;
};

// The destination logs a refused handshake after sending the alert, so the client may exit first.
::testing::AssertionResult waitForStderr(ZtunnelDest& dest, absl::string_view text) {
  if (waitFor([&] { return absl::StrContains(dest.process().stderrContents(), text); },
              std::chrono::seconds(10))) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "ztunnel_dest stderr lacks \"" << text << "\":\n"
                                       << dest.process().stderrContents();
}

std::string patternBytes(size_t size) {
  std::string data(size, '\0');
  uint32_t state = 12345;
  for (char& c : data) {
    state = state * 1103515245u + 12345u;
    c = static_cast<char>(state >> 23);
  }
  return data;
}

// --mode tcp: bytes go through the tunnel and back unchanged, the source ends when the far end
// does, and the destination has logged the tunnel (authority, identity, ztunnel's headers) by
// the time the source exits.
TEST_F(ZtunnelPeersTest, TcpModeRoundTripsBytes) {
  auto echo = TestTcpEchoServer::start();
  ASSERT_TRUE(echo.ok()) << echo.status();
  auto dest = startDest();
  ASSERT_NE(dest, nullptr);
  const std::string input = patternBytes(3 * 1024 * 1024 + 17);
  ASSERT_TRUE(writeFile(dir_.file("in"), input).ok());

  const SourceRun result =
      run(sourceOptions(*dest, (*echo)->address(),
                        {"--mode", "tcp", "--in", dir_.file("in"), "--out", dir_.file("out")}));
  ASSERT_EQ(result.exit_status, 0) << result.describe();
  absl::StatusOr<std::string> output = readFile(dir_.file("out"));
  ASSERT_TRUE(output.ok()) << output.status();
  EXPECT_EQ(output->size(), input.size());
  EXPECT_TRUE(*output == input) << "echoed bytes differ";
  EXPECT_EQ((*echo)->bytesEchoed(), input.size());

  const std::vector<DestTunnelRecord> logged = records(*dest);
  ASSERT_EQ(logged.size(), 1u);
  DestTunnelRecord record = logged[0];
  EXPECT_EQ(record.method, "CONNECT");
  EXPECT_EQ(record.status, 200);
  EXPECT_EQ(record.authority, (*echo)->address());
  EXPECT_EQ(record.backend, (*echo)->address());
  EXPECT_EQ(record.peer_uri_san, kSourceId);
  EXPECT_EQ(record.bytes_up, static_cast<int64_t>(input.size()));
  EXPECT_EQ(record.bytes_down, static_cast<int64_t>(input.size()));
  EXPECT_EQ(record.error, "");
  EXPECT_EQ(record.conn_id, 1u);
  EXPECT_THAT(record.headers["baggage"], HasSubstr("k8s.namespace.name=foo"));
  EXPECT_TRUE(RE2::FullMatch(record.headers["forwarded"], R"re(for="127\.0\.0\.1:\d+")re"))
      << record.headers["forwarded"];
  EXPECT_TRUE(RE2::FullMatch(record.headers["traceparent"], "00-[0-9a-f]{32}-[0-9a-f]{16}-01"))
      << record.headers["traceparent"];
  // Nothing Go's client would add by itself.
  EXPECT_EQ(record.headers.count("user-agent"), 0u);
  EXPECT_EQ(record.headers.count("accept-encoding"), 0u);
}

// --forward-to: the authority (a VIP that does not exist here) is logged, the backend is dialed.
TEST_F(ZtunnelPeersTest, ForwardToReplacesTheDialedAddress) {
  auto echo = TestTcpEchoServer::start();
  ASSERT_TRUE(echo.ok()) << echo.status();
  auto dest = startDest({.forward_to = (*echo)->address()});
  ASSERT_NE(dest, nullptr);
  ASSERT_TRUE(writeFile(dir_.file("in"), "ping").ok());

  const SourceRun result = run(sourceOptions(
      *dest, "10.96.0.10:80", {"--in", dir_.file("in"), "--header", "x-forwarded-network: net2"}));
  ASSERT_EQ(result.exit_status, 0) << result.describe();
  EXPECT_EQ(result.out, "ping");
  const std::vector<DestTunnelRecord> logged = records(*dest);
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0].authority, "10.96.0.10:80");
  EXPECT_EQ(logged[0].backend, (*echo)->address());
  EXPECT_EQ(logged[0].headers.at("x-forwarded-network"), "net2");
}

// --mode http1: HTTP/1.1 keep-alive inside the tunnels, one tunnel per worker.
TEST_F(ZtunnelPeersTest, Http1ModeKeepsConnectionsAliveInsideTunnels) {
  auto backend = TestHttpServer::start();
  ASSERT_TRUE(backend.ok()) << backend.status();
  auto dest = startDest();
  ASSERT_NE(dest, nullptr);

  const SourceRun result =
      run(sourceOptions(*dest, (*backend)->address(),
                        {"--mode", "http1", "--requests", "20", "--concurrency", "2", "--path",
                         "/hello", "--body-out", dir_.file("body")}));
  ASSERT_EQ(result.exit_status, 0) << result.describe();
  absl::StatusOr<SourceSummary> summary = parseSourceSummary(result.out);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->ok, 20);
  EXPECT_EQ(summary->status["200"], 20);
  EXPECT_THAT(summary->errors, IsEmpty());
  EXPECT_EQ(summary->tunnels_opened, 2);
  EXPECT_EQ(summary->max_concurrent_tunnels, 2);
  EXPECT_EQ(summary->connections, 1);
  EXPECT_EQ(readFile(dir_.file("body")).value_or(""), "hello from backend: GET /hello");

  EXPECT_EQ((*backend)->requestCount(), 20u);
  EXPECT_EQ((*backend)->connectionCount(), 2u);
  ASSERT_TRUE((*backend)->lastRequest().has_value());
  EXPECT_EQ((*backend)->lastRequest()->header("host"), (*backend)->address());
  const std::vector<DestTunnelRecord> logged = records(*dest);
  ASSERT_EQ(logged.size(), 2u);
  for (const DestTunnelRecord& record : logged) {
    EXPECT_EQ(record.status, 200);
    EXPECT_EQ(record.error, "");
    EXPECT_GT(record.bytes_up, 0);
  }
}

// --mode h2c: HTTP/2 with prior knowledge inside the tunnels (Go's own HTTP/2 client), against
// nginx serving h2c only.
TEST_F(ZtunnelPeersTest, H2cModeSpeaksHttp2InsideTunnels) {
  TempDir root;
  const std::string page = "served over h2c\n";
  ASSERT_TRUE(writeFile(root.file("index.html"), page).ok());
  auto nginx = NginxProcess::start(root.path(), /*http2=*/true);
  ASSERT_TRUE(nginx.ok()) << nginx.status();
  auto dest = startDest();
  ASSERT_NE(dest, nullptr);
  const std::string authority = formatHostPort("127.0.0.1", (*nginx)->port());

  const SourceRun found =
      run(sourceOptions(*dest, authority,
                        {"--mode", "h2c", "--requests", "10", "--concurrency", "2", "--path",
                         "/index.html", "--body-out", dir_.file("body")}));
  ASSERT_EQ(found.exit_status, 0) << found.describe();
  absl::StatusOr<SourceSummary> summary = parseSourceSummary(found.out);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->ok, 10);
  EXPECT_EQ(summary->status["200"], 10);
  EXPECT_EQ(summary->tunnels_opened, 2);
  EXPECT_EQ(readFile(dir_.file("body")).value_or(""), page);

  // A status that is not 2xx is a response, not an error: reported, exit 0.
  const SourceRun missing =
      run(sourceOptions(*dest, authority, {"--mode", "h2c", "--requests", "3", "--path", "/no"}));
  ASSERT_EQ(missing.exit_status, 0) << missing.describe();
  summary = parseSourceSummary(missing.out);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->ok, 0);
  EXPECT_EQ(summary->status["404"], 3);
  EXPECT_EQ((*nginx)->stop(), 0) << (*nginx)->logs();
}

// --tunnels 10 --streams 100: 1,000 tunnels open at once over exactly 10 TLS connections, 100 on
// each (the destination numbers the connections it accepted).
TEST_F(ZtunnelPeersTest, ThousandTunnelsOverTenConnections) {
  auto echo = TestTcpEchoServer::start();
  ASSERT_TRUE(echo.ok()) << echo.status();
  auto dest = startDest();
  ASSERT_NE(dest, nullptr);

  const SourceRun result =
      run(sourceOptions(*dest, (*echo)->address(),
                        {"--mode", "echo", "--concurrency", "1000", "--tunnels", "10", "--streams",
                         "100", "--payload-bytes", "2000"}));
  ASSERT_EQ(result.exit_status, 0) << result.describe();
  absl::StatusOr<SourceSummary> summary = parseSourceSummary(result.out);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->ok, 1000);
  EXPECT_EQ(summary->tunnels_opened, 1000);
  EXPECT_EQ(summary->max_concurrent_tunnels, 1000);
  EXPECT_EQ(summary->connections, 10);

  const std::vector<DestTunnelRecord> logged = records(*dest);
  ASSERT_EQ(logged.size(), 1000u);
  std::map<uint64_t, int> per_connection;
  for (const DestTunnelRecord& record : logged) {
    ++per_connection[record.conn_id];
    EXPECT_EQ(record.bytes_down, 2000);
  }
  EXPECT_EQ(per_connection.size(), 10u);
  for (const auto& [conn_id, count] : per_connection) {
    EXPECT_EQ(count, 100) << "connection " << conn_id;
  }
}

// --mode listen: every accepted TCP connection gets its own tunnel, with forwarded: for= naming
// that client, and half-closes pass through in both directions.
TEST_F(ZtunnelPeersTest, ListenModeGivesEachConnectionItsOwnTunnel) {
  auto echo = TestTcpEchoServer::start();
  ASSERT_TRUE(echo.ok()) << echo.status();
  auto dest = startDest();
  ASSERT_NE(dest, nullptr);
  const std::string source_log = dir_.file("source.jsonl");
  auto listener =
      ZtunnelSourceListener::start(sourceOptions(*dest, (*echo)->address(), {"--log", source_log}));
  ASSERT_TRUE(listener.ok()) << listener.status();

  std::set<std::string> client_addresses;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<FileDescriptor> client =
        connectTcp("127.0.0.1", (*listener)->port(), std::chrono::seconds(5));
    ASSERT_TRUE(client.ok()) << client.status();
    struct sockaddr_in local {};
    socklen_t length = sizeof(local);
    ASSERT_EQ(::getsockname(client->get(), reinterpret_cast<sockaddr*>(&local), &length), 0);
    client_addresses.insert(absl::StrCat("for=\"127.0.0.1:", ntohs(local.sin_port), "\""));

    const std::string message = absl::StrCat("client ", i, " says hello");
    ASSERT_TRUE(sendAll(client->get(), message, std::chrono::seconds(5)).ok());
    ASSERT_EQ(::shutdown(client->get(), SHUT_WR), 0);
    std::string echoed;
    while (true) {
      absl::StatusOr<std::string> chunk = receiveSome(client->get(), std::chrono::seconds(10));
      ASSERT_TRUE(chunk.ok()) << chunk.status();
      if (chunk->empty()) {
        break;  // the far end's END_STREAM arrived as a FIN
      }
      echoed += *chunk;
    }
    EXPECT_EQ(echoed, message);
  }

  // Each client saw its tunnel end, which the destination logs before ending it.
  const std::vector<DestTunnelRecord> logged = records(*dest);
  ASSERT_EQ(logged.size(), 3u);
  std::set<std::string> forwarded;
  for (const DestTunnelRecord& record : logged) {
    forwarded.insert(record.headers.at("forwarded"));
    EXPECT_EQ(record.conn_id, 1u) << "all tunnels share the one TLS connection";
  }
  EXPECT_EQ(forwarded, client_addresses);

  // The source logs each tunnel once it has torn it down, just after the client saw the end.
  std::vector<std::string> lines;
  EXPECT_TRUE(waitFor(
      [&] {
        lines = absl::StrSplit(readFile(source_log).value_or(""), '\n', absl::SkipWhitespace());
        return lines.size() >= 3;
      },
      std::chrono::seconds(10)));
  ASSERT_EQ(lines.size(), 3u);
  for (const std::string& line : lines) {
    EXPECT_THAT(line, HasSubstr("\"clean_end\":true"));
    EXPECT_THAT(line, HasSubstr(absl::StrCat("\"authority\":\"", (*echo)->address(), "\"")));
  }
  EXPECT_EQ((*listener)->stop(), 0);
  EXPECT_EQ(dest->stop(), 0);
}

// mTLS: a client certificate from another CA is refused during the handshake.
TEST_F(ZtunnelPeersTest, DestRefusesClientCertificateFromAnotherCa) {
  auto dest = startDest();
  ASSERT_NE(dest, nullptr);
  ZtunnelSourceOptions options = sourceOptions(*dest, "127.0.0.1:9", {});
  options.certs.cert_chain_path = foreign_source_certs_.cert_chain_path;
  options.certs.key_path = foreign_source_certs_.key_path;
  const SourceRun result = run(options);
  EXPECT_EQ(result.exit_status, kSourceExitTls) << result.describe();
  EXPECT_THAT(result.err, HasSubstr("bad certificate"));
  EXPECT_THAT(records(*dest), IsEmpty());
}

// TLS 1.3 only: a TLS 1.2 client is refused.
TEST_F(ZtunnelPeersTest, DestRefusesTls12Client) {
  auto dest = startDest();
  ASSERT_NE(dest, nullptr);
  const SourceRun result = run(sourceOptions(*dest, "127.0.0.1:9", {"--max-tls", "1.2"}));
  EXPECT_EQ(result.exit_status, kSourceExitTls) << result.describe();
  EXPECT_THAT(result.err, HasSubstr("protocol version not supported"));
  EXPECT_TRUE(waitForStderr(*dest, "unsupported versions"));
  EXPECT_THAT(records(*dest), IsEmpty());
}

// ALPN h2 only: a client offering only http/1.1 is refused (Go alone would serve it HTTP/1.1).
TEST_F(ZtunnelPeersTest, DestRefusesClientWithoutH2Alpn) {
  auto dest = startDest();
  ASSERT_NE(dest, nullptr);
  const SourceRun result = run(sourceOptions(*dest, "127.0.0.1:9", {"--alpn", "http/1.1"}));
  EXPECT_EQ(result.exit_status, kSourceExitTls) << result.describe();
  EXPECT_TRUE(waitForStderr(*dest, "did not negotiate ALPN h2"));
}

// --expect-peer-prefix: a valid certificate with the wrong identity is refused.
TEST_F(ZtunnelPeersTest, DestChecksClientIdentity) {
  auto dest = startDest({.expect_peer_prefix = "spiffe://cluster.local/ns/istio-system/"});
  ASSERT_NE(dest, nullptr);
  const SourceRun result = run(sourceOptions(*dest, "127.0.0.1:9", {}));
  EXPECT_EQ(result.exit_status, kSourceExitTls) << result.describe();
  EXPECT_TRUE(waitForStderr(*dest,
                            "client identity spiffe://cluster.local/ns/foo/sa/sleep does not start "
                            "with the expected spiffe://cluster.local/ns/istio-system/"));
}

// --expect-server-prefix: the source checks who answered.
TEST_F(ZtunnelPeersTest, SourceChecksServerIdentity) {
  auto dest = startDest();
  ASSERT_NE(dest, nullptr);
  ZtunnelSourceOptions options = sourceOptions(*dest, "127.0.0.1:9", {});
  options.expect_server_prefix = "spiffe://cluster.local/ns/istio-system/sa/waypoint";
  const SourceRun result = run(options);
  EXPECT_EQ(result.exit_status, kSourceExitTls) << result.describe();
  EXPECT_THAT(result.err, HasSubstr("server identity spiffe://cluster.local/ns/default/sa/dest "
                                    "does not start with the expected"));
  EXPECT_THAT(records(*dest), IsEmpty());
}

// The source verifies the server's chain itself (SPIFFE certificates have no host name).
TEST_F(ZtunnelPeersTest, SourceRefusesServerFromAnotherCa) {
  auto dest = startDest({.certs = foreign_dest_certs_});
  ASSERT_NE(dest, nullptr);
  const SourceRun result = run(sourceOptions(*dest, "127.0.0.1:9", {}));
  EXPECT_EQ(result.exit_status, kSourceExitTls) << result.describe();
  EXPECT_THAT(result.err, HasSubstr("certificate signed by unknown authority"));
  EXPECT_THAT(records(*dest), IsEmpty());
}

// Like ztunnel's inbound: 400 for an authority that is not IP:port, 503 when the backend cannot
// be reached; the source reports the status and exits 4.
TEST_F(ZtunnelPeersTest, ConnectFailuresAreAnsweredWithStatus) {
  auto dest = startDest();
  ASSERT_NE(dest, nullptr);
  const SourceRun bad_authority = run(sourceOptions(*dest, "reviews.default.svc:9080", {}));
  EXPECT_EQ(bad_authority.exit_status, kSourceExitRefused) << bad_authority.describe();
  EXPECT_THAT(bad_authority.err, HasSubstr("status 400"));

  const uint16_t closed_port = findFreeTcpPort();
  ASSERT_NE(closed_port, 0);
  const SourceRun unreachable =
      run(sourceOptions(*dest, formatHostPort("127.0.0.1", closed_port), {}));
  EXPECT_EQ(unreachable.exit_status, kSourceExitRefused) << unreachable.describe();
  EXPECT_THAT(unreachable.err, HasSubstr("status 503"));

  const std::vector<DestTunnelRecord> logged = records(*dest);
  ASSERT_EQ(logged.size(), 2u);
  EXPECT_EQ(logged[0].status, 400);
  EXPECT_THAT(logged[0].error, HasSubstr("is not an IP address"));
  EXPECT_EQ(logged[1].status, 503);
  EXPECT_THAT(logged[1].error, HasSubstr("connection refused"));
}

// Only CONNECT is accepted: a GET over HTTP/2 (from curl, with a valid client certificate) gets
// 400.
TEST_F(ZtunnelPeersTest, DestAnswersNonConnectWith400) {
  auto dest = startDest();
  ASSERT_NE(dest, nullptr);
  absl::StatusOr<ToolResult> curl =
      runTool({"curl", "--silent", "--show-error", "--insecure", "--http2", "--tlsv1.3", "--cert",
               source_certs_.cert_chain_path, "--key", source_certs_.key_path, "--output",
               "/dev/null", "--write-out", "%{http_version} %{http_code}",
               absl::StrCat("https://", dest->address(), "/")},
              std::chrono::seconds(30));
  ASSERT_TRUE(curl.ok()) << curl.status();
  EXPECT_EQ(curl->exit_status, 0) << curl->describe();
  EXPECT_EQ(curl->out, "2 400");
  const std::vector<DestTunnelRecord> logged = records(*dest);
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0].method, "GET");
  EXPECT_EQ(logged[0].status, 400);
  EXPECT_EQ(logged[0].peer_uri_san, kSourceId);
}

}  // namespace
}  // namespace waystone::test
