#pragma once

#include <string>

#include "absl/status/status.h"
#include "envoy/config/cluster/v3/cluster.pb.h"

namespace waystone::config {

// Semantic checks on one cluster beyond its PGV rules (run validate() first):
//  - the discovery type is one Waystone implements: STATIC, STRICT_DNS, LOGICAL_DNS,
//    ORIGINAL_DST, or EDS with eds_cluster_config (no custom cluster_type);
//  - connect_timeout, if set, is positive;
//  - inline endpoints (load_assignment) fit the type: IP literals (or pipes / internal
//    listeners) for STATIC, host names or IPs for the DNS types, exactly one endpoint for
//    LOGICAL_DNS, none for ORIGINAL_DST; endpoints are given inline, not by endpoint_name;
//  - lb_policy CLUSTER_PROVIDED goes with ORIGINAL_DST and only with it (Envoy's rule).
//  - dns_failure_refresh_rate.max_interval is not below base_interval (Envoy's rule);
//  - original_dst_lb_config.metadata_key needs its key.
// `path` names the cluster ("static_resources.clusters[3]"); errors start with the offending
// field's full path. Usable for static and CDS clusters alike.
absl::Status validateCluster(const envoy::config::cluster::v3::Cluster& cluster,
                             const std::string& path);

}  // namespace waystone::config
