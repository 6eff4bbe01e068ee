#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "source/common/common/c_ptr.h"
#include "source/common/tls/certificate_sans.h"

namespace waystone::tls {

// RAII for the OpenSSL handles used under source/common/tls/.
using SslCtxPtr = CPtr<SSL_CTX, SSL_CTX_free>;
using SslPtr = CPtr<SSL, SSL_free>;
using SslSessionPtr = CPtr<SSL_SESSION, SSL_SESSION_free>;
using X509Ptr = CPtr<X509, X509_free>;
using EvpPkeyPtr = CPtr<EVP_PKEY, EVP_PKEY_free>;
using BioPtr = CPtr<BIO, BIO_free_all>;

// Every error queued on this thread, "; "-separated in OpenSSL's text form
// ("error:0A000086:SSL routines::certificate verify failed"), and the queue emptied so that the
// next failure reports only its own errors. Empty if nothing was queued.
std::string drainOpensslErrors();

// The SANs of `cert` (none for null).
CertificateSans certificateSans(const X509* cert);

// RFC 2253 form of the subject, e.g. "CN=foo,O=bar".
std::string subjectString(const X509* cert);

// Lower-case hex SHA-256 of the DER encoding.
std::string sha256Hex(const X509* cert);

}  // namespace waystone::tls
