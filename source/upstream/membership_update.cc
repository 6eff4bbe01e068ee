#include "source/upstream/membership_update.h"

#include <deque>
#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"

#include "source/common/network/address_proto.h"

namespace waystone::upstream {
namespace {

// validate.proto bounds priority at 128; checked again because the builder sizes a vector.
constexpr uint32_t kMaxPriority = 128;

using HostKey = std::tuple<std::string, std::string, std::string, std::string, std::string>;

HostKey keyOf(const network::address::Instance& address,
              const envoy::config::core::v3::Locality& locality, const std::string& hostname) {
  return HostKey{address.asString(), locality.region(), locality.zone(), locality.sub_zone(),
                 hostname};
}

}  // namespace

absl::StatusOr<MembershipUpdate> MembershipUpdate::fromLoadAssignment(
    const envoy::config::endpoint::v3::ClusterLoadAssignment& assignment,
    const std::vector<std::vector<network::address::InstanceConstSharedPtr>>& endpoint_addresses,
    bool dns_names_as_hostnames) {
  MembershipUpdate update;
  if (assignment.policy().has_overprovisioning_factor()) {
    update.overprovisioning_factor = assignment.policy().overprovisioning_factor().value();
    if (update.overprovisioning_factor == 0) {
      return absl::InvalidArgumentError(
          "load_assignment.policy.overprovisioning_factor: must be greater than 0");
    }
  }
  update.weighted_priority_health = assignment.policy().weighted_priority_health();
  size_t next = 0;
  for (int i = 0; i < assignment.endpoints_size(); ++i) {
    const auto& locality_endpoints = assignment.endpoints(i);
    const uint32_t priority = locality_endpoints.priority();
    if (priority > kMaxPriority) {
      return absl::InvalidArgumentError(
          absl::StrCat("load_assignment.endpoints[", i, "].priority: ", priority, " is above 128"));
    }
    if (locality_endpoints.has_load_balancing_weight()) {
      update.locality_weights.push_back(
          LocalityWeight{priority, locality_endpoints.locality(),
                         locality_endpoints.load_balancing_weight().value()});
    }
    for (int j = 0; j < locality_endpoints.lb_endpoints_size(); ++j, ++next) {
      if (next >= endpoint_addresses.size()) {
        return absl::InvalidArgumentError(absl::StrCat("load_assignment.endpoints[", i,
                                                       "].lb_endpoints[", j,
                                                       "]: no addresses given for this endpoint"));
      }
      const auto& lb_endpoint = locality_endpoints.lb_endpoints(j);
      std::string hostname = lb_endpoint.endpoint().hostname();
      if (hostname.empty() && dns_names_as_hostnames &&
          lb_endpoint.endpoint().address().has_socket_address()) {
        hostname = lb_endpoint.endpoint().address().socket_address().address();
      }
      for (const auto& address : endpoint_addresses[next]) {
        Endpoint endpoint;
        endpoint.address = address;
        endpoint.weight = lb_endpoint.has_load_balancing_weight()
                              ? lb_endpoint.load_balancing_weight().value()
                              : 1;
        endpoint.locality = locality_endpoints.locality();
        endpoint.hostname = hostname;
        endpoint.priority = priority;
        endpoint.health_status = lb_endpoint.health_status();
        endpoint.metadata = lb_endpoint.metadata();
        update.endpoints.push_back(std::move(endpoint));
      }
    }
  }
  if (next != endpoint_addresses.size()) {
    return absl::InvalidArgumentError(absl::StrCat("load_assignment: ", endpoint_addresses.size(),
                                                   " address lists given for ", next,
                                                   " lb_endpoints"));
  }
  return update;
}

absl::StatusOr<MembershipUpdate> MembershipUpdate::fromLoadAssignment(
    const envoy::config::endpoint::v3::ClusterLoadAssignment& assignment) {
  std::vector<std::vector<network::address::InstanceConstSharedPtr>> addresses;
  for (int i = 0; i < assignment.endpoints_size(); ++i) {
    const auto& locality_endpoints = assignment.endpoints(i);
    for (int j = 0; j < locality_endpoints.lb_endpoints_size(); ++j) {
      auto address =
          network::address::fromProto(locality_endpoints.lb_endpoints(j).endpoint().address());
      if (!address.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("load_assignment.endpoints[", i,
                                                       "].lb_endpoints[", j, "].endpoint.address.",
                                                       address.status().message()));
      }
      addresses.push_back({*address});
    }
  }
  return fromLoadAssignment(assignment, addresses);
}

absl::StatusOr<MembershipChange> applyMembershipUpdate(const std::string& cluster_name,
                                                       const MembershipUpdate& update,
                                                       const HostVector& current) {
  if (update.overprovisioning_factor == 0) {
    return absl::InvalidArgumentError("overprovisioning_factor: must be greater than 0");
  }
  // Current hosts by identity; a queue per key because a cluster may list one endpoint twice,
  // and each listing keeps its own Host.
  std::map<HostKey, std::deque<HostConstSharedPtr>> available;
  for (const auto& host : current) {
    available[keyOf(*host->address(), host->locality(), host->hostname())].push_back(host);
  }
  // Validate everything before touching a Host: a rejected update must change nothing.
  for (const auto& weight : update.locality_weights) {
    if (weight.priority > kMaxPriority) {
      return absl::InvalidArgumentError(
          absl::StrCat("priority: ", weight.priority, " is above 128"));
    }
  }
  for (const auto& endpoint : update.endpoints) {
    if (endpoint.priority > kMaxPriority) {
      return absl::InvalidArgumentError(
          absl::StrCat("priority: ", endpoint.priority, " is above 128"));
    }
    if (endpoint.address == nullptr) {
      return absl::InvalidArgumentError("address: missing");
    }
  }
  MembershipChange change;
  lb::PrioritySet::Builder builder;
  builder.setOverprovisioningFactor(update.overprovisioning_factor);
  builder.setWeightedPriorityHealth(update.weighted_priority_health);
  for (const auto& weight : update.locality_weights) {
    builder.setLocalityWeight(weight.priority, weight.locality, weight.weight);
  }
  for (const auto& endpoint : update.endpoints) {
    HostConstSharedPtr host;
    auto it = available.find(keyOf(*endpoint.address, endpoint.locality, endpoint.hostname));
    if (it != available.end() && !it->second.empty() &&
        google::protobuf::util::MessageDifferencer::Equals(it->second.front()->metadata(),
                                                           endpoint.metadata)) {
      host = std::move(it->second.front());
      it->second.pop_front();
      host->setWeight(endpoint.weight);
    } else {
      host = std::make_shared<const Host>(cluster_name, endpoint.address, endpoint.weight,
                                          endpoint.locality, endpoint.hostname, endpoint.metadata);
      change.added.push_back(host);
    }
    builder.addHost(endpoint.priority, host, endpoint.health_status);
    change.hosts.push_back(std::move(host));
  }
  for (auto& [key, hosts] : available) {
    for (auto& host : hosts) {
      change.removed.push_back(std::move(host));
    }
  }
  change.priority_set = builder.build();
  return change;
}

}  // namespace waystone::upstream
