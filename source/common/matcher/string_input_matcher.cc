#include "source/common/matcher/string_input_matcher.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "envoy/type/matcher/v3/string.pb.h"

#include "source/common/router/config_options.h"

namespace waystone::matcher {

absl::StatusOr<InputMatcherPtr> StringInputMatcher::create(
    const xds::type::matcher::v3::StringMatcher& config, absl::string_view path) {
  // xds.type.matcher.v3.StringMatcher and envoy.type.matcher.v3.StringMatcher (and their
  // RegexMatchers) share field numbers and types, so the wire bytes of one parse as the other;
  // this reuses the router's matcher, with its regex program size limit and error messages.
  envoy::type::matcher::v3::StringMatcher envoy_config;
  std::string bytes;
  if (!config.SerializeToString(&bytes) || !envoy_config.ParseFromString(bytes)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot convert the StringMatcher"));
  }
  absl::StatusOr<router::StringMatcher> matcher =
      router::StringMatcher::create(envoy_config, router::kDefaultMaxRegexProgramSize, path);
  if (!matcher.ok()) {
    return matcher.status();
  }
  return InputMatcherPtr(new StringInputMatcher(std::move(*matcher)));
}

}  // namespace waystone::matcher
