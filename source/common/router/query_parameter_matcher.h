#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "google/protobuf/repeated_ptr_field.h"

#include "source/common/router/string_matcher.h"

namespace waystone::router {

// envoy.config.route.v3.QueryParameterMatcher: the first value of the named parameter (raw, not
// percent-decoded) must satisfy string_match; with present_match (or no matcher) the parameter
// only has to be present. Immutable.
class QueryParameterMatcher {
 public:
  static absl::StatusOr<QueryParameterMatcher> create(
      const envoy::config::route::v3::QueryParameterMatcher& config, uint32_t max_program_size,
      absl::string_view path);

  static absl::StatusOr<std::vector<QueryParameterMatcher>> createAll(
      const google::protobuf::RepeatedPtrField<envoy::config::route::v3::QueryParameterMatcher>&
          configs,
      uint32_t max_program_size, absl::string_view path);

  // `path` is the request's :path (the query is found in it).
  bool matches(absl::string_view path) const;

  static bool matchAll(const std::vector<QueryParameterMatcher>& matchers, absl::string_view path);

 private:
  QueryParameterMatcher(std::string name, std::optional<StringMatcher> matcher)
      : name_(std::move(name)), matcher_(std::move(matcher)) {}

  std::string name_;
  std::optional<StringMatcher> matcher_;  // nullopt: presence only
};

}  // namespace waystone::router
