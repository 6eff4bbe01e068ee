#pragma once

#include <string>

#include "source/common/router/delegating_route_entry.h"

namespace waystone::router {

// The route returned for cluster_header routes (and weighted clusters naming a cluster_header):
// the matched route with the cluster read from the request. Allocated per request; it owns a
// reference to the route it delegates to.
class DynamicRouteEntry : public DelegatingRouteEntry {
 public:
  // `route` and `entry` must be `owner` itself or be owned by it.
  DynamicRouteEntry(RouteConstSharedPtr owner, const Route& route, const RouteEntry& entry,
                    std::string cluster_name)
      : DelegatingRouteEntry(route, entry),
        owner_(std::move(owner)),
        cluster_name_(std::move(cluster_name)) {}

  const std::string& clusterName() const override { return cluster_name_; }

 private:
  const RouteConstSharedPtr owner_;
  const std::string cluster_name_;
};

}  // namespace waystone::router
