#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "envoy/config/route/v3/route_components.pb.h"

#include "source/common/router/delegating_route_entry.h"
#include "source/common/router/header_parser.h"
#include "source/common/router/per_filter_configs.h"

namespace waystone::router {

class RouteEntryImpl;

// One weighted_clusters.clusters entry: the parent route with this cluster, its own header
// mutations (applied before the route's), host_rewrite_literal and typed_per_filter_config (the
// most specific level). Owned by the parent route, which hands it out with an aliasing
// shared_ptr, so no allocation happens per request.
class WeightedClusterEntry : public DelegatingRouteEntry {
 public:
  // `path` names the ClusterWeight message.
  static absl::StatusOr<std::unique_ptr<const WeightedClusterEntry>> create(
      const envoy::config::route::v3::WeightedCluster::ClusterWeight& config,
      const RouteEntryImpl& parent, absl::string_view path);

  uint64_t weight() const { return weight_; }
  // Lower-case header naming the cluster, or "" when the cluster is `name`.
  const std::string& clusterHeader() const { return cluster_header_; }

  // Route
  const google::protobuf::Any* mostSpecificPerFilterConfig(
      absl::string_view filter_name) const override;
  void finalizeResponseHeaders(http::HeaderMap& response_headers,
                               const http::HeaderMap* request_headers,
                               const stream_info::StreamInfo& info) const override;

  // RouteEntry
  const std::string& clusterName() const override { return cluster_name_; }
  void finalizeRequestHeaders(http::HeaderMap& headers, const stream_info::StreamInfo& info,
                              bool insert_original_path) const override;

 private:
  explicit WeightedClusterEntry(const RouteEntryImpl& parent);

  std::string cluster_name_;
  std::string cluster_header_;
  uint64_t weight_ = 0;
  HeaderParser request_headers_;
  HeaderParser response_headers_;
  std::string host_rewrite_;
  PerFilterConfigs per_filter_configs_;
};

}  // namespace waystone::router
