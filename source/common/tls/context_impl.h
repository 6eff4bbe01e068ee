#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include <openssl/ssl.h>

#include "source/common/tls/certificate_sans.h"
#include "source/common/tls/context_config.h"
#include "source/common/tls/openssl_util.h"

namespace waystone::tls {

// TLS contexts: one OpenSSL SSL_CTX built from a ContextConfig, shared by every connection that
// uses it.
//
// Design
// - A context is built once (ServerContext::create / ClientContext::create) and never modified:
//   certificates, trust bundle, SAN matchers, versions, ciphers, curves and ALPN are fixed for
//   its lifetime. Connections hold it by std::shared_ptr<const ...>, so a context outlives every
//   connection (and SSL) made from it, on any worker thread.
// - Certificates change at run time by building a new context and swapping it into the socket
//   factory (ssl_socket_factory.h, updateContext()): new handshakes use the new context, live
//   connections keep the one they started with. This is the path SDS will take; nothing in a
//   context needs to be mutable for it.
// - The only mutable state is the client's session cache (mutex-protected, off the data path:
//   touched once per handshake). Server session tickets are encrypted with a key OpenSSL draws at
//   random for each SSL_CTX, so a swapped-in context never resumes a session that was verified
//   under the old one; for the same reason each context gets a random session id context.
// - Peer verification: OpenSSL verifies the chain against the trusted CA (validation_context),
//   then, in the same callback, the leaf's SANs are checked (match_typed_subject_alt_names: any
//   matcher matching accepts; none configured accepts any chain-valid certificate), then the
//   SPIFFE rule below. A refusal fails the handshake with an alert, and the connection's
//   failure reason says which check refused and why.
// - Renegotiation is always refused (allow_renegotiation is ignored). A peer's TCP FIN without
//   close_notify is taken as the end of its stream, as Envoy does.
//
// The SPIFFE rule
// - SPIFFE validation is in effect for a context whose validation_context has a URI SAN matcher
//   that pins the spiffe:// scheme (exact or prefix "spiffe://...", or a safe_regex starting with
//   "spiffe://" or "^spiffe://"; scheme compared case-insensitively). Istio's generated matchers
//   are of this kind.
// - Under it, the peer's leaf certificate must carry exactly one spiffe:// URI SAN: zero is
//   refused ("no spiffe:// URI SAN") and two or more are refused (an X.509-SVID has exactly one
//   SPIFFE ID, and an identity that is not unique cannot be authorized). Other URI SANs are not
//   counted. The SAN matchers must still match.
// - Independently of validation, a connection exposes peerUriSan() / localUriSan(): the
//   certificate's spiffe:// URI SAN when it has exactly one, empty otherwise. So an ambiguous
//   certificate never yields an identity, even where it is not refused.
class ContextImpl {
 public:
  virtual ~ContextImpl() = default;
  ContextImpl(const ContextImpl&) = delete;
  ContextImpl& operator=(const ContextImpl&) = delete;

  // What the context's OpenSSL callbacks report to the connection they run for. Implemented by
  // SslSocket and attached to its SSL (attachHandshakeCallbacks).
  class HandshakeCallbacks {
   public:
    virtual ~HandshakeCallbacks() = default;
    // Why the handshake is being refused by our own checks (chain, SANs, SPIFFE, SNI).
    virtual void onHandshakeRefused(std::string detail) = 0;
    // Client: the key its sessions are cached under (the SNI sent).
    virtual const std::string& sessionKey() const = 0;
  };
  // False if OpenSSL could not store the pointer (out of memory).
  static bool attachHandshakeCallbacks(SSL* ssl, HandshakeCallbacks* callbacks);

  bool isServer() const { return is_server_; }
  SSL_CTX* sslCtx() const { return ctx_.get(); }
  // The peer's certificate is verified (a trusted CA is configured).
  bool validatesPeer() const { return validation_.has_value(); }
  // The SPIFFE rule is in effect.
  bool spiffeValidation() const { return validation_.has_value() && validation_->spiffe; }
  const std::vector<std::string>& alpnProtocols() const { return alpn_protocols_; }

  // The spiffe:// URI SAN of `cert`, one of this context's own certificates (as returned by
  // SSL_get_certificate); empty if it has none or several.
  absl::string_view localUriSan(const X509* cert) const;

  // Checks the SANs of a chain-verified peer certificate: the SPIFFE rule, then the matchers.
  // Returns why it is refused, or an empty string if accepted.
  std::string checkPeerIdentity(const CertificateSans& sans) const;

 protected:
  explicit ContextImpl(bool is_server) : is_server_(is_server) {}

  // Builds ctx_ from the parts both sides share. Errors name the config field.
  absl::Status initialize(const ContextConfig& config);

  SslCtxPtr ctx_;

 private:
  struct LocalCertificate {
    X509Ptr cert;
    std::string spiffe_uri;
  };

  absl::Status setProtocolVersions(const ContextConfig& config);
  absl::Status setCipherSuites(const ContextConfig& config);
  absl::Status setCurves(const ContextConfig& config);
  absl::Status addCertificate(const TlsCertificateConfig& certificate, std::vector<int>& key_types);
  absl::Status setTrustedCa(const CertificateValidationConfig& validation);

  static int verifyCallback(X509_STORE_CTX* store_ctx, void* arg);

  const bool is_server_;
  std::vector<std::string> alpn_protocols_;
  std::optional<CertificateValidationConfig> validation_;
  std::vector<LocalCertificate> local_certificates_;
};

// A server (downstream) context.
class ServerContext final : public ContextImpl {
 public:
  static absl::StatusOr<std::shared_ptr<const ServerContext>> create(
      const ServerContextConfig& config);

  bool requireClientCertificate() const { return require_client_certificate_; }

 private:
  ServerContext() : ContextImpl(/*is_server=*/true) {}
  absl::Status initializeServer(const ServerContextConfig& config);

  // Server preference: the first of our protocols the client offers; none -> no ALPN.
  static int selectAlpn(SSL* ssl, const unsigned char** out, unsigned char* out_length,
                        const unsigned char* in, unsigned int in_length, void* arg);
  static int onClientHello(SSL* ssl, int* alert, void* arg);

  bool require_client_certificate_ = false;
  bool require_sni_ = false;
};

// A client (upstream) context, with the session cache shared by its connections.
class ClientContext final : public ContextImpl {
 public:
  static absl::StatusOr<std::shared_ptr<const ClientContext>> create(
      const ClientContextConfig& config);

  const std::string& sni() const { return sni_; }

  // A new reference to the newest session cached for `key` (a server name), or null.
  SslSessionPtr cachedSession(const std::string& key) const;
  // Number of keys holding a session (for tests and stats).
  size_t cachedSessionCount() const;

 private:
  ClientContext() : ContextImpl(/*is_server=*/false) {}
  absl::Status initializeClient(const ClientContextConfig& config);

  void storeSession(const std::string& key, SslSessionPtr session) const;
  // OpenSSL's new-session callback: takes the reference (returns 1).
  static int onNewSession(SSL* ssl, SSL_SESSION* session);

  struct CachedSession {
    SslSessionPtr session;
    uint64_t last_stored = 0;
  };

  std::string sni_;
  uint32_t max_session_keys_ = 1;
  mutable absl::Mutex mutex_;
  mutable absl::flat_hash_map<std::string, CachedSession> sessions_ ABSL_GUARDED_BY(mutex_);
  mutable uint64_t store_count_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace waystone::tls
