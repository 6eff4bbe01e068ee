#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "envoy/config/cluster/v3/cluster.pb.h"

namespace waystone::upstream::lb {

// The load-balancing part of a Cluster, validated once when the cluster is built.
enum class LbPolicy { kRoundRobin, kLeastRequest, kRandom, kRingHash, kMaglev };

// common_lb_config, for every policy.
struct CommonLbSettings {
  // healthy_panic_threshold, rounded to a whole percent; 0 disables panic mode.
  uint32_t healthy_panic_threshold = 50;
  // locality_weighted_lb_config is set.
  bool locality_weighted = false;
  // zone_aware_lb_config.fail_traffic_on_panic: a level in panic fails the pick instead of
  // using every host.
  bool fail_traffic_on_panic = false;
  // consistent_hashing_lb_config.use_hostname_for_hashing (RING_HASH, MAGLEV).
  bool use_hostname_for_hashing = false;
};

struct LeastRequestSettings {
  uint32_t choice_count = 2;
  // active_request_bias.default_value (runtime keys are not supported: Waystone has no runtime).
  double active_request_bias = 1.0;
};

enum class RingHashFunction { kXxHash, kMurmurHash2 };

struct RingHashSettings {
  uint64_t minimum_ring_size = 1024;
  uint64_t maximum_ring_size = 8 * 1024 * 1024;
  RingHashFunction hash_function = RingHashFunction::kXxHash;
};

struct MaglevSettings {
  uint64_t table_size = 65537;
};

struct LbConfig {
  LbPolicy policy = LbPolicy::kRoundRobin;
  CommonLbSettings common;
  LeastRequestSettings least_request;
  RingHashSettings ring_hash;
  MaglevSettings maglev;
};

// Envoy's limits.
constexpr uint64_t kMaxRingSize = 8 * 1024 * 1024;
constexpr uint64_t kMaxMaglevTableSize = 5000011;

// Errors name the field relative to the cluster ("lb_policy: ...",
// "ring_hash_lb_config.minimum_ring_size: ..."); the caller prefixes the cluster's path.
// CLUSTER_PROVIDED (ORIGINAL_DST and friends pick their own host) and
// LOAD_BALANCING_POLICY_CONFIG (load_balancing_policy extensions) are errors here.
absl::StatusOr<LbConfig> parseLbConfig(const envoy::config::cluster::v3::Cluster& cluster);

}  // namespace waystone::upstream::lb
