#include "source/extensions/filters/http/router/retry_state.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace waystone::extensions::http_filters::router {
namespace {

using waystone::router::RetryPolicy;

// x-envoy-retry-on / x-envoy-retry-grpc-on: comma-separated condition names.
uint32_t parseRetryOn(absl::string_view value) {
  uint32_t flags = 0;
  for (absl::string_view name : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
    name = absl::StripAsciiWhitespace(name);
    if (name == "5xx") {
      flags |= RetryPolicy::kRetryOn5xx;
    } else if (name == "gateway-error") {
      flags |= RetryPolicy::kRetryOnGatewayError;
    } else if (name == "connect-failure") {
      flags |= RetryPolicy::kRetryOnConnectFailure;
    } else if (name == "retriable-4xx") {
      flags |= RetryPolicy::kRetryOnRetriable4xx;
    } else if (name == "refused-stream") {
      flags |= RetryPolicy::kRetryOnRefusedStream;
    } else if (name == "reset") {
      flags |= RetryPolicy::kRetryOnReset;
    } else if (name == "retriable-status-codes") {
      flags |= RetryPolicy::kRetryOnRetriableStatusCodes;
    } else if (name == "retriable-headers") {
      flags |= RetryPolicy::kRetryOnRetriableHeaders;
    } else if (name == "cancelled") {
      flags |= RetryPolicy::kRetryOnGrpcCancelled;
    } else if (name == "deadline-exceeded") {
      flags |= RetryPolicy::kRetryOnGrpcDeadlineExceeded;
    } else if (name == "resource-exhausted") {
      flags |= RetryPolicy::kRetryOnGrpcResourceExhausted;
    } else if (name == "unavailable") {
      flags |= RetryPolicy::kRetryOnGrpcUnavailable;
    } else if (name == "internal") {
      flags |= RetryPolicy::kRetryOnGrpcInternal;
    }
  }
  return flags;
}

}  // namespace

RetryState::RetryState(const RetryPolicy& policy, const http::RequestHeaderMap& headers)
    : policy_(policy),
      retry_on_(policy.retryOn()),
      retries_left_(policy.numRetries()),
      random_(std::random_device{}()) {
  // The request may ask for retries itself (Envoy honours these from trusted clients; the
  // connection manager strips x-envoy-* from external ones).
  retry_on_ |= parseRetryOn(headers.getValue("x-envoy-retry-on"));
  retry_on_ |= parseRetryOn(headers.getValue("x-envoy-retry-grpc-on"));
  uint32_t max_retries = 0;
  if (absl::SimpleAtoi(headers.getValue("x-envoy-max-retries"), &max_retries)) {
    retries_left_ = max_retries;
  }
}

bool RetryState::wouldRetryFromHeaders(const http::ResponseHeaderMap& headers) const {
  const uint64_t status = headers.status();
  if ((retry_on_ & RetryPolicy::kRetryOn5xx) && status >= 500) {
    return true;
  }
  if ((retry_on_ & RetryPolicy::kRetryOnGatewayError) && status >= 502 && status <= 504) {
    return true;
  }
  if ((retry_on_ & RetryPolicy::kRetryOnRetriable4xx) && status == 409) {
    return true;
  }
  if (retry_on_ & RetryPolicy::kRetryOnRetriableStatusCodes) {
    const auto& codes = policy_.retriableStatusCodes();
    if (std::find(codes.begin(), codes.end(), status) != codes.end()) {
      return true;
    }
  }
  if (retry_on_ & RetryPolicy::kRetryOnRetriableHeaders) {
    for (const auto& matcher : policy_.retriableHeaders()) {
      if (matcher.matches(headers)) {
        return true;
      }
    }
  }
  // gRPC status in a trailers-only response.
  uint32_t grpc_status = 0;
  if (absl::SimpleAtoi(headers.getValue("grpc-status"), &grpc_status)) {
    if (((retry_on_ & RetryPolicy::kRetryOnGrpcCancelled) && grpc_status == 1) ||
        ((retry_on_ & RetryPolicy::kRetryOnGrpcDeadlineExceeded) && grpc_status == 4) ||
        ((retry_on_ & RetryPolicy::kRetryOnGrpcResourceExhausted) && grpc_status == 8) ||
        ((retry_on_ & RetryPolicy::kRetryOnGrpcUnavailable) && grpc_status == 14) ||
        ((retry_on_ & RetryPolicy::kRetryOnGrpcInternal) && grpc_status == 13)) {
      return true;
    }
  }
  return false;
}

bool RetryState::wouldRetryFromReset(http::StreamResetReason reason, bool connect_failure) const {
  if (connect_failure) {
    return (retry_on_ & (RetryPolicy::kRetryOnConnectFailure | RetryPolicy::kRetryOnReset |
                         RetryPolicy::kRetryOn5xx | RetryPolicy::kRetryOnGatewayError |
                         RetryPolicy::kRetryOnResetBeforeRequest)) != 0;
  }
  if (reason == http::StreamResetReason::RemoteRefusedStreamReset &&
      (retry_on_ & RetryPolicy::kRetryOnRefusedStream)) {
    return true;
  }
  // Envoy treats a reset before the response as a 5xx for 5xx/gateway-error policies.
  return (retry_on_ & (RetryPolicy::kRetryOnReset | RetryPolicy::kRetryOn5xx |
                       RetryPolicy::kRetryOnGatewayError)) != 0;
}

bool RetryState::wouldRetryFromPerTryTimeout() const {
  return (retry_on_ & (RetryPolicy::kRetryOn5xx | RetryPolicy::kRetryOnGatewayError |
                       RetryPolicy::kRetryOnReset)) != 0;
}

std::chrono::milliseconds RetryState::consumeRetry() {
  --retries_left_;
  const uint64_t base = std::max<int64_t>(1, policy_.baseInterval().count());
  const uint64_t max = std::max<uint64_t>(base, policy_.maxInterval().count());
  const uint64_t ceiling = std::min<uint64_t>(max, base << std::min<uint32_t>(retries_done_, 20));
  ++retries_done_;
  return std::chrono::milliseconds(random_() % (ceiling + 1));
}

}  // namespace waystone::extensions::http_filters::router
