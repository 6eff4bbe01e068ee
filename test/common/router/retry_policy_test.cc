#include "source/common/router/retry_policy.h"

#include "gtest/gtest.h"

#include "source/common/protobuf/utility.h"

namespace waystone::router {
namespace {

absl::StatusOr<RetryPolicy> make(absl::string_view yaml) {
  envoy::config::route::v3::RetryPolicy config;
  const absl::Status loaded = protobuf::loadFromYaml(yaml, config);
  EXPECT_TRUE(loaded.ok()) << loaded;
  return RetryPolicy::create(config, 100, "route.retry_policy");
}

TEST(RetryPolicyTest, ParseRetryOn) {
  EXPECT_EQ(0u, RetryPolicy::parseRetryOn(""));
  EXPECT_EQ(RetryPolicy::kRetryOn5xx, RetryPolicy::parseRetryOn("5xx"));
  EXPECT_EQ(RetryPolicy::kRetryOn5xx | RetryPolicy::kRetryOnGatewayError |
                RetryPolicy::kRetryOnReset | RetryPolicy::kRetryOnConnectFailure |
                RetryPolicy::kRetryOnRefusedStream | RetryPolicy::kRetryOnRetriable4xx |
                RetryPolicy::kRetryOnRetriableStatusCodes | RetryPolicy::kRetryOnRetriableHeaders,
            RetryPolicy::parseRetryOn("5xx,gateway-error,reset,connect-failure,refused-stream,"
                                      "retriable-4xx,retriable-status-codes,retriable-headers"));
  // Istio's default, with spaces and an unknown name (ignored, as Envoy does).
  EXPECT_EQ(RetryPolicy::kRetryOnConnectFailure | RetryPolicy::kRetryOnRefusedStream |
                RetryPolicy::kRetryOnGrpcUnavailable | RetryPolicy::kRetryOnGrpcCancelled |
                RetryPolicy::kRetryOnRetriableStatusCodes,
            RetryPolicy::parseRetryOn(
                "connect-failure, refused-stream,unavailable ,cancelled,retriable-status-codes,"
                "no-such-thing"));
  EXPECT_EQ(RetryPolicy::kRetryOnGrpcDeadlineExceeded | RetryPolicy::kRetryOnGrpcInternal |
                RetryPolicy::kRetryOnGrpcResourceExhausted,
            RetryPolicy::parseRetryOn("deadline-exceeded,internal,resource-exhausted"));
}

TEST(RetryPolicyTest, Defaults) {
  const RetryPolicy none;
  EXPECT_EQ(0u, none.retryOn());
  EXPECT_EQ(1u, none.numRetries());
  EXPECT_EQ(std::chrono::milliseconds(0), none.perTryTimeout());
  EXPECT_EQ(std::chrono::milliseconds(25), none.baseInterval());
  EXPECT_EQ(std::chrono::milliseconds(250), none.maxInterval());
  EXPECT_EQ(1u, none.hostSelectionMaxAttempts());

  auto policy = make("retry_on: 5xx");
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(RetryPolicy::kRetryOn5xx, policy->retryOn());
  EXPECT_EQ(1u, policy->numRetries());
  EXPECT_TRUE(policy->retryHostPredicates().empty());
}

TEST(RetryPolicyTest, AllFields) {
  auto policy = make(R"(
retry_on: 5xx,retriable-headers
num_retries: 3
per_try_timeout: 0.5s
per_try_idle_timeout: 2s
retry_back_off: {base_interval: 0.1s}
retry_host_predicate:
- name: envoy.retry_host_predicates.previous_hosts
host_selection_retry_max_attempts: 5
retriable_status_codes: [503, 429]
retriable_headers:
- name: x-retry
  present_match: true
retriable_request_headers:
- name: ':method'
  string_match: {exact: GET}
)");
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(3u, policy->numRetries());
  EXPECT_EQ(std::chrono::milliseconds(500), policy->perTryTimeout());
  EXPECT_EQ(std::chrono::milliseconds(2000), policy->perTryIdleTimeout());
  EXPECT_EQ(std::chrono::milliseconds(100), policy->baseInterval());
  EXPECT_EQ(std::chrono::milliseconds(1000), policy->maxInterval());  // 10 x base
  ASSERT_EQ(1u, policy->retryHostPredicates().size());
  EXPECT_EQ(RetryPolicy::kPreviousHostsPredicate, policy->retryHostPredicates()[0]);
  EXPECT_EQ(5u, policy->hostSelectionMaxAttempts());
  EXPECT_EQ((std::vector<uint32_t>{503, 429}), policy->retriableStatusCodes());
  ASSERT_EQ(1u, policy->retriableHeaders().size());
  EXPECT_TRUE(policy->retriableHeaders()[0].matches(http::HeaderMap{{"x-retry", "1"}}));
  EXPECT_FALSE(policy->retriableHeaders()[0].matches(http::HeaderMap{{"x-other", "1"}}));
  ASSERT_EQ(1u, policy->retriableRequestHeaders().size());
  EXPECT_TRUE(policy->retriableRequestHeaders()[0].matches(http::HeaderMap{{":method", "GET"}}));
}

TEST(RetryPolicyTest, BackOffMaxInterval) {
  auto policy = make("retry_back_off: {base_interval: 0.01s, max_interval: 0.05s}");
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(std::chrono::milliseconds(10), policy->baseInterval());
  EXPECT_EQ(std::chrono::milliseconds(50), policy->maxInterval());

  auto bad = make("retry_back_off: {base_interval: 1s, max_interval: 0.5s}");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(
      "route.retry_policy.retry_back_off.max_interval: max_interval must be greater than or "
      "equal to the base_interval",
      bad.status().message());
}

}  // namespace
}  // namespace waystone::router
