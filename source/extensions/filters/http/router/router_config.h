#pragma once

#include <memory>
#include <string>

#include "source/common/stats/store.h"
#include "source/upstream/thread_local_cluster_manager.h"

namespace waystone::extensions::http_filters::router {

// The router's own stats, under the connection manager's http.<stat_prefix>. (Envoy's names).
struct RouterStats {
  explicit RouterStats(stats::Scope& scope);
  stats::Counter& no_route;
  stats::Counter& no_cluster;
  stats::Counter& rq_redirect;
  stats::Counter& rq_direct_response;
  stats::Counter& rq_total;
  stats::Counter& rq_reset_after_downstream_response_started;
  // A request_mirror_policies cluster that does not exist (Envoy only logs this).
  stats::Counter& mirror_no_cluster;
};

// The router filter's immutable config (envoy.extensions.filters.http.router.v3.Router).
struct RouterConfig {
  RouterConfig(const upstream::WorkerClusterManagers& cluster_managers, stats::ScopeSharedPtr scope,
               bool suppress_envoy_headers)
      : cluster_managers(cluster_managers),
        scope(std::move(scope)),
        stats(*this->scope),
        suppress_envoy_headers(suppress_envoy_headers) {}

  const upstream::WorkerClusterManagers& cluster_managers;
  stats::ScopeSharedPtr scope;
  RouterStats stats;
  // Router.suppress_envoy_headers: no x-envoy-upstream-service-time,
  // x-envoy-expected-rq-timeout-ms, x-envoy-attempt-count.
  const bool suppress_envoy_headers;
};

using RouterConfigConstSharedPtr = std::shared_ptr<const RouterConfig>;

}  // namespace waystone::extensions::http_filters::router
