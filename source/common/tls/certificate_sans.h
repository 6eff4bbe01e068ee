#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace waystone::tls {

// The subject alternative names of one certificate, as text (IP addresses in inet_ntop form), in
// certificate order. Plain data so that matching and SPIFFE rules need no OpenSSL.
struct CertificateSans {
  std::vector<std::string> uri;
  std::vector<std::string> dns;
  std::vector<std::string> email;
  std::vector<std::string> ip;

  // The URI SANs whose scheme is spiffe (compared case-insensitively, as URI schemes are).
  std::vector<absl::string_view> spiffeUris() const;
  // The one spiffe:// URI SAN, or empty when there is none or more than one (a SPIFFE identity
  // is only defined when it is unique).
  absl::string_view uniqueSpiffeUri() const;
};

// True when `uri` starts with "spiffe://" in any case.
bool isSpiffeUri(absl::string_view uri);

// RFC 6125 style DNS name check, as Envoy does it: `dns_name` equals `pattern` ignoring case, or
// `pattern` is "*.<suffix>" and `dns_name` is exactly one more label in front of <suffix>.
bool dnsNameMatch(absl::string_view dns_name, absl::string_view pattern);

}  // namespace waystone::tls
