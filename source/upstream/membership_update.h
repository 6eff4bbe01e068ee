#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "envoy/config/core/v3/base.pb.h"
#include "envoy/config/core/v3/health_check.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"

#include "source/common/network/address.h"
#include "source/upstream/host.h"
#include "source/upstream/load_balancer/host_set.h"
#include "source/upstream/load_balancer/priority_set.h"

namespace waystone::upstream {

// The hosts a cluster should have, described by value: what a DNS refresh produces and what EDS
// will deliver. WorkerClusterManagers::updateHosts() turns it into Host objects (keeping the
// ones that stay) and a PrioritySet.
struct MembershipUpdate {
  struct Endpoint {
    network::address::InstanceConstSharedPtr address;
    uint32_t weight = 1;
    envoy::config::core::v3::Locality locality;
    std::string hostname;
    uint32_t priority = 0;
    envoy::config::core::v3::HealthStatus health_status = envoy::config::core::v3::UNKNOWN;
    // The lb_endpoint's metadata (Host::metadata()).
    envoy::config::core::v3::Metadata metadata;
  };
  struct LocalityWeight {
    uint32_t priority = 0;
    envoy::config::core::v3::Locality locality;
    uint32_t weight = 0;
  };

  std::vector<Endpoint> endpoints;
  std::vector<LocalityWeight> locality_weights;
  uint32_t overprovisioning_factor = lb::kDefaultOverprovisioningFactor;
  bool weighted_priority_health = false;

  // From a load_assignment whose lb_endpoint number i (counting across localities, in order)
  // stands for the addresses `endpoint_addresses[i]`: its own IP address, or what its DNS name
  // resolved to (any number, none included). `dns_names_as_hostnames`: an endpoint without a
  // hostname gets its DNS name as hostname (Envoy's rule for DNS clusters; auto_host_rewrite and
  // admin show it). Errors name the field under "load_assignment.".
  static absl::StatusOr<MembershipUpdate> fromLoadAssignment(
      const envoy::config::endpoint::v3::ClusterLoadAssignment& assignment,
      const std::vector<std::vector<network::address::InstanceConstSharedPtr>>& endpoint_addresses,
      bool dns_names_as_hostnames = false);

  // From a load_assignment of IP addresses (or pipes), one host per lb_endpoint: STATIC clusters
  // and EDS.
  static absl::StatusOr<MembershipUpdate> fromLoadAssignment(
      const envoy::config::endpoint::v3::ClusterLoadAssignment& assignment);
};

// The outcome of applying a MembershipUpdate to a cluster's current hosts.
struct MembershipChange {
  lb::PrioritySetConstSharedPtr priority_set;
  // Every host of the new set, in the update's order.
  HostVector hosts;
  // Hosts that were not there before, and hosts of before that are gone.
  HostVector added;
  HostVector removed;
};

// Builds the new host set of `cluster_name` from `update`. An endpoint whose address, locality,
// hostname and metadata match a current host keeps that Host object (its weight is updated in
// place; metadata is immutable, so other metadata makes a new Host), so
// its connection pools, stats and outlier-detection state carry over; anything else is a new
// Host. Call on the main thread. Errors name the field ("priority: 200 is above 128").
absl::StatusOr<MembershipChange> applyMembershipUpdate(const std::string& cluster_name,
                                                       const MembershipUpdate& update,
                                                       const HostVector& current);

}  // namespace waystone::upstream
