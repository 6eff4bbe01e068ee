#pragma once

#include <chrono>
#include <cstdint>
#include <random>

#include "source/common/http/codec.h"
#include "source/common/http/header_map.h"
#include "source/common/router/retry_policy.h"

namespace waystone::extensions::http_filters::router {

// One request's retry bookkeeping: what the route's retry policy (plus the x-envoy-retry-on /
// x-envoy-max-retries request headers) allows, how many retries are left, and the backoff.
class RetryState {
 public:
  RetryState(const waystone::router::RetryPolicy& policy, const http::RequestHeaderMap& headers);

  bool enabled() const { return retry_on_ != 0 && retries_left_ > 0; }
  // Should this response be retried (if retries remain)?
  bool wouldRetryFromHeaders(const http::ResponseHeaderMap& headers) const;
  // Should this failure before a response be retried? `connect_failure`: no connection was made.
  bool wouldRetryFromReset(http::StreamResetReason reason, bool connect_failure) const;
  // A per-try timeout counts as a gateway error.
  bool wouldRetryFromPerTryTimeout() const;

  bool retriesLeft() const { return retries_left_ > 0; }
  // Uses one retry; returns the delay before the next attempt (Envoy's jittered exponential
  // backoff: uniform in [0, base * 2^n), capped at the maximum).
  std::chrono::milliseconds consumeRetry();

  const waystone::router::RetryPolicy& policy() const { return policy_; }

 private:
  const waystone::router::RetryPolicy& policy_;
  uint32_t retry_on_;
  uint32_t retries_left_;
  uint32_t retries_done_ = 0;
  std::mt19937_64 random_;
};

}  // namespace waystone::extensions::http_filters::router
