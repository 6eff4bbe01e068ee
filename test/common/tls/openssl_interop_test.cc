// Interop with an implementation we did not write: the openssl CLI (Debian's `openssl` package,
// installed by tools/setup) as the client of our TLS server.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "source/common/network/address.h"
#include "test/common/tls/tls_test_util.h"
#include "test/test_common/child_process.h"
#include "test/test_common/temp_dir.h"
#include "test/test_common/test_certificate_authority.h"

namespace waystone::tls::test {
namespace {

using testing::HasSubstr;
using waystone::test::ChildProcess;
using waystone::test::LeafOptions;
using waystone::test::TempDir;
using waystone::test::TestCertificateAuthority;

const std::string kServerId = "spiffe://cluster.local/ns/istio-system/sa/waypoint";
const std::string kClientId = "spiffe://cluster.local/ns/default/sa/ztunnel";

class OpensslInteropTest : public TlsConnectionTest {
 protected:
  void SetUp() override {
    auto ca = TestCertificateAuthority::create();
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_ = std::make_unique<TestCertificateAuthority>(*std::move(ca));
  }

  IssuedCertificate issue(const std::string& id) {
    LeafOptions options;
    options.spiffe_uri_sans = {id};
    auto issued = ca_->issueLeaf(options);
    EXPECT_TRUE(issued.ok()) << issued.status();
    return issued.ok() ? *std::move(issued) : IssuedCertificate();
  }

  // Runs the loop until the child exits (30 s at most) and returns its output.
  void waitForExit(ChildProcess& child) {
    ASSERT_TRUE(runUntil([&] {
      return child.waitForExit(std::chrono::milliseconds(0)).has_value();
    })) << "stdout:\n"
        << child.stdoutContents() << "\nstderr:\n"
        << child.stderrContents();
  }

  std::unique_ptr<TestCertificateAuthority> ca_;
  TempDir dir_;
};

// openssl s_client, mutual TLS 1.3 with ALPN h2, sends "ping"; our server answers "pong" and ends
// its stream with close_notify, which makes s_client exit.
TEST_F(OpensslInteropTest, SClientAgainstOurServer) {
  tlsv3::DownstreamTlsContext server = serverProto(issue(kServerId), ca_->rootPem(), true);
  server.mutable_common_tls_context()->add_alpn_protocols("h2");
  server.mutable_common_tls_context()->add_alpn_protocols("http/1.1");
  addSanMatcher(*server.mutable_common_tls_context(), tlsv3::SubjectAltNameMatcher::URI,
                prefixMatcher("spiffe://cluster.local/"));
  auto server_factory = serverFactory(server);
  ASSERT_NE(server_factory, nullptr);
  on_accept_ = [&](Endpoint& endpoint) {
    endpoint.reader.on_data = [&endpoint](buffer::Instance&, bool) {
      if (endpoint.reader.received == "ping") {
        buffer::OwnedImpl reply("pong");
        endpoint.connection->write(reply, true);
      }
    };
  };
  listen(*server_factory);

  auto client_files = issue(kClientId).writeFiles(dir_.path(), "client");
  ASSERT_TRUE(client_files.ok()) << client_files.status();
  const std::string command = absl::StrCat(
      "printf ping | exec openssl s_client -connect ", socket_->localAddress()->asString(),
      " -servername waypoint.example.com -alpn h2 -tls1_3 -ign_eof -verify_return_error",
      " -CAfile ", client_files->ca_bundle_path, " -cert ", client_files->cert_chain_path, " -key ",
      client_files->key_path);
  auto child = ChildProcess::start({"/bin/sh", "-c", command});
  ASSERT_TRUE(child.ok()) << child.status();
  waitForExit(**child);
  const std::string out = (*child)->stdoutContents();
  EXPECT_EQ((*child)->exitStatus(), 0) << out << (*child)->stderrContents();
  EXPECT_THAT(out, HasSubstr("ALPN protocol: h2"));
  EXPECT_THAT(out, HasSubstr("TLSv1.3"));
  EXPECT_THAT(out, HasSubstr("Verify return code: 0 (ok)"));
  EXPECT_THAT(out, HasSubstr("pong"));

  ASSERT_EQ(servers_.size(), 1u);
  const SslSocket& ssl = *servers_[0]->ssl;
  EXPECT_EQ(servers_[0]->reader.received, "ping");
  EXPECT_EQ(ssl.alpn(), "h2");
  EXPECT_EQ(ssl.tlsVersion(), "TLSv1.3");
  EXPECT_EQ(ssl.sni(), "waypoint.example.com");
  EXPECT_EQ(ssl.peerUriSan(), kClientId);
  EXPECT_TRUE(ssl.peerCertificateValidated());
}

// openssl s_client without a client certificate: our server refuses the handshake; s_client
// fails, and our side says why.
TEST_F(OpensslInteropTest, SClientWithoutCertificateRefused) {
  auto server_factory = serverFactory(serverProto(issue(kServerId), ca_->rootPem(), true));
  ASSERT_NE(server_factory, nullptr);
  listen(*server_factory);
  auto files = issue(kClientId).writeFiles(dir_.path(), "unused");
  ASSERT_TRUE(files.ok());
  const std::string command =
      absl::StrCat("exec openssl s_client -connect ", socket_->localAddress()->asString(),
                   " -tls1_2 -verify_return_error -CAfile ", files->ca_bundle_path, " < /dev/null");
  auto child = ChildProcess::start({"/bin/sh", "-c", command});
  ASSERT_TRUE(child.ok()) << child.status();
  waitForExit(**child);
  EXPECT_NE((*child)->exitStatus(), 0);
  ASSERT_TRUE(runUntil([&] { return !servers_.empty() && servers_[0]->closed(); }));
  EXPECT_THAT(servers_[0]->failureReason(), HasSubstr("peer did not return a certificate"));
  EXPECT_EQ(servers_[0]->callbacks.count(network::ConnectionEvent::Connected), 0);
}

}  // namespace
}  // namespace waystone::tls::test
