#include "source/common/tls/ssl_socket.h"

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include <sys/socket.h>

#include "source/common/tls/context_impl.h"
#include "test/common/tls/tls_test_util.h"
#include "test/test_common/test_certificate_authority.h"

namespace waystone::tls::test {
namespace {

using network::ConnectionEvent;
using network::test::pattern;
using testing::HasSubstr;
using waystone::test::LeafOptions;
using waystone::test::TestCertificateAuthority;

const std::string kServerId = "spiffe://cluster.local/ns/default/sa/server";
const std::string kClientId = "spiffe://cluster.local/ns/default/sa/client";

class SslSocketTest : public TlsConnectionTest {
 protected:
  void SetUp() override {
    auto ca = TestCertificateAuthority::create();
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_ = std::make_unique<TestCertificateAuthority>(*std::move(ca));
    server_cert_ = issue({kServerId}, {"server.example.com"});
    client_cert_ = issue({kClientId}, {});
  }

  IssuedCertificate issue(std::vector<std::string> uris, std::vector<std::string> dns,
                          LeafOptions options = LeafOptions()) {
    options.spiffe_uri_sans = std::move(uris);
    options.dns_sans = std::move(dns);
    auto issued = ca_->issueLeaf(options);
    EXPECT_TRUE(issued.ok()) << issued.status();
    return issued.ok() ? *std::move(issued) : IssuedCertificate();
  }

  const std::string& caPem() const { return ca_->rootPem(); }

  // Mutual TLS with SPIFFE matchers on both sides.
  tlsv3::DownstreamTlsContext mtlsServerProto() {
    tlsv3::DownstreamTlsContext proto = serverProto(server_cert_, caPem(), true);
    addSanMatcher(*proto.mutable_common_tls_context(), tlsv3::SubjectAltNameMatcher::URI,
                  prefixMatcher("spiffe://cluster.local/"));
    return proto;
  }
  tlsv3::UpstreamTlsContext mtlsClientProto() {
    tlsv3::UpstreamTlsContext proto = clientProto(caPem(), &client_cert_);
    addSanMatcher(*proto.mutable_common_tls_context(), tlsv3::SubjectAltNameMatcher::URI,
                  exactMatcher(kServerId));
    return proto;
  }

  // Runs until both the client and the first server connection are closed.
  bool waitBothClosed(Endpoint& client) {
    return runUntil([&] { return client.closed() && !servers_.empty() && servers_[0]->closed(); });
  }

  std::unique_ptr<TestCertificateAuthority> ca_;
  IssuedCertificate server_cert_;
  IssuedCertificate client_cert_;
};

// --- Handshake and data, per TLS version -------------------------------------------------------

class SslSocketVersionTest : public SslSocketTest,
                             public testing::WithParamInterface<tlsv3::TlsParameters::TlsProtocol> {
};

INSTANTIATE_TEST_SUITE_P(Versions, SslSocketVersionTest,
                         testing::Values(tlsv3::TlsParameters::TLSv1_2,
                                         tlsv3::TlsParameters::TLSv1_3),
                         [](const auto& info) {
                           return tlsv3::TlsParameters::TlsProtocol_Name(info.param);
                         });

TEST_P(SslSocketVersionTest, LargeTransferBothWaysWithSmallBufferLimits) {
  constexpr uint32_t kLimit = 16 * 1024;
  constexpr size_t kSize = 8 * 1024 * 1024;
  tlsv3::DownstreamTlsContext server = mtlsServerProto();
  setVersions(*server.mutable_common_tls_context(), GetParam(), GetParam());
  tlsv3::UpstreamTlsContext client_proto = mtlsClientProto();
  // The client allows both; the server forces the version.
  auto server_factory = serverFactory(server);
  auto client_factory = clientFactory(client_proto);
  ASSERT_NE(server_factory, nullptr);
  ASSERT_NE(client_factory, nullptr);
  server_buffer_limit_ = kLimit;
  listen(*server_factory);
  Endpoint& client = connect(*client_factory);
  client.connection->setBufferLimits(kLimit);
  ASSERT_TRUE(waitForHandshake(client, 0));
  Endpoint& server_end = *servers_[0];

  const std::string expected_version =
      GetParam() == tlsv3::TlsParameters::TLSv1_2 ? "TLSv1.2" : "TLSv1.3";
  EXPECT_EQ(client.ssl->tlsVersion(), expected_version);
  EXPECT_EQ(server_end.ssl->tlsVersion(), expected_version);
  EXPECT_FALSE(client.ssl->cipherSuite().empty());
  EXPECT_EQ(client.ssl->cipherSuite(), server_end.ssl->cipherSuite());
  EXPECT_EQ(client.callbacks.count(ConnectionEvent::Connected), 1);
  EXPECT_EQ(server_end.callbacks.count(ConnectionEvent::Connected), 1);

  const std::string upstream = pattern(kSize, 1);
  const std::string downstream = pattern(kSize, 2);
  write(client, upstream, false);
  write(server_end, downstream, false);
  ASSERT_TRUE(runUntil([&] {
    return server_end.reader.received.size() >= kSize && client.reader.received.size() >= kSize;
  }));
  EXPECT_TRUE(server_end.reader.received == upstream);
  EXPECT_TRUE(client.reader.received == downstream);
  // Reads are bounded by the limit (plus at most what OpenSSL already held: two records).
  EXPECT_LE(server_end.reader.max_seen_length, kLimit + 2 * SslSocket::kMaxWriteChunk);
  EXPECT_LE(client.reader.max_seen_length, kLimit + 2 * SslSocket::kMaxWriteChunk);
  EXPECT_FALSE(client.closed());
  EXPECT_FALSE(server_end.closed());
  EXPECT_EQ(client.connection->bytesRead(), kSize);
  EXPECT_EQ(server_end.connection->bytesWritten(), kSize);
}

// Thousands of small writes while the socket is full: each retry after WANT_WRITE offers the same
// first bytes, now with more behind them and possibly at a new address (linearize may move them).
TEST_P(SslSocketVersionTest, ManySmallWritesWhileSocketIsFull) {
  constexpr size_t kChunk = 1000;
  constexpr size_t kChunks = 12000;
  tlsv3::DownstreamTlsContext server = serverProto(server_cert_);
  setVersions(*server.mutable_common_tls_context(), GetParam(), GetParam());
  auto server_factory = serverFactory(server);
  auto client_factory = clientFactory(clientProto(caPem()));
  ASSERT_NE(server_factory, nullptr);
  ASSERT_NE(client_factory, nullptr);
  listen(*server_factory);
  Endpoint& client = connect(*client_factory);
  ASSERT_TRUE(waitForHandshake(client, 0));
  const std::string data = pattern(kChunk * kChunks, 3);
  for (size_t i = 0; i < kChunks; ++i) {
    write(client, absl::string_view(data).substr(i * kChunk, kChunk), false);
  }
  // The loop has not run, so the server has read nothing: the kernel holds its receive window
  // (128 KiB to start with; it grows only as the application reads) plus our send buffer (4 MiB
  // at most), far less than 12 MB. So writes stopped on WANT_WRITE and were retried.
  EXPECT_LT(client.connection->bytesWritten(), data.size());
  ASSERT_TRUE(runUntil([&] { return servers_[0]->reader.received.size() >= data.size(); }));
  EXPECT_TRUE(servers_[0]->reader.received == data);
  EXPECT_FALSE(client.closed());
}

TEST_P(SslSocketVersionTest, SessionResumption) {
  tlsv3::DownstreamTlsContext server = mtlsServerProto();
  setVersions(*server.mutable_common_tls_context(), GetParam(), GetParam());
  auto server_factory = serverFactory(server);
  auto client_factory = clientFactory(mtlsClientProto());
  ASSERT_NE(server_factory, nullptr);
  ASSERT_NE(client_factory, nullptr);
  listen(*server_factory);

  Endpoint& first = connect(*client_factory, "server.example.com");
  ASSERT_TRUE(waitForHandshake(first, 0));
  EXPECT_FALSE(first.ssl->sessionReused());
  // TLS 1.3 tickets arrive after the handshake; an exchange makes sure the client has read them.
  write(*servers_[0], "hello", false);
  ASSERT_TRUE(runUntil([&] { return first.reader.received == "hello"; }));
  ASSERT_TRUE(runUntil([&] { return client_factory->context()->cachedSessionCount() == 1; }));
  first.connection->close(network::ConnectionCloseType::NoFlush);

  Endpoint& second = connect(*client_factory, "server.example.com");
  ASSERT_TRUE(waitForHandshake(second, 1));
  EXPECT_TRUE(second.ssl->sessionReused());
  EXPECT_TRUE(servers_[1]->ssl->sessionReused());
  // The identities survive resumption.
  EXPECT_EQ(second.ssl->peerUriSan(), kServerId);
  EXPECT_EQ(servers_[1]->ssl->peerUriSan(), kClientId);
  write(second, "again", false);
  ASSERT_TRUE(runUntil([&] { return servers_[1]->reader.received == "again"; }));

  // Another server name has no session to resume.
  Endpoint& third = connect(*client_factory, "other.example.com");
  ASSERT_TRUE(waitForHandshake(third, 2));
  EXPECT_FALSE(third.ssl->sessionReused());
}

TEST_F(SslSocketTest, ResumptionOffWithZeroMaxSessionKeys) {
  auto server_factory = serverFactory(mtlsServerProto());
  tlsv3::UpstreamTlsContext client_proto = mtlsClientProto();
  client_proto.mutable_max_session_keys()->set_value(0);
  auto client_factory = clientFactory(client_proto);
  ASSERT_NE(server_factory, nullptr);
  ASSERT_NE(client_factory, nullptr);
  listen(*server_factory);
  Endpoint& first = connect(*client_factory);
  ASSERT_TRUE(waitForHandshake(first, 0));
  write(*servers_[0], "x", false);
  ASSERT_TRUE(runUntil([&] { return first.reader.received == "x"; }));
  Endpoint& second = connect(*client_factory);
  ASSERT_TRUE(waitForHandshake(second, 1));
  EXPECT_EQ(client_factory->context()->cachedSessionCount(), 0u);
  EXPECT_FALSE(second.ssl->sessionReused());
}

// --- ALPN --------------------------------------------------------------------------------------

struct AlpnCase {
  std::vector<std::string> client;
  std::string expected;
};

class SslSocketAlpnTest : public SslSocketTest, public testing::WithParamInterface<AlpnCase> {};

INSTANTIATE_TEST_SUITE_P(Alpn, SslSocketAlpnTest,
                         testing::Values(
                             // The server's preference wins over the client's order.
                             AlpnCase{{"http/1.1", "h2"}, "h2"}, AlpnCase{{"h2"}, "h2"},
                             AlpnCase{{"http/1.1"}, "http/1.1"},
                             // Nothing in common: the handshake goes on without ALPN.
                             AlpnCase{{"spdy/3"}, ""}, AlpnCase{{}, ""}));

TEST_P(SslSocketAlpnTest, ServerSelects) {
  tlsv3::DownstreamTlsContext server = serverProto(server_cert_);
  server.mutable_common_tls_context()->add_alpn_protocols("h2");
  server.mutable_common_tls_context()->add_alpn_protocols("http/1.1");
  tlsv3::UpstreamTlsContext client_proto = clientProto(caPem());
  for (const std::string& protocol : GetParam().client) {
    client_proto.mutable_common_tls_context()->add_alpn_protocols(protocol);
  }
  auto server_factory = serverFactory(server);
  auto client_factory = clientFactory(client_proto);
  ASSERT_NE(server_factory, nullptr);
  ASSERT_NE(client_factory, nullptr);
  listen(*server_factory);
  Endpoint& client = connect(*client_factory);
  ASSERT_TRUE(waitForHandshake(client, 0));
  EXPECT_EQ(client.ssl->protocol(), GetParam().expected);
  EXPECT_EQ(servers_[0]->ssl->alpn(), GetParam().expected);
  EXPECT_EQ(client.connection->nextProtocol(), GetParam().expected);
  EXPECT_EQ(servers_[0]->connection->nextProtocol(), GetParam().expected);
}

// --- Peer verification -------------------------------------------------------------------------

TEST_F(SslSocketTest, SpiffeIdentitiesExposedOnBothSides) {
  auto server_factory = serverFactory(mtlsServerProto());
  auto client_factory = clientFactory(mtlsClientProto());
  ASSERT_NE(server_factory, nullptr);
  ASSERT_NE(client_factory, nullptr);
  listen(*server_factory);
  Endpoint& client = connect(*client_factory, "server.example.com");
  ASSERT_TRUE(waitForHandshake(client, 0));
  const SslSocket& server_ssl = *servers_[0]->ssl;
  EXPECT_TRUE(server_ssl.handshakeComplete());
  EXPECT_TRUE(server_ssl.peerCertificatePresented());
  EXPECT_TRUE(server_ssl.peerCertificateValidated());
  EXPECT_EQ(server_ssl.peerUriSan(), kClientId);
  EXPECT_EQ(server_ssl.localUriSan(), kServerId);
  EXPECT_EQ(server_ssl.sni(), "server.example.com");
  EXPECT_EQ(server_ssl.peerUriSans(), std::vector<std::string>{kClientId});
  EXPECT_EQ(server_ssl.peerCertificateSha256().size(), 64u);
  EXPECT_TRUE(client.ssl->peerCertificateValidated());
  EXPECT_EQ(client.ssl->peerUriSan(), kServerId);
  EXPECT_EQ(client.ssl->localUriSan(), kClientId);
  EXPECT_EQ(client.ssl->peerDnsSans(), std::vector<std::string>{"server.example.com"});
  EXPECT_EQ(client.ssl->sni(), "server.example.com");
  EXPECT_NE(client.ssl->peerCertificateSha256(), server_ssl.peerCertificateSha256());
  // Through the interface the rest of the proxy will use.
  const ConnectionInfo& info = *client.ssl;
  EXPECT_EQ(info.peerUriSan(), kServerId);
}

TEST_F(SslSocketTest, ClientCertificateRequiredButMissing) {
  auto server_factory = serverFactory(mtlsServerProto());
  auto client_factory = clientFactory(clientProto(caPem()));  // no certificate
  ASSERT_NE(server_factory, nullptr);
  ASSERT_NE(client_factory, nullptr);
  listen(*server_factory);
  Endpoint& client = connect(*client_factory);
  ASSERT_TRUE(waitBothClosed(client));
  Endpoint& server_end = *servers_[0];
  EXPECT_EQ(server_end.callbacks.count(ConnectionEvent::Connected), 0);
  EXPECT_FALSE(server_end.ssl->handshakeComplete());
  EXPECT_EQ(server_end.callbacks.count(ConnectionEvent::RemoteClose), 1);
  EXPECT_THAT(server_end.failureReason(), HasSubstr("TLS handshake failed"));
  EXPECT_THAT(server_end.failureReason(), HasSubstr("peer did not return a certificate"));
  // TLS 1.3: the client finishes its side before the server's alert arrives, then fails reading.
  EXPECT_EQ(client.callbacks.count(ConnectionEvent::RemoteClose), 1);
  EXPECT_THAT(client.failureReason(), HasSubstr("alert certificate required"));
  EXPECT_TRUE(server_end.reader.received.empty());
}

TEST_F(SslSocketTest, UntrustedServerCertificateRejected) {
  auto other_ca = TestCertificateAuthority::create();
  ASSERT_TRUE(other_ca.ok());
  auto server_factory = serverFactory(serverProto(server_cert_));
  auto client_factory = clientFactory(clientProto(other_ca->rootPem()));
  ASSERT_NE(server_factory, nullptr);
  ASSERT_NE(client_factory, nullptr);
  listen(*server_factory);
  Endpoint& client = connect(*client_factory);
  ASSERT_TRUE(waitBothClosed(client));
  EXPECT_EQ(client.callbacks.count(ConnectionEvent::Connected), 0);
  EXPECT_THAT(client.failureReason(), HasSubstr("unable to get local issuer certificate"));
  EXPECT_THAT(client.failureReason(), HasSubstr("certificate verify failed"));
  EXPECT_THAT(servers_[0]->failureReason(), HasSubstr("alert unknown ca"));
}

TEST_F(SslSocketTest, UntrustedClientCertificateRejected) {
  auto other_ca = TestCertificateAuthority::create();
  ASSERT_TRUE(other_ca.ok());
  auto stranger = other_ca->issueLeaf();
  ASSERT_TRUE(stranger.ok());
  auto server_factory = serverFactory(mtlsServerProto());
  auto client_factory = clientFactory(clientProto(caPem(), &*stranger));
  ASSERT_NE(server_factory, nullptr);
  ASSERT_NE(client_factory, nullptr);
  listen(*server_factory);
  Endpoint& client = connect(*client_factory);
  ASSERT_TRUE(waitBothClosed(client));
  EXPECT_EQ(servers_[0]->callbacks.count(ConnectionEvent::Connected), 0);
  EXPECT_THAT(servers_[0]->failureReason(), HasSubstr("unable to get local issuer certificate"));
  EXPECT_THAT(client.failureReason(), HasSubstr("alert unknown ca"));
}

TEST_F(SslSocketTest, ExpiredServerCertificateRejected) {
  LeafOptions expired;
  expired.not_before_offset = std::chrono::hours(-48);
  expired.not_after_offset = std::chrono::hours(-24);
  IssuedCertificate old_cert = issue({kServerId}, {}, expired);
  auto server_factory = serverFactory(serverProto(old_cert));
  auto client_factory = clientFactory(clientProto(caPem()));
  ASSERT_NE(server_factory, nullptr);
  ASSERT_NE(client_factory, nullptr);
  listen(*server_factory);
  Endpoint& client = connect(*client_factory);
  ASSERT_TRUE(waitBothClosed(client));
  EXPECT_EQ(client.callbacks.count(ConnectionEvent::Connected), 0);
  EXPECT_THAT(client.failureReason(), HasSubstr("certificate has expired"));
  EXPECT_THAT(servers_[0]->failureReason(), HasSubstr("alert certificate expired"));
}

struct SanCase {
  std::string name;
  tlsv3::SubjectAltNameMatcher::SanType type;
  envoy::type::matcher::v3::StringMatcher matcher;
  bool accepted;
};

class SslSocketSanTest : public SslSocketTest, public testing::WithParamInterface<SanCase> {};

envoy::type::matcher::v3::StringMatcher regexMatcher(const std::string& regex) {
  envoy::type::matcher::v3::StringMatcher matcher;
  matcher.mutable_safe_regex()->set_regex(regex);
  return matcher;
}

INSTANTIATE_TEST_SUITE_P(
    San, SslSocketSanTest,
    testing::Values(SanCase{"UriExact", tlsv3::SubjectAltNameMatcher::URI, exactMatcher(kServerId),
                            true},
                    SanCase{"UriPrefix", tlsv3::SubjectAltNameMatcher::URI,
                            prefixMatcher("spiffe://cluster.local/ns/default/"), true},
                    SanCase{"UriRegex", tlsv3::SubjectAltNameMatcher::URI,
                            regexMatcher("spiffe://cluster\\.local/ns/[^/]+/sa/server"), true},
                    SanCase{"UriExactMismatch", tlsv3::SubjectAltNameMatcher::URI,
                            exactMatcher("spiffe://cluster.local/ns/default/sa/other"), false},
                    SanCase{"UriPrefixMismatch", tlsv3::SubjectAltNameMatcher::URI,
                            prefixMatcher("spiffe://other.domain/"), false},
                    SanCase{"DnsExact", tlsv3::SubjectAltNameMatcher::DNS,
                            exactMatcher("server.example.com"), true},
                    // A URI value does not match a DNS matcher.
                    SanCase{"DnsAgainstUriValue", tlsv3::SubjectAltNameMatcher::DNS,
                            exactMatcher(kServerId), false}),
    [](const auto& info) { return info.param.name; });

TEST_P(SslSocketSanTest, ClientChecksServerSan) {
  auto server_factory = serverFactory(serverProto(server_cert_));
  tlsv3::UpstreamTlsContext client_proto = clientProto(caPem());
  addSanMatcher(*client_proto.mutable_common_tls_context(), GetParam().type, GetParam().matcher);
  auto client_factory = clientFactory(client_proto);
  ASSERT_NE(server_factory, nullptr);
  ASSERT_NE(client_factory, nullptr);
  listen(*server_factory);
  Endpoint& client = connect(*client_factory);
  if (GetParam().accepted) {
    ASSERT_TRUE(waitForHandshake(client, 0));
    EXPECT_TRUE(client.ssl->peerCertificateValidated());
    return;
  }
  ASSERT_TRUE(waitBothClosed(client));
  EXPECT_EQ(client.callbacks.count(ConnectionEvent::Connected), 0);
  EXPECT_THAT(client.failureReason(),
              HasSubstr("match none of common_tls_context.validation_context."
                        "match_typed_subject_alt_names"));
  EXPECT_THAT(client.failureReason(), HasSubstr("URI:" + kServerId));
  EXPECT_FALSE(servers_[0]->failureReason().empty());
}

TEST_F(SslSocketTest, WildcardDnsSanMatchesExactMatcher) {
  IssuedCertificate wildcard = issue({kServerId}, {"*.example.com"});
  auto server_factory = serverFactory(serverProto(wildcard));
  tlsv3::UpstreamTlsContext client_proto = clientProto(caPem());
  addSanMatcher(*client_proto.mutable_common_tls_context(), tlsv3::SubjectAltNameMatcher::DNS,
                exactMatcher("api.example.com"));
  auto client_factory = clientFactory(client_proto);
  ASSERT_NE(server_factory, nullptr);
  ASSERT_NE(client_factory, nullptr);
  listen(*server_factory);
  Endpoint& client = connect(*client_factory);
  ASSERT_TRUE(waitForHandshake(client, 0));
}

TEST_F(SslSocketTest, TwoSpiffeUriSansRejectedUnderSpiffeValidation) {
  IssuedCertificate ambiguous =
      issue({kServerId, "spiffe://cluster.local/ns/default/sa/other"}, {});
  auto server_factory = serverFactory(serverProto(ambiguous));
  tlsv3::UpstreamTlsContext client_proto = clientProto(caPem());
  // Would match the first URI: the SPIFFE rule refuses anyway.
  addSanMatcher(*client_proto.mutable_common_tls_context(), tlsv3::SubjectAltNameMatcher::URI,
                prefixMatcher("spiffe://cluster.local/"));
  auto client_factory = clientFactory(client_proto);
  ASSERT_NE(server_factory, nullptr);
  ASSERT_NE(client_factory, nullptr);
  ASSERT_TRUE(client_factory->context()->spiffeValidation());
  listen(*server_factory);
  Endpoint& client = connect(*client_factory);
  ASSERT_TRUE(waitBothClosed(client));
  EXPECT_EQ(client.callbacks.count(ConnectionEvent::Connected), 0);
  EXPECT_THAT(client.failureReason(), HasSubstr("peer certificate has 2 spiffe:// URI SANs"));
}

TEST_F(SslSocketTest, TwoSpiffeUriSansGiveNoIdentityWithoutSpiffeValidation) {
  IssuedCertificate ambiguous =
      issue({kServerId, "spiffe://cluster.local/ns/default/sa/other"}, {"server.example.com"});
  auto server_factory = serverFactory(serverProto(ambiguous));
  tlsv3::UpstreamTlsContext client_proto = clientProto(caPem());
  addSanMatcher(*client_proto.mutable_common_tls_context(), tlsv3::SubjectAltNameMatcher::DNS,
                exactMatcher("server.example.com"));
  auto client_factory = clientFactory(client_proto);
  ASSERT_NE(server_factory, nullptr);
  ASSERT_NE(client_factory, nullptr);
  ASSERT_FALSE(client_factory->context()->spiffeValidation());
  listen(*server_factory);
  Endpoint& client = connect(*client_factory);
  ASSERT_TRUE(waitForHandshake(client, 0));
  EXPECT_TRUE(client.ssl->peerUriSan().empty());
  EXPECT_EQ(client.ssl->peerUriSans().size(), 2u);
}

TEST_F(SslSocketTest, ClientCertificateWithoutUriSanRejectedUnderSpiffeValidation) {
  IssuedCertificate dns_only = issue({}, {"client.example.com"});
  auto server_factory = serverFactory(mtlsServerProto());
  auto client_factory = clientFactory(clientProto(caPem(), &dns_only));
  ASSERT_NE(server_factory, nullptr);
  ASSERT_NE(client_factory, nullptr);
  listen(*server_factory);
  Endpoint& client = connect(*client_factory);
  ASSERT_TRUE(waitBothClosed(client));
  EXPECT_EQ(servers_[0]->callbacks.count(ConnectionEvent::Connected), 0);
  EXPECT_THAT(servers_[0]->failureReason(), HasSubstr("no spiffe:// URI SAN"));
  EXPECT_FALSE(client.failureReason().empty());
}

TEST_F(SslSocketTest, OptionalClientCertificate) {
  // Validation configured, certificate not required: a client without one is accepted.
  auto server_factory = serverFactory(serverProto(server_cert_, caPem(), false));
  auto client_factory = clientFactory(clientProto(caPem()));
  ASSERT_NE(server_factory, nullptr);
  ASSERT_NE(client_factory, nullptr);
  listen(*server_factory);
  Endpoint& client = connect(*client_factory);
  ASSERT_TRUE(waitForHandshake(client, 0));
  EXPECT_FALSE(servers_[0]->ssl->peerCertificatePresented());
  EXPECT_FALSE(servers_[0]->ssl->peerCertificateValidated());
  EXPECT_TRUE(servers_[0]->ssl->peerUriSan().empty());
  EXPECT_EQ(servers_[0]->ssl->localUriSan(), kServerId);
}

TEST_F(SslSocketTest, RequireSni) {
  tlsv3::DownstreamTlsContext server = serverProto(server_cert_);
  server.mutable_require_sni()->set_value(true);
  auto server_factory = serverFactory(server);
  auto client_factory = clientFactory(clientProto(caPem()));
  ASSERT_NE(server_factory, nullptr);
  ASSERT_NE(client_factory, nullptr);
  listen(*server_factory);
  Endpoint& without = connect(*client_factory);
  ASSERT_TRUE(waitBothClosed(without));
  EXPECT_THAT(servers_[0]->failureReason(), HasSubstr("client sent no SNI"));
  Endpoint& with = connect(*client_factory, "named.example.com");
  ASSERT_TRUE(waitForHandshake(with, 1));
  EXPECT_EQ(servers_[1]->ssl->sni(), "named.example.com");
}

// --- Stream ends and failures ------------------------------------------------------------------

TEST_F(SslSocketTest, HalfCloseWithCloseNotify) {
  auto server_factory = serverFactory(serverProto(server_cert_));
  auto client_factory = clientFactory(clientProto(caPem()));
  ASSERT_NE(server_factory, nullptr);
  ASSERT_NE(client_factory, nullptr);
  listen(*server_factory);
  Endpoint& client = connect(*client_factory);
  ASSERT_TRUE(waitForHandshake(client, 0));
  Endpoint& server_end = *servers_[0];

  write(client, "ping", true);
  // TCP stays open in both directions (no shutdown(SHUT_WR)): only close_notify can end it.
  ASSERT_TRUE(runUntil([&] { return server_end.reader.end_streams == 1; }));
  EXPECT_EQ(server_end.reader.received, "ping");
  EXPECT_FALSE(server_end.closed());
  EXPECT_FALSE(client.closed());

  // The other direction still works.
  write(server_end, "pong", true);
  ASSERT_TRUE(runUntil([&] { return client.closed() && server_end.closed(); }));
  EXPECT_EQ(client.reader.received, "pong");
  EXPECT_EQ(client.reader.end_streams, 1);
  EXPECT_EQ(client.callbacks.count(ConnectionEvent::RemoteClose), 1);
  EXPECT_EQ(server_end.callbacks.count(ConnectionEvent::RemoteClose), 1);
  EXPECT_TRUE(client.failureReason().empty());
  EXPECT_TRUE(server_end.failureReason().empty());
}

TEST_F(SslSocketTest, LocalCloseSendsCloseNotify) {
  auto server_factory = serverFactory(serverProto(server_cert_));
  auto client_factory = clientFactory(clientProto(caPem()));
  ASSERT_NE(server_factory, nullptr);
  ASSERT_NE(client_factory, nullptr);
  listen(*server_factory);
  Endpoint& client = connect(*client_factory);
  ASSERT_TRUE(waitForHandshake(client, 0));
  write(client, "last words", false);
  client.connection->close(network::ConnectionCloseType::FlushWrite);
  ASSERT_TRUE(runUntil([&] { return servers_[0]->reader.end_streams == 1; }));
  EXPECT_EQ(servers_[0]->reader.received, "last words");
  EXPECT_EQ(client.callbacks.count(ConnectionEvent::LocalClose), 1);
}

TEST_F(SslSocketTest, TcpFinWithoutCloseNotifyIsEndOfStream) {
  auto server_factory = serverFactory(serverProto(server_cert_));
  auto client_factory = clientFactory(clientProto(caPem()));
  ASSERT_NE(server_factory, nullptr);
  ASSERT_NE(client_factory, nullptr);
  listen(*server_factory);
  Endpoint& client = connect(*client_factory);
  ASSERT_TRUE(waitForHandshake(client, 0));
  write(client, "data", false);
  ASSERT_TRUE(runUntil([&] { return servers_[0]->reader.received == "data"; }));
  // A peer that just closes its socket (many HTTP clients do).
  ASSERT_EQ(::shutdown(client.connection->fd(), SHUT_WR), 0);
  ASSERT_TRUE(runUntil([&] { return servers_[0]->reader.end_streams == 1; }));
  EXPECT_FALSE(servers_[0]->closed());
  EXPECT_TRUE(servers_[0]->failureReason().empty());
}

TEST_F(SslSocketTest, GarbageInsteadOfClientHello) {
  auto server_factory = serverFactory(serverProto(server_cert_));
  ASSERT_NE(server_factory, nullptr);
  listen(*server_factory);
  Endpoint& raw = connectRaw();
  ASSERT_TRUE(runUntil([&] { return raw.connected(); }));
  write(raw, "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", false);
  ASSERT_TRUE(runUntil([&] { return !servers_.empty() && servers_[0]->closed(); }));
  Endpoint& server_end = *servers_[0];
  EXPECT_EQ(server_end.callbacks.count(ConnectionEvent::RemoteClose), 1);
  EXPECT_EQ(server_end.callbacks.count(ConnectionEvent::Connected), 0);
  EXPECT_THAT(server_end.failureReason(), HasSubstr("TLS handshake failed"));
  EXPECT_THAT(server_end.failureReason(), HasSubstr("SSL routines"));
  EXPECT_TRUE(server_end.reader.received.empty());
  ASSERT_TRUE(runUntil([&] { return raw.closed(); }));
}

TEST_F(SslSocketTest, PeerClosesDuringHandshake) {
  auto server_factory = serverFactory(serverProto(server_cert_));
  ASSERT_NE(server_factory, nullptr);
  listen(*server_factory);
  Endpoint& raw = connectRaw();
  ASSERT_TRUE(runUntil([&] { return raw.connected(); }));
  // The first bytes of a ClientHello record header, then EOF.
  write(raw, std::string("\x16\x03\x01", 3), true);
  ASSERT_TRUE(runUntil([&] { return !servers_.empty() && servers_[0]->closed(); }));
  EXPECT_THAT(servers_[0]->failureReason(), HasSubstr("TLS handshake failed"));
}

TEST_F(SslSocketTest, DataWrittenBeforeHandshakeCompletesIsDelivered) {
  auto server_factory = serverFactory(serverProto(server_cert_));
  auto client_factory = clientFactory(clientProto(caPem()));
  ASSERT_NE(server_factory, nullptr);
  ASSERT_NE(client_factory, nullptr);
  listen(*server_factory);
  Endpoint& client = connect(*client_factory);
  write(client, "early", false);  // still connecting
  ASSERT_TRUE(waitForHandshake(client, 0));
  write(client, " and late", false);
  ASSERT_TRUE(runUntil([&] { return servers_[0]->reader.received == "early and late"; }));
}

TEST_F(SslSocketTest, CloseFromConnectedCallbackStopsIo) {
  auto server_factory = serverFactory(serverProto(server_cert_));
  auto client_factory = clientFactory(clientProto(caPem()));
  ASSERT_NE(server_factory, nullptr);
  ASSERT_NE(client_factory, nullptr);
  // The server closes the moment its handshake completes, from inside the Connected callback.
  struct Closer : network::ConnectionCallbacks {
    void onEvent(ConnectionEvent event) override {
      if (event == ConnectionEvent::Connected) {
        connection->close(network::ConnectionCloseType::NoFlush);
      }
    }
    network::Connection* connection = nullptr;
  };
  Closer closer;
  on_accept_ = [&](Endpoint& endpoint) {
    closer.connection = endpoint.connection.get();
    endpoint.connection->addConnectionCallbacks(closer);
  };
  listen(*server_factory);
  Endpoint& client = connect(*client_factory);
  write(client, "data", false);
  ASSERT_TRUE(runUntil([&] { return !servers_.empty() && servers_[0]->closed(); }));
  EXPECT_EQ(servers_[0]->callbacks.count(ConnectionEvent::LocalClose), 1);
  ASSERT_TRUE(runUntil([&] { return client.closed() || client.reader.end_streams > 0; }));
}

}  // namespace
}  // namespace waystone::tls::test
