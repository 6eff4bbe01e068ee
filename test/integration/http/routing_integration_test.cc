// Route selection and route actions through the real binary: virtual host domains (exact and
// wildcard), path/prefix/regex/header/query matches, weighted clusters, redirects, direct
// responses, path and host rewrites, header additions and removals at route and virtual host
// level, and consistent hashing with RING_HASH.

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "test/integration/http/bootstrap_builder.h"
#include "test/integration/http/http_proxy.h"
#include "test/test_common/http_client.h"
#include "test/test_common/test_http_server.h"

namespace waystone::test {
namespace {

// Three backends "a", "b", "c" (each answers its own name), three clusters of one backend each,
// and a "ring" cluster of the three behind RING_HASH.
class RoutingIntegrationTest : public ::testing::Test {
 protected:
  static constexpr char kRoutes[] = R"(
    virtual_hosts:
    - name: exact
      domains: ["exact.example.com"]
      routes:
      - match: { prefix: "/" }
        route: { cluster: b }
    - name: wildcard
      domains: ["*.wild.example.com"]
      routes:
      - match: { prefix: "/" }
        route: { cluster: c }
    - name: main
      domains: ["*"]
      request_headers_to_add:
      - header: { key: x-vhost, value: main }
      response_headers_to_add:
      - header: { key: x-vhost-response, value: main }
      routes:
      - match: { path: "/exact-path" }
        route: { cluster: b }
      - match: { prefix: "/prefix/" }
        route: { cluster: c }
      - match: { safe_regex: { regex: "^/regex/[0-9]+$" } }
        route: { cluster: b }
      - match:
          prefix: "/hdr"
          headers:
          - name: x-tenant
            string_match: { exact: gold }
        route: { cluster: b }
      - match:
          prefix: "/query"
          query_parameters:
          - name: version
            string_match: { exact: v2 }
        route: { cluster: c }
      - match: { prefix: "/split" }
        route:
          weighted_clusters:
            clusters:
            - { name: a, weight: 30 }
            - { name: b, weight: 70 }
      - match: { prefix: "/old" }
        redirect: { host_redirect: "new.example.com", path_redirect: "/landing" }
      - match: { prefix: "/moved/" }
        redirect: { prefix_rewrite: "/here/", response_code: PERMANENT_REDIRECT }
      - match: { prefix: "/direct" }
        direct_response: { status: 418, body: { inline_string: "direct body from the proxy" } }
      - match: { prefix: "/rewrite/" }
        route: { cluster: c, prefix_rewrite: "/v2/" }
      - match: { prefix: "/regex-rewrite/" }
        route:
          cluster: c
          regex_rewrite:
            pattern: { regex: "^/regex-rewrite/([a-z]+)/([a-z]+)$" }
            substitution: "/swapped/\\2/\\1"
      - match: { prefix: "/hostrw" }
        route: { cluster: c, host_rewrite_literal: "rewritten.example.com" }
      - match: { prefix: "/headers" }
        route: { cluster: c }
        request_headers_to_add:
        - header: { key: x-route, value: route-level }
        - header: { key: x-from-path, value: "%REQ(:path)%" }
        request_headers_to_remove: ["x-drop-me"]
        response_headers_to_add:
        - header: { key: x-route-response, value: added }
        response_headers_to_remove: ["x-backend-secret"]
      - match: { prefix: "/hash" }
        route:
          cluster: ring
          hash_policy:
          - header: { header_name: x-user }
      - match: { prefix: "/" }
        route: { cluster: a }
  )";

  void SetUp() override {
    for (const char* name : {"a", "b", "c"}) {
      auto backend = TestHttpServer::start();
      ASSERT_TRUE(backend.ok()) << backend.status();
      (*backend)->setResponse(200, std::string(name));
      backends_[name] = std::move(*backend);
    }
    BootstrapBuilder bootstrap;
    bootstrap.addCluster("a", {backends_["a"]->port()})
        .addCluster("b", {backends_["b"]->port()})
        .addCluster("c", {backends_["c"]->port()});
    ClusterOptions ring;
    ring.lb_policy = "RING_HASH";
    bootstrap.addCluster(
        "ring", {backends_["a"]->port(), backends_["b"]->port(), backends_["c"]->port()}, ring);
    bootstrap.setRouteConfig(kRoutes);
    auto proxy = HttpProxy::start(bootstrap);
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = std::move(*proxy);
  }

  // The body of the response, i.e. the name of the backend that answered ("" on failure). Each
  // call uses a new downstream connection. (It asks for keep-alive: a client's "Connection:
  // close" reaching the backend is a separate matter, see basic_http_integration_test.)
  std::string backendFor(absl::string_view path, HttpHeaders headers = {}) {
    HttpClient client = proxy_->client();
    headers.emplace_back("Connection", "keep-alive");
    auto response = client.request("GET", path, headers);
    if (!response.ok()) {
      ADD_FAILURE() << path << ": " << response.status();
      return "";
    }
    EXPECT_EQ(response->status, 200) << path << ": " << response->body;
    return response->body;
  }

  std::map<std::string, std::unique_ptr<TestHttpServer>> backends_;
  std::unique_ptr<HttpProxy> proxy_;
};

TEST_F(RoutingIntegrationTest, VirtualHostDomainsExactAndWildcard) {
  EXPECT_EQ(backendFor("/", {{"Host", "exact.example.com"}}), "b");
  // The port in Host does not prevent the match.
  EXPECT_EQ(backendFor("/", {{"Host", "exact.example.com:8080"}}), "b");
  EXPECT_EQ(backendFor("/", {{"Host", "api.wild.example.com"}}), "c");
  EXPECT_EQ(backendFor("/", {{"Host", "deep.api.wild.example.com"}}), "c");
  // The wildcard needs at least one label before the suffix.
  EXPECT_EQ(backendFor("/", {{"Host", "wild.example.com"}}), "a");
  EXPECT_EQ(backendFor("/", {{"Host", "other.example.com"}}), "a");
}

TEST_F(RoutingIntegrationTest, PathPrefixAndRegexMatches) {
  EXPECT_EQ(backendFor("/exact-path"), "b");
  // path matches the whole path (the query is not part of it), nothing longer.
  EXPECT_EQ(backendFor("/exact-path?x=1"), "b");
  EXPECT_EQ(backendFor("/exact-path/more"), "a");
  EXPECT_EQ(backendFor("/prefix/anything/below"), "c");
  EXPECT_EQ(backendFor("/prefix"), "a");
  EXPECT_EQ(backendFor("/regex/12345"), "b");
  EXPECT_EQ(backendFor("/regex/12a45"), "a");
  EXPECT_EQ(backendFor("/regex/123/"), "a");
}

TEST_F(RoutingIntegrationTest, HeaderAndQueryParameterMatches) {
  EXPECT_EQ(backendFor("/hdr", {{"X-Tenant", "gold"}}), "b");
  EXPECT_EQ(backendFor("/hdr", {{"X-Tenant", "silver"}}), "a");
  EXPECT_EQ(backendFor("/hdr"), "a");
  EXPECT_EQ(backendFor("/query?version=v2"), "c");
  EXPECT_EQ(backendFor("/query?a=1&version=v2&b=2"), "c");
  EXPECT_EQ(backendFor("/query?version=v1"), "a");
  EXPECT_EQ(backendFor("/query"), "a");
}

TEST_F(RoutingIntegrationTest, WeightedClustersSplitWithinFivePercent) {
  constexpr int kRequests = 2000;
  const uint64_t a_before = backends_["a"]->requestCount();
  const uint64_t b_before = backends_["b"]->requestCount();
  HttpClient client = proxy_->client();
  int failures = 0;
  for (int i = 0; i < kRequests; ++i) {
    auto response = client.request("GET", "/split", {{"Connection", "keep-alive"}});
    if (!response.ok() || response->status != 200) {
      ++failures;
      client = proxy_->client();
    }
  }
  EXPECT_EQ(failures, 0);
  const double a = static_cast<double>(backends_["a"]->requestCount() - a_before);
  const double b = static_cast<double>(backends_["b"]->requestCount() - b_before);
  EXPECT_EQ(a + b, kRequests);
  EXPECT_NEAR(a / kRequests, 0.30, 0.05) << "a got " << a << ", b got " << b;
  EXPECT_NEAR(b / kRequests, 0.70, 0.05) << "a got " << a << ", b got " << b;
  EXPECT_EQ(backends_["c"]->requestCount(), 0u);
  EXPECT_EQ(proxy_->clusterStat("a", "upstream_rq_total"), static_cast<uint64_t>(a));
  EXPECT_EQ(proxy_->clusterStat("b", "upstream_rq_total"), static_cast<uint64_t>(b));
}

TEST_F(RoutingIntegrationTest, RedirectsCarryLocation) {
  HttpClient client = proxy_->client();
  auto moved = client.request("GET", "/old/page", {{"Host", "shop.example.org"}});
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->status, 301);
  EXPECT_EQ(moved->header("location"), "http://new.example.com/landing");

  auto permanent = client.request("GET", "/moved/deep/file?x=1", {{"Host", "shop.example.org"}});
  ASSERT_TRUE(permanent.ok()) << permanent.status();
  EXPECT_EQ(permanent->status, 308);
  EXPECT_EQ(permanent->header("location"), "http://shop.example.org/here/deep/file?x=1");

  EXPECT_EQ(proxy_->httpStat("rq_redirect"), 2u);
  for (auto& [name, backend] : backends_) {
    EXPECT_EQ(backend->requestCount(), 0u) << name;
  }
}

TEST_F(RoutingIntegrationTest, DirectResponseBody) {
  HttpClient client = proxy_->client();
  auto response = client.get("/direct/x");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 418);
  EXPECT_EQ(response->body, "direct body from the proxy");
  EXPECT_EQ(response->header("content-length"), "26");
  EXPECT_EQ(proxy_->httpStat("rq_direct_response"), 1u);
  EXPECT_EQ(proxy_->httpStat("downstream_rq_4xx"), 1u);
}

TEST_F(RoutingIntegrationTest, PrefixAndRegexRewriteChangeThePathTheBackendSees) {
  EXPECT_EQ(backendFor("/rewrite/users/42?full=1"), "c");
  ASSERT_TRUE(backends_["c"]->lastRequest().has_value());
  EXPECT_EQ(backends_["c"]->lastRequest()->path, "/v2/users/42?full=1");
  // Envoy keeps the original path for the logs and the backend.
  EXPECT_EQ(findHeader(backends_["c"]->lastRequestHeaders(), "x-envoy-original-path"),
            "/rewrite/users/42?full=1");

  EXPECT_EQ(backendFor("/regex-rewrite/alpha/beta"), "c");
  EXPECT_EQ(backends_["c"]->lastRequest()->path, "/swapped/beta/alpha");
}

TEST_F(RoutingIntegrationTest, HostRewriteLiteral) {
  EXPECT_EQ(backendFor("/hostrw", {{"Host", "client.example.com"}}), "c");
  const HttpHeaders seen = backends_["c"]->lastRequestHeaders();
  EXPECT_EQ(findHeader(seen, "host"), "rewritten.example.com");
  EXPECT_EQ(findHeader(seen, "x-forwarded-host"), "");  // only with append_x_forwarded_host
}

TEST_F(RoutingIntegrationTest, HeadersAddedAndRemovedAtRouteAndVirtualHostLevels) {
  backends_["c"]->setResponse(200, "c", {{"X-Backend-Secret", "s3cr3t"}, {"X-Kept", "kept"}});
  HttpClient client = proxy_->client();
  auto response = client.request("GET", "/headers/x", {{"X-Drop-Me", "1"}, {"X-Keep-Me", "2"}});
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  const HttpHeaders seen = backends_["c"]->lastRequestHeaders();
  EXPECT_EQ(findHeader(seen, "x-route"), "route-level");
  EXPECT_EQ(findHeader(seen, "x-from-path"), "/headers/x");
  EXPECT_EQ(findHeader(seen, "x-vhost"), "main");
  EXPECT_EQ(findHeader(seen, "x-drop-me"), "");
  EXPECT_EQ(findHeader(seen, "x-keep-me"), "2");

  EXPECT_EQ(response->header("x-route-response"), "added");
  EXPECT_EQ(response->header("x-vhost-response"), "main");
  EXPECT_EQ(response->header("x-backend-secret"), "");
  EXPECT_EQ(response->header("x-kept"), "kept");

  // Routes of the virtual host without their own additions still get the virtual host's.
  EXPECT_EQ(backendFor("/plain"), "a");
  EXPECT_EQ(findHeader(backends_["a"]->lastRequestHeaders(), "x-vhost"), "main");
  EXPECT_EQ(findHeader(backends_["a"]->lastRequestHeaders(), "x-route"), "");
}

TEST_F(RoutingIntegrationTest, RingHashSendsTheSameKeyToTheSameBackend) {
  constexpr int kKeys = 24;
  constexpr int kRepeats = 6;
  std::set<std::string> used;
  for (int key = 0; key < kKeys; ++key) {
    const std::string user = absl::StrCat("user-", key);
    // New connections each time, so requests land on either worker (each has its own ring).
    std::set<std::string> answered;
    for (int i = 0; i < kRepeats; ++i) {
      answered.insert(backendFor("/hash", {{"X-User", user}}));
    }
    EXPECT_EQ(answered.size(), 1u) << user << " was spread over several backends";
    used.insert(answered.begin(), answered.end());
  }
  // 24 keys on 3 equal hosts: all on one host would mean the key is not hashed at all.
  EXPECT_GE(used.size(), 2u);
  EXPECT_EQ(proxy_->clusterStat("ring", "upstream_rq_total"),
            static_cast<uint64_t>(kKeys * kRepeats));
}

}  // namespace
}  // namespace waystone::test
