#include "source/config/cluster_validator.h"

#include "absl/strings/str_cat.h"

#include "source/config/address_validator.h"

namespace waystone::config {
namespace {

using envoy::config::cluster::v3::Cluster;

absl::Status fail(const std::string& path, absl::string_view field, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(path, ".", field, ": ", message));
}

absl::Status validateType(const Cluster& cluster, const std::string& path) {
  if (cluster.has_cluster_type()) {
    return fail(path, "cluster_type",
                absl::StrCat("custom cluster types are not supported (got \"",
                             cluster.cluster_type().name(), "\")"));
  }
  switch (cluster.type()) {
    case Cluster::STATIC:
    case Cluster::STRICT_DNS:
    case Cluster::LOGICAL_DNS:
    case Cluster::ORIGINAL_DST:
      break;
    case Cluster::EDS:
      if (!cluster.has_eds_cluster_config()) {
        return fail(path, "eds_cluster_config", "an EDS cluster needs eds_cluster_config");
      }
      break;
    default:
      return fail(path, "type",
                  absl::StrCat("cluster type ", Cluster::DiscoveryType_Name(cluster.type()),
                               " is not supported (supported: STATIC, STRICT_DNS, LOGICAL_DNS, "
                               "ORIGINAL_DST, EDS)"));
  }
  const bool cluster_provided = cluster.lb_policy() == Cluster::CLUSTER_PROVIDED;
  if (cluster.type() == Cluster::ORIGINAL_DST && !cluster_provided) {
    return fail(path, "lb_policy",
                absl::StrCat("LB policy ", Cluster::LbPolicy_Name(cluster.lb_policy()),
                             " is not valid for an ORIGINAL_DST cluster; it needs "
                             "CLUSTER_PROVIDED"));
  }
  if (cluster.type() != Cluster::ORIGINAL_DST && cluster_provided) {
    return fail(path, "lb_policy",
                absl::StrCat("CLUSTER_PROVIDED is valid only for ORIGINAL_DST clusters (type is ",
                             Cluster::DiscoveryType_Name(cluster.type()), ")"));
  }
  return absl::OkStatus();
}

absl::Status validateEndpoints(const Cluster& cluster, const std::string& path) {
  // EDS clusters take an inline load_assignment as their hosts until EDS (xDS) updates them; it
  // follows the STATIC rules (IP addresses).
  if (!cluster.has_load_assignment()) {
    return absl::OkStatus();
  }
  const auto& assignment = cluster.load_assignment();
  const std::string assignment_path = absl::StrCat(path, ".load_assignment");
  int endpoint_count = 0;
  for (const auto& locality : assignment.endpoints()) {
    endpoint_count += locality.lb_endpoints_size();
  }
  if (cluster.type() == Cluster::ORIGINAL_DST && endpoint_count > 0) {
    return fail(assignment_path, "endpoints",
                "an ORIGINAL_DST cluster takes its hosts from connections; it must not list "
                "endpoints");
  }
  if (cluster.type() == Cluster::LOGICAL_DNS &&
      (assignment.endpoints_size() != 1 || endpoint_count != 1)) {
    return fail(assignment_path, "endpoints",
                absl::StrCat("a LOGICAL_DNS cluster needs exactly one locality with exactly one "
                             "lb_endpoint (got ",
                             endpoint_count, " endpoints in ", assignment.endpoints_size(),
                             " localities)"));
  }
  const AddressUse use = (cluster.type() == Cluster::STATIC || cluster.type() == Cluster::EDS)
                             ? AddressUse::StaticEndpoint
                             : AddressUse::DnsEndpoint;
  for (int i = 0; i < assignment.endpoints_size(); ++i) {
    const auto& locality = assignment.endpoints(i);
    for (int j = 0; j < locality.lb_endpoints_size(); ++j) {
      const auto& lb_endpoint = locality.lb_endpoints(j);
      const std::string endpoint_path =
          absl::StrCat(assignment_path, ".endpoints[", i, "].lb_endpoints[", j, "]");
      if (!lb_endpoint.has_endpoint()) {
        return absl::InvalidArgumentError(absl::StrCat(
            endpoint_path, lb_endpoint.endpoint_name().empty()
                               ? ": endpoint is required"
                               : ".endpoint_name: named endpoints are not supported; give the "
                                 "endpoint inline"));
      }
      if (!lb_endpoint.endpoint().has_address()) {
        return fail(endpoint_path, "endpoint.address", "an endpoint needs an address");
      }
      absl::Status status = validateAddress(lb_endpoint.endpoint().address(), use,
                                            absl::StrCat(endpoint_path, ".endpoint.address"));
      if (!status.ok()) {
        return status;
      }
    }
  }
  return absl::OkStatus();
}

// Envoy's runtime checks on the DNS refresh settings (their PGV rules run before).
absl::Status validateDnsRefresh(const Cluster& cluster, const std::string& path) {
  if (!cluster.has_dns_failure_refresh_rate() ||
      !cluster.dns_failure_refresh_rate().has_max_interval()) {
    return absl::OkStatus();
  }
  const auto& rate = cluster.dns_failure_refresh_rate();
  auto ms = [](const google::protobuf::Duration& d) {
    return d.seconds() * 1000 + d.nanos() / 1000000;
  };
  if (ms(rate.max_interval()) < ms(rate.base_interval())) {
    return fail(path, "dns_failure_refresh_rate.max_interval",
                "must be greater than or equal to base_interval");
  }
  return absl::OkStatus();
}

absl::Status validateOriginalDst(const Cluster& cluster, const std::string& path) {
  if (cluster.type() == Cluster::ORIGINAL_DST && cluster.has_original_dst_lb_config() &&
      cluster.original_dst_lb_config().has_metadata_key() &&
      cluster.original_dst_lb_config().metadata_key().key().empty()) {
    return fail(path, "original_dst_lb_config.metadata_key.key", "required");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status validateCluster(const Cluster& cluster, const std::string& path) {
  absl::Status status = validateType(cluster, path);
  if (status.ok()) {
    status = validateDnsRefresh(cluster, path);
  }
  if (status.ok()) {
    status = validateOriginalDst(cluster, path);
  }
  if (!status.ok()) {
    return status;
  }
  if (cluster.has_connect_timeout() &&
      (cluster.connect_timeout().seconds() < 0 ||
       (cluster.connect_timeout().seconds() == 0 && cluster.connect_timeout().nanos() <= 0))) {
    return fail(path, "connect_timeout", "must be greater than 0");
  }
  return validateEndpoints(cluster, path);
}

}  // namespace waystone::config
