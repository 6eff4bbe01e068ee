#include "test/test_common/test_certificate_authority.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "test/test_common/file_util.h"

namespace waystone::test {
namespace {

using BioPtr = CPtr<BIO, BIO_free_all>;
using BignumPtr = CPtr<BIGNUM, BN_free>;
using GeneralNamesPtr = CPtr<GENERAL_NAMES, GENERAL_NAMES_free>;
using GeneralNamePtr = CPtr<GENERAL_NAME, GENERAL_NAME_free>;
using Asn1StringPtr = CPtr<ASN1_STRING, ASN1_STRING_free>;
using X509ExtensionPtr = CPtr<X509_EXTENSION, X509_EXTENSION_free>;

// A status carrying `what` and every queued OpenSSL error, which also empties the error queue so
// that the next failure reports only its own errors.
absl::Status opensslError(absl::string_view what) {
  std::string message(what);
  unsigned long code;
  while ((code = ERR_get_error()) != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    absl::StrAppend(&message, ": ", buffer);
  }
  return absl::InternalError(message);
}

absl::StatusOr<EvpPkeyPtr> generateKey(KeyType type) {
  EVP_PKEY* key = nullptr;
  switch (type) {
    case KeyType::EcdsaP256:
      key = EVP_EC_gen("P-256");
      break;
    case KeyType::Rsa2048:
      key = EVP_RSA_gen(2048);
      break;
  }
  if (key == nullptr) {
    return opensslError("key generation failed");
  }
  return EvpPkeyPtr(key);
}

absl::StatusOr<std::string> bioContents(BIO* bio) {
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  if (length < 0 || (length > 0 && data == nullptr)) {
    return opensslError("BIO_get_mem_data failed");
  }
  return std::string(data, static_cast<size_t>(length));
}

absl::StatusOr<std::string> certificateToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr) {
    return opensslError("BIO_new failed");
  }
  if (PEM_write_bio_X509(bio.get(), cert) != 1) {
    return opensslError("PEM_write_bio_X509 failed");
  }
  return bioContents(bio.get());
}

absl::StatusOr<std::string> privateKeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr) {
    return opensslError("BIO_new failed");
  }
  if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return opensslError("PEM_write_bio_PrivateKey failed");
  }
  return bioContents(bio.get());
}

absl::Status setRandomSerial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    return opensslError("RAND_bytes failed");
  }
  bytes[0] &= 0x7f;  // serial numbers must be positive
  bytes[0] |= 0x01;  // and non-zero
  BignumPtr serial(BN_bin2bn(bytes, sizeof(bytes), nullptr));
  if (serial == nullptr) {
    return opensslError("BN_bin2bn failed");
  }
  if (BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) == nullptr) {
    return opensslError("BN_to_ASN1_INTEGER failed");
  }
  return absl::OkStatus();
}

absl::Status addNameEntry(X509_NAME* name, const char* field, const std::string& value) {
  if (value.empty()) {
    return absl::OkStatus();
  }
  if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(value.data()),
                                 static_cast<int>(value.size()), -1, 0) != 1) {
    return opensslError(absl::StrCat("X509_NAME_add_entry_by_txt(", field, ") failed"));
  }
  return absl::OkStatus();
}

// Adds an extension from its OpenSSL configuration-file text form, e.g. "critical,CA:FALSE".
absl::Status addExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509ExtensionPtr extension(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
  if (extension == nullptr) {
    return opensslError(absl::StrCat("X509V3_EXT_nconf_nid(", OBJ_nid2sn(nid), ", ", value, ")"));
  }
  if (X509_add_ext(cert, extension.get(), -1) != 1) {
    return opensslError(absl::StrCat("X509_add_ext(", OBJ_nid2sn(nid), ") failed"));
  }
  return absl::OkStatus();
}

// Built by hand rather than from the "URI:...,DNS:..." text form, which would split on commas
// inside a value.
absl::Status addSubjectAltNames(X509* cert, const LeafOptions& options, bool critical) {
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  if (names == nullptr) {
    return opensslError("sk_GENERAL_NAME_new_null failed");
  }
  auto push_string = [&](int type, const std::string& value) -> absl::Status {
    GeneralNamePtr name(GENERAL_NAME_new());
    Asn1StringPtr text(ASN1_IA5STRING_new());
    if (name == nullptr || text == nullptr ||
        ASN1_STRING_set(text.get(), value.data(), static_cast<int>(value.size())) != 1) {
      return opensslError("building a GENERAL_NAME failed");
    }
    GENERAL_NAME_set0_value(name.get(), type, text.release());
    if (sk_GENERAL_NAME_push(names.get(), name.get()) == 0) {
      return opensslError("sk_GENERAL_NAME_push failed");
    }
    name.release();  // now owned by `names`
    return absl::OkStatus();
  };
  for (const std::string& uri : options.spiffe_uri_sans) {
    if (absl::Status status = push_string(GEN_URI, uri); !status.ok()) {
      return status;
    }
  }
  for (const std::string& dns : options.dns_sans) {
    if (absl::Status status = push_string(GEN_DNS, dns); !status.ok()) {
      return status;
    }
  }
  for (const std::string& ip : options.ip_sans) {
    Asn1StringPtr address(a2i_IPADDRESS(ip.c_str()));
    if (address == nullptr) {
      ERR_clear_error();
      return absl::InvalidArgumentError(absl::StrCat("not an IP address: ", ip));
    }
    GeneralNamePtr name(GENERAL_NAME_new());
    if (name == nullptr) {
      return opensslError("GENERAL_NAME_new failed");
    }
    GENERAL_NAME_set0_value(name.get(), GEN_IPADD, address.release());
    if (sk_GENERAL_NAME_push(names.get(), name.get()) == 0) {
      return opensslError("sk_GENERAL_NAME_push failed");
    }
    name.release();
  }
  if (sk_GENERAL_NAME_num(names.get()) == 0) {
    return absl::OkStatus();
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), critical ? 1 : 0,
                        X509V3_ADD_DEFAULT) != 1) {
    return opensslError("X509_add1_ext_i2d(subjectAltName) failed");
  }
  return absl::OkStatus();
}

struct CertificateParams {
  std::string common_name;
  std::string organization;
  std::chrono::seconds not_before_offset;
  std::chrono::seconds not_after_offset;
};

// The fields shared by every certificate: version, serial, validity, names, public key. `issuer`
// null means self-signed.
absl::StatusOr<X509Ptr> newCertificate(const CertificateParams& params, EVP_PKEY* subject_key,
                                       X509* issuer) {
  X509Ptr cert(X509_new());
  if (cert == nullptr) {
    return opensslError("X509_new failed");
  }
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return opensslError("X509_set_version failed");
  }
  if (absl::Status status = setRandomSerial(cert.get()); !status.ok()) {
    return status;
  }
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), params.not_before_offset.count()) ==
          nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), params.not_after_offset.count()) == nullptr) {
    return opensslError("X509_gmtime_adj failed");
  }
  X509_NAME* subject = X509_get_subject_name(cert.get());
  if (absl::Status status = addNameEntry(subject, "O", params.organization); !status.ok()) {
    return status;
  }
  if (absl::Status status = addNameEntry(subject, "CN", params.common_name); !status.ok()) {
    return status;
  }
  if (X509_set_issuer_name(cert.get(),
                           issuer != nullptr ? X509_get_subject_name(issuer) : subject) != 1) {
    return opensslError("X509_set_issuer_name failed");
  }
  if (X509_set_pubkey(cert.get(), subject_key) != 1) {
    return opensslError("X509_set_pubkey failed");
  }
  return cert;
}

absl::Status sign(X509* cert, EVP_PKEY* issuer_key) {
  if (X509_sign(cert, issuer_key, EVP_sha256()) <= 0) {
    return opensslError("X509_sign failed");
  }
  return absl::OkStatus();
}

}  // namespace

std::string spiffeId(absl::string_view trust_domain, absl::string_view ns, absl::string_view sa) {
  return absl::StrCat("spiffe://", trust_domain, "/ns/", ns, "/sa/", sa);
}

absl::StatusOr<IssuedCertificate::Files> IssuedCertificate::writeFiles(
    const std::string& dir, absl::string_view name) const {
  Files files;
  files.cert_chain_path = absl::StrCat(dir, "/", name, ".crt");
  files.key_path = absl::StrCat(dir, "/", name, ".key");
  files.ca_bundle_path = absl::StrCat(dir, "/", name, "-ca.crt");
  if (absl::Status status = writeFile(files.cert_chain_path, chain_pem); !status.ok()) {
    return status;
  }
  if (absl::Status status = writeFile(files.key_path, key_pem, 0600); !status.ok()) {
    return status;
  }
  if (absl::Status status = writeFile(files.ca_bundle_path, ca_bundle_pem); !status.ok()) {
    return status;
  }
  return files;
}

absl::StatusOr<TestCertificateAuthority> TestCertificateAuthority::create(
    const CaOptions& options) {
  return build(options, "Waystone Test Root CA", nullptr);
}

absl::StatusOr<TestCertificateAuthority> TestCertificateAuthority::issueIntermediate(
    const CaOptions& options) const {
  // Depth counted from the root, so each level of a chain has a distinct subject.
  int depth = 1;
  for (size_t pos = intermediates_pem_.find("BEGIN CERTIFICATE"); pos != std::string::npos;
       pos = intermediates_pem_.find("BEGIN CERTIFICATE", pos + 1)) {
    ++depth;
  }
  return build(options, absl::StrCat("Waystone Test Intermediate CA ", depth), this);
}

absl::StatusOr<TestCertificateAuthority> TestCertificateAuthority::build(
    const CaOptions& options, absl::string_view default_common_name,
    const TestCertificateAuthority* issuer) {
  absl::StatusOr<EvpPkeyPtr> key = generateKey(options.key_type);
  if (!key.ok()) {
    return key.status();
  }
  CertificateParams params{
      options.common_name.empty() ? std::string(default_common_name) : options.common_name,
      options.trust_domain, options.not_before_offset, options.not_after_offset};
  X509* issuer_cert = issuer != nullptr ? issuer->cert_.get() : nullptr;
  absl::StatusOr<X509Ptr> cert = newCertificate(params, key->get(), issuer_cert);
  if (!cert.ok()) {
    return cert.status();
  }
  X509* raw = cert->get();
  std::vector<std::pair<int, const char*>> extensions = {
      {NID_basic_constraints, "critical,CA:TRUE"},
      {NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature"},
      {NID_subject_key_identifier, "hash"},
  };
  if (issuer != nullptr) {
    extensions.emplace_back(NID_authority_key_identifier, "keyid:always");
  }
  for (const auto& [nid, value] : extensions) {
    if (absl::Status status =
            addExtension(raw, issuer_cert != nullptr ? issuer_cert : raw, nid, value);
        !status.ok()) {
      return status;
    }
  }
  if (absl::Status status = sign(raw, issuer != nullptr ? issuer->key_.get() : key->get());
      !status.ok()) {
    return status;
  }

  TestCertificateAuthority ca;
  absl::StatusOr<std::string> cert_pem = certificateToPem(raw);
  if (!cert_pem.ok()) {
    return cert_pem.status();
  }
  absl::StatusOr<std::string> key_pem = privateKeyToPem(key->get());
  if (!key_pem.ok()) {
    return key_pem.status();
  }
  ca.cert_ = std::move(*cert);
  ca.key_ = std::move(*key);
  ca.cert_pem_ = std::move(*cert_pem);
  ca.key_pem_ = std::move(*key_pem);
  if (issuer == nullptr) {
    ca.root_pem_ = ca.cert_pem_;
  } else {
    ca.root_pem_ = issuer->root_pem_;
    ca.intermediates_pem_ = absl::StrCat(ca.cert_pem_, issuer->intermediates_pem_);
  }
  return ca;
}

absl::StatusOr<IssuedCertificate> TestCertificateAuthority::issueLeaf(
    const LeafOptions& options) const {
  absl::StatusOr<EvpPkeyPtr> key = generateKey(options.key_type);
  if (!key.ok()) {
    return key.status();
  }
  CertificateParams params{options.common_name, "", options.not_before_offset,
                           options.not_after_offset};
  absl::StatusOr<X509Ptr> cert = newCertificate(params, key->get(), cert_.get());
  if (!cert.ok()) {
    return cert.status();
  }
  X509* raw = cert->get();
  std::string extended_key_usage;
  if (options.server_auth) {
    extended_key_usage = "serverAuth";
  }
  if (options.client_auth) {
    absl::StrAppend(&extended_key_usage, extended_key_usage.empty() ? "" : ",", "clientAuth");
  }
  std::vector<std::pair<int, std::string>> extensions = {
      {NID_basic_constraints, options.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE"},
      {NID_key_usage, options.is_ca ? "critical,digitalSignature,keyEncipherment,keyCertSign"
                                    : "critical,digitalSignature,keyEncipherment"},
      {NID_subject_key_identifier, "hash"},
      {NID_authority_key_identifier, "keyid:always"},
  };
  if (!extended_key_usage.empty()) {
    extensions.emplace_back(NID_ext_key_usage, extended_key_usage);
  }
  for (const auto& [nid, value] : extensions) {
    if (absl::Status status = addExtension(raw, cert_.get(), nid, value.c_str()); !status.ok()) {
      return status;
    }
  }
  // RFC 5280 4.2.1.6: with an empty subject the SAN extension must be critical.
  if (absl::Status status = addSubjectAltNames(raw, options, options.common_name.empty());
      !status.ok()) {
    return status;
  }
  if (absl::Status status = sign(raw, key_.get()); !status.ok()) {
    return status;
  }

  IssuedCertificate issued;
  absl::StatusOr<std::string> cert_pem = certificateToPem(raw);
  if (!cert_pem.ok()) {
    return cert_pem.status();
  }
  absl::StatusOr<std::string> key_pem = privateKeyToPem(key->get());
  if (!key_pem.ok()) {
    return key_pem.status();
  }
  issued.cert_pem = std::move(*cert_pem);
  issued.key_pem = std::move(*key_pem);
  issued.chain_pem = absl::StrCat(issued.cert_pem, intermediates_pem_);
  issued.ca_bundle_pem = root_pem_;
  return issued;
}

absl::StatusOr<X509Ptr> parseCertificatePem(absl::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) {
    return opensslError("BIO_new_mem_buf failed");
  }
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) {
    return opensslError("PEM_read_bio_X509 failed");
  }
  return cert;
}

}  // namespace waystone::test
