// The waypoint end to end, with peers we did not write: Go's TLS and HTTP/2 as the source and
// destination ztunnels (test/interop), Waystone running examples/standalone/waypoint.yaml (only
// ports and certificate paths changed), a real HTTP backend and a TCP echo backend.
//
//   ztunnel_source --HBONE--> connect_terminate -> main_internal -> connect_originate
//     --HBONE--> ztunnel_dest -> backend

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"

#include "test/integration/integration_util.h"
#include "test/interop/ztunnel_peers.h"
#include "test/test_common/file_util.h"
#include "test/test_common/runfiles.h"
#include "test/test_common/temp_dir.h"
#include "test/test_common/test_certificate_authority.h"
#include "test/test_common/test_http_server.h"
#include "test/test_common/test_tcp_echo_server.h"
#include "test/test_common/wait_for.h"
#include "test/test_common/waystone_process.h"

namespace waystone::test {
namespace {

constexpr char kWaypointId[] = "spiffe://cluster.local/ns/default/sa/waypoint";
constexpr char kClientId[] = "spiffe://cluster.local/ns/default/sa/sleep";
constexpr char kDestinationId[] = "spiffe://cluster.local/ns/default/sa/echo";

class WaypointIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ca = TestCertificateAuthority::create();
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_ = std::make_unique<TestCertificateAuthority>(*std::move(ca));
    waypoint_certs_ = issue(kWaypointId, "waypoint");
    client_certs_ = issue(kClientId, "client");
    destination_certs_ = issue(kDestinationId, "destination");

    auto http = TestHttpServer::start();
    ASSERT_TRUE(http.ok()) << http.status();
    http_backend_ = std::move(*http);
    auto echo = TestTcpEchoServer::start();
    ASSERT_TRUE(echo.ok()) << echo.status();
    echo_backend_ = std::move(*echo);

    ZtunnelDestOptions dest;
    dest.certs = destination_certs_;
    dest.expect_peer_prefix = kWaypointId;
    auto started = ZtunnelDest::start(dest);
    ASSERT_TRUE(started.ok()) << started.status();
    destination_ = std::move(*started);

    // The shipped example, with this test's ports, pod address and certificates.
    auto yaml = readFile(runfilesPath("examples/standalone/waypoint.yaml"));
    ASSERT_TRUE(yaml.ok()) << yaml.status();
    const std::string http_pod = absl::StrCat("127.0.0.1:", http_backend_->port());
    const std::string tcp_pod = absl::StrCat("127.0.0.1:", echo_backend_->port());
    std::string config = absl::StrReplaceAll(
        *yaml, {{"port_value: 15008", "port_value: 0"},
                {"port_value: 15000", "port_value: 0"},
                {"upstream_port_override: 15008",
                 absl::StrCat("upstream_port_override: ", destination_->port())},
                {"127.0.0.3:18080", http_pod},
                {"127.0.0.3:19000", tcp_pod},
                {"examples/standalone/certs/hbone/waypoint.crt", waypoint_certs_.cert_chain_path},
                {"examples/standalone/certs/hbone/waypoint.key", waypoint_certs_.key_path},
                {"examples/standalone/certs/hbone/ca.crt", waypoint_certs_.ca_bundle_path}});
    WaystoneOptions options;
    options.bootstrap_yaml = config;
    options.concurrency = 1;
    auto process = WaystoneProcess::start(options);
    ASSERT_TRUE(process.ok()) << process.status();
    waystone_ = std::move(*process);
    auto port = listenerPort(*waystone_, "connect_terminate");
    ASSERT_TRUE(port.ok()) << port.status();
    waypoint_address_ = absl::StrCat("127.0.0.1:", *port);
  }

  IssuedCertificate::Files issue(const std::string& spiffe_id, const std::string& name) {
    LeafOptions leaf;
    leaf.spiffe_uri_sans = {spiffe_id};
    auto cert = ca_->issueLeaf(leaf);
    EXPECT_TRUE(cert.ok()) << cert.status();
    auto files = cert->writeFiles(temp_dir_.path(), name);
    EXPECT_TRUE(files.ok()) << files.status();
    return *files;
  }

  ZtunnelSourceOptions source(const std::string& authority, std::vector<std::string> args) {
    ZtunnelSourceOptions options;
    options.certs = client_certs_;
    options.waypoint = waypoint_address_;
    options.authority = authority;
    options.expect_server_prefix = kWaypointId;
    options.args = std::move(args);
    return options;
  }

  TempDir temp_dir_;
  std::unique_ptr<TestCertificateAuthority> ca_;
  IssuedCertificate::Files waypoint_certs_, client_certs_, destination_certs_;
  std::unique_ptr<TestHttpServer> http_backend_;
  std::unique_ptr<TestTcpEchoServer> echo_backend_;
  std::unique_ptr<ZtunnelDest> destination_;
  std::unique_ptr<WaystoneProcess> waystone_;
  std::string waypoint_address_;
};

TEST_F(WaypointIntegrationTest, HttpRequestsCrossBothHboneHops) {
  auto run = runZtunnelSource(
      source("10.96.0.10:8080", {"--mode", "http1", "--requests", "20", "--path", "/hello"}));
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(0, run->exit_status) << run->describe();
  auto summary = parseSourceSummary(run->out);
  ASSERT_TRUE(summary.ok()) << summary.status() << run->describe();
  EXPECT_EQ(20, summary->ok) << run->describe();
  EXPECT_EQ(20, summary->status["200"]);

  // The destination saw the pod address as the authority and the waypoint's identity, not the
  // client's: the waypoint re-tunnelled with its own certificate. The destination logs a tunnel
  // when it ends, and the waypoint keeps its upstream connections pooled: stop it first.
  ASSERT_EQ(std::optional<int>(0), waystone_->stop());
  auto records = destination_->waitForRecords(1);
  ASSERT_TRUE(records.ok()) << records.status();
  const DestTunnelRecord& record = records->front();
  EXPECT_EQ(200, record.status);
  EXPECT_EQ(absl::StrCat("127.0.0.1:", http_backend_->port()), record.authority);
  EXPECT_EQ(kWaypointId, record.peer_uri_san);
  EXPECT_GT(record.bytes_down, 0);
}

TEST_F(WaypointIntegrationTest, TcpBytesRoundTripThroughTheTcpChain) {
  const std::string payload(256 * 1024, 'w');
  const std::string in = absl::StrCat(temp_dir_.path(), "/in");
  const std::string out = absl::StrCat(temp_dir_.path(), "/out");
  ASSERT_TRUE(writeFile(in, payload).ok());
  auto run =
      runZtunnelSource(source("10.96.0.10:9000", {"--mode", "tcp", "--in", in, "--out", out}));
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(0, run->exit_status) << run->describe();
  auto echoed = readFile(out);
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(payload.size(), echoed->size());
  EXPECT_TRUE(*echoed == payload);
  auto records = destination_->waitForRecords(1);
  ASSERT_TRUE(records.ok()) << records.status();
  EXPECT_EQ(absl::StrCat("127.0.0.1:", echo_backend_->port()), records->front().authority);
}

TEST_F(WaypointIntegrationTest, AClientFromAnotherCaIsRefused) {
  auto other_ca = TestCertificateAuthority::create();
  ASSERT_TRUE(other_ca.ok());
  LeafOptions leaf;
  leaf.spiffe_uri_sans = {kClientId};
  auto cert = other_ca->issueLeaf(leaf);
  ASSERT_TRUE(cert.ok());
  auto files = cert->writeFiles(temp_dir_.path(), "stranger");
  ASSERT_TRUE(files.ok());
  ZtunnelSourceOptions options = source("10.96.0.10:8080", {"--mode", "http1", "--requests", "1"});
  options.certs.cert_chain_path = files->cert_chain_path;
  options.certs.key_path = files->key_path;
  auto run = runZtunnelSource(options);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_NE(0, run->exit_status) << run->describe();
  EXPECT_NE(std::string::npos, run->out.find("unknown certificate authority")) << run->describe();
  auto records = destination_->records();
  ASSERT_TRUE(records.ok());
  EXPECT_TRUE(records->empty());
}

// A CONNECT to a destination the waypoint does not serve: main_internal has no chain for it, so
// the tunnel carries nothing and ends, the refusal is counted, and the destination sees nothing.
TEST_F(WaypointIntegrationTest, ADestinationWithNoChainIsRefused) {
  const std::string in = absl::StrCat(temp_dir_.path(), "/in");
  const std::string out = absl::StrCat(temp_dir_.path(), "/out");
  ASSERT_TRUE(writeFile(in, "is anyone there?").ok());
  auto run =
      runZtunnelSource(source("10.96.0.99:8080", {"--mode", "tcp", "--in", in, "--out", out}));
  ASSERT_TRUE(run.ok()) << run.status();
  auto echoed = readFile(out);
  EXPECT_TRUE(!echoed.ok() || echoed->empty()) << run->describe();
  EXPECT_TRUE(waitFor(
      [&] { return statValue(*waystone_, "listener.main_internal.no_filter_chain_match") == 1u; },
      std::chrono::seconds(10)));
  auto records = destination_->records();
  ASSERT_TRUE(records.ok());
  EXPECT_TRUE(records->empty());
}

// connect_terminate's TLS rules (TLS 1.3 only, ALPN h2, a valid workload certificate with one
// SPIFFE ID): each bad client is refused at the handshake and nothing reaches the destination.
TEST_F(WaypointIntegrationTest, BadClientsAreRefusedAtTheHandshake) {
  struct Case {
    std::string name;
    std::vector<std::string> extra_args;
    std::optional<LeafOptions> leaf;  // a different client certificate
  };
  LeafOptions no_spiffe;
  no_spiffe.spiffe_uri_sans = {};
  no_spiffe.dns_sans = {"sleep.default.svc"};
  LeafOptions expired;
  expired.spiffe_uri_sans = {kClientId};
  expired.not_before_offset = -std::chrono::hours(48);
  expired.not_after_offset = -std::chrono::hours(24);
  const std::vector<Case> cases = {
      {"TLS 1.2 only", {"--max-tls", "1.2"}, std::nullopt},
      {"no ALPN h2", {"--alpn", "http/1.1"}, std::nullopt},
      {"certificate without a SPIFFE SAN", {}, no_spiffe},
      {"expired certificate", {}, expired},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"--mode", "http1", "--requests", "1"};
    args.insert(args.end(), c.extra_args.begin(), c.extra_args.end());
    ZtunnelSourceOptions options = source("10.96.0.10:8080", args);
    if (c.leaf.has_value()) {
      auto cert = ca_->issueLeaf(*c.leaf);
      ASSERT_TRUE(cert.ok()) << c.name << ": " << cert.status();
      auto files = cert->writeFiles(temp_dir_.path(), absl::StrCat("bad", &c - cases.data()));
      ASSERT_TRUE(files.ok()) << files.status();
      options.certs = *files;
    }
    auto run = runZtunnelSource(options);
    ASSERT_TRUE(run.ok()) << c.name << ": " << run.status();
    EXPECT_NE(0, run->exit_status) << c.name << ": " << run->describe();
    auto summary = parseSourceSummary(run->out);
    if (summary.ok()) {
      EXPECT_EQ(0, summary->ok) << c.name;
      EXPECT_EQ(0, summary->tunnels_opened) << c.name;
    }
  }
  // A good client still works afterwards, and it is the only one the destination saw.
  auto good = runZtunnelSource(source("10.96.0.10:8080", {"--mode", "http1", "--requests", "1"}));
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ(0, good->exit_status) << good->describe();
  ASSERT_EQ(std::optional<int>(0), waystone_->stop());
  auto records = destination_->waitForRecords(1);
  ASSERT_TRUE(records.ok()) << records.status();
  EXPECT_EQ(1u, records->size());
}

}  // namespace
}  // namespace waystone::test
