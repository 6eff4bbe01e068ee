#include "source/common/tls/string_matcher.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "source/common/tls/unsupported_fields.h"

namespace waystone::tls {

absl::StatusOr<StringMatcher> StringMatcher::create(
    const envoy::type::matcher::v3::StringMatcher& proto, const std::string& path) {
  if (absl::Status status = checkSupportedFields(
          proto, path, {"exact", "prefix", "suffix", "contains", "safe_regex", "ignore_case"});
      !status.ok()) {
    return status;
  }
  StringMatcher matcher;
  matcher.ignore_case_ = proto.ignore_case();
  switch (proto.match_pattern_case()) {
    case envoy::type::matcher::v3::StringMatcher::kExact:
      matcher.kind_ = Kind::Exact;
      matcher.pattern_ = proto.exact();
      break;
    case envoy::type::matcher::v3::StringMatcher::kPrefix:
      matcher.kind_ = Kind::Prefix;
      matcher.pattern_ = proto.prefix();
      break;
    case envoy::type::matcher::v3::StringMatcher::kSuffix:
      matcher.kind_ = Kind::Suffix;
      matcher.pattern_ = proto.suffix();
      break;
    case envoy::type::matcher::v3::StringMatcher::kContains:
      matcher.kind_ = Kind::Contains;
      matcher.pattern_ = proto.contains();
      break;
    case envoy::type::matcher::v3::StringMatcher::kSafeRegex: {
      const std::string regex_path = absl::StrCat(path, ".safe_regex");
      if (absl::Status status =
              checkSupportedFields(proto.safe_regex(), regex_path, {"regex", "google_re2"});
          !status.ok()) {
        return status;
      }
      matcher.kind_ = Kind::Regex;
      matcher.pattern_ = proto.safe_regex().regex();
      re2::RE2::Options options;
      options.set_log_errors(false);
      auto regex = std::make_shared<const re2::RE2>(matcher.pattern_, options);
      if (!regex->ok()) {
        return absl::InvalidArgumentError(absl::StrCat(regex_path, ".regex: invalid regex \"",
                                                       matcher.pattern_, "\": ", regex->error()));
      }
      matcher.regex_ = std::move(regex);
      break;
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": one of exact, prefix, suffix, contains or safe_regex is required"));
  }
  return matcher;
}

bool StringMatcher::match(absl::string_view value) const {
  switch (kind_) {
    case Kind::Exact:
      return ignore_case_ ? absl::EqualsIgnoreCase(value, pattern_) : value == pattern_;
    case Kind::Prefix:
      return ignore_case_ ? absl::StartsWithIgnoreCase(value, pattern_)
                          : absl::StartsWith(value, pattern_);
    case Kind::Suffix:
      return ignore_case_ ? absl::EndsWithIgnoreCase(value, pattern_)
                          : absl::EndsWith(value, pattern_);
    case Kind::Contains:
      if (ignore_case_) {
        return absl::StrContains(absl::AsciiStrToLower(value), absl::AsciiStrToLower(pattern_));
      }
      return absl::StrContains(value, pattern_);
    case Kind::Regex:
      return re2::RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *regex_);
  }
  return false;
}

}  // namespace waystone::tls
