#include "source/common/router/header_matcher.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "source/common/router/config_utility.h"

namespace waystone::router {

using HeaderMatcherProto = envoy::config::route::v3::HeaderMatcher;

absl::StatusOr<HeaderMatcher> HeaderMatcher::create(const HeaderMatcherProto& config,
                                                    uint32_t max_program_size,
                                                    absl::string_view path) {
  HeaderMatcher matcher;
  matcher.name_ = absl::AsciiStrToLower(config.name());
  matcher.invert_ = config.invert_match();
  matcher.treat_missing_as_empty_ = config.treat_missing_header_as_empty();
  if (matcher.name_.empty()) {
    return ConfigUtility::error(ConfigUtility::field(path, "name"), "must not be empty");
  }
  switch (config.header_match_specifier_case()) {
    case HeaderMatcherProto::kExactMatch:
      // Envoy: an empty exact_match matches any value of a present header.
      if (!config.exact_match().empty()) {
        matcher.kind_ = Kind::kString;
        matcher.string_matcher_ = StringMatcher::exact(config.exact_match());
      }
      break;
    case HeaderMatcherProto::kSafeRegexMatch: {
      auto regex = CompiledRegex::create(config.safe_regex_match(), max_program_size,
                                         ConfigUtility::field(path, "safe_regex_match"));
      if (!regex.ok()) {
        return regex.status();
      }
      matcher.kind_ = Kind::kString;
      matcher.string_matcher_ = StringMatcher::regex(std::move(*regex));
      break;
    }
    case HeaderMatcherProto::kRangeMatch:
      matcher.kind_ = Kind::kRange;
      matcher.range_start_ = config.range_match().start();
      matcher.range_end_ = config.range_match().end();
      if (matcher.range_start_ >= matcher.range_end_) {
        return ConfigUtility::error(ConfigUtility::field(path, "range_match"),
                                    "start must be less than end");
      }
      break;
    case HeaderMatcherProto::kPresentMatch:
      matcher.kind_ = Kind::kPresent;
      matcher.present_ = config.present_match();
      break;
    case HeaderMatcherProto::kPrefixMatch:
      matcher.kind_ = Kind::kString;
      matcher.string_matcher_ = StringMatcher::prefix(config.prefix_match());
      break;
    case HeaderMatcherProto::kSuffixMatch:
      matcher.kind_ = Kind::kString;
      matcher.string_matcher_ = StringMatcher::suffix(config.suffix_match());
      break;
    case HeaderMatcherProto::kContainsMatch:
      matcher.kind_ = Kind::kString;
      matcher.string_matcher_ = StringMatcher::contains(config.contains_match());
      break;
    case HeaderMatcherProto::kStringMatch: {
      auto string_matcher = StringMatcher::create(config.string_match(), max_program_size,
                                                  ConfigUtility::field(path, "string_match"));
      if (!string_matcher.ok()) {
        return string_matcher.status();
      }
      matcher.kind_ = Kind::kString;
      matcher.string_matcher_ = std::move(*string_matcher);
      break;
    }
    case HeaderMatcherProto::HEADER_MATCH_SPECIFIER_NOT_SET:
      break;
  }
  return matcher;
}

absl::StatusOr<std::vector<HeaderMatcher>> HeaderMatcher::createAll(
    const google::protobuf::RepeatedPtrField<HeaderMatcherProto>& configs,
    uint32_t max_program_size, absl::string_view path) {
  std::vector<HeaderMatcher> matchers;
  matchers.reserve(configs.size());
  for (int i = 0; i < configs.size(); ++i) {
    auto matcher = create(configs.Get(i), max_program_size, absl::StrCat(path, "[", i, "]"));
    if (!matcher.ok()) {
      return matcher.status();
    }
    matchers.push_back(std::move(*matcher));
  }
  return matchers;
}

bool HeaderMatcher::matches(const http::HeaderMap& headers) const {
  // Several entries of one header are compared as their comma-joined value, as Envoy does.
  const std::vector<absl::string_view> values = headers.getAll(name_);
  if (values.empty() && !treat_missing_as_empty_) {
    if (invert_) {
      return kind_ != Kind::kPresent;
    }
    return kind_ == Kind::kPresent && !present_;
  }
  std::string joined;
  absl::string_view value;
  if (values.size() == 1) {
    value = values[0];
  } else if (values.size() > 1) {
    joined = absl::StrJoin(values, ",");
    value = joined;
  }

  bool match = false;
  switch (kind_) {
    case Kind::kAnyValue:
      match = true;
      break;
    case Kind::kString:
      match = string_matcher_->match(value);
      break;
    case Kind::kRange: {
      int64_t number = 0;
      match = absl::SimpleAtoi(value, &number) && number >= range_start_ && number < range_end_;
      break;
    }
    case Kind::kPresent:
      match = present_;
      break;
  }
  return match != invert_;
}

bool HeaderMatcher::matchAll(const std::vector<HeaderMatcher>& matchers,
                             const http::HeaderMap& headers) {
  for (const HeaderMatcher& matcher : matchers) {
    if (!matcher.matches(headers)) {
      return false;
    }
  }
  return true;
}

}  // namespace waystone::router
