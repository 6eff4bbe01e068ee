#include "source/common/router/route_entry_impl.h"

#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

#include "source/common/router/config_utility.h"
#include "source/common/router/dynamic_route_entry.h"
#include "source/common/router/path_utility.h"

namespace waystone::router {
namespace {

using RouteProto = envoy::config::route::v3::Route;
using RouteActionProto = envoy::config::route::v3::RouteAction;

absl::StatusOr<std::optional<std::chrono::milliseconds>> optionalMs(
    bool has, const google::protobuf::Duration& duration, absl::string_view path) {
  if (!has) {
    return std::optional<std::chrono::milliseconds>();
  }
  auto ms = ConfigUtility::durationToMs(duration, path);
  if (!ms.ok()) {
    return ms.status();
  }
  return std::optional<std::chrono::milliseconds>(*ms);
}

// Reads a DataSource: inline string or bytes, a file, or an environment variable.
absl::StatusOr<std::string> readDataSource(const envoy::config::core::v3::DataSource& source,
                                           absl::string_view path) {
  switch (source.specifier_case()) {
    case envoy::config::core::v3::DataSource::kInlineString:
      return source.inline_string();
    case envoy::config::core::v3::DataSource::kInlineBytes:
      return source.inline_bytes();
    case envoy::config::core::v3::DataSource::kFilename: {
      std::ifstream file(source.filename(), std::ios::binary);
      if (!file) {
        return ConfigUtility::error(ConfigUtility::field(path, "filename"),
                                    absl::StrCat("cannot read '", source.filename(), "'"));
      }
      std::ostringstream contents;
      contents << file.rdbuf();
      return contents.str();
    }
    case envoy::config::core::v3::DataSource::kEnvironmentVariable: {
      const char* value = std::getenv(source.environment_variable().c_str());
      if (value == nullptr) {
        return ConfigUtility::error(
            ConfigUtility::field(path, "environment_variable"),
            absl::StrCat("environment variable '", source.environment_variable(), "' is not set"));
      }
      return std::string(value);
    }
    case envoy::config::core::v3::DataSource::SPECIFIER_NOT_SET:
      break;
  }
  return std::string();
}

uint32_t clusterNotFoundStatus(RouteActionProto::ClusterNotFoundResponseCode code) {
  switch (code) {
    case RouteActionProto::NOT_FOUND:
      return 404;
    case RouteActionProto::INTERNAL_SERVER_ERROR:
      return 500;
    default:
      return 503;
  }
}

// Sets :authority to `hostname`, recording the previous value in x-forwarded-host when asked
// (Envoy's updateAuthority).
void updateAuthority(http::HeaderMap& headers, absl::string_view hostname,
                     bool append_x_forwarded_host) {
  const std::string host(headers.host());
  if (append_x_forwarded_host && !host.empty()) {
    const std::string forwarded(headers.getValue("x-forwarded-host"));
    if (forwarded.empty()) {
      headers.setCopy("x-forwarded-host", host);
    } else if (!absl::EndsWith(forwarded, host)) {
      headers.setCopy("x-forwarded-host", absl::StrCat(forwarded, ",", host));
    }
  }
  headers.setCopy(":authority", hostname);
}

}  // namespace

RouteEntryImpl::RouteEntryImpl(std::shared_ptr<const CommonVirtualHostImpl> vhost,
                               RouteMatcher matcher)
    : vhost_(std::move(vhost)), matcher_(std::move(matcher)) {}

absl::StatusOr<std::shared_ptr<const RouteEntryImpl>> RouteEntryImpl::create(
    const RouteProto& config, std::shared_ptr<const CommonVirtualHostImpl> vhost,
    absl::string_view path) {
  const CommonConfigImpl& global = vhost->globalConfig();
  auto matcher = RouteMatcher::create(config.match(), global.options(),
                                      global.ignorePathParametersInPathMatching(),
                                      ConfigUtility::field(path, "match"));
  if (!matcher.ok()) {
    return matcher.status();
  }
  std::shared_ptr<RouteEntryImpl> route(new RouteEntryImpl(std::move(vhost), std::move(*matcher)));
  route->name_ = config.name();

  auto request_headers =
      HeaderParser::create(config.request_headers_to_add(), config.request_headers_to_remove(),
                           path, "request_headers_to_add", "request_headers_to_remove");
  if (!request_headers.ok()) {
    return request_headers.status();
  }
  route->request_headers_ = std::move(*request_headers);
  auto response_headers =
      HeaderParser::create(config.response_headers_to_add(), config.response_headers_to_remove(),
                           path, "response_headers_to_add", "response_headers_to_remove");
  if (!response_headers.ok()) {
    return response_headers.status();
  }
  route->response_headers_ = std::move(*response_headers);
  auto per_filter_configs = PerFilterConfigs::create(
      config.typed_per_filter_config(), ConfigUtility::field(path, "typed_per_filter_config"));
  if (!per_filter_configs.ok()) {
    return per_filter_configs.status();
  }
  route->per_filter_configs_ = std::move(*per_filter_configs);

  absl::Status status;
  switch (config.action_case()) {
    case RouteProto::kRoute:
      route->kind_ = Kind::kForward;
      status = route->initForward(config.route(), ConfigUtility::field(path, "route"));
      break;
    case RouteProto::kRedirect: {
      route->kind_ = Kind::kRedirect;
      auto redirect =
          RedirectAction::create(config.redirect(), global.options().max_regex_program_size,
                                 ConfigUtility::field(path, "redirect"));
      if (!redirect.ok()) {
        return redirect.status();
      }
      route->redirect_ = std::move(*redirect);
      break;
    }
    case RouteProto::kDirectResponse:
      route->kind_ = Kind::kDirectResponse;
      status = route->initDirectResponse(config.direct_response(),
                                         ConfigUtility::field(path, "direct_response"));
      break;
    case RouteProto::kFilterAction:
      return ConfigUtility::error(ConfigUtility::field(path, "filter_action"),
                                  "filter_action routes are not supported");
    case RouteProto::kNonForwardingAction:
      return ConfigUtility::error(ConfigUtility::field(path, "non_forwarding_action"),
                                  "non_forwarding_action routes are not supported");
    case RouteProto::ACTION_NOT_SET:
      return ConfigUtility::error(path, "one of route, redirect or direct_response is required");
  }
  if (!status.ok()) {
    return status;
  }
  return std::shared_ptr<const RouteEntryImpl>(std::move(route));
}

absl::Status RouteEntryImpl::initForward(const RouteActionProto& action, absl::string_view path) {
  const CommonConfigImpl& global = vhost_->globalConfig();
  const uint32_t max_program_size = global.options().max_regex_program_size;

  switch (action.cluster_specifier_case()) {
    case RouteActionProto::kCluster:
      cluster_name_ = action.cluster();
      break;
    case RouteActionProto::kClusterHeader:
      cluster_header_ = absl::AsciiStrToLower(action.cluster_header());
      break;
    case RouteActionProto::kWeightedClusters: {
      absl::Status status = initWeightedClusters(action.weighted_clusters(),
                                                 ConfigUtility::field(path, "weighted_clusters"));
      if (!status.ok()) {
        return status;
      }
      break;
    }
    case RouteActionProto::kClusterSpecifierPlugin:
    case RouteActionProto::kInlineClusterSpecifierPlugin:
      return ConfigUtility::error(path, "cluster specifier plugins are not supported");
    case RouteActionProto::CLUSTER_SPECIFIER_NOT_SET:
      return ConfigUtility::error(path,
                                  "one of cluster, cluster_header or weighted_clusters is "
                                  "required");
  }
  cluster_not_found_code_ = clusterNotFoundStatus(action.cluster_not_found_response_code());

  if (action.has_path_rewrite_policy()) {
    return ConfigUtility::error(ConfigUtility::field(path, "path_rewrite_policy"),
                                "path rewrite extensions are not supported");
  }
  auto rewriter = PathRewriter::create(
      action.prefix_rewrite(), action.has_regex_rewrite() ? &action.regex_rewrite() : nullptr,
      max_program_size, path);
  if (!rewriter.ok()) {
    return rewriter.status();
  }
  path_rewriter_ = std::move(*rewriter);

  switch (action.host_rewrite_specifier_case()) {
    case RouteActionProto::kHostRewriteLiteral:
      host_rewrite_literal_ = action.host_rewrite_literal();
      break;
    case RouteActionProto::kAutoHostRewrite:
      auto_host_rewrite_ = action.auto_host_rewrite().value();
      break;
    case RouteActionProto::kHostRewriteHeader:
      host_rewrite_header_ = absl::AsciiStrToLower(action.host_rewrite_header());
      break;
    case RouteActionProto::kHostRewritePathRegex: {
      const std::string regex_path = ConfigUtility::field(path, "host_rewrite_path_regex");
      auto regex =
          CompiledRegex::create(action.host_rewrite_path_regex().pattern(), max_program_size,
                                ConfigUtility::field(regex_path, "pattern"));
      if (!regex.ok()) {
        return regex.status();
      }
      host_rewrite_substitution_ = action.host_rewrite_path_regex().substitution();
      absl::Status status = (*regex)->checkSubstitution(
          host_rewrite_substitution_, ConfigUtility::field(regex_path, "substitution"));
      if (!status.ok()) {
        return status;
      }
      host_rewrite_regex_ = std::move(*regex);
      break;
    }
    case RouteActionProto::HOST_REWRITE_SPECIFIER_NOT_SET:
      break;
  }
  append_x_forwarded_host_ = action.append_x_forwarded_host();

  if (action.has_timeout()) {
    auto timeout =
        ConfigUtility::durationToMs(action.timeout(), ConfigUtility::field(path, "timeout"));
    if (!timeout.ok()) {
      return timeout.status();
    }
    timeout_ = *timeout;
  }
  auto idle_timeout = optionalMs(action.has_idle_timeout(), action.idle_timeout(),
                                 ConfigUtility::field(path, "idle_timeout"));
  if (!idle_timeout.ok()) {
    return idle_timeout.status();
  }
  idle_timeout_ = *idle_timeout;
  if (action.has_max_stream_duration()) {
    const auto& durations = action.max_stream_duration();
    const std::string durations_path = ConfigUtility::field(path, "max_stream_duration");
    auto max = optionalMs(durations.has_max_stream_duration(), durations.max_stream_duration(),
                          ConfigUtility::field(durations_path, "max_stream_duration"));
    auto header_max =
        optionalMs(durations.has_grpc_timeout_header_max(), durations.grpc_timeout_header_max(),
                   ConfigUtility::field(durations_path, "grpc_timeout_header_max"));
    auto header_offset = optionalMs(
        durations.has_grpc_timeout_header_offset(), durations.grpc_timeout_header_offset(),
        ConfigUtility::field(durations_path, "grpc_timeout_header_offset"));
    for (const auto* result : {&max, &header_max, &header_offset}) {
      if (!result->ok()) {
        return result->status();
      }
    }
    max_stream_duration_ = *max;
    grpc_timeout_header_max_ = *header_max;
    grpc_timeout_header_offset_ = *header_offset;
  }

  if (action.has_retry_policy_typed_config()) {
    return ConfigUtility::error(ConfigUtility::field(path, "retry_policy_typed_config"),
                                "retry policy extensions are not supported");
  }
  if (action.has_retry_policy()) {
    auto retry_policy = RetryPolicy::create(action.retry_policy(), max_program_size,
                                            ConfigUtility::field(path, "retry_policy"));
    if (!retry_policy.ok()) {
      return retry_policy.status();
    }
    retry_policy_ = std::move(*retry_policy);
  } else if (vhost_->retryPolicy() != nullptr) {
    retry_policy_ = *vhost_->retryPolicy();
  }

  auto mirror_policies = RequestMirrorPolicy::createAll(
      action.request_mirror_policies(), ConfigUtility::field(path, "request_mirror_policies"));
  if (!mirror_policies.ok()) {
    return mirror_policies.status();
  }
  mirror_policies_ = std::move(*mirror_policies);

  if (!action.hash_policy().empty()) {
    auto hash_policy = HashPolicy::create(action.hash_policy(), max_program_size,
                                          ConfigUtility::field(path, "hash_policy"));
    if (!hash_policy.ok()) {
      return hash_policy.status();
    }
    hash_policy_.emplace(std::move(*hash_policy));
  }

  for (int i = 0; i < action.upgrade_configs().size(); ++i) {
    const auto& upgrade = action.upgrade_configs(i);
    const std::string upgrade_path = ConfigUtility::element(path, "upgrade_configs", i);
    const std::string type = absl::AsciiStrToLower(upgrade.upgrade_type());
    const bool enabled = !upgrade.has_enabled() || upgrade.enabled().value();
    if (!upgrades_.emplace(type, enabled).second) {
      return ConfigUtility::error(ConfigUtility::field(upgrade_path, "upgrade_type"),
                                  absl::StrCat("duplicate upgrade ", upgrade.upgrade_type()));
    }
    if (upgrade.has_connect_config() && type != "connect" && type != "connect-udp") {
      return ConfigUtility::error(ConfigUtility::field(upgrade_path, "connect_config"),
                                  absl::StrCat("non-CONNECT upgrade type ", upgrade.upgrade_type(),
                                               " has a connect_config"));
    }
    if (upgrade.has_connect_config() && type == "connect-udp") {
      return ConfigUtility::error(ConfigUtility::field(upgrade_path, "connect_config"),
                                  "CONNECT-UDP termination is not supported");
    }
    if (upgrade.has_connect_config()) {
      const auto& connect = upgrade.connect_config();
      if (connect.has_proxy_protocol_config()) {
        return ConfigUtility::error(
            ConfigUtility::field(ConfigUtility::field(upgrade_path, "connect_config"),
                                 "proxy_protocol_config"),
            "PROXY protocol on terminated CONNECT is not supported");
      }
      connect_config_ = ConnectConfig{connect.allow_post()};
    }
  }

  // Internal redirects are not implemented: refuse configs that ask for them rather than
  // passing the upstream's 3xx through unexpectedly.
  if (action.has_internal_redirect_policy() &&
      action.internal_redirect_policy().ByteSizeLong() > 0) {
    return ConfigUtility::error(ConfigUtility::field(path, "internal_redirect_policy"),
                                "internal redirects are not supported");
  }
  if (action.internal_redirect_action() == RouteActionProto::HANDLE_INTERNAL_REDIRECT) {
    return ConfigUtility::error(ConfigUtility::field(path, "internal_redirect_action"),
                                "internal redirects are not supported");
  }
  if (action.has_max_internal_redirects()) {
    return ConfigUtility::error(ConfigUtility::field(path, "max_internal_redirects"),
                                "internal redirects are not supported");
  }
  return absl::OkStatus();
}

absl::Status RouteEntryImpl::initWeightedClusters(
    const envoy::config::route::v3::WeightedCluster& config, absl::string_view path) {
  if (config.clusters().empty()) {
    return ConfigUtility::error(ConfigUtility::field(path, "clusters"),
                                "at least one cluster is required");
  }
  for (int i = 0; i < config.clusters().size(); ++i) {
    auto entry = WeightedClusterEntry::create(config.clusters(i), *this,
                                              ConfigUtility::element(path, "clusters", i));
    if (!entry.ok()) {
      return entry.status();
    }
    total_weight_ += (*entry)->weight();
    weighted_clusters_.push_back(std::move(*entry));
  }
  if (total_weight_ == 0) {
    return ConfigUtility::error(ConfigUtility::field(path, "clusters"),
                                "the sum of the weights must be greater than 0");
  }
  if (config.has_total_weight() && config.total_weight().value() != total_weight_) {
    return ConfigUtility::error(
        ConfigUtility::field(path, "total_weight"),
        absl::StrCat("the weights add up to ", total_weight_, ", not to total_weight ",
                     config.total_weight().value()));
  }
  random_value_header_ = absl::AsciiStrToLower(config.header_name());
  return absl::OkStatus();
}

absl::Status RouteEntryImpl::initDirectResponse(
    const envoy::config::route::v3::DirectResponseAction& action, absl::string_view path) {
  if (action.status() < 200 || action.status() >= 600) {
    return ConfigUtility::error(ConfigUtility::field(path, "status"),
                                "must be in the range [200, 600)");
  }
  direct_status_ = action.status();
  if (action.has_body()) {
    const std::string body_path = ConfigUtility::field(path, "body");
    auto body = readDataSource(action.body(), body_path);
    if (!body.ok()) {
      return body.status();
    }
    const uint32_t limit = vhost_->globalConfig().maxDirectResponseBodySizeBytes();
    if (body->size() > limit) {
      return ConfigUtility::error(body_path, absl::StrCat("response body size is ", body->size(),
                                                          " bytes; maximum is ", limit));
    }
    direct_body_ = std::move(*body);
  }
  return absl::OkStatus();
}

RouteConstSharedPtr RouteEntryImpl::pickRoute(const http::HeaderMap& headers,
                                              uint64_t random_value) const {
  if (!cluster_header_.empty()) {
    return std::make_shared<DynamicRouteEntry>(shared_from_this(), *this, *this,
                                               std::string(headers.getValue(cluster_header_)));
  }
  if (weighted_clusters_.empty()) {
    return shared_from_this();
  }
  if (!random_value_header_.empty()) {
    uint64_t header_value = 0;
    if (absl::SimpleAtoi(headers.getValue(random_value_header_), &header_value)) {
      random_value = header_value;
    }
  }
  // Walk the cumulative weights: cluster i owns [sum of earlier weights, + weight_i).
  const uint64_t selected = random_value % total_weight_;
  uint64_t end = 0;
  const WeightedClusterEntry* picked = weighted_clusters_.back().get();
  for (const auto& entry : weighted_clusters_) {
    end += entry->weight();
    if (selected < end) {
      picked = entry.get();
      break;
    }
  }
  if (!picked->clusterHeader().empty()) {
    return std::make_shared<DynamicRouteEntry>(
        shared_from_this(), *picked, *picked,
        std::string(headers.getValue(picked->clusterHeader())));
  }
  // Shares ownership with this route, which owns the entry: no allocation per request.
  return RouteConstSharedPtr(shared_from_this(), picked);
}

const google::protobuf::Any* RouteEntryImpl::mostSpecificPerFilterConfig(
    absl::string_view filter_name) const {
  if (const google::protobuf::Any* config = per_filter_configs_.get(filter_name);
      config != nullptr) {
    return config;
  }
  if (const google::protobuf::Any* config = vhost_->perFilterConfig(filter_name);
      config != nullptr) {
    return config;
  }
  return vhost_->globalConfig().perFilterConfigs().get(filter_name);
}

void RouteEntryImpl::finalizeRequestHeaders(http::HeaderMap& headers,
                                            const stream_info::StreamInfo& info,
                                            bool insert_original_path) const {
  // By default the most specific level is applied first, so the route configuration's values
  // win where levels overwrite the same header; most_specific_header_mutations_wins reverses
  // the order (Envoy).
  const CommonConfigImpl& global = vhost_->globalConfig();
  const HeaderParser* levels[] = {&request_headers_, &vhost_->requestHeaderParser(),
                                  &global.requestHeaderParser()};
  if (global.mostSpecificHeaderMutationsWins()) {
    std::swap(levels[0], levels[2]);
  }
  const formatter::Context context{&headers};
  for (const HeaderParser* level : levels) {
    level->evaluateHeaders(headers, context, info);
  }

  finalizeHost(headers);

  if (path_rewriter_.active()) {
    const std::string path(headers.path());
    const std::string rewritten = path_rewriter_.rewrite(path, matcher_.matchedLength(path));
    if (insert_original_path && rewritten != path) {
      headers.setCopy("x-envoy-original-path", path);
    }
    headers.setCopy(":path", rewritten);
  }
}

void RouteEntryImpl::finalizeHost(http::HeaderMap& headers) const {
  std::string hostname;
  if (!host_rewrite_literal_.empty()) {
    hostname = host_rewrite_literal_;
  } else if (!host_rewrite_header_.empty()) {
    hostname = std::string(headers.getValue(host_rewrite_header_));
  } else if (host_rewrite_regex_ != nullptr) {
    hostname = host_rewrite_regex_->replaceAll(PathUtility::removeQueryAndFragment(headers.path()),
                                               host_rewrite_substitution_);
  }
  if (!hostname.empty()) {
    updateAuthority(headers, hostname, append_x_forwarded_host_);
  }
}

void RouteEntryImpl::finalizeResponseHeaders(http::HeaderMap& response_headers,
                                             const http::HeaderMap* request_headers,
                                             const stream_info::StreamInfo& info) const {
  const CommonConfigImpl& global = vhost_->globalConfig();
  const HeaderParser* levels[] = {&response_headers_, &vhost_->responseHeaderParser(),
                                  &global.responseHeaderParser()};
  if (global.mostSpecificHeaderMutationsWins()) {
    std::swap(levels[0], levels[2]);
  }
  const formatter::Context context{request_headers, &response_headers};
  for (const HeaderParser* level : levels) {
    level->evaluateHeaders(response_headers, context, info);
  }
}

std::optional<bool> RouteEntryImpl::upgradeEnabled(absl::string_view upgrade_type) const {
  const auto it = upgrades_.find(absl::AsciiStrToLower(upgrade_type));
  if (it == upgrades_.end()) {
    return std::nullopt;
  }
  return it->second;
}

uint32_t RouteEntryImpl::responseCode() const {
  return redirect_.has_value() ? redirect_->responseCode() : direct_status_;
}

std::string RouteEntryImpl::newLocation(const http::HeaderMap& request_headers) const {
  if (!redirect_.has_value()) {
    return "";
  }
  return redirect_->newLocation(request_headers, matcher_.matchedLength(request_headers.path()));
}

}  // namespace waystone::router
