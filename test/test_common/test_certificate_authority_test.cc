#include "test/test_common/test_certificate_authority.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include "test/test_common/file_util.h"
#include "test/test_common/temp_dir.h"

namespace waystone::test {
namespace {

using BioPtr = CPtr<BIO, BIO_free_all>;
using X509StorePtr = CPtr<X509_STORE, X509_STORE_free>;
using X509StoreCtxPtr = CPtr<X509_STORE_CTX, X509_STORE_CTX_free>;
using GeneralNamesPtr = CPtr<GENERAL_NAMES, GENERAL_NAMES_free>;

struct X509StackDeleter {
  // Frees only the stack: the certificates belong to a std::vector<X509Ptr>.
  void operator()(STACK_OF(X509) * stack) const { sk_X509_free(stack); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackDeleter>;

std::vector<X509Ptr> parseAll(const std::string& pem) {
  std::vector<X509Ptr> certs;
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EXPECT_NE(bio, nullptr);
  while (bio != nullptr) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (cert == nullptr) {
      break;
    }
    certs.push_back(std::move(cert));
  }
  ERR_clear_error();  // the loop ends on "no start line"
  return certs;
}

// X509_verify_cert of the first certificate of `chain_pem`, with the rest as untrusted
// intermediates and `bundle_pem` as the trust store. Returns the verification error code
// (X509_V_OK on success).
int verifyChain(const std::string& chain_pem, const std::string& bundle_pem) {
  std::vector<X509Ptr> chain = parseAll(chain_pem);
  std::vector<X509Ptr> roots = parseAll(bundle_pem);
  EXPECT_FALSE(chain.empty());
  EXPECT_FALSE(roots.empty());
  if (chain.empty() || roots.empty()) {
    return X509_V_ERR_UNSPECIFIED;
  }
  X509StorePtr store(X509_STORE_new());
  for (const X509Ptr& root : roots) {
    EXPECT_EQ(X509_STORE_add_cert(store.get(), root.get()), 1);
  }
  X509StackPtr untrusted(sk_X509_new_null());
  for (size_t i = 1; i < chain.size(); ++i) {
    EXPECT_GT(sk_X509_push(untrusted.get(), chain[i].get()), 0);
  }
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  EXPECT_EQ(X509_STORE_CTX_init(ctx.get(), store.get(), chain[0].get(), untrusted.get()), 1);
  const int result = X509_verify_cert(ctx.get());
  const int error = X509_STORE_CTX_get_error(ctx.get());
  EXPECT_EQ(result == 1, error == X509_V_OK);
  return error;
}

struct SubjectAltNames {
  std::vector<std::string> uris;
  std::vector<std::string> dns;
  int ip_count = 0;
};

SubjectAltNames subjectAltNames(X509* cert) {
  SubjectAltNames result;
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_URI) {
      const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
      result.uris.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                               ASN1_STRING_length(uri));
    } else if (name->type == GEN_DNS) {
      const ASN1_IA5STRING* dns = name->d.dNSName;
      result.dns.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                              ASN1_STRING_length(dns));
    } else if (name->type == GEN_IPADD) {
      ++result.ip_count;
    }
  }
  return result;
}

X509Ptr parse(const std::string& pem) {
  absl::StatusOr<X509Ptr> cert = parseCertificatePem(pem);
  EXPECT_TRUE(cert.ok()) << cert.status();
  return cert.ok() ? *std::move(cert) : nullptr;
}

TestCertificateAuthority makeCa(const CaOptions& options = CaOptions()) {
  absl::StatusOr<TestCertificateAuthority> ca = TestCertificateAuthority::create(options);
  EXPECT_TRUE(ca.ok()) << ca.status();
  return *std::move(ca);
}

IssuedCertificate issue(const TestCertificateAuthority& ca,
                        const LeafOptions& options = LeafOptions()) {
  absl::StatusOr<IssuedCertificate> leaf = ca.issueLeaf(options);
  EXPECT_TRUE(leaf.ok()) << leaf.status();
  return leaf.ok() ? *std::move(leaf) : IssuedCertificate();
}

TEST(TestCertificateAuthorityTest, RootCaIsSelfSignedEcdsaCa) {
  TestCertificateAuthority ca = makeCa();
  EXPECT_GT(X509_check_ca(ca.cert()), 0);
  EXPECT_EQ(EVP_PKEY_get_base_id(ca.key()), EVP_PKEY_EC);
  EXPECT_EQ(ca.rootPem(), ca.certPem());
  EXPECT_TRUE(ca.intermediatesPem().empty());
  EXPECT_EQ(verifyChain(ca.certPem(), ca.rootPem()), X509_V_OK);
  char organization[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(ca.cert()), NID_organizationName, organization,
                            sizeof(organization));
  EXPECT_STREQ(organization, "cluster.local");
}

TEST(TestCertificateAuthorityTest, DefaultLeafIsValidSpiffeWorkloadCertificate) {
  TestCertificateAuthority ca = makeCa();
  IssuedCertificate leaf = issue(ca);
  EXPECT_EQ(verifyChain(leaf.chain_pem, leaf.ca_bundle_pem), X509_V_OK);
  EXPECT_EQ(leaf.chain_pem, leaf.cert_pem);  // no intermediates under a root
  EXPECT_EQ(leaf.ca_bundle_pem, ca.certPem());

  X509Ptr cert = parse(leaf.cert_pem);
  ASSERT_NE(cert, nullptr);
  SubjectAltNames sans = subjectAltNames(cert.get());
  ASSERT_EQ(sans.uris.size(), 1u);
  EXPECT_EQ(sans.uris[0], "spiffe://cluster.local/ns/default/sa/default");
  EXPECT_TRUE(sans.dns.empty());

  EXPECT_EQ(X509_check_ca(cert.get()), 0);
  EXPECT_EQ(X509_get_key_usage(cert.get()), KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
  EXPECT_EQ(X509_get_extended_key_usage(cert.get()), XKU_SSL_SERVER | XKU_SSL_CLIENT);
  EXPECT_EQ(EVP_PKEY_get_base_id(X509_get0_pubkey(cert.get())), EVP_PKEY_EC);
  // Empty subject, as Istio issues them, so the SAN extension must be critical.
  EXPECT_EQ(X509_NAME_entry_count(X509_get_subject_name(cert.get())), 0);
  const int san_index = X509_get_ext_by_NID(cert.get(), NID_subject_alt_name, -1);
  ASSERT_GE(san_index, 0);
  EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(cert.get(), san_index)), 1);

  // Valid now, expiring within a day or so.
  EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(cert.get())), 0);
  EXPECT_GT(X509_cmp_current_time(X509_get0_notAfter(cert.get())), 0);
  int days = 0;
  int seconds = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(cert.get()),
                           X509_get0_notAfter(cert.get())),
            1);
  EXPECT_EQ(days, 1);
  EXPECT_EQ(seconds, 3600);

  // The key belongs to the certificate.
  BioPtr key_bio(BIO_new_mem_buf(leaf.key_pem.data(), static_cast<int>(leaf.key_pem.size())));
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
}

TEST(TestCertificateAuthorityTest, ExpiredLeafFailsVerification) {
  TestCertificateAuthority ca = makeCa();
  LeafOptions options;
  options.not_before_offset = std::chrono::hours(-48);
  options.not_after_offset = std::chrono::hours(-24);
  IssuedCertificate leaf = issue(ca, options);
  EXPECT_EQ(verifyChain(leaf.chain_pem, leaf.ca_bundle_pem), X509_V_ERR_CERT_HAS_EXPIRED);
}

TEST(TestCertificateAuthorityTest, NotYetValidLeafFailsVerification) {
  TestCertificateAuthority ca = makeCa();
  LeafOptions options;
  options.not_before_offset = std::chrono::hours(24);
  options.not_after_offset = std::chrono::hours(48);
  IssuedCertificate leaf = issue(ca, options);
  EXPECT_EQ(verifyChain(leaf.chain_pem, leaf.ca_bundle_pem), X509_V_ERR_CERT_NOT_YET_VALID);
}

TEST(TestCertificateAuthorityTest, LeafFromAnotherCaFailsVerification) {
  TestCertificateAuthority trusted = makeCa();
  CaOptions other_options;
  other_options.common_name = "Some Other CA";
  TestCertificateAuthority other = makeCa(other_options);
  IssuedCertificate leaf = issue(other);
  EXPECT_EQ(verifyChain(leaf.chain_pem, leaf.ca_bundle_pem), X509_V_OK);
  EXPECT_NE(verifyChain(leaf.chain_pem, trusted.rootPem()), X509_V_OK);

  // Same subject as the trusted CA but a different key: still rejected.
  TestCertificateAuthority impostor = makeCa();
  IssuedCertificate impostor_leaf = issue(impostor);
  EXPECT_NE(verifyChain(impostor_leaf.chain_pem, trusted.rootPem()), X509_V_OK);
}

TEST(TestCertificateAuthorityTest, SanVariantsForNegativeTests) {
  TestCertificateAuthority ca = makeCa();

  LeafOptions two_ids;
  two_ids.spiffe_uri_sans = {spiffeId("cluster.local", "a", "one"),
                             spiffeId("cluster.local", "b", "two")};
  X509Ptr two = parse(issue(ca, two_ids).cert_pem);
  ASSERT_NE(two, nullptr);
  EXPECT_EQ(subjectAltNames(two.get()).uris,
            (std::vector<std::string>{"spiffe://cluster.local/ns/a/sa/one",
                                      "spiffe://cluster.local/ns/b/sa/two"}));

  LeafOptions no_uri;
  no_uri.spiffe_uri_sans.clear();
  no_uri.dns_sans = {"backend.default.svc.cluster.local", "localhost"};
  no_uri.ip_sans = {"127.0.0.1", "::1"};
  no_uri.common_name = "backend";
  IssuedCertificate no_uri_leaf = issue(ca, no_uri);
  EXPECT_EQ(verifyChain(no_uri_leaf.chain_pem, no_uri_leaf.ca_bundle_pem), X509_V_OK);
  X509Ptr no_uri_cert = parse(no_uri_leaf.cert_pem);
  ASSERT_NE(no_uri_cert, nullptr);
  SubjectAltNames sans = subjectAltNames(no_uri_cert.get());
  EXPECT_TRUE(sans.uris.empty());
  EXPECT_EQ(sans.dns, (std::vector<std::string>{"backend.default.svc.cluster.local", "localhost"}));
  EXPECT_EQ(sans.ip_count, 2);
  EXPECT_EQ(X509_check_host(no_uri_cert.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(no_uri_cert.get(), "127.0.0.1", 0), 1);

  LeafOptions nothing;
  nothing.spiffe_uri_sans.clear();
  X509Ptr bare = parse(issue(ca, nothing).cert_pem);
  ASSERT_NE(bare, nullptr);
  EXPECT_LT(X509_get_ext_by_NID(bare.get(), NID_subject_alt_name, -1), 0);

  LeafOptions bad_ip;
  bad_ip.ip_sans = {"not-an-ip"};
  EXPECT_FALSE(ca.issueLeaf(bad_ip).ok());
}

TEST(TestCertificateAuthorityTest, LeafFlagsForNegativeTests) {
  TestCertificateAuthority ca = makeCa();
  LeafOptions options;
  options.is_ca = true;
  options.client_auth = false;
  X509Ptr cert = parse(issue(ca, options).cert_pem);
  ASSERT_NE(cert, nullptr);
  EXPECT_GT(X509_check_ca(cert.get()), 0);
  EXPECT_EQ(X509_get_extended_key_usage(cert.get()), XKU_SSL_SERVER);
}

TEST(TestCertificateAuthorityTest, IntermediateChainVerifies) {
  TestCertificateAuthority root = makeCa();
  absl::StatusOr<TestCertificateAuthority> intermediate = root.issueIntermediate();
  ASSERT_TRUE(intermediate.ok()) << intermediate.status();
  absl::StatusOr<TestCertificateAuthority> second = intermediate->issueIntermediate();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->rootPem(), root.certPem());
  EXPECT_EQ(second->intermediatesPem(), second->certPem() + intermediate->certPem());

  IssuedCertificate leaf = issue(*second);
  EXPECT_EQ(parseAll(leaf.chain_pem).size(), 3u);
  EXPECT_EQ(leaf.ca_bundle_pem, root.certPem());
  EXPECT_EQ(verifyChain(leaf.chain_pem, leaf.ca_bundle_pem), X509_V_OK);
  // Without the intermediates the root alone cannot vouch for the leaf.
  EXPECT_EQ(verifyChain(leaf.cert_pem, leaf.ca_bundle_pem),
            X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
}

TEST(TestCertificateAuthorityTest, RsaKeys) {
  CaOptions ca_options;
  ca_options.key_type = KeyType::Rsa2048;
  TestCertificateAuthority ca = makeCa(ca_options);
  EXPECT_EQ(EVP_PKEY_get_base_id(ca.key()), EVP_PKEY_RSA);
  LeafOptions options;
  options.key_type = KeyType::Rsa2048;
  IssuedCertificate leaf = issue(ca, options);
  EXPECT_EQ(verifyChain(leaf.chain_pem, leaf.ca_bundle_pem), X509_V_OK);
  X509Ptr cert = parse(leaf.cert_pem);
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(EVP_PKEY_get_base_id(X509_get0_pubkey(cert.get())), EVP_PKEY_RSA);
  EXPECT_EQ(EVP_PKEY_get_bits(X509_get0_pubkey(cert.get())), 2048);
}

TEST(TestCertificateAuthorityTest, WritesPemFiles) {
  TestCertificateAuthority root = makeCa();
  absl::StatusOr<TestCertificateAuthority> intermediate = root.issueIntermediate();
  ASSERT_TRUE(intermediate.ok()) << intermediate.status();
  IssuedCertificate leaf = issue(*intermediate);
  TempDir dir;
  absl::StatusOr<IssuedCertificate::Files> files = leaf.writeFiles(dir.path(), "workload");
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->cert_chain_path, dir.file("workload.crt"));
  EXPECT_EQ(files->key_path, dir.file("workload.key"));
  EXPECT_EQ(files->ca_bundle_path, dir.file("workload-ca.crt"));
  EXPECT_EQ(readFile(files->cert_chain_path).value_or(""), leaf.chain_pem);
  EXPECT_EQ(readFile(files->key_path).value_or(""), leaf.key_pem);
  EXPECT_EQ(readFile(files->ca_bundle_path).value_or(""), root.certPem());
  struct stat st;
  ASSERT_EQ(::stat(files->key_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(verifyChain(readFile(files->cert_chain_path).value_or(""),
                        readFile(files->ca_bundle_path).value_or("")),
            X509_V_OK);
}

}  // namespace
}  // namespace waystone::test
