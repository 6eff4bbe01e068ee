#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "envoy/extensions/transport_sockets/tls/v3/common.pb.h"

#include "source/common/tls/certificate_sans.h"
#include "source/common/tls/string_matcher.h"

namespace waystone::tls {

// One entry of CertificateValidationContext.match_typed_subject_alt_names: a StringMatcher applied
// to every SAN of one type. A DNS matcher with `exact` also accepts a wildcard SAN that covers the
// name (Envoy's rule). Supported types: DNS, URI, EMAIL, IP_ADDRESS (OTHER_NAME is rejected).
class SanMatcher {
 public:
  enum class Type { Dns, Uri, Email, IpAddress };

  static absl::StatusOr<SanMatcher> create(
      const envoy::extensions::transport_sockets::tls::v3::SubjectAltNameMatcher& proto,
      const std::string& path);

  // True when some SAN of this matcher's type matches.
  bool match(const CertificateSans& sans) const;

  Type type() const { return type_; }
  const StringMatcher& matcher() const { return matcher_; }
  // A URI matcher whose pattern pins the spiffe:// scheme: exact or prefix starting with it, or a
  // regex starting with it (optionally anchored with ^). Such a matcher puts the context under
  // the SPIFFE rule (see context_impl.h).
  bool isSpiffe() const;

 private:
  SanMatcher(Type type, StringMatcher matcher) : type_(type), matcher_(std::move(matcher)) {}

  Type type_;
  StringMatcher matcher_;
};

}  // namespace waystone::tls
