#include "source/common/router/route_matcher.h"

#include "absl/strings/match.h"

#include "source/common/router/config_utility.h"
#include "source/common/router/path_utility.h"

namespace waystone::router {
namespace {

using RouteMatchProto = envoy::config::route::v3::RouteMatch;

constexpr absl::string_view kGrpcContentType = "application/grpc";

// Envoy's rule: "application/grpc" or "application/grpc+<codec>"; application/grpc-web is not
// gRPC.
bool isGrpcRequest(const http::HeaderMap& headers) {
  const absl::string_view content_type = headers.getValue("content-type");
  return absl::StartsWith(content_type, kGrpcContentType) &&
         (content_type.size() == kGrpcContentType.size() ||
          content_type[kGrpcContentType.size()] == '+');
}

}  // namespace

absl::StatusOr<RouteMatcher> RouteMatcher::create(const RouteMatchProto& config,
                                                  const ConfigOptions& options,
                                                  bool ignore_path_parameters,
                                                  absl::string_view path) {
  RouteMatcher matcher;
  matcher.ignore_path_parameters_ = ignore_path_parameters;
  matcher.case_sensitive_ = !config.has_case_sensitive() || config.case_sensitive().value();
  switch (config.path_specifier_case()) {
    case RouteMatchProto::kPrefix:
      matcher.kind_ = Kind::kPrefix;
      matcher.value_ = config.prefix();
      break;
    case RouteMatchProto::kPath:
      matcher.kind_ = Kind::kPath;
      matcher.value_ = config.path();
      break;
    case RouteMatchProto::kSafeRegex: {
      auto regex = CompiledRegex::create(config.safe_regex(), options.max_regex_program_size,
                                         ConfigUtility::field(path, "safe_regex"));
      if (!regex.ok()) {
        return regex.status();
      }
      matcher.kind_ = Kind::kRegex;
      matcher.regex_ = std::move(*regex);
      break;
    }
    case RouteMatchProto::kConnectMatcher:
      matcher.kind_ = Kind::kConnect;
      break;
    case RouteMatchProto::kPathSeparatedPrefix: {
      const std::string& prefix = config.path_separated_prefix();
      if (prefix.empty() || prefix.find_first_of("?#") != std::string::npos ||
          prefix.back() == '/') {
        return ConfigUtility::error(ConfigUtility::field(path, "path_separated_prefix"),
                                    "must not be empty, end with '/' or contain '?' or '#'");
      }
      matcher.kind_ = Kind::kPathSeparatedPrefix;
      matcher.value_ = prefix;
      break;
    }
    case RouteMatchProto::kPathMatchPolicy:
      return ConfigUtility::error(ConfigUtility::field(path, "path_match_policy"),
                                  "path match extensions are not supported");
    case RouteMatchProto::PATH_SPECIFIER_NOT_SET:
      return ConfigUtility::error(path, "a path specifier is required");
  }

  // Matching on facts this proxy cannot evaluate here would route too broadly: refuse instead.
  if (config.has_tls_context() &&
      (config.tls_context().has_presented() || config.tls_context().has_validated())) {
    return ConfigUtility::error(ConfigUtility::field(path, "tls_context"),
                                "TLS context matching is not supported");
  }
  if (!config.dynamic_metadata().empty()) {
    return ConfigUtility::error(ConfigUtility::field(path, "dynamic_metadata"),
                                "dynamic metadata matching is not supported");
  }

  if (config.has_runtime_fraction()) {
    const auto& fraction = config.runtime_fraction().default_value();
    matcher.runtime_numerator_ = fraction.numerator();
    matcher.runtime_denominator_ = ConfigUtility::denominator(fraction.denominator());
  }
  matcher.grpc_ = config.has_grpc();

  auto headers = HeaderMatcher::createAll(config.headers(), options.max_regex_program_size,
                                          ConfigUtility::field(path, "headers"));
  if (!headers.ok()) {
    return headers.status();
  }
  matcher.headers_ = std::move(*headers);
  auto query_parameters =
      QueryParameterMatcher::createAll(config.query_parameters(), options.max_regex_program_size,
                                       ConfigUtility::field(path, "query_parameters"));
  if (!query_parameters.ok()) {
    return query_parameters.status();
  }
  matcher.query_parameters_ = std::move(*query_parameters);
  return matcher;
}

bool RouteMatcher::matches(const http::HeaderMap& headers, uint64_t random_value) const {
  const http::HeaderEntry* path_entry = headers.get(":path");
  if (kind_ == Kind::kConnect) {
    if (headers.method() != "CONNECT") {
      return false;
    }
  } else if (path_entry == nullptr) {
    return false;
  }
  if (runtime_numerator_.has_value() &&
      !ConfigUtility::fractionEnabled(*runtime_numerator_, runtime_denominator_, random_value)) {
    return false;
  }
  if (grpc_ && (path_entry == nullptr || !isGrpcRequest(headers))) {
    return false;
  }
  if (!HeaderMatcher::matchAll(headers_, headers)) {
    return false;
  }
  const absl::string_view path = path_entry != nullptr ? path_entry->value : absl::string_view();
  if (!query_parameters_.empty() && !QueryParameterMatcher::matchAll(query_parameters_, path)) {
    return false;
  }
  return kind_ == Kind::kConnect || pathMatches(path);
}

bool RouteMatcher::pathMatches(absl::string_view full_path) const {
  absl::string_view path = PathUtility::removeQueryAndFragment(full_path);
  if (ignore_path_parameters_) {
    path = path.substr(0, path.find(';'));
  }
  switch (kind_) {
    case Kind::kPrefix:
      return case_sensitive_ ? absl::StartsWith(path, value_)
                             : absl::StartsWithIgnoreCase(path, value_);
    case Kind::kPath:
      return case_sensitive_ ? path == value_ : absl::EqualsIgnoreCase(path, value_);
    case Kind::kRegex:
      return regex_->fullMatch(path);
    case Kind::kPathSeparatedPrefix: {
      const bool prefix_matches = case_sensitive_ ? absl::StartsWith(path, value_)
                                                  : absl::StartsWithIgnoreCase(path, value_);
      return prefix_matches && (path.size() == value_.size() || path[value_.size()] == '/');
    }
    case Kind::kConnect:
      return true;
  }
  return false;
}

size_t RouteMatcher::matchedLength(absl::string_view path) const {
  switch (kind_) {
    case Kind::kPrefix:
    case Kind::kPathSeparatedPrefix:
      return value_.size();
    case Kind::kPath:
    case Kind::kRegex:
      return PathUtility::removeQueryAndFragment(path).size();
    case Kind::kConnect:
      return 0;
  }
  return 0;
}

}  // namespace waystone::router
