#include "source/common/tls/context_impl.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "source/common/common/logger.h"

namespace waystone::tls {
namespace {

// Envoy's default TLS 1.2 suites (its "[A|B]" groups flattened: OpenSSL has no equal preference).
constexpr absl::string_view kDefaultTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384";
// The TLS 1.3 suites in BoringSSL's (so Envoy's) order.
constexpr absl::string_view kDefaultTls13Ciphers =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr absl::string_view kKnownTls13Ciphers[] = {
    "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"};
constexpr absl::string_view kDefaultCurves = "X25519:P-256";

constexpr absl::string_view kParamsPath = "common_tls_context.tls_params";

int handshakeCallbacksIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

ContextImpl::HandshakeCallbacks* handshakeCallbacks(const SSL* ssl) {
  if (ssl == nullptr || handshakeCallbacksIndex() < 0) {
    return nullptr;
  }
  return static_cast<ContextImpl::HandshakeCallbacks*>(
      SSL_get_ex_data(ssl, handshakeCallbacksIndex()));
}

absl::Status opensslError(absl::string_view path, absl::string_view what) {
  std::string errors = drainOpensslErrors();
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": ", what, errors.empty() ? "" : ": ", errors));
}

// Never prompts for a passphrase: encrypted keys are refused instead of blocking on a terminal.
int noPassword(char*, int, int, void*) { return -1; }

// Reads every certificate of a PEM text. Fails on a malformed block; an empty result is the
// caller's to judge.
absl::StatusOr<std::vector<X509Ptr>> readCertificates(absl::string_view pem,
                                                      const std::string& path) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) {
    return opensslError(path, "out of memory");
  }
  std::vector<X509Ptr> certificates;
  while (true) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, noPassword, nullptr));
    if (cert == nullptr) {
      const unsigned long error = ERR_peek_last_error();
      if (ERR_GET_LIB(error) == ERR_LIB_PEM && ERR_GET_REASON(error) == PEM_R_NO_START_LINE) {
        ERR_clear_error();  // the end of the text
        break;
      }
      return opensslError(path, absl::StrCat("invalid PEM certificate #", certificates.size() + 1));
    }
    certificates.push_back(std::move(cert));
  }
  return certificates;
}

// "[A|B]" -> A, B (Envoy's equal-preference groups).
std::vector<std::string> flattenCipherGroup(absl::string_view entry) {
  if (entry.size() >= 2 && entry.front() == '[' && entry.back() == ']') {
    entry = entry.substr(1, entry.size() - 2);
  }
  return absl::StrSplit(entry, '|', absl::SkipEmpty());
}

std::string keyTypeName(int type) {
  const char* name = OBJ_nid2sn(type);
  return name != nullptr ? name : absl::StrCat("key type ", type);
}

}  // namespace

bool ContextImpl::attachHandshakeCallbacks(SSL* ssl, HandshakeCallbacks* callbacks) {
  const int index = handshakeCallbacksIndex();
  return index >= 0 && SSL_set_ex_data(ssl, index, callbacks) == 1;
}

absl::string_view ContextImpl::localUriSan(const X509* cert) const {
  for (const LocalCertificate& local : local_certificates_) {
    if (local.cert.get() == cert) {
      return local.spiffe_uri;
    }
  }
  return {};
}

std::string ContextImpl::checkPeerIdentity(const CertificateSans& sans) const {
  if (!validation_.has_value()) {
    return {};
  }
  if (validation_->spiffe) {
    const std::vector<absl::string_view> spiffe = sans.spiffeUris();
    if (spiffe.empty()) {
      return "peer certificate has no spiffe:// URI SAN (SPIFFE validation requires exactly one)";
    }
    if (spiffe.size() > 1) {
      return absl::StrCat("peer certificate has ", spiffe.size(), " spiffe:// URI SANs (",
                          absl::StrJoin(spiffe, ", "), "); SPIFFE validation requires exactly one");
    }
  }
  if (validation_->san_matchers.empty()) {
    return {};
  }
  for (const SanMatcher& matcher : validation_->san_matchers) {
    if (matcher.match(sans)) {
      return {};
    }
  }
  std::vector<std::string> all;
  for (const std::string& uri : sans.uri) {
    all.push_back(absl::StrCat("URI:", uri));
  }
  for (const std::string& dns : sans.dns) {
    all.push_back(absl::StrCat("DNS:", dns));
  }
  for (const std::string& email : sans.email) {
    all.push_back(absl::StrCat("email:", email));
  }
  for (const std::string& ip : sans.ip) {
    all.push_back(absl::StrCat("IP:", ip));
  }
  return absl::StrCat("peer certificate SANs [", absl::StrJoin(all, ", "), "] match none of ",
                      validation_->path, ".match_typed_subject_alt_names");
}

int ContextImpl::verifyCallback(X509_STORE_CTX* store_ctx, void* arg) {
  const auto* self = static_cast<const ContextImpl*>(arg);
  const auto* ssl = static_cast<const SSL*>(
      X509_STORE_CTX_get_ex_data(store_ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
  HandshakeCallbacks* callbacks = handshakeCallbacks(ssl);
  if (X509_verify_cert(store_ctx) != 1) {
    const int error = X509_STORE_CTX_get_error(store_ctx);
    if (callbacks != nullptr) {
      callbacks->onHandshakeRefused(absl::StrFormat(
          "peer certificate verification failed at depth %d: %s",
          X509_STORE_CTX_get_error_depth(store_ctx),
          error != X509_V_OK ? X509_verify_cert_error_string(error) : "internal error"));
    }
    if (error == X509_V_OK) {
      X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_UNSPECIFIED);
    }
    return 0;
  }
  std::string refused =
      self->checkPeerIdentity(certificateSans(X509_STORE_CTX_get0_cert(store_ctx)));
  if (!refused.empty()) {
    if (callbacks != nullptr) {
      callbacks->onHandshakeRefused(std::move(refused));
    }
    X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_APPLICATION_VERIFICATION);
    return 0;
  }
  return 1;
}

absl::Status ContextImpl::initialize(const ContextConfig& config) {
  ctx_.reset(SSL_CTX_new(TLS_method()));
  if (ctx_ == nullptr) {
    return opensslError("common_tls_context", "SSL_CTX_new failed");
  }
  SSL_CTX* ctx = ctx_.get();
  // Renegotiation is refused on both sides; an EOF without close_notify ends the stream (see
  // the header); no compression (CRIME).
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
                               SSL_OP_NO_COMPRESSION |
                               (is_server_ ? SSL_OP_CIPHER_SERVER_PREFERENCE : 0));
  // Writes come from the connection's buffer, whose first bytes may move between a WANT_WRITE and
  // the retry; partial writes let SslSocket drain exactly what was sent. Idle connections give
  // their record buffers back.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  // The callbacks that get no argument of their own (new session) find the context here.
  if (SSL_CTX_set_app_data(ctx, this) != 1) {
    return opensslError("common_tls_context", "SSL_CTX_set_app_data failed");
  }

  if (absl::Status status = setProtocolVersions(config); !status.ok()) {
    return status;
  }
  if (absl::Status status = setCipherSuites(config); !status.ok()) {
    return status;
  }
  if (absl::Status status = setCurves(config); !status.ok()) {
    return status;
  }
  std::vector<int> key_types;
  for (const TlsCertificateConfig& certificate : config.certificates) {
    if (absl::Status status = addCertificate(certificate, key_types); !status.ok()) {
      return status;
    }
  }
  alpn_protocols_ = config.alpn_protocols;
  if (config.validation.has_value()) {
    if (absl::Status status = setTrustedCa(*config.validation); !status.ok()) {
      return status;
    }
    validation_ = config.validation;
    SSL_CTX_set_cert_verify_callback(ctx, verifyCallback, this);
  }

  // Sessions (tickets and the server cache) belong to this context alone: a random id context
  // (required by OpenSSL to resume sessions whose peer was verified).
  unsigned char session_id_context[SSL_MAX_SID_CTX_LENGTH];
  if (RAND_bytes(session_id_context, sizeof(session_id_context)) != 1 ||
      SSL_CTX_set_session_id_context(ctx, session_id_context, sizeof(session_id_context)) != 1) {
    return opensslError("common_tls_context", "cannot set the session id context");
  }
  return absl::OkStatus();
}

absl::Status ContextImpl::setProtocolVersions(const ContextConfig& config) {
  const auto to_openssl = [](TlsVersion version) {
    return version == TlsVersion::Tls12 ? TLS1_2_VERSION : TLS1_3_VERSION;
  };
  if (SSL_CTX_set_min_proto_version(ctx_.get(), to_openssl(config.min_version)) != 1) {
    return opensslError(absl::StrCat(kParamsPath, ".tls_minimum_protocol_version"),
                        absl::StrCat(tlsVersionName(config.min_version), " is not available"));
  }
  if (SSL_CTX_set_max_proto_version(ctx_.get(), to_openssl(config.max_version)) != 1) {
    return opensslError(absl::StrCat(kParamsPath, ".tls_maximum_protocol_version"),
                        absl::StrCat(tlsVersionName(config.max_version), " is not available"));
  }
  return absl::OkStatus();
}

absl::Status ContextImpl::setCipherSuites(const ContextConfig& config) {
  std::vector<std::string> tls12;
  std::vector<std::string> tls13;
  for (size_t i = 0; i < config.cipher_suites.size(); ++i) {
    const std::string path = absl::StrCat(kParamsPath, ".cipher_suites[", i, "]");
    const std::vector<std::string> names = flattenCipherGroup(config.cipher_suites[i]);
    if (names.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": no cipher suite in \"", config.cipher_suites[i], "\""));
    }
    for (const std::string& name : names) {
      if (absl::StartsWith(name, "TLS_")) {
        if (std::find(std::begin(kKnownTls13Ciphers), std::end(kKnownTls13Ciphers), name) ==
            std::end(kKnownTls13Ciphers)) {
          return absl::InvalidArgumentError(
              absl::StrCat(path, ": unknown TLS 1.3 cipher suite \"", name, "\""));
        }
        tls13.push_back(name);
        continue;
      }
      // Checked one by one: OpenSSL accepts a list as long as any one name in it is known.
      if (SSL_CTX_set_cipher_list(ctx_.get(), name.c_str()) != 1) {
        ERR_clear_error();
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": unknown cipher suite \"", name, "\""));
      }
      tls12.push_back(name);
    }
  }
  const std::string tls12_list =
      tls12.empty() ? std::string(kDefaultTls12Ciphers) : absl::StrJoin(tls12, ":");
  const std::string tls13_list =
      tls13.empty() ? std::string(kDefaultTls13Ciphers) : absl::StrJoin(tls13, ":");
  if (SSL_CTX_set_cipher_list(ctx_.get(), tls12_list.c_str()) != 1) {
    return opensslError(absl::StrCat(kParamsPath, ".cipher_suites"),
                        absl::StrCat("cannot use \"", tls12_list, "\""));
  }
  if (SSL_CTX_set_ciphersuites(ctx_.get(), tls13_list.c_str()) != 1) {
    return opensslError(absl::StrCat(kParamsPath, ".cipher_suites"),
                        absl::StrCat("cannot use \"", tls13_list, "\""));
  }
  return absl::OkStatus();
}

absl::Status ContextImpl::setCurves(const ContextConfig& config) {
  for (size_t i = 0; i < config.ecdh_curves.size(); ++i) {
    if (SSL_CTX_set1_groups_list(ctx_.get(), config.ecdh_curves[i].c_str()) != 1) {
      ERR_clear_error();
      return absl::InvalidArgumentError(absl::StrCat(
          kParamsPath, ".ecdh_curves[", i, "]: unknown curve \"", config.ecdh_curves[i], "\""));
    }
  }
  const std::string list = config.ecdh_curves.empty() ? std::string(kDefaultCurves)
                                                      : absl::StrJoin(config.ecdh_curves, ":");
  if (SSL_CTX_set1_groups_list(ctx_.get(), list.c_str()) != 1) {
    return opensslError(absl::StrCat(kParamsPath, ".ecdh_curves"),
                        absl::StrCat("cannot use \"", list, "\""));
  }
  return absl::OkStatus();
}

absl::Status ContextImpl::addCertificate(const TlsCertificateConfig& certificate,
                                         std::vector<int>& key_types) {
  const std::string chain_path = absl::StrCat(certificate.path, ".certificate_chain");
  const std::string key_path = absl::StrCat(certificate.path, ".private_key");
  absl::StatusOr<std::vector<X509Ptr>> chain =
      readCertificates(certificate.certificate_chain_pem, chain_path);
  if (!chain.ok()) {
    return chain.status();
  }
  if (chain->empty()) {
    return absl::InvalidArgumentError(absl::StrCat(chain_path, ": no PEM certificate found"));
  }

  BioPtr key_bio(BIO_new_mem_buf(certificate.private_key_pem.data(),
                                 static_cast<int>(certificate.private_key_pem.size())));
  if (key_bio == nullptr) {
    return opensslError(key_path, "out of memory");
  }
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, noPassword, nullptr));
  if (key == nullptr) {
    const bool encrypted = absl::StrContains(certificate.private_key_pem, "ENCRYPTED");
    return opensslError(key_path, encrypted ? "encrypted private keys are not supported"
                                            : "no valid PEM private key found");
  }
  const int key_type = EVP_PKEY_get_base_id(key.get());
  if (std::find(key_types.begin(), key_types.end(), key_type) != key_types.end()) {
    // OpenSSL keeps one certificate per key type and picks by what the peer supports.
    return absl::InvalidArgumentError(
        absl::StrCat(certificate.path, ": a second certificate with a ", keyTypeName(key_type),
                     " key (at most one certificate per key type)"));
  }
  key_types.push_back(key_type);

  X509* leaf = (*chain)[0].get();
  if (X509_check_private_key(leaf, key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat(
        key_path, ": does not match the certificate (the first one of ", chain_path, ")"));
  }
  if (SSL_CTX_use_certificate(ctx_.get(), leaf) != 1) {
    return opensslError(chain_path, "cannot use the certificate");
  }
  for (size_t i = 1; i < chain->size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx_.get(), (*chain)[i].get()) != 1) {
      return opensslError(chain_path, absl::StrCat("cannot use chain certificate #", i + 1));
    }
  }
  if (SSL_CTX_use_PrivateKey(ctx_.get(), key.get()) != 1) {
    return opensslError(key_path, "cannot use the private key");
  }
  if (SSL_CTX_check_private_key(ctx_.get()) != 1) {
    return opensslError(key_path, "does not match the certificate");
  }
  LocalCertificate local;
  local.spiffe_uri = std::string(certificateSans(leaf).uniqueSpiffeUri());
  local.cert = std::move((*chain)[0]);
  local_certificates_.push_back(std::move(local));
  return absl::OkStatus();
}

absl::Status ContextImpl::setTrustedCa(const CertificateValidationConfig& validation) {
  const std::string path = absl::StrCat(validation.path, ".trusted_ca");
  absl::StatusOr<std::vector<X509Ptr>> cas = readCertificates(validation.trusted_ca_pem, path);
  if (!cas.ok()) {
    return cas.status();
  }
  if (cas->empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no PEM certificate found"));
  }
  X509_STORE* store = SSL_CTX_get_cert_store(ctx_.get());
  for (const X509Ptr& ca : *cas) {
    if (X509_STORE_add_cert(store, ca.get()) != 1) {
      const unsigned long error = ERR_peek_last_error();
      if (ERR_GET_REASON(error) == X509_R_CERT_ALREADY_IN_HASH_TABLE) {
        ERR_clear_error();  // a bundle may repeat a certificate
        continue;
      }
      return opensslError(path, "cannot add the certificate to the trust store");
    }
  }
  if (validation.max_verify_depth.has_value()) {
    SSL_CTX_set_verify_depth(ctx_.get(), static_cast<int>(*validation.max_verify_depth));
  }
  return absl::OkStatus();
}

// ----------------------------------------------------------------------------------------------
// ServerContext

absl::StatusOr<std::shared_ptr<const ServerContext>> ServerContext::create(
    const ServerContextConfig& config) {
  std::shared_ptr<ServerContext> context(new ServerContext());
  if (absl::Status status = context->initialize(config); !status.ok()) {
    return status;
  }
  if (absl::Status status = context->initializeServer(config); !status.ok()) {
    return status;
  }
  return std::shared_ptr<const ServerContext>(std::move(context));
}

absl::Status ServerContext::initializeServer(const ServerContextConfig& config) {
  SSL_CTX* ctx = ctx_.get();
  require_client_certificate_ = config.require_client_certificate;
  require_sni_ = config.require_sni;
  if (validatesPeer()) {
    // Ask for a client certificate; without require_client_certificate a client may send none.
    SSL_CTX_set_verify(
        ctx, SSL_VERIFY_PEER | (require_client_certificate_ ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
        nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  if (!alpnProtocols().empty()) {
    SSL_CTX_set_alpn_select_cb(ctx, selectAlpn, this);
  }
  SSL_CTX_set_client_hello_cb(ctx, onClientHello, this);
  if (!config.stateless_resumption) {
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  }
  SSL_CTX_set_session_cache_mode(
      ctx, config.stateful_resumption ? SSL_SESS_CACHE_SERVER : SSL_SESS_CACHE_OFF);
  if (config.session_timeout.has_value()) {
    SSL_CTX_set_timeout(ctx, static_cast<long>(config.session_timeout->count()));
  }
  return absl::OkStatus();
}

int ServerContext::selectAlpn(SSL*, const unsigned char** out, unsigned char* out_length,
                              const unsigned char* in, unsigned int in_length, void* arg) {
  const auto* self = static_cast<const ServerContext*>(arg);
  for (const std::string& ours : self->alpnProtocols()) {
    // `in` is the client's list in wire format: length-prefixed names.
    unsigned int pos = 0;
    while (pos < in_length) {
      const unsigned int length = in[pos];
      if (pos + 1 + length > in_length) {
        break;  // malformed: OpenSSL has checked it, but stay inside the buffer anyway
      }
      if (length == ours.size() && std::memcmp(in + pos + 1, ours.data(), length) == 0) {
        *out = in + pos + 1;
        *out_length = static_cast<unsigned char>(length);
        return SSL_TLSEXT_ERR_OK;
      }
      pos += 1 + length;
    }
  }
  // None in common: carry on without ALPN (Envoy does too); the application decides.
  return SSL_TLSEXT_ERR_NOACK;
}

int ServerContext::onClientHello(SSL* ssl, int* alert, void* arg) {
  const auto* self = static_cast<const ServerContext*>(arg);
  if (!self->require_sni_) {
    return SSL_CLIENT_HELLO_SUCCESS;
  }
  const unsigned char* data = nullptr;
  size_t length = 0;
  if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &data, &length) == 1 && length > 0) {
    return SSL_CLIENT_HELLO_SUCCESS;
  }
  if (HandshakeCallbacks* callbacks = handshakeCallbacks(ssl); callbacks != nullptr) {
    callbacks->onHandshakeRefused("client sent no SNI and require_sni is set");
  }
  *alert = SSL_AD_MISSING_EXTENSION;
  return SSL_CLIENT_HELLO_ERROR;
}

// ----------------------------------------------------------------------------------------------
// ClientContext

absl::StatusOr<std::shared_ptr<const ClientContext>> ClientContext::create(
    const ClientContextConfig& config) {
  std::shared_ptr<ClientContext> context(new ClientContext());
  if (absl::Status status = context->initialize(config); !status.ok()) {
    return status;
  }
  if (absl::Status status = context->initializeClient(config); !status.ok()) {
    return status;
  }
  return std::shared_ptr<const ClientContext>(std::move(context));
}

absl::Status ClientContext::initializeClient(const ClientContextConfig& config) {
  SSL_CTX* ctx = ctx_.get();
  sni_ = config.sni;
  max_session_keys_ = config.max_session_keys;
  // Without a trusted CA the server is not verified (Envoy's behaviour too).
  SSL_CTX_set_verify(ctx, validatesPeer() ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  if (!alpnProtocols().empty()) {
    std::string wire;
    for (const std::string& protocol : alpnProtocols()) {
      wire.push_back(static_cast<char>(protocol.size()));
      wire.append(protocol);
    }
    // Note: returns 0 on success.
    if (SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                                static_cast<unsigned int>(wire.size())) != 0) {
      return opensslError("common_tls_context.alpn_protocols", "cannot set ALPN");
    }
  }
  if (max_session_keys_ > 0) {
    // Our own cache (keyed by server name, shared by every connection of this context), not
    // OpenSSL's internal one, which a client never looks up.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, onNewSession);
  } else {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  }
  return absl::OkStatus();
}

int ClientContext::onNewSession(SSL* ssl, SSL_SESSION* session) {
  const auto* self = static_cast<const ClientContext*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  HandshakeCallbacks* callbacks = handshakeCallbacks(ssl);
  if (self == nullptr || callbacks == nullptr) {
    return 0;  // not ours to keep: OpenSSL keeps its reference
  }
  self->storeSession(callbacks->sessionKey(), SslSessionPtr(session));
  return 1;
}

void ClientContext::storeSession(const std::string& key, SslSessionPtr session) const {
  absl::MutexLock lock(&mutex_);
  auto it = sessions_.find(key);
  if (it == sessions_.end() && sessions_.size() >= max_session_keys_) {
    // Evict the key stored least recently. The cache is small (max_session_keys), and this runs
    // only when a new server name gets its first session.
    auto oldest = sessions_.begin();
    for (auto candidate = sessions_.begin(); candidate != sessions_.end(); ++candidate) {
      if (candidate->second.last_stored < oldest->second.last_stored) {
        oldest = candidate;
      }
    }
    if (oldest != sessions_.end()) {
      sessions_.erase(oldest);
    }
  }
  CachedSession& entry = sessions_[key];
  entry.session = std::move(session);
  entry.last_stored = ++store_count_;
}

SslSessionPtr ClientContext::cachedSession(const std::string& key) const {
  absl::MutexLock lock(&mutex_);
  auto it = sessions_.find(key);
  if (it == sessions_.end() || it->second.session == nullptr) {
    return nullptr;
  }
  if (SSL_SESSION_up_ref(it->second.session.get()) != 1) {
    return nullptr;
  }
  return SslSessionPtr(it->second.session.get());
}

size_t ClientContext::cachedSessionCount() const {
  absl::MutexLock lock(&mutex_);
  return sessions_.size();
}

}  // namespace waystone::tls
