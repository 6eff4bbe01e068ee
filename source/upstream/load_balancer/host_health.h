#pragma once

#include <cstdint>

#include "envoy/config/core/v3/health_check.pb.h"

namespace waystone::upstream::lb {

// A host's health as load balancers see it (Envoy's Host::Health).
enum class HostHealth : uint8_t {
  kHealthy,
  kDegraded,   // serves only when healthy hosts cannot carry the load
  kUnhealthy,  // serves only in panic mode
};

// Envoy's mapping of the endpoint's EDS health_status: UNKNOWN and HEALTHY are healthy,
// DEGRADED is degraded, UNHEALTHY, DRAINING and TIMEOUT are unhealthy.
inline HostHealth healthFromEdsStatus(envoy::config::core::v3::HealthStatus status) {
  switch (status) {
    case envoy::config::core::v3::UNKNOWN:
    case envoy::config::core::v3::HEALTHY:
      return HostHealth::kHealthy;
    case envoy::config::core::v3::DEGRADED:
      return HostHealth::kDegraded;
    default:
      return HostHealth::kUnhealthy;
  }
}

}  // namespace waystone::upstream::lb
