#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "envoy/config/route/v3/route_components.pb.h"

#include "source/common/router/common_virtual_host_impl.h"
#include "source/common/router/compiled_regex.h"
#include "source/common/router/header_parser.h"
#include "source/common/router/path_rewriter.h"
#include "source/common/router/per_filter_configs.h"
#include "source/common/router/redirect_action.h"
#include "source/common/router/route.h"
#include "source/common/router/route_matcher.h"
#include "source/common/router/weighted_cluster_entry.h"

namespace waystone::router {

// One configured route: its matcher and its action (forward to a cluster, redirect or direct
// response) with every per-route policy. Immutable; created only as a shared_ptr.
class RouteEntryImpl : public Route,
                       public RouteEntry,
                       public DirectResponseEntry,
                       public std::enable_shared_from_this<RouteEntryImpl> {
 public:
  // Envoy's default upstream request timeout.
  static constexpr std::chrono::milliseconds kDefaultTimeout{15000};

  // `path` names the Route message ("virtual_hosts[0].routes[3]").
  static absl::StatusOr<std::shared_ptr<const RouteEntryImpl>> create(
      const envoy::config::route::v3::Route& config,
      std::shared_ptr<const CommonVirtualHostImpl> vhost, absl::string_view path);

  bool matches(const http::HeaderMap& headers, uint64_t random_value) const {
    return matcher_.matches(headers, random_value);
  }

  // The route to hand out once this one matched: itself, its weighted cluster pick (by
  // `random_value`, or the weighted_clusters.header_name value when present), or a per-request
  // entry naming the cluster_header's value.
  RouteConstSharedPtr pickRoute(const http::HeaderMap& headers, uint64_t random_value) const;

  // Route
  const RouteEntry* routeEntry() const override { return kind_ == Kind::kForward ? this : nullptr; }
  const DirectResponseEntry* directResponseEntry() const override {
    return kind_ == Kind::kForward ? nullptr : this;
  }
  const std::string& routeName() const override { return name_; }
  const VirtualHost& virtualHost() const override { return *vhost_; }
  const google::protobuf::Any* mostSpecificPerFilterConfig(
      absl::string_view filter_name) const override;
  void finalizeResponseHeaders(http::HeaderMap& response_headers,
                               const http::HeaderMap* request_headers,
                               const stream_info::StreamInfo& info) const override;

  // RouteEntry
  const std::string& clusterName() const override { return cluster_name_; }
  uint32_t clusterNotFoundResponseCode() const override { return cluster_not_found_code_; }
  void finalizeRequestHeaders(http::HeaderMap& headers, const stream_info::StreamInfo& info,
                              bool insert_original_path) const override;
  std::chrono::milliseconds timeout() const override { return timeout_; }
  std::optional<std::chrono::milliseconds> idleTimeout() const override { return idle_timeout_; }
  std::optional<std::chrono::milliseconds> maxStreamDuration() const override {
    return max_stream_duration_;
  }
  std::optional<std::chrono::milliseconds> grpcTimeoutHeaderMax() const override {
    return grpc_timeout_header_max_;
  }
  std::optional<std::chrono::milliseconds> grpcTimeoutHeaderOffset() const override {
    return grpc_timeout_header_offset_;
  }
  const RetryPolicy& retryPolicy() const override { return retry_policy_; }
  const std::vector<RequestMirrorPolicy>& requestMirrorPolicies() const override {
    return mirror_policies_.empty() ? vhost_->requestMirrorPolicies() : mirror_policies_;
  }
  const HashPolicy* hashPolicy() const override {
    return hash_policy_.has_value() ? &*hash_policy_ : nullptr;
  }
  bool autoHostRewrite() const override { return auto_host_rewrite_; }
  std::optional<bool> upgradeEnabled(absl::string_view upgrade_type) const override;
  const std::optional<ConnectConfig>& connectConfig() const override { return connect_config_; }

  // DirectResponseEntry
  uint32_t responseCode() const override;
  const std::string& responseBody() const override { return direct_body_; }
  bool isRedirect() const override { return kind_ == Kind::kRedirect; }
  std::string newLocation(const http::HeaderMap& request_headers) const override;

  // host_rewrite_literal ("" when not set).
  const std::string& hostRewrite() const { return host_rewrite_literal_; }
  const RouteMatcher& matcher() const { return matcher_; }
  const std::vector<std::unique_ptr<const WeightedClusterEntry>>& weightedClusters() const {
    return weighted_clusters_;
  }

 private:
  enum class Kind { kForward, kRedirect, kDirectResponse };

  RouteEntryImpl(std::shared_ptr<const CommonVirtualHostImpl> vhost, RouteMatcher matcher);

  absl::Status initForward(const envoy::config::route::v3::RouteAction& action,
                           absl::string_view path);
  absl::Status initWeightedClusters(const envoy::config::route::v3::WeightedCluster& config,
                                    absl::string_view path);
  absl::Status initDirectResponse(const envoy::config::route::v3::DirectResponseAction& action,
                                  absl::string_view path);
  void finalizeHost(http::HeaderMap& headers) const;

  const std::shared_ptr<const CommonVirtualHostImpl> vhost_;
  const RouteMatcher matcher_;
  Kind kind_ = Kind::kForward;
  std::string name_;
  HeaderParser request_headers_;
  HeaderParser response_headers_;
  PerFilterConfigs per_filter_configs_;

  // Forwarding.
  std::string cluster_name_;
  std::string cluster_header_;  // lower case
  std::vector<std::unique_ptr<const WeightedClusterEntry>> weighted_clusters_;
  uint64_t total_weight_ = 0;
  std::string random_value_header_;  // weighted_clusters.header_name, lower case
  uint32_t cluster_not_found_code_ = 503;
  PathRewriter path_rewriter_;
  std::string host_rewrite_literal_;
  std::string host_rewrite_header_;
  CompiledRegexConstSharedPtr host_rewrite_regex_;
  std::string host_rewrite_substitution_;
  bool auto_host_rewrite_ = false;
  bool append_x_forwarded_host_ = false;
  std::chrono::milliseconds timeout_{kDefaultTimeout};
  std::optional<std::chrono::milliseconds> idle_timeout_;
  std::optional<std::chrono::milliseconds> max_stream_duration_;
  std::optional<std::chrono::milliseconds> grpc_timeout_header_max_;
  std::optional<std::chrono::milliseconds> grpc_timeout_header_offset_;
  RetryPolicy retry_policy_;
  std::vector<RequestMirrorPolicy> mirror_policies_;
  std::optional<HashPolicy> hash_policy_;
  absl::flat_hash_map<std::string, bool> upgrades_;  // lower-case type -> enabled
  std::optional<ConnectConfig> connect_config_;

  // Redirect / direct response.
  std::optional<RedirectAction> redirect_;
  uint32_t direct_status_ = 0;
  std::string direct_body_;
};

}  // namespace waystone::router
