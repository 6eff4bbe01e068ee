#include "source/common/router/weighted_cluster_entry.h"

#include "absl/strings/ascii.h"

#include "source/common/router/config_utility.h"
#include "source/common/router/route_entry_impl.h"

namespace waystone::router {

WeightedClusterEntry::WeightedClusterEntry(const RouteEntryImpl& parent)
    : DelegatingRouteEntry(parent, parent) {}

absl::StatusOr<std::unique_ptr<const WeightedClusterEntry>> WeightedClusterEntry::create(
    const envoy::config::route::v3::WeightedCluster::ClusterWeight& config,
    const RouteEntryImpl& parent, absl::string_view path) {
  if (config.name().empty() && config.cluster_header().empty()) {
    return ConfigUtility::error(path, "one of name or cluster_header must be specified");
  }
  if (!config.name().empty() && !config.cluster_header().empty()) {
    return ConfigUtility::error(path, "only one of name or cluster_header can be specified");
  }
  std::unique_ptr<WeightedClusterEntry> entry(new WeightedClusterEntry(parent));
  entry->cluster_name_ = config.name();
  entry->cluster_header_ = absl::AsciiStrToLower(config.cluster_header());
  entry->weight_ = config.has_weight() ? config.weight().value() : 0;
  auto request_headers =
      HeaderParser::create(config.request_headers_to_add(), config.request_headers_to_remove(),
                           path, "request_headers_to_add", "request_headers_to_remove");
  if (!request_headers.ok()) {
    return request_headers.status();
  }
  entry->request_headers_ = std::move(*request_headers);
  auto response_headers =
      HeaderParser::create(config.response_headers_to_add(), config.response_headers_to_remove(),
                           path, "response_headers_to_add", "response_headers_to_remove");
  if (!response_headers.ok()) {
    return response_headers.status();
  }
  entry->response_headers_ = std::move(*response_headers);
  entry->host_rewrite_ = config.host_rewrite_literal();
  auto per_filter_configs = PerFilterConfigs::create(
      config.typed_per_filter_config(), ConfigUtility::field(path, "typed_per_filter_config"));
  if (!per_filter_configs.ok()) {
    return per_filter_configs.status();
  }
  entry->per_filter_configs_ = std::move(*per_filter_configs);
  return std::unique_ptr<const WeightedClusterEntry>(std::move(entry));
}

const google::protobuf::Any* WeightedClusterEntry::mostSpecificPerFilterConfig(
    absl::string_view filter_name) const {
  const google::protobuf::Any* config = per_filter_configs_.get(filter_name);
  return config != nullptr ? config : route_.mostSpecificPerFilterConfig(filter_name);
}

void WeightedClusterEntry::finalizeResponseHeaders(http::HeaderMap& response_headers,
                                                   const http::HeaderMap* request_headers,
                                                   const stream_info::StreamInfo& info) const {
  response_headers_.evaluateHeaders(response_headers, {request_headers, &response_headers}, info);
  route_.finalizeResponseHeaders(response_headers, request_headers, info);
}

void WeightedClusterEntry::finalizeRequestHeaders(http::HeaderMap& headers,
                                                  const stream_info::StreamInfo& info,
                                                  bool insert_original_path) const {
  // Envoy's order: the cluster's own mutations and host rewrite, then the route's finalization.
  request_headers_.evaluateHeaders(headers, {&headers}, info);
  if (!host_rewrite_.empty()) {
    headers.setCopy(":authority", host_rewrite_);
  }
  entry_.finalizeRequestHeaders(headers, info, insert_original_path);
}

}  // namespace waystone::router
