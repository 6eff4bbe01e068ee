#include "source/common/tls/san_matcher.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

#include "source/common/tls/unsupported_fields.h"

namespace waystone::tls {

using envoy::extensions::transport_sockets::tls::v3::SubjectAltNameMatcher;

absl::StatusOr<SanMatcher> SanMatcher::create(const SubjectAltNameMatcher& proto,
                                              const std::string& path) {
  if (absl::Status status = checkSupportedFields(proto, path, {"san_type", "matcher"});
      !status.ok()) {
    return status;
  }
  Type type;
  switch (proto.san_type()) {
    case SubjectAltNameMatcher::DNS:
      type = Type::Dns;
      break;
    case SubjectAltNameMatcher::URI:
      type = Type::Uri;
      break;
    case SubjectAltNameMatcher::EMAIL:
      type = Type::Email;
      break;
    case SubjectAltNameMatcher::IP_ADDRESS:
      type = Type::IpAddress;
      break;
    case SubjectAltNameMatcher::OTHER_NAME:
      return absl::InvalidArgumentError(absl::StrCat(
          path, ".san_type: OTHER_NAME is not supported (use DNS, URI, EMAIL or IP_ADDRESS)"));
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(path, ".san_type: must be one of DNS, URI, EMAIL, IP_ADDRESS"));
  }
  if (!proto.has_matcher()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ".matcher: required"));
  }
  absl::StatusOr<StringMatcher> matcher =
      StringMatcher::create(proto.matcher(), absl::StrCat(path, ".matcher"));
  if (!matcher.ok()) {
    return matcher.status();
  }
  return SanMatcher(type, *std::move(matcher));
}

bool SanMatcher::match(const CertificateSans& sans) const {
  const std::vector<std::string>* values = nullptr;
  switch (type_) {
    case Type::Dns:
      values = &sans.dns;
      break;
    case Type::Uri:
      values = &sans.uri;
      break;
    case Type::Email:
      values = &sans.email;
      break;
    case Type::IpAddress:
      values = &sans.ip;
      break;
  }
  for (const std::string& value : *values) {
    if (type_ == Type::Dns && matcher_.kind() == StringMatcher::Kind::Exact) {
      if (dnsNameMatch(matcher_.pattern(), value)) {
        return true;
      }
      continue;
    }
    if (matcher_.match(value)) {
      return true;
    }
  }
  return false;
}

bool SanMatcher::isSpiffe() const {
  if (type_ != Type::Uri) {
    return false;
  }
  switch (matcher_.kind()) {
    case StringMatcher::Kind::Exact:
    case StringMatcher::Kind::Prefix:
      return isSpiffeUri(matcher_.pattern());
    case StringMatcher::Kind::Regex: {
      absl::string_view regex = matcher_.pattern();
      absl::ConsumePrefix(&regex, "^");
      return isSpiffeUri(regex);
    }
    case StringMatcher::Kind::Suffix:
    case StringMatcher::Kind::Contains:
      return false;
  }
  return false;
}

}  // namespace waystone::tls
