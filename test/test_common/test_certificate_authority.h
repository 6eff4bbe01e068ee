#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "source/common/common/c_ptr.h"

namespace waystone::test {

using X509Ptr = CPtr<X509, X509_free>;
using EvpPkeyPtr = CPtr<EVP_PKEY, EVP_PKEY_free>;

enum class KeyType { EcdsaP256, Rsa2048 };

// Default identity of a workload certificate, as issued by istiod for the default service
// account of the default namespace.
inline constexpr absl::string_view kDefaultSpiffeId =
    "spiffe://cluster.local/ns/default/sa/default";

// spiffe://<trust_domain>/ns/<ns>/sa/<sa>
std::string spiffeId(absl::string_view trust_domain, absl::string_view ns, absl::string_view sa);

struct CaOptions {
  // Subject CN. Empty picks "Waystone Test Root CA" for a root and "Waystone Test Intermediate CA
  // <depth>" for an intermediate, so that no two certificates of one chain share a subject.
  std::string common_name;
  // Written as the subject's organisation, as Istio's self-signed CA does (O=cluster.local).
  std::string trust_domain = "cluster.local";
  KeyType key_type = KeyType::EcdsaP256;
  // Validity relative to now. Negative offsets are allowed (e.g. an expired CA).
  std::chrono::seconds not_before_offset = std::chrono::hours(-1);
  std::chrono::seconds not_after_offset = std::chrono::hours(24 * 365);
};

struct LeafOptions {
  // Each becomes one URI SAN. The default makes a valid SPIFFE workload certificate; use {} for
  // "no URI SAN" and two entries for the invalid "two SPIFFE IDs" case.
  std::vector<std::string> spiffe_uri_sans = {std::string(kDefaultSpiffeId)};
  std::vector<std::string> dns_sans;
  // IPv4 or IPv6 literals, e.g. "127.0.0.1" for a backend that clients dial by address.
  std::vector<std::string> ip_sans;
  // Empty means an empty subject (like Istio workload certificates); the SAN extension is then
  // marked critical as RFC 5280 requires.
  std::string common_name;
  KeyType key_type = KeyType::EcdsaP256;
  // Validity relative to now. Default: valid since an hour ago (tolerates clock skew) for a day.
  // Expired certificate: not_before_offset = -48h, not_after_offset = -24h.
  std::chrono::seconds not_before_offset = std::chrono::hours(-1);
  std::chrono::seconds not_after_offset = std::chrono::hours(24);
  // A leaf with CA:TRUE (negative tests: a CA certificate presented as a workload identity).
  bool is_ca = false;
  // Extended key usage. Both by default, as a workload is both client and server.
  bool server_auth = true;
  bool client_auth = true;
};

// A certificate issued by a TestCertificateAuthority, in PEM.
struct IssuedCertificate {
  std::string cert_pem;       // the leaf alone
  std::string key_pem;        // unencrypted PKCS#8 private key
  std::string chain_pem;      // leaf followed by the intermediate CAs (never the root)
  std::string ca_bundle_pem;  // the root CA certificate: the trust bundle to verify against

  // Paths written by writeFiles().
  struct Files {
    std::string cert_chain_path;
    std::string key_path;
    std::string ca_bundle_path;
  };

  // Writes <dir>/<name>.crt (chain), <dir>/<name>.key (mode 0600) and <dir>/<name>-ca.crt.
  absl::StatusOr<Files> writeFiles(const std::string& dir, absl::string_view name) const;
};

// A certificate authority kept in memory, for tests that need real X.509 material: a self-signed
// root by default, or an intermediate issued by another authority (issueIntermediate). Every
// failure of OpenSSL comes back as a status naming the failing call.
class TestCertificateAuthority {
 public:
  static absl::StatusOr<TestCertificateAuthority> create(const CaOptions& options = CaOptions());

  TestCertificateAuthority(TestCertificateAuthority&&) = default;
  TestCertificateAuthority& operator=(TestCertificateAuthority&&) = default;

  // A leaf certificate signed by this authority.
  absl::StatusOr<IssuedCertificate> issueLeaf(const LeafOptions& options = LeafOptions()) const;

  // An intermediate CA signed by this authority; its leaves carry the whole chain.
  absl::StatusOr<TestCertificateAuthority> issueIntermediate(
      const CaOptions& options = CaOptions()) const;

  // This authority's own certificate and key.
  const std::string& certPem() const { return cert_pem_; }
  const std::string& keyPem() const { return key_pem_; }
  // The root certificate of this authority's chain (itself for a root): the trust bundle.
  const std::string& rootPem() const { return root_pem_; }
  // Intermediate CA certificates from this authority up to, not including, the root (empty for a
  // root).
  const std::string& intermediatesPem() const { return intermediates_pem_; }

  X509* cert() const { return cert_.get(); }
  EVP_PKEY* key() const { return key_.get(); }

 private:
  TestCertificateAuthority() = default;

  // A CA certificate signed by `issuer`, or self-signed when `issuer` is null.
  static absl::StatusOr<TestCertificateAuthority> build(const CaOptions& options,
                                                        absl::string_view default_common_name,
                                                        const TestCertificateAuthority* issuer);

  X509Ptr cert_;
  EvpPkeyPtr key_;
  std::string cert_pem_;
  std::string key_pem_;
  std::string root_pem_;
  std::string intermediates_pem_;
};

// Parses the first certificate of a PEM string (helper for tests that inspect certificates).
absl::StatusOr<X509Ptr> parseCertificatePem(absl::string_view pem);

}  // namespace waystone::test
