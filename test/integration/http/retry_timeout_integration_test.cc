// Retries, timeouts and circuit breakers through the real binary, against scripted backends that
// fail, hang or hold their answers on cue.

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "test/integration/http/bootstrap_builder.h"
#include "test/integration/http/http_proxy.h"
#include "test/integration/http/scripted_backend.h"
#include "test/test_common/http_client.h"
#include "test/test_common/network_utility.h"
#include "test/test_common/wait_for.h"

namespace waystone::test {
namespace {

// Requests ask for keep-alive unless a test is about closing: a client's "Connection: close"
// that reached the backend (see HopByHopHeadersAreNotForwarded) would make the backend close the
// upstream connection after each response, and a proxy that then reuses it races with the close
// (see UpstreamConnectionNotReusedAfterConnectionClose). Those bugs have tests of their own.
HttpHeaders keepAlive(HttpHeaders headers = {}) {
  headers.emplace_back("Connection", "keep-alive");
  return headers;
}

using std::chrono::milliseconds;
using std::chrono::steady_clock;

class RetryTimeoutIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto backend = ScriptedBackend::start("backend");
    ASSERT_TRUE(backend.ok()) << backend.status();
    backend_ = std::move(*backend);
  }

  // One route "/" to cluster "backend" with the given route action fields (retry_policy,
  // timeout, ...), the cluster made of `ports` (the scripted backend by default).
  void startProxy(absl::string_view route_fields, std::vector<uint16_t> ports = {},
                  const ClusterOptions& cluster = {}, int concurrency = 2) {
    if (ports.empty()) {
      ports.push_back(backend_->port());
    }
    BootstrapBuilder bootstrap;
    bootstrap.addCluster("backend", ports, cluster);
    bootstrap.setRouteConfig(absl::StrCat(R"(
virtual_hosts:
- name: default
  domains: ["*"]
  routes:
  - match: { prefix: "/" }
    route:
      cluster: backend
)",
                                          BootstrapBuilder::reindent(route_fields, 6)));
    auto proxy = HttpProxy::start(bootstrap, concurrency);
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = std::move(*proxy);
  }

  uint64_t clusterStat(absl::string_view name) {
    return proxy_->clusterStat("backend", name).value_or(~uint64_t{0});
  }

  std::unique_ptr<ScriptedBackend> backend_;
  std::unique_ptr<HttpProxy> proxy_;
};

constexpr char kRetry5xx[] = R"(
retry_policy:
  retry_on: 5xx
  num_retries: 2
  retry_back_off: { base_interval: 0.01s, max_interval: 0.05s }
)";

TEST_F(RetryTimeoutIntegrationTest, RetriesOn5xxUntilSuccess) {
  ASSERT_NO_FATAL_FAILURE(startProxy(kRetry5xx));
  backend_->enqueue(BackendResponse::respond(503, "unavailable 1"));
  backend_->enqueue(BackendResponse::respond(503, "unavailable 2"));
  backend_->enqueue(BackendResponse::respond(200, "third time lucky"));

  HttpClient client = proxy_->client();
  auto response = client.request("GET", "/retry", keepAlive());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "third time lucky");
  EXPECT_EQ(backend_->requestCount(), 3u);
  EXPECT_EQ(clusterStat("upstream_rq_retry"), 2u);
  EXPECT_EQ(clusterStat("upstream_rq_retry_success"), 1u);
  EXPECT_EQ(clusterStat("upstream_rq_total"), 3u);
  // As in Envoy, responses that were retried are not counted as upstream_rq_<code> (Envoy counts
  // them under retry.upstream_rq_<code>); only the one that went to the client is.
  EXPECT_EQ(clusterStat("upstream_rq_5xx"), 0u);
  EXPECT_EQ(clusterStat("upstream_rq_2xx"), 1u);
  EXPECT_EQ(proxy_->httpStat("downstream_rq_2xx"), 1u);
  EXPECT_EQ(proxy_->httpStat("downstream_rq_5xx"), 0u);
}

TEST_F(RetryTimeoutIntegrationTest, RetriesExhaustedReturnTheLast5xx) {
  ASSERT_NO_FATAL_FAILURE(startProxy(kRetry5xx));
  for (int i = 1; i <= 3; ++i) {
    backend_->enqueue(BackendResponse::respond(503, absl::StrCat("unavailable ", i)));
  }
  HttpClient client = proxy_->client();
  auto response = client.request("GET", "/exhaust", keepAlive());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(response->body, "unavailable 3");
  EXPECT_EQ(backend_->requestCount(), 3u);
  EXPECT_EQ(clusterStat("upstream_rq_retry"), 2u);
  EXPECT_EQ(clusterStat("upstream_rq_retry_limit_exceeded"), 1u);
  // Envoy counts a retry success only when the response after a retry is not retriable itself.
  EXPECT_EQ(clusterStat("upstream_rq_retry_success"), 0u);
  EXPECT_EQ(clusterStat("upstream_rq_5xx"), 1u);
  EXPECT_EQ(proxy_->httpStat("downstream_rq_5xx"), 1u);
}

TEST_F(RetryTimeoutIntegrationTest, RetriesReplayTheRequestBody) {
  ASSERT_NO_FATAL_FAILURE(startProxy(kRetry5xx));
  backend_->enqueue(BackendResponse::respond(503));
  backend_->enqueue(BackendResponse::respond(200, "stored"));
  const std::string body(100000, 'p');
  HttpClient client = proxy_->client();
  auto response = client.request("POST", "/store", keepAlive(), body);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  const std::vector<BackendRequest> seen = backend_->requests();
  ASSERT_EQ(seen.size(), 2u);
  for (const BackendRequest& request : seen) {
    EXPECT_EQ(request.body_bytes, body.size());
    EXPECT_TRUE(request.request.body == body);
  }
}

TEST_F(RetryTimeoutIntegrationTest, RetryOnRetriableStatusCodesAndGatewayError) {
  ASSERT_NO_FATAL_FAILURE(startProxy(R"(
    retry_policy:
      retry_on: "retriable-status-codes,gateway-error"
      retriable_status_codes: [409]
      num_retries: 1
      retry_back_off: { base_interval: 0.01s }
  )"));
  HttpClient client = proxy_->client();

  backend_->enqueue(BackendResponse::respond(409, "conflict"));
  backend_->enqueue(BackendResponse::respond(200, "after 409"));
  auto conflict = client.request("GET", "/409", keepAlive());
  ASSERT_TRUE(conflict.ok()) << conflict.status();
  EXPECT_EQ(conflict->status, 200);
  EXPECT_EQ(conflict->body, "after 409");

  backend_->enqueue(BackendResponse::respond(502, "bad gateway"));
  backend_->enqueue(BackendResponse::respond(200, "after 502"));
  auto gateway = client.request("GET", "/502", keepAlive());
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  EXPECT_EQ(gateway->status, 200);
  EXPECT_EQ(gateway->body, "after 502");

  // 500 is neither a gateway error nor listed: no retry.
  backend_->enqueue(BackendResponse::respond(500, "internal"));
  backend_->enqueue(BackendResponse::respond(200, "must not be used"));
  auto internal = client.request("GET", "/500", keepAlive());
  ASSERT_TRUE(internal.ok()) << internal.status();
  EXPECT_EQ(internal->status, 500);
  EXPECT_EQ(internal->body, "internal");

  EXPECT_EQ(backend_->requestCount(), 5u);
  EXPECT_EQ(clusterStat("upstream_rq_retry"), 2u);
}

TEST_F(RetryTimeoutIntegrationTest, ResetBeforeResponseIsRetried) {
  ASSERT_NO_FATAL_FAILURE(startProxy(R"(
    retry_policy:
      retry_on: reset
      num_retries: 1
      retry_back_off: { base_interval: 0.01s }
  )"));
  backend_->enqueue(BackendResponse::close());
  backend_->enqueue(BackendResponse::respond(200, "after reset"));
  HttpClient client = proxy_->client();
  auto response = client.request("GET", "/reset", keepAlive());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "after reset");
  EXPECT_EQ(clusterStat("upstream_rq_retry"), 1u);
  EXPECT_EQ(backend_->requestCount(), 2u);
}

TEST_F(RetryTimeoutIntegrationTest, ConnectFailureIsRetriedOnAnotherHost) {
  // Nothing listens on this port: connections to it are refused.
  const uint16_t refused = findFreeTcpPort();
  ASSERT_NE(refused, 0);
  ASSERT_NO_FATAL_FAILURE(startProxy(R"(
    retry_policy:
      retry_on: connect-failure
      num_retries: 2
      retry_back_off: { base_interval: 0.01s }
  )",
                                     {refused, backend_->port()}));
  constexpr int kRequests = 8;
  for (int i = 0; i < kRequests; ++i) {
    HttpClient client = proxy_->client();
    auto response = client.request("GET", absl::StrCat("/cf", i), keepAlive());
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 200) << "request " << i << ": " << response->body;
    EXPECT_EQ(response->body, absl::StrCat("backend: GET /cf", i));
  }
  EXPECT_EQ(backend_->requestCount(), static_cast<uint64_t>(kRequests));
  // Round robin over two hosts sends some first attempts to the refusing one, and each retry to
  // the other host.
  EXPECT_GE(clusterStat("upstream_cx_connect_fail"), 1u);
  EXPECT_GE(clusterStat("upstream_rq_retry"), 1u);
  EXPECT_EQ(clusterStat("upstream_rq_retry"), clusterStat("upstream_cx_connect_fail"));
  EXPECT_EQ(proxy_->httpStat("downstream_rq_2xx"), static_cast<uint64_t>(kRequests));
}

TEST_F(RetryTimeoutIntegrationTest, RouteTimeoutGives504AndTheHungConnectionIsNotReused) {
  // One worker, so that the next request meets the same upstream connection pool.
  ASSERT_NO_FATAL_FAILURE(startProxy("timeout: 0.3s", {}, {}, /*concurrency=*/1));
  backend_->enqueue(BackendResponse::hang());
  HttpClient client = proxy_->client();
  const auto start = steady_clock::now();
  auto response = client.request("GET", "/slow", keepAlive(), "", std::chrono::seconds(10));
  const auto elapsed = std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 504);
  EXPECT_EQ(response->body, "upstream request timeout");
  EXPECT_GE(elapsed.count(), 290);
  EXPECT_LT(elapsed.count(), 5000);
  EXPECT_EQ(clusterStat("upstream_rq_timeout"), 1u);
  EXPECT_EQ(proxy_->httpStat("downstream_rq_5xx"), 1u);
  EXPECT_EQ(backend_->requestCount(), 1u);

  // The timed-out request is still outstanding on its HTTP/1.1 connection: that connection can
  // never carry another request (its late response would answer the wrong one). The next request
  // needs a new connection and gets the backend's answer.
  auto next = client.request("GET", "/after-timeout", keepAlive(), "", std::chrono::seconds(10));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->status, 200) << next->body;
  EXPECT_EQ(next->body, "backend: GET /after-timeout");
  EXPECT_EQ(backend_->connectionCount(), 2u);
  EXPECT_EQ(clusterStat("upstream_cx_total"), 2u);
}

TEST_F(RetryTimeoutIntegrationTest, LateResponseNeverAnswersAnotherRequest) {
  ASSERT_NO_FATAL_FAILURE(startProxy("timeout: 0.3s", {}, {}, /*concurrency=*/1));
  backend_->enqueue(BackendResponse::hold(200, "late answer to /first"));
  HttpClient client = proxy_->client();
  auto first = client.request("GET", "/first", keepAlive(), "", std::chrono::seconds(10));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->status, 504);

  // The second request is sent, then the backend finally answers the first one.
  std::optional<absl::StatusOr<HttpResponse>> second;
  std::thread sender([&] {
    HttpClient other = proxy_->client();
    second = other.request("GET", "/second", keepAlive(), "", std::chrono::seconds(10));
  });
  const bool dispatched = proxy_->waitForStat("cluster.backend.upstream_rq_total", 2);
  backend_->releaseHeld();
  sender.join();
  EXPECT_TRUE(dispatched);
  ASSERT_TRUE(second.has_value());
  ASSERT_TRUE(second->ok()) << second->status();
  EXPECT_EQ((*second)->status, 200);
  EXPECT_EQ((*second)->body, "backend: GET /second")
      << "the response to a timed-out request answered a later one";
}

TEST_F(RetryTimeoutIntegrationTest, PerTryTimeoutRetriesThenSucceeds) {
  ASSERT_NO_FATAL_FAILURE(startProxy(R"(
    timeout: 10s
    retry_policy:
      retry_on: 5xx
      num_retries: 1
      per_try_timeout: 0.3s
      retry_back_off: { base_interval: 0.01s }
  )"));
  backend_->enqueue(BackendResponse::hang());
  backend_->enqueue(BackendResponse::respond(200, "second try"));
  HttpClient client = proxy_->client();
  const auto start = steady_clock::now();
  auto response = client.request("GET", "/per-try", keepAlive(), "", std::chrono::seconds(10));
  const auto elapsed = std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "second try");
  EXPECT_GE(elapsed.count(), 290);
  EXPECT_EQ(clusterStat("upstream_rq_per_try_timeout"), 1u);
  EXPECT_EQ(clusterStat("upstream_rq_retry"), 1u);
  EXPECT_EQ(clusterStat("upstream_rq_timeout"), 0u);
  EXPECT_EQ(backend_->requestCount(), 2u);
}

TEST_F(RetryTimeoutIntegrationTest, PerTryTimeoutOnEveryTryGives504) {
  ASSERT_NO_FATAL_FAILURE(startProxy(R"(
    timeout: 10s
    retry_policy:
      retry_on: 5xx
      num_retries: 1
      per_try_timeout: 0.2s
      retry_back_off: { base_interval: 0.01s }
  )"));
  backend_->setDefault(BackendResponse::hang());
  HttpClient client = proxy_->client();
  auto response = client.request("GET", "/never", keepAlive(), "", std::chrono::seconds(10));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 504);
  EXPECT_EQ(clusterStat("upstream_rq_per_try_timeout"), 2u);
  EXPECT_EQ(clusterStat("upstream_rq_retry"), 1u);
  EXPECT_EQ(backend_->requestCount(), 2u);
}

TEST_F(RetryTimeoutIntegrationTest, CircuitBreakerOverflowGives503) {
  ClusterOptions cluster;
  cluster.extra_yaml = R"(
    circuit_breakers:
      thresholds:
      - priority: DEFAULT
        max_connections: 1
        max_pending_requests: 1
        max_requests: 1
        max_retries: 1
  )";
  ASSERT_NO_FATAL_FAILURE(startProxy("timeout: 20s", {}, cluster));
  backend_->setDefault(BackendResponse::hold(200, "held"));

  // The first request occupies the only request slot until the backend lets it go.
  std::vector<std::optional<absl::StatusOr<HttpResponse>>> results(4);
  std::vector<std::thread> threads;
  auto send = [this, &results](int i) {
    HttpClient client = proxy_->client();
    results[i] =
        client.request("GET", absl::StrCat("/cb", i), keepAlive(), "", std::chrono::seconds(20));
  };
  threads.emplace_back(send, 0);
  ASSERT_TRUE(waitFor([&] { return backend_->heldCount() == 1; }, std::chrono::seconds(10)));

  // Three more while it is held: the limits are cluster-wide, so at least two of them must be
  // refused at once (one might wait as a pending request), whichever worker they land on.
  for (int i = 1; i < 4; ++i) {
    threads.emplace_back(send, i);
  }
  const bool refused = proxy_->waitForStat("cluster.backend.upstream_rq_pending_overflow", 2,
                                           std::chrono::seconds(10));
  backend_->releaseHeld();
  for (std::thread& thread : threads) {
    thread.join();
  }
  EXPECT_TRUE(refused) << "no overflow counted while the only request slot was taken";

  int ok = 0;
  int overflowed = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    ASSERT_TRUE(results[i].has_value());
    ASSERT_TRUE(results[i]->ok()) << "request " << i << ": " << results[i]->status();
    const HttpResponse& response = **results[i];
    if (response.status == 200) {
      ++ok;
      EXPECT_EQ(response.body, "held");
    } else {
      EXPECT_EQ(response.status, 503) << "request " << i;
      EXPECT_EQ(response.header("x-envoy-overloaded"), "true") << "request " << i;
      ++overflowed;
    }
  }
  EXPECT_EQ(results[0].value()->status, 200);
  EXPECT_GE(overflowed, 2);
  EXPECT_EQ(ok + overflowed, 4);
  // Each refusal is counted once: as a pending-request overflow, or as a connection overflow
  // when it landed on a worker whose pool had no connection while another worker held the
  // cluster's only one (pools are per worker; the breaker counts are cluster-wide).
  EXPECT_EQ(clusterStat("upstream_rq_pending_overflow") + clusterStat("upstream_cx_overflow"),
            static_cast<uint64_t>(overflowed));
  EXPECT_EQ(backend_->requestCount(), static_cast<uint64_t>(ok));
}

}  // namespace
}  // namespace waystone::test
