#pragma once

#include <string>
#include <vector>

#include "source/common/tls/connection_info.h"

namespace waystone::formatter::test {

// A completed TLS handshake's facts, set by the test: what the formatter reads through
// StreamInfo::downstream_ssl. (The TLS socket itself is tested with real handshakes in
// test/common/tls; here only the formatting matters.)
struct FakeConnectionInfo : public tls::ConnectionInfo {
  bool handshakeComplete() const override { return true; }
  bool peerCertificatePresented() const override { return !peer_uri_sans.empty(); }
  bool peerCertificateValidated() const override { return !peer_uri_sans.empty(); }
  absl::string_view peerUriSan() const override {
    return peer_uri_sans.size() == 1 ? absl::string_view(peer_uri_sans[0]) : absl::string_view();
  }
  const std::vector<std::string>& peerUriSans() const override { return peer_uri_sans; }
  const std::vector<std::string>& peerDnsSans() const override { return peer_dns_sans; }
  absl::string_view peerSubject() const override { return peer_subject; }
  absl::string_view peerCertificateSha256() const override { return peer_sha256; }
  absl::string_view localUriSan() const override { return local_uri_san; }
  absl::string_view tlsVersion() const override { return tls_version; }
  absl::string_view cipherSuite() const override { return cipher; }
  absl::string_view sni() const override { return server_name; }
  absl::string_view alpn() const override { return alpn_protocol; }
  bool sessionReused() const override { return false; }

  std::vector<std::string> peer_uri_sans;
  std::vector<std::string> peer_dns_sans;
  std::string peer_subject;
  std::string peer_sha256;
  std::string local_uri_san;
  std::string tls_version = "TLSv1.3";
  std::string cipher = "TLS_AES_128_GCM_SHA256";
  std::string server_name;
  std::string alpn_protocol = "h2";
};

}  // namespace waystone::formatter::test
