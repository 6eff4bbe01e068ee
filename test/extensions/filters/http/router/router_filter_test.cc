// The router filter in process: a real FilterManager whose only filter is the router, real route
// tables and clusters built from YAML, real connection pools and codecs, and real HTTP/1.1
// backends on loopback (ScriptedBackend threads). The test thread runs the worker's dispatcher.

#include "source/extensions/filters/http/router/router_filter.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "gtest/gtest.h"
#include <netinet/in.h>
#include <sys/socket.h>

#include "source/common/buffer/buffer_impl.h"
#include "source/common/event/dispatcher_impl.h"
#include "source/common/http/filter_manager.h"
#include "source/common/protobuf/utility.h"
#include "source/common/router/request_mirror_policy.h"
#include "source/common/router/route_config.h"
#include "source/common/stats/store.h"
#include "source/extensions/filters/http/router/config.h"
#include "source/extensions/filters/http/router/shadow_writer.h"
#include "source/upstream/cluster_manager.h"
#include "source/upstream/thread_local_cluster_manager.h"
#include "test/common/network/network_test_util.h"
#include "test/integration/http/scripted_backend.h"
#include "test/test_common/file_descriptor.h"

namespace waystone::extensions::http_filters::router {
namespace {

using std::chrono::milliseconds;
using test::BackendResponse;
using test::ScriptedBackend;

// A loopback port. `listening`: connections complete (the kernel's backlog) but are never
// accepted or read, with a tiny receive buffer, so a writer backs up quickly. Otherwise bound but
// not listening: connections are refused.
class LoopbackPort {
 public:
  explicit LoopbackPort(bool listening) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    EXPECT_TRUE(fd_.valid());
    if (listening) {
      const int size = 4096;
      EXPECT_EQ(::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)), 0);
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
    if (listening) {
      EXPECT_EQ(::listen(fd_.get(), 16), 0);
    }
  }
  uint16_t port() const { return port_; }

 private:
  test::FileDescriptor fd_;
  uint16_t port_ = 0;
};

// One downstream stream: the owner of a FilterManager running the router, in the role of the
// HTTP connection manager's ActiveStream. Records the response and honours the router's requests
// to pause the downstream.
class TestStream : public http::FilterManagerCallbacks {
 public:
  TestStream(event::Dispatcher& dispatcher,
             std::shared_ptr<const ::waystone::router::ConfigImpl> routes,
             const http::FilterFactoryCb& factory, uint32_t buffer_limit)
      : dispatcher_(dispatcher),
        routes_(std::move(routes)),
        filter_manager_(*this, stream_info_, buffer_limit) {
    stream_info_.protocol = "HTTP/1.1";
    factory(filter_manager_);
  }
  ~TestStream() override { filter_manager_.destroyFilters(); }

  void sendHeaders(http::RequestHeaderMapPtr headers, bool end_stream) {
    filter_manager_.decodeHeaders(std::move(headers), end_stream);
  }
  void sendData(absl::string_view data, bool end_stream) {
    buffer::OwnedImpl buffer;
    buffer.add(data);
    filter_manager_.decodeData(buffer, end_stream);
  }
  void sendTrailers(http::RequestTrailerMapPtr trailers) {
    filter_manager_.decodeTrailers(std::move(trailers));
  }

  // http::FilterManagerCallbacks
  void encode1xxHeaders(http::ResponseHeaderMap&) override {}
  void encodeHeaders(http::ResponseHeaderMap& headers, bool end_stream) override {
    response_headers = headers;
    complete = end_stream;
  }
  void encodeData(buffer::Instance& data, bool end_stream) override {
    response_body += data.toString();
    data.drain(data.length());
    complete = end_stream;
  }
  void encodeTrailers(http::ResponseTrailerMap&) override { complete = true; }
  void onDecoderFilterAboveWriteBufferHighWatermark() override { ++paused; }
  void onDecoderFilterBelowWriteBufferLowWatermark() override { --paused; }
  void resetStream() override { reset = true; }
  const ::waystone::router::Route* route() override {
    if (route_ == nullptr && filter_manager_.requestHeaders() != nullptr) {
      route_ = routes_->route(*filter_manager_.requestHeaders(), 0);
    }
    return route_.get();
  }
  void clearRouteCache() override { route_.reset(); }
  event::Dispatcher& dispatcher() override { return dispatcher_; }
  uint64_t streamId() const override { return 1; }
  bool isGrpcRequest() const override { return false; }

  uint64_t status() const { return response_headers.status(); }

  http::ResponseHeaderMap response_headers;
  std::string response_body;
  bool complete = false;
  bool reset = false;
  int paused = 0;

 private:
  event::Dispatcher& dispatcher_;
  const std::shared_ptr<const ::waystone::router::ConfigImpl> routes_;
  ::waystone::router::RouteConstSharedPtr route_;
  stream_info::StreamInfo stream_info_;
  http::FilterManager filter_manager_;
};

http::RequestHeaderMapPtr request(absl::string_view method, absl::string_view path,
                                  absl::string_view authority = "example.com") {
  auto headers = std::make_unique<http::RequestHeaderMap>();
  headers->addCopy(":method", method);
  headers->addCopy(":scheme", "http");
  headers->addCopy(":authority", authority);
  headers->addCopy(":path", path);
  return headers;
}

// One STATIC cluster item for static_resources.clusters; `extra` are more fields, each line
// indented by four spaces.
std::string cluster(absl::string_view name, const std::vector<uint16_t>& ports,
                    absl::string_view extra = "") {
  std::string out =
      absl::StrCat("  - name: ", name, "\n    type: STATIC\n    connect_timeout: 1s\n", extra,
                   "    load_assignment:\n      cluster_name: ", name,
                   "\n      endpoints:\n      - lb_endpoints:\n");
  for (uint16_t port : ports) {
    absl::StrAppend(&out, "        - endpoint: {address: {socket_address: ",
                    "{address: 127.0.0.1, port_value: ", port, "}}}\n");
  }
  return out;
}

// A route table sending everything to `cluster`, with `action` added to the route action
// (flow-style YAML fields, e.g. "timeout: 1s").
std::string routeTo(absl::string_view cluster, absl::string_view action = "") {
  return absl::StrCat("virtual_hosts:\n- name: all\n  domains: ['*']\n  routes:\n",
                      "  - match: {prefix: /}\n    route: {cluster: ", cluster,
                      action.empty() ? "" : ", ", action, "}\n");
}

class RouterFilterTest : public testing::Test {
 protected:
  void TearDown() override {
    // As a worker exits: streams first, then the worker's clusters (mirrors in flight are reset
    // while their pools exist), then whatever was deferred.
    streams_.clear();
    if (workers_ != nullptr) {
      workers_->releaseWorker(dispatcher_);
    }
    dispatcher_.clearDeferredDeleteList();
  }

  void initialize(const std::string& clusters, const std::string& routes,
                  absl::string_view router_yaml = "{}") {
    envoy::config::bootstrap::v3::Bootstrap bootstrap;
    ASSERT_TRUE(protobuf::loadFromYaml(absl::StrCat("static_resources:\n  clusters:\n", clusters),
                                       bootstrap)
                    .ok());
    auto cluster_manager = upstream::ClusterManager::create(bootstrap, store_);
    ASSERT_TRUE(cluster_manager.ok()) << cluster_manager.status();
    cluster_manager_ = std::move(*cluster_manager);
    auto workers = upstream::WorkerClusterManagers::create(*cluster_manager_, dispatcher_);
    ASSERT_TRUE(workers.ok()) << workers.status();
    workers_ = std::move(*workers);
    workers_->addWorker(dispatcher_, 1);

    envoy::config::route::v3::RouteConfiguration route_config;
    ASSERT_TRUE(protobuf::loadFromYaml(routes, route_config).ok()) << routes;
    auto table = ::waystone::router::ConfigImpl::create(route_config);
    ASSERT_TRUE(table.ok()) << table.status();
    routes_ = *table;

    envoy::extensions::filters::http::router::v3::Router router;
    ASSERT_TRUE(protobuf::loadFromYaml(router_yaml, router).ok());
    auto factory = createFilterFactory(router, *workers_, store_, "test");
    ASSERT_TRUE(factory.ok()) << factory.status();
    factory_ = *factory;
  }

  TestStream& newStream(uint32_t buffer_limit = 1024 * 1024) {
    streams_.push_back(std::make_unique<TestStream>(dispatcher_, routes_, factory_, buffer_limit));
    return *streams_.back();
  }

  // Sends a request (headers, then the body if any) and waits for the whole response.
  TestStream& exchange(http::RequestHeaderMapPtr headers, absl::string_view body = "") {
    TestStream& stream = newStream();
    stream.sendHeaders(std::move(headers), body.empty());
    if (!body.empty()) {
      stream.sendData(body, true);
    }
    EXPECT_TRUE(runUntil([&] { return stream.complete || stream.reset; }));
    return stream;
  }

  bool runUntil(const std::function<bool()>& condition,
                milliseconds timeout = std::chrono::seconds(10)) {
    return network::test::runUntil(dispatcher_, condition, timeout);
  }

  uint64_t counter(absl::string_view name) { return store_.counterFromString(name).value(); }
  uint64_t gauge(absl::string_view name) { return store_.gaugeFromString(name).value(); }
  uint64_t clusterCounter(absl::string_view cluster, absl::string_view name) {
    return counter(absl::StrCat("cluster.", cluster, ".", name));
  }

  ShadowWriter& shadowWriter() {
    return ShadowWriter::get(*workers_->forDispatcher(dispatcher_), dispatcher_);
  }

  static std::unique_ptr<ScriptedBackend> backend(const std::string& name) {
    auto started = ScriptedBackend::start(name);
    EXPECT_TRUE(started.ok()) << started.status();
    return started.ok() ? std::move(*started) : nullptr;
  }

  event::DispatcherImpl dispatcher_{"worker_0"};
  stats::Store store_;
  upstream::ClusterManagerPtr cluster_manager_;
  std::unique_ptr<upstream::WorkerClusterManagers> workers_;
  std::shared_ptr<const ::waystone::router::ConfigImpl> routes_;
  http::FilterFactoryCb factory_;
  std::vector<std::unique_ptr<TestStream>> streams_;
};

// ---------------------------------------------------------------------------------------------
// Forwarding, local answers and the x-envoy-* headers.

TEST_F(RouterFilterTest, ForwardsAndReportsUpstreamServiceTime) {
  auto main = backend("main");
  initialize(cluster("main", {main->port()}), routeTo("main"));
  TestStream& stream = exchange(request("GET", "/hello"));
  EXPECT_EQ(stream.status(), 200u);
  EXPECT_EQ(stream.response_body, "main: GET /hello");
  uint64_t service_time = 0;
  EXPECT_TRUE(absl::SimpleAtoi(stream.response_headers.getValue("x-envoy-upstream-service-time"),
                               &service_time));
  // The default route timeout (15 s) is announced upstream.
  ASSERT_TRUE(main->lastRequest().has_value());
  EXPECT_EQ(main->lastRequest()->request.header("x-envoy-expected-rq-timeout-ms"), "15000");
  EXPECT_EQ(clusterCounter("main", "upstream_rq_total"), 1u);
  EXPECT_EQ(clusterCounter("main", "upstream_rq_2xx"), 1u);
  EXPECT_EQ(clusterCounter("main", "upstream_rq_completed"), 1u);
  EXPECT_EQ(counter("http.test.rq_total"), 1u);
}

TEST_F(RouterFilterTest, SuppressEnvoyHeaders) {
  auto main = backend("main");
  initialize(cluster("main", {main->port()}), routeTo("main"), "{suppress_envoy_headers: true}");
  TestStream& stream = exchange(request("GET", "/"));
  EXPECT_EQ(stream.status(), 200u);
  EXPECT_FALSE(stream.response_headers.has("x-envoy-upstream-service-time"));
  ASSERT_TRUE(main->lastRequest().has_value());
  EXPECT_EQ(main->lastRequest()->request.header("x-envoy-expected-rq-timeout-ms"), "");
}

TEST_F(RouterFilterTest, NoRouteAndUnknownCluster) {
  auto main = backend("main");
  initialize(cluster("main", {main->port()}),
             R"(
virtual_hosts:
- name: all
  domains: ['*']
  routes:
  - {match: {prefix: /known}, route: {cluster: main}}
  - {match: {prefix: /gone}, route: {cluster: gone}}
  - {match: {prefix: /gone404}, route: {cluster: gone, cluster_not_found_response_code: NOT_FOUND}}
)");
  EXPECT_EQ(exchange(request("GET", "/other")).status(), 404u);
  EXPECT_EQ(counter("http.test.no_route"), 1u);
  EXPECT_EQ(exchange(request("GET", "/gone")).status(), 503u);
  EXPECT_EQ(counter("http.test.no_cluster"), 1u);
  EXPECT_EQ(main->requestCount(), 0u);
}

TEST_F(RouterFilterTest, DirectResponseAndRedirect) {
  auto main = backend("main");
  initialize(cluster("main", {main->port()}),
             R"(
virtual_hosts:
- name: all
  domains: ['*']
  routes:
  - {match: {prefix: /teapot}, direct_response: {status: 418, body: {inline_string: short and stout}}}
  - {match: {prefix: /old}, redirect: {host_redirect: new.example.com}}
)");
  TestStream& direct = exchange(request("GET", "/teapot"));
  EXPECT_EQ(direct.status(), 418u);
  EXPECT_EQ(direct.response_body, "short and stout");
  EXPECT_EQ(counter("http.test.rq_direct_response"), 1u);

  TestStream& redirect = exchange(request("GET", "/old/page"));
  EXPECT_EQ(redirect.status(), 301u);
  EXPECT_EQ(redirect.response_headers.getValue("location"), "http://new.example.com/old/page");
  EXPECT_EQ(counter("http.test.rq_redirect"), 1u);
  EXPECT_EQ(main->requestCount(), 0u);
}

// ---------------------------------------------------------------------------------------------
// Retries and timeouts.

TEST_F(RouterFilterTest, RetriesA5xxThenSucceeds) {
  auto main = backend("main");
  main->enqueue(BackendResponse::respond(503));
  initialize(cluster("main", {main->port()}),
             routeTo("main",
                     "retry_policy: {retry_on: 5xx, num_retries: 2, "
                     "retry_back_off: {base_interval: 0.001s}}"));
  TestStream& stream = exchange(request("POST", "/r"), "payload");
  EXPECT_EQ(stream.status(), 200u);
  EXPECT_EQ(main->requestCount(), 2u);
  // The retry carried the body again.
  EXPECT_EQ(main->lastRequest()->request.body, "payload");
  EXPECT_EQ(clusterCounter("main", "upstream_rq_retry"), 1u);
  EXPECT_EQ(clusterCounter("main", "upstream_rq_retry_success"), 1u);
}

TEST_F(RouterFilterTest, RetryLimitExceededPassesTheLastResponse) {
  auto main = backend("main");
  main->setDefault(BackendResponse::respond(503, "still down"));
  initialize(cluster("main", {main->port()}),
             routeTo("main",
                     "retry_policy: {retry_on: 5xx, num_retries: 1, "
                     "retry_back_off: {base_interval: 0.001s}}"));
  TestStream& stream = exchange(request("GET", "/"));
  EXPECT_EQ(stream.status(), 503u);
  EXPECT_EQ(stream.response_body, "still down");
  EXPECT_EQ(main->requestCount(), 2u);
  EXPECT_EQ(clusterCounter("main", "upstream_rq_retry_limit_exceeded"), 1u);
}

TEST_F(RouterFilterTest, RetryConditionsFromRequestHeadersAreHonouredAndStripped) {
  auto main = backend("main");
  main->enqueue(BackendResponse::respond(500));
  initialize(cluster("main", {main->port()}), routeTo("main"));
  auto headers = request("GET", "/");
  headers->addCopy("x-envoy-retry-on", "5xx");
  headers->addCopy("x-envoy-max-retries", "1");
  TestStream& stream = exchange(std::move(headers));
  EXPECT_EQ(stream.status(), 200u);
  EXPECT_EQ(main->requestCount(), 2u);
  EXPECT_EQ(main->lastRequest()->request.header("x-envoy-retry-on"), "");
  EXPECT_EQ(main->lastRequest()->request.header("x-envoy-max-retries"), "");
}

TEST_F(RouterFilterTest, RetriableStatusCodesOnly) {
  auto main = backend("main");
  main->enqueue(BackendResponse::respond(409));
  main->enqueue(BackendResponse::respond(200));
  main->enqueue(BackendResponse::respond(503));
  initialize(cluster("main", {main->port()}),
             routeTo("main",
                     "retry_policy: {retry_on: retriable-status-codes, "
                     "retriable_status_codes: [409], num_retries: 3, "
                     "retry_back_off: {base_interval: 0.001s}}"));
  EXPECT_EQ(exchange(request("GET", "/")).status(), 200u);
  EXPECT_EQ(main->requestCount(), 2u);
  // 503 is not in the list: no retry.
  EXPECT_EQ(exchange(request("GET", "/")).status(), 503u);
  EXPECT_EQ(main->requestCount(), 3u);
}

TEST_F(RouterFilterTest, ConnectFailureRetriesOnTheOtherHost) {
  auto main = backend("main");
  LoopbackPort refusing(/*listening=*/false);
  initialize(cluster("main", {refusing.port(), main->port()}),
             routeTo("main",
                     "retry_policy: {retry_on: connect-failure, num_retries: 1, "
                     "retry_back_off: {base_interval: 0.001s}, retry_host_predicate: "
                     "[{name: envoy.retry_host_predicates.previous_hosts}]}"));
  // Round robin starts on either host; whichever it is, every request ends on the live one.
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(exchange(request("GET", "/")).status(), 200u);
  }
  EXPECT_EQ(main->requestCount(), 4u);
  EXPECT_GE(clusterCounter("main", "upstream_cx_connect_fail"), 1u);
  EXPECT_GE(clusterCounter("main", "upstream_rq_retry"), 1u);
}

TEST_F(RouterFilterTest, HostSelectionRetryAvoidsThePreviousHost) {
  auto a = backend("a");
  auto b = backend("b");
  a->setDefault(BackendResponse::respond(503));
  b->setDefault(BackendResponse::respond(503));
  // RANDOM would pick the same host again half of the time; previous_hosts with enough
  // selection attempts (2^-51 to fail) must send each retry to the other host.
  initialize(cluster("main", {a->port(), b->port()}, "    lb_policy: RANDOM\n"),
             routeTo("main",
                     "retry_policy: {retry_on: 5xx, num_retries: 1, "
                     "retry_back_off: {base_interval: 0.001s}, "
                     "host_selection_retry_max_attempts: 50, retry_host_predicate: "
                     "[{name: envoy.retry_host_predicates.previous_hosts}]}"));
  constexpr int kRequests = 6;
  for (int i = 0; i < kRequests; ++i) {
    EXPECT_EQ(exchange(request("GET", "/")).status(), 503u);
  }
  EXPECT_EQ(a->requestCount(), static_cast<uint64_t>(kRequests));
  EXPECT_EQ(b->requestCount(), static_cast<uint64_t>(kRequests));
}

TEST_F(RouterFilterTest, PerTryTimeoutRetries) {
  auto main = backend("main");
  main->enqueue(BackendResponse::hang());
  initialize(cluster("main", {main->port()}),
             routeTo("main",
                     "retry_policy: {retry_on: 5xx, num_retries: 1, per_try_timeout: "
                     "0.2s, retry_back_off: {base_interval: 0.001s}}"));
  TestStream& stream = exchange(request("GET", "/"));
  EXPECT_EQ(stream.status(), 200u);
  EXPECT_EQ(main->requestCount(), 2u);
  EXPECT_EQ(clusterCounter("main", "upstream_rq_per_try_timeout"), 1u);
  // The per-try timeout is what the upstream is told to expect.
  EXPECT_EQ(main->lastRequest()->request.header("x-envoy-expected-rq-timeout-ms"), "200");
}

TEST_F(RouterFilterTest, RouteTimeoutAndTimeoutHeader) {
  auto main = backend("main");
  main->setDefault(BackendResponse::hang());
  initialize(cluster("main", {main->port()}),
             R"(
virtual_hosts:
- name: all
  domains: ['*']
  routes:
  - {match: {prefix: /short}, route: {cluster: main, timeout: 0.2s}}
  - {match: {prefix: /}, route: {cluster: main, timeout: 3600s}}
)");
  TestStream& stream = exchange(request("GET", "/short"));
  EXPECT_EQ(stream.status(), 504u);
  EXPECT_EQ(stream.response_body, "upstream request timeout");
  EXPECT_EQ(clusterCounter("main", "upstream_rq_timeout"), 1u);

  // x-envoy-upstream-rq-timeout-ms replaces the route's hour (the exchange would otherwise not
  // end within its deadline) and is not forwarded.
  auto headers = request("GET", "/long");
  headers->addCopy("x-envoy-upstream-rq-timeout-ms", "50");
  EXPECT_EQ(exchange(std::move(headers)).status(), 504u);
  EXPECT_EQ(clusterCounter("main", "upstream_rq_timeout"), 2u);
  ASSERT_TRUE(runUntil([&] { return main->requestCount() == 2; }));
  EXPECT_EQ(main->lastRequest()->request.header("x-envoy-upstream-rq-timeout-ms"), "");
  EXPECT_EQ(main->lastRequest()->request.header("x-envoy-expected-rq-timeout-ms"), "50");
}

// ---------------------------------------------------------------------------------------------
// Request mirroring (request_mirror_policies).

TEST(RequestMirrorPolicyTest, ShadowHost) {
  using ::waystone::router::RequestMirrorPolicy;
  EXPECT_EQ(RequestMirrorPolicy::shadowHost("example.com"), "example.com-shadow");
  EXPECT_EQ(RequestMirrorPolicy::shadowHost("example.com:8080"), "example.com-shadow:8080");
  EXPECT_EQ(RequestMirrorPolicy::shadowHost("[::1]:80"), "[::1]-shadow:80");
  EXPECT_EQ(RequestMirrorPolicy::shadowHost("[::1]"), "[::1]-shadow");
}

TEST_F(RouterFilterTest, MirrorsTheRequestToTheShadowHost) {
  auto main = backend("main");
  auto mirror = backend("mirror");
  initialize(cluster("main", {main->port()}) + cluster("mirror", {mirror->port()}),
             routeTo("main", "request_mirror_policies: [{cluster: mirror}]"));
  TestStream& stream = exchange(request("POST", "/submit?x=1", "example.com:8080"), "ping");
  EXPECT_EQ(stream.status(), 200u);
  EXPECT_EQ(stream.response_body, "main: POST /submit?x=1");

  ASSERT_TRUE(runUntil([&] { return shadowWriter().activeMirrors() == 0; }));
  ASSERT_EQ(mirror->requestCount(), 1u);
  const test::TestHttpRequest seen = mirror->lastRequest()->request;
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.path, "/submit?x=1");
  EXPECT_EQ(seen.header("host"), "example.com-shadow:8080");
  EXPECT_EQ(seen.header("x-envoy-internal"), "true");
  EXPECT_EQ(seen.body, "ping");
  // The main request is untouched.
  EXPECT_EQ(main->lastRequest()->request.header("host"), "example.com:8080");
  EXPECT_EQ(main->lastRequest()->request.header("x-envoy-internal"), "");
  // Counted on the mirror cluster's own stats, like any upstream request.
  EXPECT_EQ(clusterCounter("mirror", "upstream_rq_total"), 1u);
  EXPECT_EQ(clusterCounter("mirror", "upstream_rq_2xx"), 1u);
  EXPECT_EQ(clusterCounter("mirror", "upstream_rq_completed"), 1u);
  EXPECT_EQ(gauge("cluster.mirror.upstream_rq_active"), 0u);
  EXPECT_EQ(clusterCounter("main", "upstream_rq_total"), 1u);
}

TEST_F(RouterFilterTest, MirrorHostSuffixCanBeDisabled) {
  auto main = backend("main");
  auto mirror = backend("mirror");
  initialize(cluster("main", {main->port()}) + cluster("mirror", {mirror->port()}),
             routeTo("main",
                     "request_mirror_policies: [{cluster: mirror, "
                     "disable_shadow_host_suffix_append: true}]"));
  EXPECT_EQ(exchange(request("GET", "/")).status(), 200u);
  ASSERT_TRUE(runUntil([&] { return mirror->requestCount() == 1; }));
  EXPECT_EQ(mirror->lastRequest()->request.header("host"), "example.com");
}

TEST_F(RouterFilterTest, MirrorGetsTheStreamedBodyAndTheEndAfterTrailers) {
  auto main = backend("main");
  auto mirror = backend("mirror");
  initialize(cluster("main", {main->port()}) + cluster("mirror", {mirror->port()}),
             routeTo("main", "request_mirror_policies: [{cluster: mirror}]"));
  TestStream& stream = newStream();
  stream.sendHeaders(request("POST", "/upload"), false);
  stream.sendData("one,", false);
  ASSERT_TRUE(runUntil([&] { return mirror->connectionCount() == 1; }));
  stream.sendData("two,", false);
  stream.sendData("three", false);
  auto trailers = std::make_unique<http::RequestTrailerMap>();
  trailers->addCopy("x-checksum", "abc");
  stream.sendTrailers(std::move(trailers));
  ASSERT_TRUE(runUntil([&] { return stream.complete; }));
  EXPECT_EQ(stream.status(), 200u);
  // The backend records a request only once it has seen its end (the last chunk, which carries
  // the trailers): the mirror's request was complete.
  ASSERT_TRUE(runUntil([&] { return mirror->requestCount() == 1; }));
  EXPECT_EQ(mirror->lastRequest()->request.body, "one,two,three");
  EXPECT_EQ(main->lastRequest()->request.body, "one,two,three");
}

TEST_F(RouterFilterTest, MirrorClusterFromRequestHeader) {
  auto main = backend("main");
  auto mirror = backend("mirror");
  initialize(cluster("main", {main->port()}) + cluster("mirror", {mirror->port()}),
             routeTo("main", "request_mirror_policies: [{cluster_header: x-mirror-to}]"));
  auto headers = request("GET", "/a");
  headers->addCopy("x-mirror-to", "mirror");
  EXPECT_EQ(exchange(std::move(headers)).status(), 200u);
  ASSERT_TRUE(runUntil([&] { return mirror->requestCount() == 1; }));
  // Without the header there is nothing to mirror to, and that is not an error.
  EXPECT_EQ(exchange(request("GET", "/b")).status(), 200u);
  ASSERT_TRUE(runUntil([&] { return shadowWriter().activeMirrors() == 0; }));
  EXPECT_EQ(mirror->requestCount(), 1u);
  EXPECT_EQ(counter("http.test.mirror_no_cluster"), 0u);
}

TEST_F(RouterFilterTest, UnknownMirrorClusterIsCountedAndIgnored) {
  auto main = backend("main");
  initialize(cluster("main", {main->port()}),
             routeTo("main", "request_mirror_policies: [{cluster: nowhere}]"));
  EXPECT_EQ(exchange(request("GET", "/")).status(), 200u);
  EXPECT_EQ(counter("http.test.mirror_no_cluster"), 1u);
  EXPECT_EQ(shadowWriter().activeMirrors(), 0u);
}

TEST_F(RouterFilterTest, MirrorRuntimeFractionSamples) {
  auto main = backend("main");
  auto never = backend("never");
  auto always = backend("always");
  initialize(cluster("main", {main->port()}) + cluster("never", {never->port()}) +
                 cluster("always", {always->port()}),
             routeTo("main",
                     "request_mirror_policies: [{cluster: never, runtime_fraction: "
                     "{default_value: {numerator: 0}}}, {cluster: always, runtime_fraction: "
                     "{default_value: {numerator: 100, denominator: HUNDRED}}}]"));
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(exchange(request("GET", "/")).status(), 200u);
  }
  ASSERT_TRUE(runUntil([&] { return always->requestCount() == 5; }));
  ASSERT_TRUE(runUntil([&] { return shadowWriter().activeMirrors() == 0; }));
  EXPECT_EQ(never->requestCount(), 0u);
  EXPECT_EQ(clusterCounter("never", "upstream_rq_total"), 0u);
}

TEST_F(RouterFilterTest, SlowMirrorNeitherDelaysNorFailsTheRequestAndTimesOut) {
  auto main = backend("main");
  auto mirror = backend("mirror");
  mirror->setDefault(BackendResponse::hang());
  initialize(cluster("main", {main->port()}) + cluster("mirror", {mirror->port()}),
             routeTo("main", "timeout: 0.5s, request_mirror_policies: [{cluster: mirror}]"));
  TestStream& stream = exchange(request("GET", "/"));
  EXPECT_EQ(stream.status(), 200u);
  // The main response is complete while the mirror is still waiting for its answer.
  EXPECT_EQ(shadowWriter().activeMirrors(), 1u);
  // The stream is gone; the mirror lives on until the route timeout ends it.
  streams_.clear();
  ASSERT_TRUE(runUntil([&] { return shadowWriter().activeMirrors() == 0; }));
  EXPECT_EQ(mirror->requestCount(), 1u);
  EXPECT_EQ(clusterCounter("mirror", "upstream_rq_timeout"), 1u);
  EXPECT_EQ(gauge("cluster.mirror.upstream_rq_active"), 0u);
  EXPECT_EQ(clusterCounter("main", "upstream_rq_timeout"), 0u);
}

TEST_F(RouterFilterTest, MirrorDownDoesNotAffectTheRequest) {
  auto main = backend("main");
  LoopbackPort refusing(/*listening=*/false);
  initialize(cluster("main", {main->port()}) + cluster("mirror", {refusing.port()}),
             routeTo("main", "request_mirror_policies: [{cluster: mirror}]"));
  TestStream& stream = exchange(request("POST", "/"), "body");
  EXPECT_EQ(stream.status(), 200u);
  ASSERT_TRUE(runUntil([&] { return shadowWriter().activeMirrors() == 0; }));
  EXPECT_EQ(clusterCounter("mirror", "upstream_cx_connect_fail"), 1u);
  EXPECT_EQ(gauge("cluster.mirror.upstream_rq_active"), 0u);
}

// A mirror whose upstream never reads: once its buffer limit is reached it is reset, while the
// main request streams its whole body through.
TEST_F(RouterFilterTest, MirrorThatCannotKeepUpIsResetNotTheRequest) {
  auto main = backend("main");
  LoopbackPort black_hole(/*listening=*/true);
  initialize(
      cluster("main", {main->port()}) +
          cluster("mirror", {black_hole.port()}, "    per_connection_buffer_limit_bytes: 16384\n"),
      routeTo("main", "request_mirror_policies: [{cluster: mirror}]"));
  constexpr uint32_t kBufferLimit = 64 * 1024;
  constexpr size_t kChunk = 64 * 1024;
  constexpr size_t kTotal = 32 * 1024 * 1024;
  TestStream& stream = newStream(kBufferLimit);
  stream.sendHeaders(request("POST", "/big"), false);
  // Both streams are up (the black hole's kernel completes the connection) before the body.
  ASSERT_TRUE(runUntil([&] {
    return gauge("cluster.mirror.upstream_rq_pending_active") == 0 &&
           gauge("cluster.main.upstream_rq_pending_active") == 0;
  }));
  EXPECT_EQ(gauge("cluster.mirror.upstream_cx_active"), 1u);
  const std::string chunk(kChunk, 'x');
  for (size_t sent = 0; sent < kTotal; sent += kChunk) {
    // Like the connection manager: no more request bytes while the router says pause.
    ASSERT_TRUE(runUntil([&] { return stream.paused == 0; }));
    stream.sendData(chunk, sent + kChunk >= kTotal);
  }
  ASSERT_TRUE(runUntil([&] { return stream.complete; }, std::chrono::seconds(30)));
  EXPECT_EQ(stream.status(), 200u);
  ASSERT_TRUE(main->lastRequest().has_value());
  EXPECT_EQ(main->lastRequest()->body_bytes, kTotal);
  EXPECT_EQ(clusterCounter("mirror", "retry_or_shadow_abandoned"), 1u);
  EXPECT_EQ(clusterCounter("mirror", "upstream_rq_tx_reset"), 1u);
  EXPECT_EQ(shadowWriter().activeMirrors(), 0u);
  EXPECT_EQ(gauge("cluster.mirror.upstream_rq_active"), 0u);
}

TEST_F(RouterFilterTest, DownstreamResetCancelsAnUnfinishedMirror) {
  auto main = backend("main");
  auto mirror = backend("mirror");
  initialize(cluster("main", {main->port()}) + cluster("mirror", {mirror->port()}),
             routeTo("main", "request_mirror_policies: [{cluster: mirror}]"));
  TestStream& stream = newStream();
  stream.sendHeaders(request("POST", "/"), false);
  stream.sendData("part of it", false);
  // The mirror's stream is open (not just its connection) when the downstream goes away.
  ASSERT_TRUE(runUntil([&] {
    return gauge("cluster.mirror.upstream_rq_pending_active") == 0 &&
           gauge("cluster.mirror.upstream_cx_active") == 1;
  }));
  // The downstream goes away mid-request: the mirror could never be completed.
  streams_.clear();
  EXPECT_EQ(shadowWriter().activeMirrors(), 0u);
  EXPECT_EQ(clusterCounter("mirror", "upstream_rq_tx_reset"), 1u);
  EXPECT_EQ(gauge("cluster.mirror.upstream_rq_active"), 0u);
  EXPECT_EQ(mirror->requestCount(), 0u);
}

TEST_F(RouterFilterTest, WorkerExitResetsMirrorsInFlight) {
  auto main = backend("main");
  auto mirror = backend("mirror");
  mirror->setDefault(BackendResponse::hang());
  initialize(cluster("main", {main->port()}) + cluster("mirror", {mirror->port()}),
             routeTo("main", "timeout: 0s, request_mirror_policies: [{cluster: mirror}]"));
  EXPECT_EQ(exchange(request("GET", "/")).status(), 200u);
  ASSERT_TRUE(runUntil([&] { return mirror->requestCount() == 1; }));
  streams_.clear();
  ASSERT_EQ(shadowWriter().activeMirrors(), 1u);
  const upstream::ClusterConstSharedPtr mirror_cluster = cluster_manager_->get("mirror");
  EXPECT_EQ(mirror_cluster->resources().requests.count(), 1u);
  // The worker's clusters go away with the mirror still waiting (no timeout): it is reset
  // before its connection pool is destroyed, and gives its circuit-breaker slot back.
  workers_->releaseWorker(dispatcher_);
  dispatcher_.clearDeferredDeleteList();
  EXPECT_EQ(clusterCounter("mirror", "upstream_rq_tx_reset"), 1u);
  EXPECT_EQ(gauge("cluster.mirror.upstream_rq_active"), 0u);
  EXPECT_EQ(mirror_cluster->resources().requests.count(), 0u);
}

}  // namespace
}  // namespace waystone::extensions::http_filters::router
