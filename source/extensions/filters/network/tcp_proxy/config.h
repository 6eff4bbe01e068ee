#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"

#include "source/common/network/filter.h"
#include "source/common/stats/store.h"
#include "source/upstream/cluster_manager.h"

namespace waystone::extensions::network_filters::tcp_proxy {

// tcp.<stat_prefix>.* (Envoy's names).
struct TcpProxyStats {
  explicit TcpProxyStats(stats::Scope& scope);

  stats::Counter& downstream_cx_total;
  stats::Counter& downstream_cx_no_route;
  stats::Counter& downstream_cx_rx_bytes_total;
  stats::Counter& downstream_cx_tx_bytes_total;
  stats::Counter& idle_timeout;
  stats::Counter& upstream_flush_total;
};

// The immutable configuration of one tcp_proxy filter, shared by every connection on every
// worker.
class TcpProxyConfig {
 public:
  struct WeightedCluster {
    upstream::ClusterConstSharedPtr cluster;
    uint64_t weight;
  };

  // `field_path` prefixes error messages, e.g. "static_resources.listeners[0].filter_chains[0]
  // .filters[0].typed_config".
  static absl::StatusOr<std::shared_ptr<const TcpProxyConfig>> create(
      const envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy& proto,
      const upstream::ClusterManager& cluster_manager, stats::Store& store,
      const std::string& field_path);

  // Picks the cluster for a new connection (weighted when configured).
  const upstream::ClusterConstSharedPtr& pickCluster(uint64_t random) const;
  // 0 disables the idle timeout.
  std::chrono::milliseconds idleTimeout() const { return idle_timeout_; }
  uint32_t maxConnectAttempts() const { return max_connect_attempts_; }
  TcpProxyStats& stats() const { return stats_; }

 private:
  TcpProxyConfig(std::vector<WeightedCluster> clusters, std::chrono::milliseconds idle_timeout,
                 uint32_t max_connect_attempts, stats::ScopeSharedPtr scope);

  const std::vector<WeightedCluster> clusters_;
  const uint64_t total_weight_;
  const std::chrono::milliseconds idle_timeout_;
  const uint32_t max_connect_attempts_;
  stats::ScopeSharedPtr scope_;
  mutable TcpProxyStats stats_;
};

using TcpProxyConfigConstSharedPtr = std::shared_ptr<const TcpProxyConfig>;

// Factory entry point used by the filter registry.
absl::StatusOr<network::FilterFactoryCb> createFilterFactory(
    const envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy& proto,
    const upstream::ClusterManager& cluster_manager, stats::Store& store,
    const std::string& field_path);

}  // namespace waystone::extensions::network_filters::tcp_proxy
