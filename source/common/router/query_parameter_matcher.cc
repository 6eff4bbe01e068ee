#include "source/common/router/query_parameter_matcher.h"

#include "absl/strings/str_cat.h"

#include "source/common/router/config_utility.h"
#include "source/common/router/path_utility.h"

namespace waystone::router {

absl::StatusOr<QueryParameterMatcher> QueryParameterMatcher::create(
    const envoy::config::route::v3::QueryParameterMatcher& config, uint32_t max_program_size,
    absl::string_view path) {
  if (config.name().empty()) {
    return ConfigUtility::error(ConfigUtility::field(path, "name"), "must not be empty");
  }
  if (!config.has_string_match()) {
    // Envoy treats present_match (true or false) and a missing specifier as a presence check.
    return QueryParameterMatcher(config.name(), std::nullopt);
  }
  auto matcher = StringMatcher::create(config.string_match(), max_program_size,
                                       ConfigUtility::field(path, "string_match"));
  if (!matcher.ok()) {
    return matcher.status();
  }
  return QueryParameterMatcher(config.name(), std::move(*matcher));
}

absl::StatusOr<std::vector<QueryParameterMatcher>> QueryParameterMatcher::createAll(
    const google::protobuf::RepeatedPtrField<envoy::config::route::v3::QueryParameterMatcher>&
        configs,
    uint32_t max_program_size, absl::string_view path) {
  std::vector<QueryParameterMatcher> matchers;
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

bool QueryParameterMatcher::matches(absl::string_view path) const {
  const std::optional<absl::string_view> value = PathUtility::findQueryParameter(path, name_);
  if (!value.has_value()) {
    return false;
  }
  return !matcher_.has_value() || matcher_->match(*value);
}

bool QueryParameterMatcher::matchAll(const std::vector<QueryParameterMatcher>& matchers,
                                     absl::string_view path) {
  for (const QueryParameterMatcher& matcher : matchers) {
    if (!matcher.matches(path)) {
      return false;
    }
  }
  return true;
}

}  // namespace waystone::router
