#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "envoy/config/cluster/v3/cluster.pb.h"

#include "source/common/network/transport_socket.h"
#include "source/common/stats/store.h"
#include "source/extensions/transport_sockets/transport_socket_config.h"
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
  // Hosts added or removed by a membership update (the first host set counts).
  stats::Counter& membership_change;
  // DNS clusters: one attempt per name resolved; success or failure when it completes;
  // no_rebuild when it succeeded without changing the addresses.
  stats::Counter& update_attempt;
  stats::Counter& update_success;
  stats::Counter& update_failure;
  stats::Counter& update_no_rebuild;
  // ORIGINAL_DST: an override header whose value is not an "ip:port".
  stats::Counter& original_dst_host_invalid;
  stats::Counter& upstream_cx_http1_total;
  stats::Counter& upstream_cx_http2_total;
  stats::Counter& upstream_cx_overflow;
  stats::Counter& upstream_cx_destroy;
  stats::Counter& upstream_rq_total;
  stats::Gauge& upstream_rq_active;
  stats::Counter& upstream_rq_completed;
  stats::Counter& upstream_rq_pending_total;
  stats::Gauge& upstream_rq_pending_active;
  stats::Counter& upstream_rq_pending_overflow;
  stats::Counter& upstream_rq_pending_failure_eject;
  stats::Counter& upstream_rq_cancelled;
  stats::Counter& upstream_rq_1xx;
  stats::Counter& upstream_rq_2xx;
  stats::Counter& upstream_rq_3xx;
  stats::Counter& upstream_rq_4xx;
  stats::Counter& upstream_rq_5xx;
  stats::Counter& upstream_rq_timeout;
  stats::Counter& upstream_rq_per_try_timeout;
  stats::Counter& upstream_rq_rx_reset;
  stats::Counter& upstream_rq_tx_reset;
  stats::Counter& upstream_rq_retry;
  stats::Counter& upstream_rq_retry_success;
  stats::Counter& upstream_rq_retry_overflow;
  stats::Counter& upstream_rq_retry_limit_exceeded;
  stats::Counter& upstream_rq_max_duration_reached;
};

// Circuit breakers for the default priority (Envoy's thresholds and defaults), shared by every
// worker: the counts are atomics, checked and changed without locks.
class ResourceLimit {
 public:
  explicit ResourceLimit(uint64_t max) : max_(max) {}
  bool canCreate() const { return count_.load(std::memory_order_relaxed) < max_; }
  void inc() { count_.fetch_add(1, std::memory_order_relaxed); }
  void dec() { count_.fetch_sub(1, std::memory_order_relaxed); }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  uint64_t max() const { return max_; }

 private:
  const uint64_t max_;
  std::atomic<uint64_t> count_{0};
};

struct ClusterResources {
  explicit ClusterResources(const envoy::config::cluster::v3::Cluster& config);
  ResourceLimit connections;
  ResourceLimit pending_requests;
  ResourceLimit requests;
  ResourceLimit retries;
};

// How the cluster talks HTTP to its hosts (HttpProtocolOptions).
enum class UpstreamProtocolSelection { Http1, Http2, UseDownstream };

// An immutable upstream cluster built from its proto: name, timeouts, the hosts it started with.
// Shared by all workers through std::shared_ptr<const Cluster>. The current hosts (which DNS
// refreshes and, later, EDS change) live in WorkerClusterManagers, not here.
class Cluster {
 public:
  // `endpoint_hosts`: what each lb_endpoint of load_assignment became, in order (one host for
  // an IP address, any number for a DNS name).
  // `internal_upstream`: set when transport_socket is internal_upstream, to its
  // passthrough_metadata (extensions::transport_sockets::internalUpstreamPassthrough()).
  Cluster(const envoy::config::cluster::v3::Cluster& config, std::vector<HostVector> endpoint_hosts,
          stats::ScopeSharedPtr scope, network::TransportSocketFactoryCb transport_factory = {},
          std::optional<std::vector<extensions::transport_sockets::MetadataPassthrough>>
              internal_upstream = std::nullopt);

  const std::string& name() const { return config_.name(); }
  const envoy::config::cluster::v3::Cluster& config() const { return config_; }
  // The hosts at start-up, in load_assignment order. WorkerClusterManagers::currentHosts() has
  // the hosts of now.
  const HostVector& hosts() const { return hosts_; }
  // The same hosts grouped by the lb_endpoint they came from.
  const std::vector<HostVector>& endpointHosts() const { return endpoint_hosts_; }
  std::chrono::milliseconds connectTimeout() const { return connect_timeout_; }
  uint32_t perConnectionBufferLimitBytes() const { return buffer_limit_; }
  ClusterStats& stats() const { return stats_; }
  stats::Scope& statsScope() const { return *scope_; }
  ClusterResources& resources() const { return resources_; }
  // Makes each upstream connection's transport (TLS from transport_socket); nullptr: plain.
  network::TransportSocketPtr createTransportSocket() const {
    return transport_factory_ ? transport_factory_() : nullptr;
  }
  // The cluster's own metadata (Cluster.metadata): what kind-cluster passthrough entries copy.
  const envoy::config::core::v3::Metadata& metadata() const { return config_.metadata(); }
  // Set when transport_socket is internal_upstream: then a connection to an internal host
  // carries the request's shared filter state and these metadata namespaces
  // (passthrough_metadata) to the internal listener; see createUpstreamConnection(). nullopt for
  // any other transport socket (nothing is passed, as in Envoy).
  const std::optional<std::vector<extensions::transport_sockets::MetadataPassthrough>>&
  internalUpstream() const {
    return internal_upstream_;
  }
  UpstreamProtocolSelection protocolSelection() const { return protocol_selection_; }
  // HTTP/2 streams per upstream connection (Http2ProtocolOptions.max_concurrent_streams).
  uint32_t http2MaxConcurrentStreams() const { return http2_max_concurrent_streams_; }
  // 0: unlimited.
  uint64_t maxRequestsPerConnection() const { return max_requests_per_connection_; }
  // Idle upstream connections are closed after this (common_http_protocol_options.idle_timeout).
  std::chrono::milliseconds idleTimeout() const { return idle_timeout_; }

 private:
  void readProtocolOptions();

  const envoy::config::cluster::v3::Cluster config_;
  const std::vector<HostVector> endpoint_hosts_;
  const HostVector hosts_;
  const std::chrono::milliseconds connect_timeout_;
  const uint32_t buffer_limit_;
  stats::ScopeSharedPtr scope_;
  mutable ClusterStats stats_;
  mutable ClusterResources resources_;
  const network::TransportSocketFactoryCb transport_factory_;
  const std::optional<std::vector<extensions::transport_sockets::MetadataPassthrough>>
      internal_upstream_;
  UpstreamProtocolSelection protocol_selection_ = UpstreamProtocolSelection::Http1;
  uint32_t http2_max_concurrent_streams_ = 1024;
  uint64_t max_requests_per_connection_ = 0;
  std::chrono::milliseconds idle_timeout_{3600 * 1000};
};

using ClusterConstSharedPtr = std::shared_ptr<const Cluster>;

}  // namespace waystone::upstream
