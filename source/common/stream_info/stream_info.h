#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "envoy/config/core/v3/base.pb.h"

#include "source/common/network/address.h"
#include "source/common/stream_info/filter_state.h"
#include "source/common/tls/connection_info.h"

namespace waystone::stream_info {

// Envoy's response flags (the %RESPONSE_FLAGS% short codes), as a bit set.
enum ResponseFlag : uint64_t {
  FailedLocalHealthCheck = 1ull << 0,             // LH
  NoHealthyUpstream = 1ull << 1,                  // UH
  UpstreamRequestTimeout = 1ull << 2,             // UT
  LocalReset = 1ull << 3,                         // LR
  UpstreamRemoteReset = 1ull << 4,                // UR
  UpstreamConnectionFailure = 1ull << 5,          // UF
  UpstreamConnectionTermination = 1ull << 6,      // UC
  UpstreamOverflow = 1ull << 7,                   // UO
  NoRouteFound = 1ull << 8,                       // NR
  DelayInjected = 1ull << 9,                      // DI
  FaultInjected = 1ull << 10,                     // FI
  RateLimited = 1ull << 11,                       // RL
  UnauthorizedExternalService = 1ull << 12,       // UAEX
  RateLimitServiceError = 1ull << 13,             // RLSE
  DownstreamConnectionTermination = 1ull << 14,   // DC
  UpstreamRetryLimitExceeded = 1ull << 15,        // URX
  StreamIdleTimeout = 1ull << 16,                 // SI
  InvalidEnvoyRequestHeaders = 1ull << 17,        // IH
  DownstreamProtocolError = 1ull << 18,           // DPE
  UpstreamMaxStreamDurationReached = 1ull << 19,  // UMSDR
  ResponseFromCacheFilter = 1ull << 20,           // RFCF
  NoFilterConfigFound = 1ull << 21,               // NFCF
  DurationTimeout = 1ull << 22,                   // DT
  UpstreamProtocolError = 1ull << 23,             // UPE
  NoClusterFound = 1ull << 24,                    // NC
  OverloadManager = 1ull << 25,                   // OM
};

// "UH,UF" style, in Envoy's order; "-" when none.
std::string responseFlagsToString(uint64_t flags);

// Facts about one request (or one TCP connection) gathered as it goes, read by access logs,
// stats and filters. Owned by the stream; not thread-safe (one worker).
struct StreamInfo {
  std::chrono::system_clock::time_point start_time = std::chrono::system_clock::now();
  std::chrono::steady_clock::time_point start_time_monotonic = std::chrono::steady_clock::now();
  std::optional<std::chrono::nanoseconds> duration;  // set when the stream ends

  std::optional<std::string> protocol;  // "HTTP/1.1", "HTTP/2"
  std::optional<uint32_t> response_code;
  std::string response_code_details;  // Envoy's details, e.g. "via_upstream", "route_not_found"
  uint64_t response_flags = 0;
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;

  network::address::InstanceConstSharedPtr downstream_remote_address;
  network::address::InstanceConstSharedPtr downstream_local_address;
  // The local address is the original destination restored by the original_dst listener filter
  // (ORIGINAL_DST clusters use it only then: the listener's own address would loop back).
  bool downstream_local_address_restored = false;
  network::address::InstanceConstSharedPtr upstream_host_address;
  std::string upstream_cluster;
  std::string route_name;
  std::string request_id;

  // The downstream connection's TLS facts (peer and local URI SAN...); null for plain
  // connections. The connection outlives every stream and its own stream info.
  const tls::ConnectionInfo* downstream_ssl = nullptr;

  // Typed objects set by filters; a request's has its connection's as parent (FilterState).
  FilterStateSharedPtr filter_state = std::make_shared<FilterState>();
  // Dynamic metadata (Envoy's: filter namespace -> Struct), read by %DYNAMIC_METADATA(ns:key)%,
  // RBAC metadata matchers and the original_dst listener filter.
  envoy::config::core::v3::Metadata dynamic_metadata;

  void setResponseFlag(ResponseFlag flag) { response_flags |= flag; }
  bool hasResponseFlag(ResponseFlag flag) const { return (response_flags & flag) != 0; }
};

}  // namespace waystone::stream_info
