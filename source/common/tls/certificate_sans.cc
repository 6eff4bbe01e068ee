#include "source/common/tls/certificate_sans.h"

#include "absl/strings/match.h"

namespace waystone::tls {

bool isSpiffeUri(absl::string_view uri) { return absl::StartsWithIgnoreCase(uri, "spiffe://"); }

std::vector<absl::string_view> CertificateSans::spiffeUris() const {
  std::vector<absl::string_view> out;
  for (const std::string& value : uri) {
    if (isSpiffeUri(value)) {
      out.push_back(value);
    }
  }
  return out;
}

absl::string_view CertificateSans::uniqueSpiffeUri() const {
  absl::string_view found;
  for (const std::string& value : uri) {
    if (!isSpiffeUri(value)) {
      continue;
    }
    if (!found.empty()) {
      return {};
    }
    found = value;
  }
  return found;
}

bool dnsNameMatch(absl::string_view dns_name, absl::string_view pattern) {
  if (absl::EqualsIgnoreCase(dns_name, pattern)) {
    return true;
  }
  if (pattern.size() > 2 && pattern[0] == '*' && pattern[1] == '.') {
    const absl::string_view suffix = pattern.substr(1);  // ".example.com"
    if (dns_name.size() > suffix.size()) {
      const absl::string_view label = dns_name.substr(0, dns_name.size() - suffix.size());
      return label.find('.') == absl::string_view::npos &&
             absl::EqualsIgnoreCase(dns_name.substr(label.size()), suffix);
    }
  }
  return false;
}

}  // namespace waystone::tls
