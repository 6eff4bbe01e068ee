#include "source/common/router/string_matcher.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

#include "source/common/router/config_utility.h"

namespace waystone::router {

using StringMatcherProto = envoy::type::matcher::v3::StringMatcher;

StringMatcher::StringMatcher(Kind kind, absl::string_view value, bool ignore_case,
                             CompiledRegexConstSharedPtr regex)
    : kind_(kind),
      value_(ignore_case ? absl::AsciiStrToLower(value) : std::string(value)),
      ignore_case_(ignore_case),
      regex_(std::move(regex)) {}

absl::StatusOr<StringMatcher> StringMatcher::create(
    const envoy::type::matcher::v3::StringMatcher& config, uint32_t max_program_size,
    absl::string_view path) {
  const bool ignore_case = config.ignore_case();
  switch (config.match_pattern_case()) {
    case StringMatcherProto::kExact:
      return StringMatcher(Kind::kExact, config.exact(), ignore_case, nullptr);
    case StringMatcherProto::kPrefix:
      return StringMatcher(Kind::kPrefix, config.prefix(), ignore_case, nullptr);
    case StringMatcherProto::kSuffix:
      return StringMatcher(Kind::kSuffix, config.suffix(), ignore_case, nullptr);
    case StringMatcherProto::kContains:
      return StringMatcher(Kind::kContains, config.contains(), ignore_case, nullptr);
    case StringMatcherProto::kSafeRegex: {
      if (ignore_case) {
        return ConfigUtility::error(ConfigUtility::field(path, "ignore_case"),
                                    "ignore_case has no effect for safe_regex");
      }
      auto regex = CompiledRegex::create(config.safe_regex(), max_program_size,
                                         ConfigUtility::field(path, "safe_regex"));
      if (!regex.ok()) {
        return regex.status();
      }
      return StringMatcher(Kind::kRegex, "", false, std::move(*regex));
    }
    case StringMatcherProto::kCustom:
      return ConfigUtility::error(ConfigUtility::field(path, "custom"),
                                  "custom string matchers are not supported");
    case StringMatcherProto::MATCH_PATTERN_NOT_SET:
      break;
  }
  return ConfigUtility::error(path,
                              "one of exact, prefix, suffix, contains or safe_regex is "
                              "required");
}

StringMatcher StringMatcher::exact(absl::string_view value) {
  return StringMatcher(Kind::kExact, value, false, nullptr);
}

StringMatcher StringMatcher::prefix(absl::string_view value) {
  return StringMatcher(Kind::kPrefix, value, false, nullptr);
}

StringMatcher StringMatcher::suffix(absl::string_view value) {
  return StringMatcher(Kind::kSuffix, value, false, nullptr);
}

StringMatcher StringMatcher::contains(absl::string_view value) {
  return StringMatcher(Kind::kContains, value, false, nullptr);
}

StringMatcher StringMatcher::regex(CompiledRegexConstSharedPtr regex) {
  return StringMatcher(Kind::kRegex, "", false, std::move(regex));
}

bool StringMatcher::match(absl::string_view value) const {
  switch (kind_) {
    case Kind::kExact:
      return ignore_case_ ? absl::EqualsIgnoreCase(value, value_) : value == value_;
    case Kind::kPrefix:
      return ignore_case_ ? absl::StartsWithIgnoreCase(value, value_)
                          : absl::StartsWith(value, value_);
    case Kind::kSuffix:
      return ignore_case_ ? absl::EndsWithIgnoreCase(value, value_) : absl::EndsWith(value, value_);
    case Kind::kContains:
      return ignore_case_ ? absl::StrContains(absl::AsciiStrToLower(value), value_)
                          : absl::StrContains(value, value_);
    case Kind::kRegex:
      return regex_->fullMatch(value);
  }
  return false;
}

}  // namespace waystone::router
