#include "source/upstream/load_balancer/lb_config.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace waystone::upstream::lb {
namespace {

using envoy::config::cluster::v3::Cluster;

bool isPrime(uint64_t n) {
  if (n < 2) {
    return false;
  }
  for (uint64_t d = 2; d * d <= n; ++d) {
    if (n % d == 0) {
      return false;
    }
  }
  return true;
}

absl::Status parseCommon(const Cluster& cluster, CommonLbSettings& out) {
  if (!cluster.has_common_lb_config()) {
    return absl::OkStatus();
  }
  const auto& common = cluster.common_lb_config();
  if (common.has_healthy_panic_threshold()) {
    const double value = common.healthy_panic_threshold().value();
    if (!(value >= 0.0 && value <= 100.0)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "common_lb_config.healthy_panic_threshold.value: ", value, " is outside [0, 100]"));
    }
    out.healthy_panic_threshold = static_cast<uint32_t>(std::round(value));
  }
  out.locality_weighted = common.has_locality_weighted_lb_config();
  if (common.has_zone_aware_lb_config()) {
    // Zone-aware routing itself needs a local cluster, which Waystone does not have (nor does
    // Envoy without one): only the panic behaviour applies.
    out.fail_traffic_on_panic = common.zone_aware_lb_config().fail_traffic_on_panic();
  }
  if (common.has_consistent_hashing_lb_config()) {
    out.use_hostname_for_hashing = common.consistent_hashing_lb_config().use_hostname_for_hashing();
  }
  return absl::OkStatus();
}

absl::Status parseLeastRequest(const Cluster& cluster, LeastRequestSettings& out) {
  if (!cluster.has_least_request_lb_config()) {
    return absl::OkStatus();
  }
  const auto& config = cluster.least_request_lb_config();
  if (config.has_choice_count()) {
    if (config.choice_count().value() < 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "least_request_lb_config.choice_count: ", config.choice_count().value(), " is below 2"));
    }
    out.choice_count = config.choice_count().value();
  }
  if (config.has_active_request_bias()) {
    const double bias = config.active_request_bias().default_value();
    if (!(bias >= 0.0) || std::isinf(bias)) {
      return absl::InvalidArgumentError(
          absl::StrCat("least_request_lb_config.active_request_bias.default_value: ", bias,
                       " must be a finite number >= 0"));
    }
    out.active_request_bias = bias;
  }
  return absl::OkStatus();
}

absl::Status parseRingHash(const Cluster& cluster, RingHashSettings& out) {
  if (!cluster.has_ring_hash_lb_config()) {
    return absl::OkStatus();
  }
  const auto& config = cluster.ring_hash_lb_config();
  if (config.has_minimum_ring_size()) {
    out.minimum_ring_size = config.minimum_ring_size().value();
  }
  if (config.has_maximum_ring_size()) {
    out.maximum_ring_size = config.maximum_ring_size().value();
  }
  if (out.minimum_ring_size == 0 || out.minimum_ring_size > kMaxRingSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("ring_hash_lb_config.minimum_ring_size: ", out.minimum_ring_size,
                     " is outside [1, ", kMaxRingSize, "]"));
  }
  if (out.maximum_ring_size > kMaxRingSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("ring_hash_lb_config.maximum_ring_size: ", out.maximum_ring_size, " is above ",
                     kMaxRingSize));
  }
  if (out.minimum_ring_size > out.maximum_ring_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("ring_hash_lb_config.minimum_ring_size: ", out.minimum_ring_size,
                     " is above maximum_ring_size ", out.maximum_ring_size));
  }
  switch (config.hash_function()) {
    case Cluster::RingHashLbConfig::XX_HASH:
      out.hash_function = RingHashFunction::kXxHash;
      break;
    case Cluster::RingHashLbConfig::MURMUR_HASH_2:
      out.hash_function = RingHashFunction::kMurmurHash2;
      break;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "ring_hash_lb_config.hash_function: unknown value ", config.hash_function()));
  }
  return absl::OkStatus();
}

absl::Status parseMaglev(const Cluster& cluster, MaglevSettings& out) {
  if (!cluster.has_maglev_lb_config() || !cluster.maglev_lb_config().has_table_size()) {
    return absl::OkStatus();
  }
  const uint64_t size = cluster.maglev_lb_config().table_size().value();
  if (size > kMaxMaglevTableSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("maglev_lb_config.table_size: ", size, " is above ", kMaxMaglevTableSize));
  }
  // The permutation walk only visits every slot when the size is prime.
  if (!isPrime(size)) {
    return absl::InvalidArgumentError(
        absl::StrCat("maglev_lb_config.table_size: ", size, " is not a prime number"));
  }
  out.table_size = size;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LbConfig> parseLbConfig(const Cluster& cluster) {
  LbConfig config;
  switch (cluster.lb_policy()) {
    case Cluster::ROUND_ROBIN:
      config.policy = LbPolicy::kRoundRobin;
      break;
    case Cluster::LEAST_REQUEST:
      config.policy = LbPolicy::kLeastRequest;
      break;
    case Cluster::RANDOM:
      config.policy = LbPolicy::kRandom;
      break;
    case Cluster::RING_HASH:
      config.policy = LbPolicy::kRingHash;
      break;
    case Cluster::MAGLEV:
      config.policy = LbPolicy::kMaglev;
      break;
    case Cluster::CLUSTER_PROVIDED:
      return absl::InvalidArgumentError(
          "lb_policy: CLUSTER_PROVIDED has no load balancer of its own: the cluster type "
          "(e.g. ORIGINAL_DST) picks the host");
    case Cluster::LOAD_BALANCING_POLICY_CONFIG:
      return absl::InvalidArgumentError(
          "lb_policy: LOAD_BALANCING_POLICY_CONFIG (load_balancing_policy extensions) is not "
          "supported");
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("lb_policy: unsupported value ", cluster.lb_policy()));
  }
  absl::Status status = parseCommon(cluster, config.common);
  // Only the chosen policy's settings are read (and checked), as in Envoy.
  if (status.ok() && config.policy == LbPolicy::kLeastRequest) {
    status = parseLeastRequest(cluster, config.least_request);
  }
  if (status.ok() && config.policy == LbPolicy::kRingHash) {
    status = parseRingHash(cluster, config.ring_hash);
  }
  if (status.ok() && config.policy == LbPolicy::kMaglev) {
    status = parseMaglev(cluster, config.maglev);
  }
  if (!status.ok()) {
    return status;
  }
  return config;
}

}  // namespace waystone::upstream::lb
