#include "source/common/router/retry_policy.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"

#include "source/common/router/config_utility.h"

namespace waystone::router {
namespace {

struct RetryOnName {
  absl::string_view name;
  uint32_t flag;
};

constexpr RetryOnName kRetryOnNames[] = {
    {"5xx", RetryPolicy::kRetryOn5xx},
    {"gateway-error", RetryPolicy::kRetryOnGatewayError},
    {"connect-failure", RetryPolicy::kRetryOnConnectFailure},
    {"retriable-4xx", RetryPolicy::kRetryOnRetriable4xx},
    {"refused-stream", RetryPolicy::kRetryOnRefusedStream},
    {"cancelled", RetryPolicy::kRetryOnGrpcCancelled},
    {"deadline-exceeded", RetryPolicy::kRetryOnGrpcDeadlineExceeded},
    {"resource-exhausted", RetryPolicy::kRetryOnGrpcResourceExhausted},
    {"unavailable", RetryPolicy::kRetryOnGrpcUnavailable},
    {"internal", RetryPolicy::kRetryOnGrpcInternal},
    {"retriable-status-codes", RetryPolicy::kRetryOnRetriableStatusCodes},
    {"reset", RetryPolicy::kRetryOnReset},
    {"retriable-headers", RetryPolicy::kRetryOnRetriableHeaders},
    {"envoy-ratelimited", RetryPolicy::kRetryOnEnvoyRateLimited},
    {"http3-post-connect-failure", RetryPolicy::kRetryOnHttp3PostConnectFailure},
    {"reset-before-request", RetryPolicy::kRetryOnResetBeforeRequest},
};

}  // namespace

uint32_t RetryPolicy::parseRetryOn(absl::string_view retry_on) {
  uint32_t flags = 0;
  for (absl::string_view name : absl::StrSplit(retry_on, ',')) {
    name = absl::StripAsciiWhitespace(name);
    for (const RetryOnName& known : kRetryOnNames) {
      if (known.name == name) {
        flags |= known.flag;
        break;
      }
    }
  }
  return flags;
}

absl::StatusOr<RetryPolicy> RetryPolicy::create(const envoy::config::route::v3::RetryPolicy& config,
                                                uint32_t max_program_size, absl::string_view path) {
  RetryPolicy policy;
  policy.retry_on_ = parseRetryOn(config.retry_on());
  if (config.has_num_retries()) {
    policy.num_retries_ = config.num_retries().value();
  }
  if (config.has_per_try_timeout()) {
    auto timeout = ConfigUtility::durationToMs(config.per_try_timeout(),
                                               ConfigUtility::field(path, "per_try_timeout"));
    if (!timeout.ok()) {
      return timeout.status();
    }
    policy.per_try_timeout_ = *timeout;
  }
  if (config.has_per_try_idle_timeout()) {
    auto timeout = ConfigUtility::durationToMs(config.per_try_idle_timeout(),
                                               ConfigUtility::field(path, "per_try_idle_timeout"));
    if (!timeout.ok()) {
      return timeout.status();
    }
    policy.per_try_idle_timeout_ = *timeout;
  }
  if (config.has_retry_back_off()) {
    const std::string back_off_path = ConfigUtility::field(path, "retry_back_off");
    auto base = ConfigUtility::durationToMs(config.retry_back_off().base_interval(),
                                            ConfigUtility::field(back_off_path, "base_interval"));
    if (!base.ok()) {
      return base.status();
    }
    // Sub-millisecond intervals round up to 1 ms, as Envoy does.
    policy.base_interval_ = std::max(*base, std::chrono::milliseconds(1));
    policy.max_interval_ = policy.base_interval_ * 10;
    if (config.retry_back_off().has_max_interval()) {
      const std::string max_path = ConfigUtility::field(back_off_path, "max_interval");
      auto max = ConfigUtility::durationToMs(config.retry_back_off().max_interval(), max_path);
      if (!max.ok()) {
        return max.status();
      }
      policy.max_interval_ = std::max(*max, std::chrono::milliseconds(1));
      if (policy.max_interval_ < policy.base_interval_) {
        return ConfigUtility::error(max_path,
                                    "max_interval must be greater than or equal to the "
                                    "base_interval");
      }
    }
  }
  for (const auto& predicate : config.retry_host_predicate()) {
    policy.retry_host_predicates_.push_back(predicate.name());
  }
  policy.retry_priority_ = config.retry_priority().name();
  if (config.host_selection_retry_max_attempts() > 0) {
    policy.host_selection_max_attempts_ = static_cast<uint32_t>(std::min<int64_t>(
        config.host_selection_retry_max_attempts(), std::numeric_limits<uint32_t>::max()));
  }
  policy.retriable_status_codes_.assign(config.retriable_status_codes().begin(),
                                        config.retriable_status_codes().end());
  auto retriable_headers =
      HeaderMatcher::createAll(config.retriable_headers(), max_program_size,
                               ConfigUtility::field(path, "retriable_headers"));
  if (!retriable_headers.ok()) {
    return retriable_headers.status();
  }
  policy.retriable_headers_ = std::move(*retriable_headers);
  auto retriable_request_headers =
      HeaderMatcher::createAll(config.retriable_request_headers(), max_program_size,
                               ConfigUtility::field(path, "retriable_request_headers"));
  if (!retriable_request_headers.ok()) {
    return retriable_request_headers.status();
  }
  policy.retriable_request_headers_ = std::move(*retriable_request_headers);
  return policy;
}

}  // namespace waystone::router
