#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "envoy/config/route/v3/route_components.pb.h"

#include "source/common/http/header_map.h"
#include "source/common/router/compiled_regex.h"
#include "source/common/router/config_options.h"
#include "source/common/router/header_matcher.h"
#include "source/common/router/query_parameter_matcher.h"

namespace waystone::router {

// A route's `match` (envoy.config.route.v3.RouteMatch). Path specifiers: prefix, path,
// safe_regex (full match), path_separated_prefix, all on the path without query and fragment,
// and connect_matcher (CONNECT requests only). Every other route needs a :path, so a CONNECT
// request without one only ever matches connect_matcher routes. Then runtime_fraction, grpc,
// headers and query_parameters must all match. Immutable.
class RouteMatcher {
 public:
  // `path` names the RouteMatch message. `ignore_path_parameters` is the route configuration's
  // ignore_path_parameters_in_path_matching (";params" are cut before path matching).
  static absl::StatusOr<RouteMatcher> create(const envoy::config::route::v3::RouteMatch& config,
                                             const ConfigOptions& options,
                                             bool ignore_path_parameters, absl::string_view path);

  bool matches(const http::HeaderMap& headers, uint64_t random_value) const;

  // How many leading bytes of `path` (a :path value) the path specifier matched: the prefix
  // length for prefix matchers, the whole path without query for path and safe_regex. This is
  // what prefix_rewrite replaces.
  size_t matchedLength(absl::string_view path) const;

  bool isConnect() const { return kind_ == Kind::kConnect; }

 private:
  enum class Kind { kPrefix, kPath, kRegex, kPathSeparatedPrefix, kConnect };

  RouteMatcher() = default;
  bool pathMatches(absl::string_view path) const;

  Kind kind_ = Kind::kPrefix;
  std::string value_;
  bool case_sensitive_ = true;
  CompiledRegexConstSharedPtr regex_;
  bool ignore_path_parameters_ = false;
  std::optional<uint64_t> runtime_numerator_;
  uint64_t runtime_denominator_ = 100;
  bool grpc_ = false;
  std::vector<HeaderMatcher> headers_;
  std::vector<QueryParameterMatcher> query_parameters_;
};

}  // namespace waystone::router
