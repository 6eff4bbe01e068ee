// The basics of the HTTP reverse proxy through the real binary: methods and bodies over
// HTTP/1.1, keep-alive on both sides, the headers the proxy adds (server, date,
// x-envoy-upstream-service-time, x-request-id, x-forwarded-for), local replies for a missing route
// or cluster, and the header_mutation filter.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "re2/re2.h"

#include "test/integration/http/bootstrap_builder.h"
#include "test/integration/http/http_proxy.h"
#include "test/integration/http/scripted_backend.h"
#include "test/test_common/http_client.h"
#include "test/test_common/test_http_server.h"

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

constexpr char kUuid4[] = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}";

class BasicHttpIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto backend = TestHttpServer::start();
    ASSERT_TRUE(backend.ok()) << backend.status();
    backend_ = std::move(*backend);
  }

  // Starts the proxy with one cluster "backend" and the given route_config body and connection
  // manager fields.
  void startProxy(absl::string_view route_config = "", absl::string_view hcm_fields = "",
                  absl::string_view http_filter = "") {
    BootstrapBuilder bootstrap;
    bootstrap.addCluster("backend", {backend_->port()});
    if (!route_config.empty()) {
      bootstrap.setRouteConfig(route_config);
    }
    if (!hcm_fields.empty()) {
      bootstrap.addConnectionManagerFields(hcm_fields);
    }
    if (!http_filter.empty()) {
      bootstrap.addHttpFilter(http_filter);
    }
    auto proxy = HttpProxy::start(bootstrap);
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = std::move(*proxy);
  }

  std::unique_ptr<TestHttpServer> backend_;
  std::unique_ptr<HttpProxy> proxy_;
};

TEST_F(BasicHttpIntegrationTest, GetAndPostWithBodiesOverHttp1) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  HttpClient client = proxy_->client();

  auto get = client.request("GET", "/hello?x=1", keepAlive());
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, "hello from backend: GET /hello?x=1");

  // A body larger than one read, with every byte value, arrives intact.
  std::string payload;
  for (int i = 0; i < 300000; ++i) {
    payload.push_back(static_cast<char>(i * 7 % 256));
  }
  auto post = client.request("POST", "/upload",
                             keepAlive({{"Content-Type", "application/octet-stream"}}), payload);
  ASSERT_TRUE(post.ok()) << post.status();
  EXPECT_EQ(post->status, 200);
  EXPECT_EQ(post->body, "hello from backend: POST /upload");
  std::optional<TestHttpRequest> seen = backend_->lastRequest();
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->method, "POST");
  EXPECT_EQ(seen->path, "/upload");
  EXPECT_EQ(seen->header("content-type"), "application/octet-stream");
  EXPECT_EQ(seen->body.size(), payload.size());
  EXPECT_TRUE(seen->body == payload) << "the request body changed on the way";

  // A response body the backend sends comes back byte for byte.
  const std::string big(200000, 'r');
  backend_->setResponse(201, big, {{"X-Backend", "yes"}});
  auto put = client.request("PUT", "/resource", keepAlive(), "x");
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_EQ(put->status, 201);
  EXPECT_EQ(put->header("x-backend"), "yes");
  EXPECT_EQ(put->body.size(), big.size());
  EXPECT_TRUE(put->body == big);

  EXPECT_EQ(proxy_->httpStat("downstream_rq_2xx"), 3u);
  EXPECT_EQ(proxy_->httpStat("downstream_rq_total"), 3u);
  EXPECT_EQ(proxy_->clusterStat("backend", "upstream_rq_total"), 3u);
  EXPECT_EQ(proxy_->clusterStat("backend", "upstream_rq_2xx"), 3u);
}

TEST_F(BasicHttpIntegrationTest, KeepAliveReusesDownstreamAndUpstreamConnections) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  HttpClient client = proxy_->client();
  constexpr int kRequests = 10;
  for (int i = 0; i < kRequests; ++i) {
    auto response = client.request(i % 2 == 0 ? "GET" : "POST", absl::StrCat("/k", i),
                                   {{"Connection", "keep-alive"}}, i % 2 == 0 ? "" : "body");
    ASSERT_TRUE(response.ok()) << "request " << i << ": " << response.status();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body,
              absl::StrCat("hello from backend: ", i % 2 == 0 ? "GET" : "POST", " /k", i));
    EXPECT_NE(response->header("connection"), "close");
    EXPECT_TRUE(client.connected())
        << "the proxy closed a keep-alive connection after request " << i;
  }
  EXPECT_EQ(proxy_->httpStat("downstream_cx_total"), 1u);
  EXPECT_EQ(proxy_->httpStat("downstream_rq_total"), static_cast<uint64_t>(kRequests));
  // One downstream connection lives on one worker, whose pool reuses its upstream connection.
  EXPECT_EQ(backend_->connectionCount(), 1u);
  EXPECT_EQ(proxy_->clusterStat("backend", "upstream_cx_total"), 1u);
  EXPECT_EQ(proxy_->clusterStat("backend", "upstream_rq_total"), static_cast<uint64_t>(kRequests));
}

TEST_F(BasicHttpIntegrationTest, ResponseHeadersServerDateAndUpstreamServiceTime) {
  ASSERT_NO_FATAL_FAILURE(startProxy(R"(
    virtual_hosts:
    - name: default
      domains: ["*"]
      routes:
      - match: { prefix: "/local" }
        direct_response: { status: 200, body: { inline_string: "local" } }
      - match: { prefix: "/" }
        route: { cluster: backend }
  )",
                                     "server_name: waystone-it"));
  // The backend's own Server header is overwritten (server_header_transformation OVERWRITE).
  backend_->setResponse(200, "ok", {{"Server", "test-backend"}});
  HttpClient client = proxy_->client();
  auto response = client.request("GET", "/headers", keepAlive());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->header("server"), "waystone-it");
  // RFC 9110 IMF-fixdate.
  EXPECT_TRUE(RE2::FullMatch(response->header("date"),
                             R"((Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|)"
                             R"(Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT)"))
      << "date: '" << response->header("date") << "'";
  EXPECT_TRUE(RE2::FullMatch(response->header("x-envoy-upstream-service-time"), R"(\d+)"))
      << "x-envoy-upstream-service-time: '" << response->header("x-envoy-upstream-service-time")
      << "'";
  // Local replies carry server and date too, but no upstream service time.
  auto local = client.request("GET", "/local", keepAlive());
  ASSERT_TRUE(local.ok()) << local.status();
  EXPECT_EQ(local->status, 200);
  EXPECT_EQ(local->body, "local");
  EXPECT_EQ(local->header("server"), "waystone-it");
  EXPECT_FALSE(local->header("date").empty());
  EXPECT_EQ(local->header("x-envoy-upstream-service-time"), "");
  EXPECT_EQ(backend_->requestCount(), 1u);
}

TEST_F(BasicHttpIntegrationTest, RequestIdGeneratedPreservedAndEchoed) {
  ASSERT_NO_FATAL_FAILURE(
      startProxy("", "use_remote_address: true\nalways_set_request_id_in_response: true"));
  HttpClient client = proxy_->client();

  // Generated when absent: a version 4 UUID, the same one in the response.
  auto first = client.request("GET", "/id", keepAlive());
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string generated = findHeader(backend_->lastRequestHeaders(), "x-request-id");
  EXPECT_TRUE(RE2::FullMatch(generated, kUuid4)) << "x-request-id: '" << generated << "'";
  EXPECT_EQ(first->header("x-request-id"), generated);

  // Each request gets its own.
  auto second = client.request("GET", "/id", keepAlive());
  ASSERT_TRUE(second.ok());
  const std::string generated2 = findHeader(backend_->lastRequestHeaders(), "x-request-id");
  EXPECT_TRUE(RE2::FullMatch(generated2, kUuid4));
  EXPECT_NE(generated, generated2);

  // A request id from an internal client (loopback) is preserved.
  auto preserved =
      client.request("GET", "/id", keepAlive({{"x-request-id", "caller-chosen-id-123"}}));
  ASSERT_TRUE(preserved.ok());
  EXPECT_EQ(findHeader(backend_->lastRequestHeaders(), "x-request-id"), "caller-chosen-id-123");
  EXPECT_EQ(preserved->header("x-request-id"), "caller-chosen-id-123");
}

TEST_F(BasicHttpIntegrationTest, ForwardedForAppendedWithUseRemoteAddress) {
  ASSERT_NO_FATAL_FAILURE(startProxy("", "use_remote_address: true"));
  HttpClient client = proxy_->client();

  auto plain = client.request("GET", "/xff", keepAlive());
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(findHeader(backend_->lastRequestHeaders(), "x-forwarded-for"), "127.0.0.1");
  EXPECT_EQ(findHeader(backend_->lastRequestHeaders(), "x-forwarded-proto"), "http");

  auto chained = client.request("GET", "/xff", keepAlive({{"X-Forwarded-For", "203.0.113.7"}}));
  ASSERT_TRUE(chained.ok()) << chained.status();
  const std::string xff = findHeader(backend_->lastRequestHeaders(), "x-forwarded-for");
  std::vector<std::string> hops;
  for (absl::string_view hop : absl::StrSplit(xff, ',')) {
    hops.emplace_back(absl::StripAsciiWhitespace(hop));
  }
  EXPECT_EQ(hops, (std::vector<std::string>{"203.0.113.7", "127.0.0.1"})) << "xff: " << xff;
}

// Connection, Keep-Alive, Proxy-Connection and the like describe one hop (RFC 9110 7.6.1): a
// proxy must not forward them. A client's "Connection: close" reaching the backend would make
// the backend close the pooled upstream connection after every response.
TEST_F(BasicHttpIntegrationTest, HopByHopHeadersAreNotForwarded) {
  ASSERT_NO_FATAL_FAILURE(startProxy());
  backend_->setResponse(200, "ok", {{"Keep-Alive", "timeout=5"}, {"Proxy-Connection", "close"}});
  HttpClient client = proxy_->client();
  auto response = client.request("GET", "/hop",
                                 {{"Connection", "close, X-Hop"},
                                  {"X-Hop", "named by Connection"},
                                  {"Keep-Alive", "timeout=30"},
                                  {"Proxy-Connection", "keep-alive"},
                                  {"X-End-To-End", "kept"}});
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  const HttpHeaders seen = backend_->lastRequestHeaders();
  EXPECT_EQ(findHeader(seen, "connection"), "");
  EXPECT_EQ(findHeader(seen, "keep-alive"), "");
  EXPECT_EQ(findHeader(seen, "proxy-connection"), "");
  EXPECT_EQ(findHeader(seen, "x-end-to-end"), "kept");
  EXPECT_EQ(response->header("keep-alive"), "");
  EXPECT_EQ(response->header("proxy-connection"), "");

  // So the upstream connection stays open for the next client, even though every client here
  // closes its own connection.
  for (int i = 0; i < 3; ++i) {
    HttpClient once = proxy_->client();
    auto next = once.request("GET", "/again", {{"Connection", "close"}});
    ASSERT_TRUE(next.ok()) << next.status();
    EXPECT_EQ(next->status, 200);
  }
}

// A backend that answers "Connection: close" ends the connection's use: the proxy must not send
// another request on it (RFC 9112 9.6), even if the backend is slow to actually close it. This
// backend keeps the socket open and would even answer, so reuse shows as one connection.
TEST_F(BasicHttpIntegrationTest, UpstreamConnectionNotReusedAfterConnectionClose) {
  auto scripted = ScriptedBackend::start("lingering");
  ASSERT_TRUE(scripted.ok()) << scripted.status();
  (*scripted)->setDefault(BackendResponse::respond(200, "closing", {{"Connection", "close"}}));
  BootstrapBuilder bootstrap;
  bootstrap.addCluster("backend", {(*scripted)->port()});
  // One worker: both requests meet the same connection pool.
  auto proxy = HttpProxy::start(bootstrap, /*concurrency=*/1);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  proxy_ = std::move(*proxy);

  HttpClient client = proxy_->client();
  for (int i = 0; i < 2; ++i) {
    auto response =
        client.request("GET", absl::StrCat("/close", i), {{"Connection", "keep-alive"}});
    ASSERT_TRUE(response.ok()) << "request " << i << ": " << response.status();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "closing");
    // The backend's Connection header is about the upstream hop only.
    EXPECT_NE(response->header("connection"), "close") << "request " << i;
  }
  EXPECT_EQ((*scripted)->requestCount(), 2u);
  EXPECT_EQ((*scripted)->connectionCount(), 2u) << "the second request reused the connection "
                                                   "the backend had asked to close";
  EXPECT_EQ(proxy_->clusterStat("backend", "upstream_cx_total"), 2u);
}

TEST_F(BasicHttpIntegrationTest, NoRouteIs404AndUnknownClusterIs503) {
  ASSERT_NO_FATAL_FAILURE(startProxy(R"(
    validate_clusters: false
    virtual_hosts:
    - name: api
      domains: ["*"]
      routes:
      - match: { prefix: "/api" }
        route: { cluster: backend }
      - match: { prefix: "/ghost" }
        route: { cluster: no-such-cluster }
  )"));
  HttpClient client = proxy_->client();

  auto no_route = client.request("GET", "/elsewhere", keepAlive());
  ASSERT_TRUE(no_route.ok()) << no_route.status();
  EXPECT_EQ(no_route->status, 404);
  EXPECT_EQ(proxy_->httpStat("no_route"), 1u);
  EXPECT_EQ(proxy_->httpStat("downstream_rq_4xx"), 1u);

  auto no_cluster = client.request("GET", "/ghost", keepAlive());
  ASSERT_TRUE(no_cluster.ok()) << no_cluster.status();
  EXPECT_EQ(no_cluster->status, 503);
  EXPECT_EQ(proxy_->httpStat("no_cluster"), 1u);
  EXPECT_EQ(proxy_->httpStat("downstream_rq_5xx"), 1u);

  auto routed = client.request("GET", "/api/v1", keepAlive());
  ASSERT_TRUE(routed.ok());
  EXPECT_EQ(routed->status, 200);
  // Neither local reply reached the backend.
  EXPECT_EQ(backend_->requestCount(), 1u);
  EXPECT_EQ(proxy_->httpStat("no_route"), 1u);
}

TEST_F(BasicHttpIntegrationTest, HeaderMutationAddsRequestAndResponseHeaders) {
  ASSERT_NO_FATAL_FAILURE(startProxy("", "", R"(
    - name: envoy.filters.http.header_mutation
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation
        mutations:
          request_mutations:
          - append:
              header: { key: x-client-ip, value: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%" }
          - append:
              header: { key: x-original-path, value: "%REQ(:path)%" }
          - append:
              header: { key: x-tenant-copy, value: "tenant=%REQ(x-tenant)%" }
          - remove: x-internal-secret
          response_mutations:
          - append:
              header: { key: x-seen-user-agent, value: "%REQ(user-agent)%" }
          - append:
              header: { key: x-static, value: "static-value" }
          - remove: x-backend-private
  )"));
  backend_->setResponse(200, "mutated", {{"X-Backend-Private", "leak"}});
  HttpClient client = proxy_->client();
  auto response = client.request("GET", "/mutate?q=1",
                                 {{"User-Agent", "integration-agent/1.0"},
                                  {"X-Tenant", "blue"},
                                  {"X-Internal-Secret", "do-not-forward"}});
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "mutated");

  const HttpHeaders seen = backend_->lastRequestHeaders();
  EXPECT_EQ(findHeader(seen, "x-client-ip"), "127.0.0.1");
  EXPECT_EQ(findHeader(seen, "x-original-path"), "/mutate?q=1");
  EXPECT_EQ(findHeader(seen, "x-tenant-copy"), "tenant=blue");
  EXPECT_EQ(findHeader(seen, "x-internal-secret"), "");

  EXPECT_EQ(response->header("x-seen-user-agent"), "integration-agent/1.0");
  EXPECT_EQ(response->header("x-static"), "static-value");
  EXPECT_EQ(response->header("x-backend-private"), "");
}

}  // namespace
}  // namespace waystone::test
