#include "source/common/tls/context_config.h"

#include <cstdio>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "source/common/tls/certificate_sans.h"
#include "source/common/tls/context_impl.h"
#include "source/common/tls/san_matcher.h"
#include "source/common/tls/string_matcher.h"
#include "test/common/tls/tls_test_util.h"
#include "test/test_common/temp_dir.h"
#include "test/test_common/test_certificate_authority.h"

namespace waystone::tls::test {
namespace {

using testing::HasSubstr;
using waystone::test::KeyType;
using waystone::test::LeafOptions;
using waystone::test::TempDir;
using waystone::test::TestCertificateAuthority;

class ContextConfigTest : public testing::Test {
 protected:
  void SetUp() override {
    auto ca = TestCertificateAuthority::create();
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_ = std::make_unique<TestCertificateAuthority>(*std::move(ca));
    auto cert = ca_->issueLeaf();
    ASSERT_TRUE(cert.ok()) << cert.status();
    cert_ = *std::move(cert);
  }

  // The first error of config + context creation, or OK.
  static absl::Status serverStatus(const tlsv3::DownstreamTlsContext& proto) {
    absl::StatusOr<ServerContextConfig> config = ServerContextConfig::create(proto);
    if (!config.ok()) {
      return config.status();
    }
    return ServerContext::create(*config).status();
  }
  static absl::Status clientStatus(const tlsv3::UpstreamTlsContext& proto) {
    absl::StatusOr<ClientContextConfig> config = ClientContextConfig::create(proto);
    if (!config.ok()) {
      return config.status();
    }
    return ClientContext::create(*config).status();
  }

  tlsv3::DownstreamTlsContext validServer() const { return serverProto(cert_, ca_->rootPem()); }

  std::unique_ptr<TestCertificateAuthority> ca_;
  IssuedCertificate cert_;
};

void expectError(const absl::Status& status, const std::string& message) {
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(status.message(), message);
}

void expectErrorContaining(const absl::Status& status, const std::string& part) {
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr(part));
}

TEST_F(ContextConfigTest, ValidServerDefaults) {
  absl::StatusOr<ServerContextConfig> config = ServerContextConfig::create(validServer());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->min_version, TlsVersion::Tls12);
  EXPECT_EQ(config->max_version, TlsVersion::Tls13);
  ASSERT_EQ(config->certificates.size(), 1u);
  EXPECT_EQ(config->certificates[0].path, "common_tls_context.tls_certificates[0]");
  EXPECT_EQ(config->certificates[0].certificate_chain_pem, cert_.chain_pem);
  ASSERT_TRUE(config->validation.has_value());
  EXPECT_FALSE(config->validation->spiffe);
  EXPECT_TRUE(config->stateless_resumption);
  EXPECT_FALSE(config->require_client_certificate);
  auto context = ServerContext::create(*config);
  ASSERT_TRUE(context.ok()) << context.status();
  EXPECT_TRUE((*context)->validatesPeer());
  EXPECT_TRUE((*context)->isServer());
}

TEST_F(ContextConfigTest, CertificatesFromFiles) {
  TempDir dir;
  auto files = cert_.writeFiles(dir.path(), "server");
  ASSERT_TRUE(files.ok()) << files.status();
  tlsv3::DownstreamTlsContext proto;
  tlsv3::TlsCertificate* certificate = proto.mutable_common_tls_context()->add_tls_certificates();
  certificate->mutable_certificate_chain()->set_filename(files->cert_chain_path);
  certificate->mutable_private_key()->set_filename(files->key_path);
  proto.mutable_common_tls_context()
      ->mutable_validation_context()
      ->mutable_trusted_ca()
      ->set_filename(files->ca_bundle_path);
  absl::StatusOr<ServerContextConfig> config = ServerContextConfig::create(proto);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->certificates[0].private_key_pem, cert_.key_pem);
  EXPECT_EQ(config->validation->trusted_ca_pem, ca_->rootPem());
  EXPECT_TRUE(ServerContext::create(*config).ok());
}

TEST_F(ContextConfigTest, MissingFile) {
  tlsv3::DownstreamTlsContext proto = validServer();
  proto.mutable_common_tls_context()
      ->mutable_tls_certificates(0)
      ->mutable_certificate_chain()
      ->set_filename("/nonexistent/x.pem");
  expectError(serverStatus(proto),
              "common_tls_context.tls_certificates[0].certificate_chain: cannot read "
              "/nonexistent/x.pem: No such file or directory");
}

TEST_F(ContextConfigTest, MissingCaFile) {
  tlsv3::DownstreamTlsContext proto = validServer();
  proto.mutable_common_tls_context()
      ->mutable_validation_context()
      ->mutable_trusted_ca()
      ->set_filename("/nonexistent/ca.pem");
  expectError(serverStatus(proto),
              "common_tls_context.validation_context.trusted_ca: cannot read /nonexistent/ca.pem: "
              "No such file or directory");
}

TEST_F(ContextConfigTest, EmptyFile) {
  TempDir dir;
  const std::string empty = dir.file("empty.pem");
  FILE* f = std::fopen(empty.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  tlsv3::DownstreamTlsContext proto = validServer();
  proto.mutable_common_tls_context()
      ->mutable_tls_certificates(0)
      ->mutable_private_key()
      ->set_filename(empty);
  expectError(serverStatus(proto),
              "common_tls_context.tls_certificates[0].private_key: " + empty + " is empty");
}

TEST_F(ContextConfigTest, EnvironmentVariableSourceUnsupported) {
  tlsv3::DownstreamTlsContext proto = validServer();
  proto.mutable_common_tls_context()
      ->mutable_tls_certificates(0)
      ->mutable_private_key()
      ->set_environment_variable("KEY");
  expectError(serverStatus(proto),
              "common_tls_context.tls_certificates[0].private_key.environment_variable: not "
              "supported (use filename or inline)");
}

TEST_F(ContextConfigTest, ServerNeedsACertificate) {
  tlsv3::DownstreamTlsContext proto;
  expectError(serverStatus(proto),
              "common_tls_context.tls_certificates: a server context needs at least one "
              "certificate");
}

TEST_F(ContextConfigTest, SdsFieldsUnsupported) {
  {
    tlsv3::DownstreamTlsContext proto = validServer();
    proto.mutable_common_tls_context()->add_tls_certificate_sds_secret_configs()->set_name(
        "default");
    expectError(serverStatus(proto),
                "common_tls_context.tls_certificate_sds_secret_configs: not supported (SDS is not "
                "supported yet: give the secret inline or as a file)");
  }
  {
    tlsv3::DownstreamTlsContext proto = serverProto(cert_);
    proto.mutable_common_tls_context()->mutable_validation_context_sds_secret_config()->set_name(
        "ROOTCA");
    expectErrorContaining(serverStatus(proto),
                          "common_tls_context.validation_context_sds_secret_config: not supported");
  }
  {
    tlsv3::UpstreamTlsContext proto = clientProto("");
    proto.mutable_common_tls_context()
        ->mutable_combined_validation_context()
        ->mutable_validation_context_sds_secret_config()
        ->set_name("ROOTCA");
    proto.mutable_common_tls_context()
        ->mutable_combined_validation_context()
        ->mutable_default_validation_context();
    expectErrorContaining(clientStatus(proto),
                          "common_tls_context.combined_validation_context: not supported");
  }
  {
    tlsv3::DownstreamTlsContext proto = validServer();
    proto.mutable_session_ticket_keys_sds_secret_config()->set_name("keys");
    expectErrorContaining(serverStatus(proto),
                          "session_ticket_keys_sds_secret_config: not supported");
  }
}

TEST_F(ContextConfigTest, PrivateKeyProviderAndOcspUnsupported) {
  {
    tlsv3::DownstreamTlsContext proto = validServer();
    proto.mutable_common_tls_context()
        ->mutable_tls_certificates(0)
        ->mutable_private_key_provider()
        ->set_provider_name("pkcs11");
    expectError(serverStatus(proto),
                "common_tls_context.tls_certificates[0].private_key_provider: not supported");
  }
  {
    tlsv3::DownstreamTlsContext proto = validServer();
    proto.mutable_common_tls_context()
        ->mutable_tls_certificates(0)
        ->mutable_ocsp_staple()
        ->set_inline_bytes("x");
    expectError(serverStatus(proto),
                "common_tls_context.tls_certificates[0].ocsp_staple: not supported");
  }
  {
    tlsv3::DownstreamTlsContext proto = validServer();
    proto.set_ocsp_staple_policy(tlsv3::DownstreamTlsContext::MUST_STAPLE);
    expectError(serverStatus(proto), "ocsp_staple_policy: not supported");
  }
}

TEST_F(ContextConfigTest, OtherUnsupportedFields) {
  {
    tlsv3::DownstreamTlsContext proto = validServer();
    proto.mutable_common_tls_context()->mutable_tls_params()->add_signature_algorithms(
        "ecdsa_secp256r1_sha256");
    expectError(serverStatus(proto),
                "common_tls_context.tls_params.signature_algorithms: not supported");
  }
  {
    tlsv3::DownstreamTlsContext proto = validServer();
    proto.mutable_common_tls_context()->mutable_validation_context()->add_verify_certificate_spki(
        std::string(44, 'A'));
    expectError(serverStatus(proto),
                "common_tls_context.validation_context.verify_certificate_spki: not supported");
  }
  {
    tlsv3::DownstreamTlsContext proto = validServer();
    proto.mutable_common_tls_context()->mutable_validation_context()->set_trust_chain_verification(
        tlsv3::CertificateValidationContext::ACCEPT_UNTRUSTED);
    expectError(serverStatus(proto),
                "common_tls_context.validation_context.trust_chain_verification: not supported");
  }
  {
    tlsv3::UpstreamTlsContext proto = clientProto(ca_->rootPem());
    proto.mutable_enforce_rsa_key_usage()->set_value(true);
    expectError(clientStatus(proto), "enforce_rsa_key_usage: not supported");
  }
}

TEST_F(ContextConfigTest, ProtocolVersions) {
  {
    tlsv3::DownstreamTlsContext proto = validServer();
    setVersions(*proto.mutable_common_tls_context(), tlsv3::TlsParameters::TLSv1_0,
                tlsv3::TlsParameters::TLS_AUTO);
    expectError(serverStatus(proto),
                "common_tls_context.tls_params.tls_minimum_protocol_version: TLSv1_0 is not "
                "supported (TLSv1_2 is the oldest version this proxy speaks)");
  }
  {
    tlsv3::DownstreamTlsContext proto = validServer();
    setVersions(*proto.mutable_common_tls_context(), tlsv3::TlsParameters::TLSv1_3,
                tlsv3::TlsParameters::TLSv1_2);
    expectError(serverStatus(proto),
                "common_tls_context.tls_params.tls_maximum_protocol_version: TLSv1_2 is lower "
                "than tls_minimum_protocol_version TLSv1_3");
  }
  {
    tlsv3::UpstreamTlsContext proto = clientProto("");
    setVersions(*proto.mutable_common_tls_context(), tlsv3::TlsParameters::TLSv1_3,
                tlsv3::TlsParameters::TLS_AUTO);
    auto config = ClientContextConfig::create(proto);
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_EQ(config->min_version, TlsVersion::Tls13);
    EXPECT_EQ(config->max_version, TlsVersion::Tls13);
  }
}

TEST_F(ContextConfigTest, CipherSuitesAndCurves) {
  {
    tlsv3::DownstreamTlsContext proto = validServer();
    proto.mutable_common_tls_context()->mutable_tls_params()->add_cipher_suites(
        "ECDHE-ECDSA-AES128-GCM-SHA256");
    proto.mutable_common_tls_context()->mutable_tls_params()->add_cipher_suites("FOO-BAR");
    expectError(serverStatus(proto),
                "common_tls_context.tls_params.cipher_suites[1]: unknown cipher suite \"FOO-BAR\"");
  }
  {
    tlsv3::DownstreamTlsContext proto = validServer();
    proto.mutable_common_tls_context()->mutable_tls_params()->add_cipher_suites("TLS_FAKE_SHA256");
    expectError(serverStatus(proto),
                "common_tls_context.tls_params.cipher_suites[0]: unknown TLS 1.3 cipher suite "
                "\"TLS_FAKE_SHA256\"");
  }
  {
    // Envoy's equal-preference group syntax and TLS 1.3 names are accepted.
    tlsv3::DownstreamTlsContext proto = validServer();
    proto.mutable_common_tls_context()->mutable_tls_params()->add_cipher_suites(
        "[ECDHE-ECDSA-AES128-GCM-SHA256|ECDHE-ECDSA-CHACHA20-POLY1305]");
    proto.mutable_common_tls_context()->mutable_tls_params()->add_cipher_suites(
        "TLS_AES_256_GCM_SHA384");
    proto.mutable_common_tls_context()->mutable_tls_params()->add_ecdh_curves("P-256");
    proto.mutable_common_tls_context()->mutable_tls_params()->add_ecdh_curves("X25519");
    EXPECT_TRUE(serverStatus(proto).ok()) << serverStatus(proto);
  }
  {
    tlsv3::DownstreamTlsContext proto = validServer();
    proto.mutable_common_tls_context()->mutable_tls_params()->add_ecdh_curves("P-256");
    proto.mutable_common_tls_context()->mutable_tls_params()->add_ecdh_curves("curve1174");
    expectError(serverStatus(proto),
                "common_tls_context.tls_params.ecdh_curves[1]: unknown curve \"curve1174\"");
  }
}

TEST_F(ContextConfigTest, BadPem) {
  {
    tlsv3::DownstreamTlsContext proto = validServer();
    proto.mutable_common_tls_context()
        ->mutable_tls_certificates(0)
        ->mutable_certificate_chain()
        ->set_inline_string("not a certificate");
    expectError(serverStatus(proto),
                "common_tls_context.tls_certificates[0].certificate_chain: no PEM certificate "
                "found");
  }
  {
    tlsv3::DownstreamTlsContext proto = validServer();
    proto.mutable_common_tls_context()
        ->mutable_tls_certificates(0)
        ->mutable_certificate_chain()
        ->set_inline_string("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    expectErrorContaining(
        serverStatus(proto),
        "common_tls_context.tls_certificates[0].certificate_chain: invalid PEM certificate #1");
  }
  {
    tlsv3::DownstreamTlsContext proto = validServer();
    proto.mutable_common_tls_context()
        ->mutable_tls_certificates(0)
        ->mutable_private_key()
        ->set_inline_string("garbage");
    expectErrorContaining(serverStatus(proto),
                          "common_tls_context.tls_certificates[0].private_key: no valid PEM "
                          "private key found");
  }
  {
    tlsv3::DownstreamTlsContext proto = validServer();
    proto.mutable_common_tls_context()
        ->mutable_validation_context()
        ->mutable_trusted_ca()
        ->set_inline_string("garbage");
    expectError(serverStatus(proto),
                "common_tls_context.validation_context.trusted_ca: no PEM certificate found");
  }
}

TEST_F(ContextConfigTest, KeyDoesNotMatchCertificate) {
  auto other = ca_->issueLeaf();
  ASSERT_TRUE(other.ok());
  tlsv3::DownstreamTlsContext proto = validServer();
  proto.mutable_common_tls_context()
      ->mutable_tls_certificates(0)
      ->mutable_private_key()
      ->set_inline_string(other->key_pem);
  expectErrorContaining(serverStatus(proto),
                        "common_tls_context.tls_certificates[0].private_key: does not match the "
                        "certificate");
}

TEST_F(ContextConfigTest, OneCertificatePerKeyType) {
  LeafOptions rsa;
  rsa.key_type = KeyType::Rsa2048;
  auto rsa_cert = ca_->issueLeaf(rsa);
  ASSERT_TRUE(rsa_cert.ok());
  auto second_ecdsa = ca_->issueLeaf();
  ASSERT_TRUE(second_ecdsa.ok());
  {
    tlsv3::DownstreamTlsContext proto = validServer();
    addInlineCertificate(*proto.mutable_common_tls_context(), *rsa_cert);
    EXPECT_TRUE(serverStatus(proto).ok()) << serverStatus(proto);
  }
  {
    tlsv3::DownstreamTlsContext proto = validServer();
    addInlineCertificate(*proto.mutable_common_tls_context(), *second_ecdsa);
    expectError(serverStatus(proto),
                "common_tls_context.tls_certificates[1]: a second certificate with a "
                "id-ecPublicKey key (at most one certificate per key type)");
  }
  {
    tlsv3::UpstreamTlsContext proto = clientProto(ca_->rootPem(), &cert_);
    addInlineCertificate(*proto.mutable_common_tls_context(), *rsa_cert);
    expectError(clientStatus(proto),
                "common_tls_context.tls_certificates: a client context takes at most one "
                "certificate");
  }
}

TEST_F(ContextConfigTest, ValidationRules) {
  {
    tlsv3::DownstreamTlsContext proto = serverProto(cert_, "", true);
    expectError(serverStatus(proto),
                "require_client_certificate: needs "
                "common_tls_context.validation_context.trusted_ca to verify the client "
                "certificate against");
  }
  {
    tlsv3::UpstreamTlsContext proto = clientProto("");
    addSanMatcher(*proto.mutable_common_tls_context(), tlsv3::SubjectAltNameMatcher::URI,
                  exactMatcher("spiffe://a/b"));
    expectErrorContaining(clientStatus(proto),
                          "common_tls_context.validation_context.match_typed_subject_alt_names: "
                          "SAN-based verification of peer certificates without trusted_ca is "
                          "insecure and not allowed");
  }
  {
    tlsv3::UpstreamTlsContext proto = clientProto(ca_->rootPem());
    addSanMatcher(*proto.mutable_common_tls_context(), tlsv3::SubjectAltNameMatcher::URI,
                  exactMatcher("spiffe://a/b"));
    addSanMatcher(*proto.mutable_common_tls_context(), tlsv3::SubjectAltNameMatcher::OTHER_NAME,
                  exactMatcher("x"));
    expectError(clientStatus(proto),
                "common_tls_context.validation_context.match_typed_subject_alt_names[1].san_type: "
                "OTHER_NAME is not supported (use DNS, URI, EMAIL or IP_ADDRESS)");
  }
  {
    tlsv3::UpstreamTlsContext proto = clientProto(ca_->rootPem());
    envoy::type::matcher::v3::StringMatcher bad;
    bad.mutable_safe_regex()->set_regex("spiffe://(unclosed");
    addSanMatcher(*proto.mutable_common_tls_context(), tlsv3::SubjectAltNameMatcher::URI, bad);
    expectErrorContaining(clientStatus(proto),
                          "common_tls_context.validation_context.match_typed_subject_alt_names[0]."
                          "matcher.safe_regex.regex: invalid regex \"spiffe://(unclosed\"");
  }
  {
    // protoc-gen-validate rules apply too, with the same paths.
    tlsv3::UpstreamTlsContext proto = clientProto(ca_->rootPem());
    tlsv3::SubjectAltNameMatcher* matcher = proto.mutable_common_tls_context()
                                                ->mutable_validation_context()
                                                ->add_match_typed_subject_alt_names();
    matcher->set_san_type(tlsv3::SubjectAltNameMatcher::URI);
    expectErrorContaining(
        clientStatus(proto),
        "common_tls_context.validation_context.match_typed_subject_alt_names[0].matcher");
  }
}

TEST_F(ContextConfigTest, AlpnProtocolLength) {
  tlsv3::DownstreamTlsContext proto = validServer();
  proto.mutable_common_tls_context()->add_alpn_protocols("h2");
  proto.mutable_common_tls_context()->add_alpn_protocols(std::string(256, 'x'));
  expectError(serverStatus(proto),
              "common_tls_context.alpn_protocols[1]: must be 1 to 255 bytes long");
}

TEST_F(ContextConfigTest, ClientOptions) {
  tlsv3::UpstreamTlsContext proto = clientProto(ca_->rootPem(), &cert_);
  proto.set_sni("upstream.example.com");
  proto.set_allow_renegotiation(true);  // accepted and ignored
  proto.mutable_max_session_keys()->set_value(5);
  auto config = ClientContextConfig::create(proto);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->sni, "upstream.example.com");
  EXPECT_EQ(config->max_session_keys, 5u);
  auto context = ClientContext::create(*config);
  ASSERT_TRUE(context.ok()) << context.status();
  EXPECT_EQ((*context)->sni(), "upstream.example.com");
  EXPECT_FALSE((*context)->isServer());
}

TEST_F(ContextConfigTest, SpiffeRuleFollowsUriMatchers) {
  const auto spiffe_of = [&](const envoy::type::matcher::v3::StringMatcher& matcher,
                             tlsv3::SubjectAltNameMatcher::SanType type) {
    tlsv3::UpstreamTlsContext proto = clientProto(ca_->rootPem());
    addSanMatcher(*proto.mutable_common_tls_context(), type, matcher);
    auto config = ClientContextConfig::create(proto);
    EXPECT_TRUE(config.ok()) << config.status();
    return config.ok() && config->validation->spiffe;
  };
  envoy::type::matcher::v3::StringMatcher regex;
  regex.mutable_safe_regex()->set_regex("^spiffe://cluster\\.local/.*");
  envoy::type::matcher::v3::StringMatcher upper;
  upper.set_prefix("SPIFFE://cluster.local/");
  EXPECT_TRUE(spiffe_of(exactMatcher("spiffe://td/ns/a/sa/b"), tlsv3::SubjectAltNameMatcher::URI));
  EXPECT_TRUE(spiffe_of(prefixMatcher("spiffe://td/"), tlsv3::SubjectAltNameMatcher::URI));
  EXPECT_TRUE(spiffe_of(regex, tlsv3::SubjectAltNameMatcher::URI));
  EXPECT_TRUE(spiffe_of(upper, tlsv3::SubjectAltNameMatcher::URI));
  EXPECT_FALSE(spiffe_of(prefixMatcher("https://"), tlsv3::SubjectAltNameMatcher::URI));
  EXPECT_FALSE(spiffe_of(exactMatcher("spiffe://td/x"), tlsv3::SubjectAltNameMatcher::DNS));
}

// --- Matchers ----------------------------------------------------------------------------------

TEST(StringMatcherTest, Kinds) {
  envoy::type::matcher::v3::StringMatcher proto;
  proto.set_suffix("/sa/default");
  auto suffix = StringMatcher::create(proto, "m");
  ASSERT_TRUE(suffix.ok());
  EXPECT_TRUE(suffix->match("spiffe://td/ns/x/sa/default"));
  EXPECT_FALSE(suffix->match("spiffe://td/ns/x/sa/defaults"));

  proto.set_contains("/NS/");
  proto.set_ignore_case(true);
  auto contains = StringMatcher::create(proto, "m");
  ASSERT_TRUE(contains.ok());
  EXPECT_TRUE(contains->match("spiffe://td/ns/x"));
  EXPECT_FALSE(contains->match("spiffe://td/nsx/"));

  proto.set_exact("Spiffe://TD/a");
  auto exact = StringMatcher::create(proto, "m");
  ASSERT_TRUE(exact.ok());
  EXPECT_TRUE(exact->match("spiffe://td/A"));

  proto.set_ignore_case(false);
  proto.mutable_safe_regex()->set_regex("spiffe://td/ns/[a-z]+");
  auto regex = StringMatcher::create(proto, "m");
  ASSERT_TRUE(regex.ok());
  EXPECT_TRUE(regex->match("spiffe://td/ns/abc"));
  // Whole-string match, not a search.
  EXPECT_FALSE(regex->match("spiffe://td/ns/abc/sa/x"));

  envoy::type::matcher::v3::StringMatcher none;
  expectError(StringMatcher::create(none, "a.matcher").status(),
              "a.matcher: one of exact, prefix, suffix, contains or safe_regex is required");
}

TEST(CertificateSansTest, SpiffeUris) {
  CertificateSans sans;
  sans.uri = {"https://example.com", "SPIFFE://td/ns/a/sa/b"};
  EXPECT_EQ(sans.spiffeUris().size(), 1u);
  EXPECT_EQ(sans.uniqueSpiffeUri(), "SPIFFE://td/ns/a/sa/b");
  sans.uri.push_back("spiffe://td/ns/a/sa/c");
  EXPECT_EQ(sans.spiffeUris().size(), 2u);
  EXPECT_TRUE(sans.uniqueSpiffeUri().empty());
}

TEST(CertificateSansTest, DnsNameMatch) {
  EXPECT_TRUE(dnsNameMatch("api.example.com", "api.example.com"));
  EXPECT_TRUE(dnsNameMatch("API.example.com", "api.EXAMPLE.com"));
  EXPECT_TRUE(dnsNameMatch("api.example.com", "*.example.com"));
  EXPECT_FALSE(dnsNameMatch("a.b.example.com", "*.example.com"));
  EXPECT_FALSE(dnsNameMatch("example.com", "*.example.com"));
  EXPECT_FALSE(dnsNameMatch("api.example.org", "*.example.com"));
}

TEST(SanMatcherTest, MatchesOnlyItsType) {
  tlsv3::SubjectAltNameMatcher proto;
  proto.set_san_type(tlsv3::SubjectAltNameMatcher::IP_ADDRESS);
  proto.mutable_matcher()->set_exact("127.0.0.1");
  auto matcher = SanMatcher::create(proto, "m");
  ASSERT_TRUE(matcher.ok()) << matcher.status();
  CertificateSans sans;
  sans.dns = {"127.0.0.1"};
  EXPECT_FALSE(matcher->match(sans));
  sans.ip = {"127.0.0.1"};
  EXPECT_TRUE(matcher->match(sans));
  EXPECT_FALSE(matcher->isSpiffe());
}

}  // namespace
}  // namespace waystone::tls::test
