#pragma once

#include <cstdint>
#include <optional>

#include "source/common/network/address.h"
#include "source/common/stream_info/stream_info.h"
#include "source/upstream/host.h"

namespace waystone::http {
class HeaderMap;
}  // namespace waystone::http

namespace waystone::upstream::lb {

// What one pick may use from the request that asks for it (Envoy's LoadBalancerContext, cut to
// what Waystone's callers provide). Every load balancer also accepts a null context.
class LoadBalancerContext {
 public:
  virtual ~LoadBalancerContext() = default;

  // The request's hash for RING_HASH and MAGLEV (the router's hash_policy result); nullopt when
  // the request has none, in which case those policies pick at random. Called at most once per
  // chooseHost(), so an implementation may compute it on demand.
  virtual std::optional<uint64_t> computeHashKey() = 0;

  // Retry host predicate (e.g. previous_hosts): true rejects `host` and asks for another pick,
  // at most hostSelectionRetryCount() more times. When every attempt is rejected the last host
  // is returned anyway, as Envoy does: a rejected host beats no host.
  virtual bool shouldSelectAnotherHost(const Host& host) = 0;
  virtual uint32_t hostSelectionRetryCount() const = 0;

  // For ORIGINAL_DST clusters, which pick the host from the request itself. Defaults: unknown.
  // The downstream connection's local address: the original destination when the connection
  // was redirected to Waystone transparently.
  virtual network::address::InstanceConstSharedPtr downstreamLocalAddress() const {
    return nullptr;
  }
  // The request's headers (x-envoy-original-dst-host); valid for the duration of the pick.
  virtual const http::HeaderMap* downstreamHeaders() const { return nullptr; }
  // The request's stream info (HTTP; null for a TCP proxy) and the downstream connection's,
  // for original_dst_lb_config.metadata_key (request metadata first, then the connection's)
  // and for whether the local address was restored by the original_dst listener filter.
  virtual const stream_info::StreamInfo* requestStreamInfo() const { return nullptr; }
  virtual const stream_info::StreamInfo* downstreamConnectionStreamInfo() const { return nullptr; }
};

}  // namespace waystone::upstream::lb
