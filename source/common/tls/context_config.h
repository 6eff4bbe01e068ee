#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "envoy/extensions/transport_sockets/tls/v3/common.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"

#include "source/common/tls/san_matcher.h"

namespace waystone::tls {

// Plain-data TLS configuration, built from Envoy's protos with files already read, so that
// building a context (context_impl.h) does no I/O and a secret that arrives later (SDS) can be
// substituted field by field. No OpenSSL here: names and PEM text are checked when the context
// is built, with the same field paths.
//
// Every error names the field path relative to the TLS context message, e.g.
//   common_tls_context.tls_certificates[0].certificate_chain: cannot read /x.pem: No such file
//   or directory

enum class TlsVersion { Tls12, Tls13 };

// "TLSv1_2" / "TLSv1_3", the proto enum names.
const char* tlsVersionName(TlsVersion version);

// One certificate chain (leaf first, then intermediates) and its private key.
struct TlsCertificateConfig {
  std::string certificate_chain_pem;
  std::string private_key_pem;
  // Field path of this certificate, e.g. "common_tls_context.tls_certificates[0]".
  std::string path;

  static absl::StatusOr<TlsCertificateConfig> fromProto(
      const envoy::extensions::transport_sockets::tls::v3::TlsCertificate& proto,
      const std::string& path);
};

// How the peer's certificate is checked: chain to `trusted_ca_pem`, then the SAN matchers (any
// one matching accepts), then the SPIFFE rule when `spiffe` is set (see context_impl.h).
struct CertificateValidationConfig {
  std::string trusted_ca_pem;
  std::vector<SanMatcher> san_matchers;
  // Some SAN matcher is a spiffe:// URI matcher.
  bool spiffe = false;
  std::optional<uint32_t> max_verify_depth;
  // Field path, e.g. "common_tls_context.validation_context".
  std::string path;

  static absl::StatusOr<CertificateValidationConfig> fromProto(
      const envoy::extensions::transport_sockets::tls::v3::CertificateValidationContext& proto,
      const std::string& path);
};

// What servers and clients share (CommonTlsContext).
struct ContextConfig {
  std::vector<TlsCertificateConfig> certificates;
  // TLS_AUTO means TLSv1_2 .. TLSv1_3 for both sides (Envoy's defaults).
  TlsVersion min_version = TlsVersion::Tls12;
  TlsVersion max_version = TlsVersion::Tls13;
  // Empty: the defaults in context_impl.cc. Names starting with "TLS_" are TLS 1.3 suites; the
  // others are OpenSSL TLS 1.2 cipher names. Envoy's "[A|B]" equal-preference groups are accepted
  // and flattened to A then B (OpenSSL has no equal preference).
  std::vector<std::string> cipher_suites;
  // Empty: X25519, P-256 (Envoy's default).
  std::vector<std::string> ecdh_curves;
  // Server: preference order for selection. Client: offered in this order.
  std::vector<std::string> alpn_protocols;
  std::optional<CertificateValidationConfig> validation;

  static absl::StatusOr<ContextConfig> fromProto(
      const envoy::extensions::transport_sockets::tls::v3::CommonTlsContext& proto,
      const std::string& path);
};

struct ServerContextConfig : ContextConfig {
  // Handshakes without a client certificate fail. Needs `validation`.
  bool require_client_certificate = false;
  // Handshakes without SNI fail.
  bool require_sni = false;
  // Session resumption: tickets (encrypted with a random per-context key) and the server-side
  // session cache.
  bool stateless_resumption = true;
  bool stateful_resumption = true;
  std::optional<std::chrono::seconds> session_timeout;

  static absl::StatusOr<ServerContextConfig> create(
      const envoy::extensions::transport_sockets::tls::v3::DownstreamTlsContext& proto);
};

struct ClientContextConfig : ContextConfig {
  // Server name sent in the ClientHello; empty sends none. A factory may override it per
  // connection.
  std::string sni;
  // How many server names keep a resumable session (Envoy's max_session_keys, default 1). 0
  // turns client-side resumption off.
  uint32_t max_session_keys = 1;

  static absl::StatusOr<ClientContextConfig> create(
      const envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext& proto);
};

}  // namespace waystone::tls
