#pragma once

#include "source/common/router/route.h"

namespace waystone::router {

// A forwarding route that answers everything from another route except what a subclass
// overrides (the cluster, for weighted clusters and cluster_header). The delegate must outlive
// this object; subclasses guarantee it.
class DelegatingRouteEntry : public Route, public RouteEntry {
 public:
  DelegatingRouteEntry(const Route& route, const RouteEntry& entry)
      : route_(route), entry_(entry) {}

  // Route
  const RouteEntry* routeEntry() const override { return this; }
  const DirectResponseEntry* directResponseEntry() const override { return nullptr; }
  const std::string& routeName() const override { return route_.routeName(); }
  const VirtualHost& virtualHost() const override { return route_.virtualHost(); }
  const google::protobuf::Any* mostSpecificPerFilterConfig(
      absl::string_view filter_name) const override {
    return route_.mostSpecificPerFilterConfig(filter_name);
  }
  void finalizeResponseHeaders(http::HeaderMap& response_headers,
                               const http::HeaderMap* request_headers,
                               const stream_info::StreamInfo& info) const override {
    route_.finalizeResponseHeaders(response_headers, request_headers, info);
  }

  // RouteEntry
  const std::string& clusterName() const override { return entry_.clusterName(); }
  uint32_t clusterNotFoundResponseCode() const override {
    return entry_.clusterNotFoundResponseCode();
  }
  void finalizeRequestHeaders(http::HeaderMap& headers, const stream_info::StreamInfo& info,
                              bool insert_original_path) const override {
    entry_.finalizeRequestHeaders(headers, info, insert_original_path);
  }
  std::chrono::milliseconds timeout() const override { return entry_.timeout(); }
  std::optional<std::chrono::milliseconds> idleTimeout() const override {
    return entry_.idleTimeout();
  }
  std::optional<std::chrono::milliseconds> maxStreamDuration() const override {
    return entry_.maxStreamDuration();
  }
  std::optional<std::chrono::milliseconds> grpcTimeoutHeaderMax() const override {
    return entry_.grpcTimeoutHeaderMax();
  }
  std::optional<std::chrono::milliseconds> grpcTimeoutHeaderOffset() const override {
    return entry_.grpcTimeoutHeaderOffset();
  }
  const RetryPolicy& retryPolicy() const override { return entry_.retryPolicy(); }
  const std::vector<RequestMirrorPolicy>& requestMirrorPolicies() const override {
    return entry_.requestMirrorPolicies();
  }
  const HashPolicy* hashPolicy() const override { return entry_.hashPolicy(); }
  bool autoHostRewrite() const override { return entry_.autoHostRewrite(); }
  std::optional<bool> upgradeEnabled(absl::string_view upgrade_type) const override {
    return entry_.upgradeEnabled(upgrade_type);
  }
  const std::optional<ConnectConfig>& connectConfig() const override {
    return entry_.connectConfig();
  }

 protected:
  const Route& route_;
  const RouteEntry& entry_;
};

}  // namespace waystone::router
