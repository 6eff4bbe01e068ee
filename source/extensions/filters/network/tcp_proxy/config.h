#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"

#include "source/common/network/filter.h"
#include "source/common/stats/store.h"
#include "source/common/stream_info/stream_info.h"
#include "source/extensions/filters/network/tcp_proxy/tunneling_config.h"
#include "source/upstream/cluster_manager.h"
#include "source/upstream/thread_local_cluster_manager.h"

namespace waystone::extensions::network_filters::tcp_proxy {

// tcp.<stat_prefix>.* (Envoy's names).
struct TcpProxyStats {
  explicit TcpProxyStats(stats::Scope& scope);

  stats::Counter& downstream_cx_total;
  stats::Counter& downstream_cx_no_route;
  stats::Counter& downstream_cx_rx_bytes_total;
  stats::Counter& downstream_cx_tx_bytes_total;
  // We stopped / resumed reading the downstream because the upstream could not take more.
  stats::Counter& downstream_flow_control_paused_reading_total;
  stats::Counter& downstream_flow_control_resumed_reading_total;
  stats::Counter& idle_timeout;
  stats::Counter& max_downstream_connection_duration;
  // Upstream connections still writing what the downstream sent before it closed.
  stats::Counter& upstream_flush_total;
  stats::Gauge& upstream_flush_active;
};

// The hash a tcp_proxy connection gives RING_HASH / MAGLEV (hash_policy, at most one).
struct TcpHashPolicy {
  enum class Kind { SourceIp, FilterState };
  Kind kind = Kind::SourceIp;
  std::string filter_state_key;  // FilterState
};

// The immutable configuration of one tcp_proxy filter, shared by every connection on every
// worker. Clusters are named here and looked up per connection in the worker's cluster manager
// (its load balancer, pools and circuit breakers).
class TcpProxyConfig {
 public:
  struct WeightedCluster {
    std::string name;
    uint64_t weight;
  };

  // `field_path` prefixes error messages, e.g. "static_resources.listeners[0].filter_chains[0]
  // .filters[0].typed_config".
  static absl::StatusOr<std::shared_ptr<const TcpProxyConfig>> create(
      const envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy& proto,
      const upstream::ClusterManager& cluster_manager,
      const upstream::WorkerClusterManagers& worker_cluster_managers, stats::Store& store,
      const std::string& field_path);

  // The cluster for a new connection (weighted when configured).
  const std::string& pickCluster(uint64_t random) const;
  // 0 disables the idle timeout.
  std::chrono::milliseconds idleTimeout() const { return idle_timeout_; }
  uint32_t maxConnectAttempts() const { return max_connect_attempts_; }
  // nullopt: no limit.
  std::optional<std::chrono::milliseconds> maxDownstreamConnectionDuration() const {
    return max_downstream_connection_duration_;
  }
  // nullptr: plain TCP to the host.
  const TunnelingConfig* tunneling() const { return tunneling_.get(); }
  const std::optional<TcpHashPolicy>& hashPolicy() const { return hash_policy_; }
  const upstream::WorkerClusterManagers& workerClusterManagers() const {
    return worker_cluster_managers_;
  }
  TcpProxyStats& stats() const { return stats_; }

 private:
  TcpProxyConfig(const upstream::WorkerClusterManagers& worker_cluster_managers,
                 stats::ScopeSharedPtr scope);

  const upstream::WorkerClusterManagers& worker_cluster_managers_;
  std::vector<WeightedCluster> clusters_;
  uint64_t total_weight_ = 0;
  std::chrono::milliseconds idle_timeout_{0};
  uint32_t max_connect_attempts_ = 1;
  std::optional<std::chrono::milliseconds> max_downstream_connection_duration_;
  std::unique_ptr<const TunnelingConfig> tunneling_;
  std::optional<TcpHashPolicy> hash_policy_;
  stats::ScopeSharedPtr scope_;
  mutable TcpProxyStats stats_;
};

using TcpProxyConfigConstSharedPtr = std::shared_ptr<const TcpProxyConfig>;

// Factory entry point used by the filter registry.
absl::StatusOr<network::FilterFactoryCb> createFilterFactory(
    const envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy& proto,
    const upstream::ClusterManager& cluster_manager,
    const upstream::WorkerClusterManagers& worker_cluster_managers, stats::Store& store,
    const std::string& field_path);

}  // namespace waystone::extensions::network_filters::tcp_proxy
