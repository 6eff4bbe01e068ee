#include "source/common/tls/ssl_socket_factory.h"

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "source/common/tls/context_impl.h"
#include "test/common/tls/tls_test_util.h"
#include "test/test_common/test_certificate_authority.h"

namespace waystone::tls::test {
namespace {

using testing::HasSubstr;
using waystone::test::LeafOptions;
using waystone::test::TestCertificateAuthority;

const std::string kOldId = "spiffe://cluster.local/ns/default/sa/old";
const std::string kNewId = "spiffe://cluster.local/ns/default/sa/new";

class SslSocketFactoryTest : public TlsConnectionTest {
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

  std::unique_ptr<TestCertificateAuthority> ca_;
};

TEST_F(SslSocketFactoryTest, ContextSwapAffectsOnlyNewConnections) {
  auto server_factory = serverFactory(serverProto(issue(kOldId)));
  auto client_factory = clientFactory(clientProto(ca_->rootPem()));
  ASSERT_NE(server_factory, nullptr);
  ASSERT_NE(client_factory, nullptr);
  listen(*server_factory);

  Endpoint& before = connect(*client_factory);
  ASSERT_TRUE(waitForHandshake(before, 0));
  EXPECT_EQ(before.ssl->peerUriSan(), kOldId);
  const std::shared_ptr<const ServerContext> old_context = server_factory->context();

  // Rotate the server certificate.
  auto config = ServerContextConfig::create(serverProto(issue(kNewId)));
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(server_factory->updateConfig(*config).ok());
  EXPECT_NE(server_factory->context(), old_context);

  Endpoint& after = connect(*client_factory);
  ASSERT_TRUE(waitForHandshake(after, 1));
  EXPECT_EQ(after.ssl->peerUriSan(), kNewId);
  EXPECT_EQ(servers_[1]->ssl->localUriSan(), kNewId);
  // A session made under the old context is not resumed by the new one.
  EXPECT_FALSE(after.ssl->sessionReused());

  // The connection made before the swap keeps its certificate and keeps working.
  EXPECT_EQ(servers_[0]->ssl->localUriSan(), kOldId);
  EXPECT_EQ(&servers_[0]->ssl->context(), old_context.get());
  write(before, "still here", false);
  write(*servers_[0], "me too", false);
  ASSERT_TRUE(runUntil([&] {
    return servers_[0]->reader.received == "still here" && before.reader.received == "me too";
  }));
  EXPECT_FALSE(before.closed());
}

TEST_F(SslSocketFactoryTest, LiveConnectionKeepsContextAlive) {
  auto server_factory = serverFactory(serverProto(issue(kOldId)));
  auto client_factory = clientFactory(clientProto(ca_->rootPem()));
  ASSERT_NE(server_factory, nullptr);
  ASSERT_NE(client_factory, nullptr);
  listen(*server_factory);
  Endpoint& client = connect(*client_factory);
  ASSERT_TRUE(waitForHandshake(client, 0));
  std::weak_ptr<const ServerContext> old_context = server_factory->context();
  auto replacement =
      ServerContext::create(*ServerContextConfig::create(serverProto(issue(kNewId))));
  ASSERT_TRUE(replacement.ok());
  server_factory->updateContext(*replacement);
  // Only the live connection holds the old context now.
  EXPECT_FALSE(old_context.expired());
  write(client, "x", false);
  ASSERT_TRUE(runUntil([&] { return servers_[0]->reader.received == "x"; }));
  servers_[0]->connection->close(network::ConnectionCloseType::NoFlush);
  servers_[0]->connection.reset();
  EXPECT_TRUE(old_context.expired());
}

TEST_F(SslSocketFactoryTest, FailedUpdateKeepsCurrentContext) {
  auto server_factory = serverFactory(serverProto(issue(kOldId)));
  ASSERT_NE(server_factory, nullptr);
  const auto current = server_factory->context();
  ServerContextConfig broken;
  TlsCertificateConfig certificate;
  certificate.certificate_chain_pem = "garbage";
  certificate.private_key_pem = "garbage";
  certificate.path = "common_tls_context.tls_certificates[0]";
  broken.certificates.push_back(certificate);
  absl::Status status = server_factory->updateConfig(broken);
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("certificate_chain: no PEM certificate"));
  EXPECT_EQ(server_factory->context(), current);
}

TEST_F(SslSocketFactoryTest, ClientSniFromConfigAndOverride) {
  auto server_factory = serverFactory(serverProto(issue(kOldId)));
  tlsv3::UpstreamTlsContext client_proto = clientProto(ca_->rootPem());
  client_proto.set_sni("configured.example.com");
  auto client_factory = clientFactory(client_proto);
  ASSERT_NE(server_factory, nullptr);
  ASSERT_NE(client_factory, nullptr);
  listen(*server_factory);
  Endpoint& configured = connect(*client_factory);
  ASSERT_TRUE(waitForHandshake(configured, 0));
  EXPECT_EQ(servers_[0]->ssl->sni(), "configured.example.com");
  Endpoint& overridden = connect(*client_factory, "override.example.com");
  ASSERT_TRUE(waitForHandshake(overridden, 1));
  EXPECT_EQ(servers_[1]->ssl->sni(), "override.example.com");
  EXPECT_EQ(overridden.ssl->sni(), "override.example.com");
}

TEST_F(SslSocketFactoryTest, ClientContextSwapUsesNewClientCertificate) {
  auto server_factory =
      serverFactory(serverProto(issue("spiffe://cluster.local/ns/default/sa/server"),
                                ca_->rootPem(), /*require_client_certificate=*/true));
  IssuedCertificate old_client = issue(kOldId);
  auto client_factory = clientFactory(clientProto(ca_->rootPem(), &old_client));
  ASSERT_NE(server_factory, nullptr);
  ASSERT_NE(client_factory, nullptr);
  listen(*server_factory);
  Endpoint& first = connect(*client_factory);
  ASSERT_TRUE(waitForHandshake(first, 0));
  EXPECT_EQ(servers_[0]->ssl->peerUriSan(), kOldId);
  IssuedCertificate new_client = issue(kNewId);
  auto config = ClientContextConfig::create(clientProto(ca_->rootPem(), &new_client));
  ASSERT_TRUE(config.ok());
  ASSERT_TRUE(client_factory->updateConfig(*config).ok());
  Endpoint& second = connect(*client_factory);
  ASSERT_TRUE(waitForHandshake(second, 1));
  EXPECT_EQ(servers_[1]->ssl->peerUriSan(), kNewId);
  EXPECT_EQ(second.ssl->localUriSan(), kNewId);
}

}  // namespace
}  // namespace waystone::tls::test
