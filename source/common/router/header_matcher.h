#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "google/protobuf/repeated_ptr_field.h"

#include "source/common/http/header_map.h"
#include "source/common/router/string_matcher.h"

namespace waystone::router {

// envoy.config.route.v3.HeaderMatcher with Envoy's semantics: several entries of the same header
// are matched as one value joined by ","; a header matcher with no specifier matches any value of
// a present header; an absent header matches only `present_match: false` (or, inverted, anything
// but `present_match`) unless treat_missing_header_as_empty. Immutable.
class HeaderMatcher {
 public:
  // `path` names the HeaderMatcher message (e.g. "virtual_hosts[0].routes[2].match.headers[1]").
  static absl::StatusOr<HeaderMatcher> create(const envoy::config::route::v3::HeaderMatcher& config,
                                              uint32_t max_program_size, absl::string_view path);

  // Builds one matcher per element of `configs`, `path` naming the repeated field.
  static absl::StatusOr<std::vector<HeaderMatcher>> createAll(
      const google::protobuf::RepeatedPtrField<envoy::config::route::v3::HeaderMatcher>& configs,
      uint32_t max_program_size, absl::string_view path);

  bool matches(const http::HeaderMap& headers) const;

  // True if every matcher matches (true for an empty list).
  static bool matchAll(const std::vector<HeaderMatcher>& matchers, const http::HeaderMap& headers);

  const std::string& name() const { return name_; }

 private:
  enum class Kind { kAnyValue, kString, kRange, kPresent };

  HeaderMatcher() = default;

  std::string name_;  // lower case
  Kind kind_ = Kind::kAnyValue;
  std::optional<StringMatcher> string_matcher_;
  int64_t range_start_ = 0;
  int64_t range_end_ = 0;
  bool present_ = false;
  bool invert_ = false;
  bool treat_missing_as_empty_ = false;
};

}  // namespace waystone::router
