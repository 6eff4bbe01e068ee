#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "envoy/config/cluster/v3/cluster.pb.h"

#include "source/common/stats/store.h"
#include "source/upstream/host.h"

namespace waystone::upstream {

// Envoy's cluster.<name>.* stats that exist from the foundation on.
struct ClusterStats {
  explicit ClusterStats(stats::Scope& scope);

  stats::Counter& upstream_cx_total;
  stats::Gauge& upstream_cx_active;
  stats::Counter& upstream_cx_connect_fail;
  stats::Counter& upstream_cx_connect_timeout;
  stats::Counter& upstream_cx_none_healthy;
  stats::Counter& upstream_cx_rx_bytes_total;
  stats::Counter& upstream_cx_tx_bytes_total;
  stats::Gauge& membership_total;
  stats::Gauge& membership_healthy;
};

// An immutable upstream cluster built from its proto: name, timeouts, hosts. Shared by all
// workers through std::shared_ptr<const Cluster>.
class Cluster {
 public:
  Cluster(const envoy::config::cluster::v3::Cluster& config, HostVector hosts,
          stats::ScopeSharedPtr scope);

  const std::string& name() const { return config_.name(); }
  const envoy::config::cluster::v3::Cluster& config() const { return config_; }
  const HostVector& hosts() const { return hosts_; }
  std::chrono::milliseconds connectTimeout() const { return connect_timeout_; }
  uint32_t perConnectionBufferLimitBytes() const { return buffer_limit_; }
  ClusterStats& stats() const { return stats_; }

 private:
  const envoy::config::cluster::v3::Cluster config_;
  const HostVector hosts_;
  const std::chrono::milliseconds connect_timeout_;
  const uint32_t buffer_limit_;
  stats::ScopeSharedPtr scope_;
  mutable ClusterStats stats_;
};

using ClusterConstSharedPtr = std::shared_ptr<const Cluster>;

}  // namespace waystone::upstream
