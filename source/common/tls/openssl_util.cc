#include "source/common/tls/openssl_util.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

namespace waystone::tls {
namespace {

using GeneralNamesPtr = CPtr<GENERAL_NAMES, GENERAL_NAMES_free>;

std::string asn1Text(const ASN1_STRING* value) {
  if (value == nullptr) {
    return {};
  }
  const unsigned char* data = ASN1_STRING_get0_data(value);
  const int length = ASN1_STRING_length(value);
  if (data == nullptr || length <= 0) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(data), static_cast<size_t>(length));
}

std::string ipText(const ASN1_OCTET_STRING* value) {
  const unsigned char* data = ASN1_STRING_get0_data(value);
  const int length = ASN1_STRING_length(value);
  char text[INET6_ADDRSTRLEN] = {};
  if (length == 4 && ::inet_ntop(AF_INET, data, text, sizeof(text)) != nullptr) {
    return text;
  }
  if (length == 16 && ::inet_ntop(AF_INET6, data, text, sizeof(text)) != nullptr) {
    return text;
  }
  return {};
}

}  // namespace

std::string drainOpensslErrors() {
  std::string out;
  unsigned long code;
  while ((code = ERR_get_error()) != 0) {
    char text[256];
    ERR_error_string_n(code, text, sizeof(text));
    absl::StrAppend(&out, out.empty() ? "" : "; ", text);
  }
  return out;
}

CertificateSans certificateSans(const X509* cert) {
  CertificateSans sans;
  if (cert == nullptr) {
    return sans;
  }
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (names == nullptr) {
    // No extension (or an undecodable one, which chain verification has already refused).
    ERR_clear_error();
    return sans;
  }
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    switch (name->type) {
      case GEN_URI:
        sans.uri.push_back(asn1Text(name->d.uniformResourceIdentifier));
        break;
      case GEN_DNS:
        sans.dns.push_back(asn1Text(name->d.dNSName));
        break;
      case GEN_EMAIL:
        sans.email.push_back(asn1Text(name->d.rfc822Name));
        break;
      case GEN_IPADD: {
        std::string ip = ipText(name->d.iPAddress);
        if (!ip.empty()) {
          sans.ip.push_back(std::move(ip));
        }
        break;
      }
      default:
        break;
    }
  }
  return sans;
}

std::string subjectString(const X509* cert) {
  if (cert == nullptr) {
    return {};
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr) {
    ERR_clear_error();
    return {};
  }
  if (X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) < 0) {
    ERR_clear_error();
    return {};
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  if (length <= 0 || data == nullptr) {
    return {};
  }
  return std::string(data, static_cast<size_t>(length));
}

std::string sha256Hex(const X509* cert) {
  if (cert == nullptr) {
    return {};
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(cert, EVP_sha256(), digest, &length) != 1) {
    ERR_clear_error();
    return {};
  }
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), length));
}

}  // namespace waystone::tls
