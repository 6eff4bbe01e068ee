#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "envoy/config/route/v3/route_components.pb.h"

#include "source/common/router/header_matcher.h"

namespace waystone::router {

// A route's (or virtual host's) envoy.config.route.v3.RetryPolicy, parsed and immutable. The
// router filter owns the per-request retry state; this only says what the config asked for.
class RetryPolicy {
 public:
  // retry_on conditions (Envoy's names in comments).
  static constexpr uint32_t kRetryOn5xx = 1u << 0;                    // 5xx
  static constexpr uint32_t kRetryOnGatewayError = 1u << 1;           // gateway-error
  static constexpr uint32_t kRetryOnConnectFailure = 1u << 2;         // connect-failure
  static constexpr uint32_t kRetryOnRetriable4xx = 1u << 3;           // retriable-4xx
  static constexpr uint32_t kRetryOnRefusedStream = 1u << 4;          // refused-stream
  static constexpr uint32_t kRetryOnGrpcCancelled = 1u << 5;          // cancelled
  static constexpr uint32_t kRetryOnGrpcDeadlineExceeded = 1u << 6;   // deadline-exceeded
  static constexpr uint32_t kRetryOnGrpcResourceExhausted = 1u << 7;  // resource-exhausted
  static constexpr uint32_t kRetryOnGrpcUnavailable = 1u << 8;        // unavailable
  static constexpr uint32_t kRetryOnGrpcInternal = 1u << 9;           // internal
  static constexpr uint32_t kRetryOnRetriableStatusCodes = 1u << 10;  // retriable-status-codes
  static constexpr uint32_t kRetryOnReset = 1u << 11;                 // reset
  static constexpr uint32_t kRetryOnRetriableHeaders = 1u << 12;      // retriable-headers
  static constexpr uint32_t kRetryOnEnvoyRateLimited = 1u << 13;      // envoy-ratelimited
  static constexpr uint32_t kRetryOnHttp3PostConnectFailure = 1u
                                                              << 14;  // http3-post-connect-failure
  static constexpr uint32_t kRetryOnResetBeforeRequest = 1u << 15;    // reset-before-request

  static constexpr std::chrono::milliseconds kDefaultBaseInterval{25};
  static constexpr absl::string_view kPreviousHostsPredicate =
      "envoy.retry_host_predicates.previous_hosts";

  // No retry_policy configured: no conditions, num_retries 1 (Envoy's defaults).
  RetryPolicy() = default;

  // `path` names the RetryPolicy message.
  static absl::StatusOr<RetryPolicy> create(const envoy::config::route::v3::RetryPolicy& config,
                                            uint32_t max_program_size, absl::string_view path);

  // Comma-separated retry_on names (HTTP and gRPC ones) to flags. Whitespace around names is
  // ignored; unknown names are ignored, as in Envoy (newer control planes may send names this
  // build does not know).
  static uint32_t parseRetryOn(absl::string_view retry_on);

  uint32_t retryOn() const { return retry_on_; }
  uint32_t numRetries() const { return num_retries_; }
  // 0: no per-try timeout.
  std::chrono::milliseconds perTryTimeout() const { return per_try_timeout_; }
  std::chrono::milliseconds perTryIdleTimeout() const { return per_try_idle_timeout_; }
  // retry_back_off.base_interval (default 25 ms) and max_interval (default 10 x base).
  std::chrono::milliseconds baseInterval() const { return base_interval_; }
  std::chrono::milliseconds maxInterval() const { return max_interval_; }
  // retry_host_predicate[].name, e.g. kPreviousHostsPredicate.
  const std::vector<std::string>& retryHostPredicates() const { return retry_host_predicates_; }
  // retry_priority.name, empty when not configured.
  const std::string& retryPriority() const { return retry_priority_; }
  uint32_t hostSelectionMaxAttempts() const { return host_selection_max_attempts_; }
  const std::vector<uint32_t>& retriableStatusCodes() const { return retriable_status_codes_; }
  // Matched against the upstream response (retriable-headers).
  const std::vector<HeaderMatcher>& retriableHeaders() const { return retriable_headers_; }
  // The request must match all of these to be retried at all (empty: any request).
  const std::vector<HeaderMatcher>& retriableRequestHeaders() const {
    return retriable_request_headers_;
  }

 private:
  uint32_t retry_on_ = 0;
  uint32_t num_retries_ = 1;
  std::chrono::milliseconds per_try_timeout_{0};
  std::chrono::milliseconds per_try_idle_timeout_{0};
  std::chrono::milliseconds base_interval_{kDefaultBaseInterval};
  std::chrono::milliseconds max_interval_{kDefaultBaseInterval * 10};
  std::vector<std::string> retry_host_predicates_;
  std::string retry_priority_;
  uint32_t host_selection_max_attempts_ = 1;
  std::vector<uint32_t> retriable_status_codes_;
  std::vector<HeaderMatcher> retriable_headers_;
  std::vector<HeaderMatcher> retriable_request_headers_;
};

}  // namespace waystone::router
