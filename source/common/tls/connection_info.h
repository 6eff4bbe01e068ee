#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace waystone::tls {

// What the rest of the proxy may know about a TLS connection, without OpenSSL: implemented by
// SslSocket, reached through the connection (e.g. a `const tls::ConnectionInfo* ssl() const`
// accessor on network::Connection that returns null for plain connections). Every fact is
// captured once when the handshake completes and never changes afterwards; before that,
// handshakeComplete() is false and the other accessors return empty values.
class ConnectionInfo {
 public:
  virtual ~ConnectionInfo() = default;

  virtual bool handshakeComplete() const = 0;

  // The peer sent a certificate (always true for a server seen from a client).
  virtual bool peerCertificatePresented() const = 0;
  // ... and it was verified against the trusted CA (and the SAN / SPIFFE rules) of our context.
  virtual bool peerCertificateValidated() const = 0;
  // The peer's SPIFFE identity: its one spiffe:// URI SAN; empty when it has none, more than one,
  // or no certificate. This is the principal for authorization.
  virtual absl::string_view peerUriSan() const = 0;
  // Every URI / DNS SAN of the peer certificate, in certificate order.
  virtual const std::vector<std::string>& peerUriSans() const = 0;
  virtual const std::vector<std::string>& peerDnsSans() const = 0;
  // RFC 2253 subject of the peer certificate (may be empty: Istio workload certificates have no
  // subject).
  virtual absl::string_view peerSubject() const = 0;
  // Lower-case hex SHA-256 of the peer certificate's DER (Envoy's sha256PeerCertificateDigest).
  virtual absl::string_view peerCertificateSha256() const = 0;

  // Our own certificate's SPIFFE identity, same rule as peerUriSan().
  virtual absl::string_view localUriSan() const = 0;

  // "TLSv1.2" or "TLSv1.3".
  virtual absl::string_view tlsVersion() const = 0;
  // IANA/OpenSSL name, e.g. "TLS_AES_128_GCM_SHA256" or "ECDHE-ECDSA-AES128-GCM-SHA256".
  virtual absl::string_view cipherSuite() const = 0;
  // Server side: the name the client asked for; client side: the name we sent. Empty if none.
  virtual absl::string_view sni() const = 0;
  // The negotiated ALPN protocol, empty if none.
  virtual absl::string_view alpn() const = 0;
  // The handshake resumed an earlier session.
  virtual bool sessionReused() const = 0;
};

}  // namespace waystone::tls
