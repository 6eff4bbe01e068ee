#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "envoy/config/core/v3/base.pb.h"

#include "source/common/network/address.h"

namespace waystone::upstream {

// Per-host counters and gauges, shared by every worker (relaxed atomics: they are statistics,
// not synchronisation). Shown by admin /clusters.
struct HostStats {
  std::atomic<uint64_t> cx_total{0};
  std::atomic<uint64_t> cx_active{0};
  std::atomic<uint64_t> cx_connect_fail{0};
  std::atomic<uint64_t> rq_total{0};
  std::atomic<uint64_t> rq_active{0};
  std::atomic<uint64_t> rq_error{0};
  std::atomic<uint64_t> rq_success{0};
  std::atomic<uint64_t> rq_timeout{0};
};

// One upstream endpoint of a cluster. Immutable except for its stats and its weight: a
// membership update that keeps an endpoint (same address, locality and hostname) keeps its Host
// object, so its connection pools and stats survive, and only the weight may change in place (as
// in Envoy). Load balancers read the weight when they are built for a new host set.
class Host {
 public:
  Host(std::string cluster_name, network::address::InstanceConstSharedPtr address, uint32_t weight,
       envoy::config::core::v3::Locality locality, std::string hostname,
       envoy::config::core::v3::Metadata metadata = {})
      : cluster_name_(std::move(cluster_name)),
        address_(std::move(address)),
        weight_(weight),
        locality_(std::move(locality)),
        hostname_(std::move(hostname)),
        metadata_(std::move(metadata)) {}

  const std::string& clusterName() const { return cluster_name_; }
  const network::address::InstanceConstSharedPtr& address() const { return address_; }
  uint32_t weight() const { return weight_.load(std::memory_order_relaxed); }
  // Main thread, by a membership update, before the new host set is published to the workers.
  // const like stats(): hosts are shared as const.
  void setWeight(uint32_t weight) const { weight_.store(weight, std::memory_order_relaxed); }
  const envoy::config::core::v3::Locality& locality() const { return locality_; }
  const std::string& hostname() const { return hostname_; }
  // The lb_endpoint's metadata (filter_metadata by namespace): what an internal_upstream
  // transport socket passes through (kind host), e.g. the HBONE target under
  // envoy.filters.listener.original_dst. Immutable: an update with other metadata makes a new
  // Host.
  const envoy::config::core::v3::Metadata& metadata() const { return metadata_; }
  HostStats& stats() const { return stats_; }

 private:
  const std::string cluster_name_;
  const network::address::InstanceConstSharedPtr address_;
  mutable std::atomic<uint32_t> weight_;
  const envoy::config::core::v3::Locality locality_;
  const std::string hostname_;
  const envoy::config::core::v3::Metadata metadata_;
  mutable HostStats stats_;
};

using HostConstSharedPtr = std::shared_ptr<const Host>;
using HostVector = std::vector<HostConstSharedPtr>;

}  // namespace waystone::upstream
