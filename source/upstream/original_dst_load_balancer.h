#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "envoy/config/cluster/v3/cluster.pb.h"

#include "source/common/event/dispatcher.h"
#include "source/common/event/timer.h"
#include "source/upstream/cluster.h"
#include "source/upstream/load_balancer/load_balancer.h"

namespace waystone::upstream {

// An ORIGINAL_DST cluster's settings (cleanup_interval and original_dst_lb_config), validated.
struct OriginalDstConfig {
  // Envoy's default header.
  static constexpr char kDefaultHeaderName[] = "x-envoy-original-dst-host";

  bool use_http_header = false;
  // Lower case, as header lookups need.
  std::string http_header_name = kDefaultHeaderName;
  std::optional<uint16_t> port_override;
  // metadata_key: the filter_metadata namespace and the path of keys to an "ip:port" string.
  std::string metadata_namespace;  // empty: no metadata_key
  std::vector<std::string> metadata_path;
  // Hosts unused for this long are removed (Envoy's default: 5 s).
  std::chrono::milliseconds cleanup_interval{5000};

  // Errors name the field relative to the cluster ("original_dst_lb_config.metadata_key: ...").
  static absl::StatusOr<OriginalDstConfig> fromCluster(
      const envoy::config::cluster::v3::Cluster& config);
};

using OriginalDstConfigConstSharedPtr = std::shared_ptr<const OriginalDstConfig>;

// The load balancer of an ORIGINAL_DST cluster (lb_policy CLUSTER_PROVIDED) on one worker: the
// host is the request's original destination, i.e.
//  - with metadata_key, the "ip:port" string at that key of the request's dynamic metadata, else
//    of the downstream connection's (istiod's connect_originate uses the endpoint's "waypoint"
//    key this way); an unparsable value gives no host; absent, the next rules apply;
//  - with use_http_header, the "ip:port" in the first value of the header (x-envoy-original-dst-
//    host unless http_header_name says otherwise); a value that is not an ip:port gives no host
//    (the router answers 503 "no healthy upstream", flag UH) and counts
//    cluster.<name>.original_dst_host_invalid;
//  - without the header (or without use_http_header), the downstream connection's local address,
//    when the original_dst listener filter restored it (an unrestored one is the listener's own
//    address, which would loop); callers that cannot tell (no connection stream info) pass it as
//    is;
// and upstream_port_override, when set, replaces the port.
//
// Hosts are created on first use and kept per worker in a map (no locks, nothing shared with
// other workers); a cleanup timer every cleanup_interval removes the hosts no request picked
// since the previous sweep, and `on_removed` lets the owner drain their connection pools. So an
// idle host lives between one and two cleanup intervals, as in Envoy.
class OriginalDstLoadBalancer : public lb::LoadBalancer {
 public:
  using HostsRemovedCb = std::function<void(const HostVector& removed)>;

  OriginalDstLoadBalancer(OriginalDstConfigConstSharedPtr config, ClusterConstSharedPtr cluster,
                          event::Dispatcher& dispatcher, HostsRemovedCb on_removed);

  HostConstSharedPtr chooseHost(lb::LoadBalancerContext* context) override;

  size_t hostCount() const { return hosts_.size(); }
  // Every host this worker currently has.
  HostVector hosts() const;

 private:
  struct Entry {
    HostConstSharedPtr host;
    bool used = true;
  };

  network::address::InstanceConstSharedPtr destination(lb::LoadBalancerContext& context);
  void onCleanup();

  const OriginalDstConfigConstSharedPtr config_;
  const ClusterConstSharedPtr cluster_;
  event::Dispatcher& dispatcher_;
  const HostsRemovedCb on_removed_;
  // By address, asString() spelling ("10.0.0.1:80", "[::1]:80").
  absl::flat_hash_map<std::string, Entry> hosts_;
  event::TimerPtr cleanup_timer_;
};

}  // namespace waystone::upstream
