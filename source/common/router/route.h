#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/any.pb.h"

#include "source/common/http/header_map.h"
#include "source/common/router/hash_policy.h"
#include "source/common/router/request_mirror_policy.h"
#include "source/common/router/retry_policy.h"
#include "source/common/stream_info/stream_info.h"

namespace waystone::router {

// The route table's view of a virtual host, as the router filter sees it.
class VirtualHost {
 public:
  virtual ~VirtualHost() = default;

  virtual const std::string& name() const = 0;
  // This virtual host's typed_per_filter_config entry for `filter_name`, or nullptr.
  virtual const google::protobuf::Any* perFilterConfig(absl::string_view filter_name) const = 0;
  // include_request_attempt_count: send x-envoy-attempt-count upstream.
  virtual bool includeAttemptCountInRequest() const = 0;
  // include_attempt_count_in_response: send x-envoy-attempt-count downstream.
  virtual bool includeAttemptCountInResponse() const = 0;
};

// A route answered by the proxy itself: `redirect` or `direct_response`.
class DirectResponseEntry {
 public:
  virtual ~DirectResponseEntry() = default;

  virtual uint32_t responseCode() const = 0;
  // The direct_response body ("" for redirects).
  virtual const std::string& responseBody() const = 0;
  virtual bool isRedirect() const = 0;
  // The Location header value for a redirect; "" for direct_response.
  virtual std::string newLocation(const http::HeaderMap& request_headers) const = 0;
};

// A route's CONNECT upgrade with connect_config (RouteAction.UpgradeConfig.ConnectConfig): the
// router terminates the CONNECT itself and carries the stream's bytes over a raw TCP connection
// to a host of the route's cluster.
struct ConnectConfig {
  // allow_post: a POST is terminated the same way (its body is the TCP payload).
  bool allow_post = false;
};

// A route that forwards upstream (`route` action), with the cluster already chosen.
class RouteEntry {
 public:
  virtual ~RouteEntry() = default;

  // The target cluster: `cluster`, the weighted pick, or the value of `cluster_header` ("" when
  // that header was absent).
  virtual const std::string& clusterName() const = 0;
  // The status to send when the cluster does not exist: 503 (default), 404 or 500.
  virtual uint32_t clusterNotFoundResponseCode() const = 0;

  // Applies, in Envoy's order: header mutations (weighted cluster level, then route, virtual host
  // and route configuration levels; reversed for levels above the cluster when
  // most_specific_header_mutations_wins), then the host rewrite, then the path rewrite.
  // `insert_original_path` adds x-envoy-original-path when the path is rewritten.
  // `info` is the request's StreamInfo, read by the header value formatters.
  virtual void finalizeRequestHeaders(http::HeaderMap& headers, const stream_info::StreamInfo& info,
                                      bool insert_original_path) const = 0;

  // The upstream request timeout: 15 s unless configured; 0 means none.
  virtual std::chrono::milliseconds timeout() const = 0;
  // Per-route stream idle timeout; nullopt: the connection manager's applies; 0: disabled.
  virtual std::optional<std::chrono::milliseconds> idleTimeout() const = 0;
  // max_stream_duration.{max_stream_duration, grpc_timeout_header_max,
  // grpc_timeout_header_offset}; nullopt when not set.
  virtual std::optional<std::chrono::milliseconds> maxStreamDuration() const = 0;
  virtual std::optional<std::chrono::milliseconds> grpcTimeoutHeaderMax() const = 0;
  virtual std::optional<std::chrono::milliseconds> grpcTimeoutHeaderOffset() const = 0;

  // The route's retry_policy, else the virtual host's, else the default (no retries on).
  virtual const RetryPolicy& retryPolicy() const = 0;
  // The most specific non-empty list: route, then virtual host, then route configuration.
  virtual const std::vector<RequestMirrorPolicy>& requestMirrorPolicies() const = 0;
  // nullptr when the route has no hash_policy.
  virtual const HashPolicy* hashPolicy() const = 0;

  // auto_host_rewrite: the router sets :authority to the chosen upstream host's hostname.
  virtual bool autoHostRewrite() const = 0;
  // upgrade_configs: nullopt when the route says nothing about `upgrade_type` (the connection
  // manager's setting applies), else whether it is enabled. Case-insensitive.
  virtual std::optional<bool> upgradeEnabled(absl::string_view upgrade_type) const = 0;
  // The CONNECT upgrade's connect_config; nullopt when the route has none (a CONNECT is then
  // forwarded as an HTTP request).
  virtual const std::optional<ConnectConfig>& connectConfig() const = 0;
};

// The result of route matching.
class Route {
 public:
  virtual ~Route() = default;

  // Exactly one of these is non-null.
  virtual const RouteEntry* routeEntry() const = 0;
  virtual const DirectResponseEntry* directResponseEntry() const = 0;

  virtual const std::string& routeName() const = 0;
  virtual const VirtualHost& virtualHost() const = 0;

  // The typed_per_filter_config entry for `filter_name` at the most specific level that has one:
  // weighted cluster, route, virtual host, route configuration. nullptr when none does. The Any
  // is returned as configured; the filter unpacks it (possibly an
  // envoy.config.route.v3.FilterConfig wrapper).
  virtual const google::protobuf::Any* mostSpecificPerFilterConfig(
      absl::string_view filter_name) const = 0;

  // Applies the response header mutations in the same level order as finalizeRequestHeaders().
  // %REQ()% reads `request_headers` (may be nullptr), %RESP()% `response_headers`.
  virtual void finalizeResponseHeaders(http::HeaderMap& response_headers,
                                       const http::HeaderMap* request_headers,
                                       const stream_info::StreamInfo& info) const = 0;
};

using RouteConstSharedPtr = std::shared_ptr<const Route>;

}  // namespace waystone::router
