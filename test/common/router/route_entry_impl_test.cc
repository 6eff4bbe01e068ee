#include "source/common/router/route_entry_impl.h"

#include <map>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

#include "test/common/router/router_test_util.h"

namespace waystone::router {
namespace {

RouteConstSharedPtr routeFor(const ConfigImpl& config, const http::HeaderMap& headers,
                             uint64_t random_value = 0) {
  RouteConstSharedPtr route = config.route(headers, random_value);
  EXPECT_NE(nullptr, route) << headers.toString();
  return route;
}

const RouteEntry& entryFor(const RouteConstSharedPtr& route) {
  EXPECT_NE(nullptr, route->routeEntry());
  return *route->routeEntry();
}

// Weighted clusters.

constexpr absl::string_view kWeighted = R"(
virtual_hosts:
- name: w
  domains: ['*']
  routes:
  - match: {prefix: /}
    route:
      weighted_clusters:
        clusters:
        - name: ten
          weight: 10
          request_headers_to_add: [{header: {key: x-cluster, value: ten}}]
          response_headers_to_add: [{header: {key: x-cluster, value: ten}}]
          host_rewrite_literal: ten.internal
        - {name: zero, weight: 0}
        - {name: thirty, weight: 30}
        - {name: sixty, weight: 60}
)";

TEST(RouteEntryTest, WeightedClustersPickByRandomValue) {
  const auto config = mustCreateConfig(kWeighted);
  ASSERT_NE(nullptr, config);
  auto pick = [&](uint64_t random) {
    return entryFor(routeFor(*config, request("h", "/"), random)).clusterName();
  };
  // Cumulative ranges over the total 100: [0,10) ten, [10,40) thirty, [40,100) sixty.
  EXPECT_EQ("ten", pick(0));
  EXPECT_EQ("ten", pick(9));
  EXPECT_EQ("thirty", pick(10));
  EXPECT_EQ("thirty", pick(39));
  EXPECT_EQ("sixty", pick(40));
  EXPECT_EQ("sixty", pick(99));
  EXPECT_EQ("ten", pick(100));  // modulo the total
  EXPECT_EQ("sixty", pick(12345678999));

  // Over every residue the shares are exactly the weights.
  std::map<std::string, int> counts;
  for (uint64_t random = 0; random < 1000; ++random) {
    ++counts[pick(random)];
  }
  EXPECT_EQ(100, counts["ten"]);
  EXPECT_EQ(300, counts["thirty"]);
  EXPECT_EQ(600, counts["sixty"]);
  EXPECT_EQ(0, counts.count("zero"));
}

TEST(RouteEntryTest, WeightedClusterEntryIsSharedAndOwnsNothingNew) {
  const auto config = mustCreateConfig(kWeighted);
  ASSERT_NE(nullptr, config);
  const RouteConstSharedPtr a = routeFor(*config, request("h", "/"), 5);
  const RouteConstSharedPtr b = routeFor(*config, request("h", "/"), 7);
  EXPECT_EQ(a.get(), b.get());  // pre-built per cluster, no allocation per request
}

TEST(RouteEntryTest, WeightedClusterHeadersComeFirst) {
  const auto config = mustCreateConfig(kWeighted);
  ASSERT_NE(nullptr, config);
  const RouteConstSharedPtr route = routeFor(*config, request("h", "/"), 0);
  http::HeaderMap headers = request("h", "/");
  const stream_info::StreamInfo context = testStreamInfo();
  entryFor(route).finalizeRequestHeaders(headers, context, false);
  EXPECT_EQ("ten", headers.getValue("x-cluster"));
  EXPECT_EQ("ten.internal", headers.host());
  http::HeaderMap response{{":status", "200"}};
  route->finalizeResponseHeaders(response, &headers, context);
  EXPECT_EQ("ten", response.getValue("x-cluster"));
}

TEST(RouteEntryTest, WeightedClustersRandomValueHeaderAndClusterHeader) {
  const auto config = mustCreateConfig(R"(
virtual_hosts:
- name: w
  domains: ['*']
  routes:
  - match: {prefix: /}
    route:
      weighted_clusters:
        header_name: x-pick
        clusters:
        - {name: a, weight: 1}
        - {cluster_header: x-target, weight: 1}
)");
  ASSERT_NE(nullptr, config);
  http::HeaderMap headers = request("h", "/");
  headers.addCopy("x-pick", "1");
  headers.addCopy("x-target", "from-header");
  // The header's value replaces the random value.
  EXPECT_EQ("from-header", entryFor(routeFor(*config, headers, 0)).clusterName());
  headers.setCopy("x-pick", "2");
  EXPECT_EQ("a", entryFor(routeFor(*config, headers, 1)).clusterName());
  headers.setCopy("x-pick", "not-a-number");
  EXPECT_EQ("from-header", entryFor(routeFor(*config, headers, 1)).clusterName());
}

TEST(RouteEntryTest, ClusterHeader) {
  const auto config = mustCreateConfig(R"(
virtual_hosts:
- name: c
  domains: ['*']
  routes:
  - match: {prefix: /}
    route: {cluster_header: X-Cluster, timeout: 3s, cluster_not_found_response_code: NOT_FOUND}
)");
  ASSERT_NE(nullptr, config);
  http::HeaderMap headers = request("h", "/");
  headers.addCopy("x-cluster", "dynamic");
  const RouteConstSharedPtr route = routeFor(*config, headers);
  EXPECT_EQ("dynamic", entryFor(route).clusterName());
  EXPECT_EQ(std::chrono::seconds(3), entryFor(route).timeout());
  EXPECT_EQ(404u, entryFor(route).clusterNotFoundResponseCode());
  EXPECT_EQ("", entryFor(routeFor(*config, request("h", "/"))).clusterName());
}

// Redirects and direct responses.

std::string locationFor(absl::string_view redirect_yaml, http::HeaderMap headers,
                        absl::string_view match = "{prefix: /}") {
  const auto config = mustCreateConfig(absl::StrCat(R"(
virtual_hosts:
- name: r
  domains: ['*']
  routes:
  - match: )",
                                                    match, "\n    redirect: ", redirect_yaml));
  if (config == nullptr) {
    return "<invalid>";
  }
  const RouteConstSharedPtr route = config->route(headers, 0);
  if (route == nullptr || route->directResponseEntry() == nullptr) {
    return "<no redirect>";
  }
  EXPECT_TRUE(route->directResponseEntry()->isRedirect());
  EXPECT_EQ(nullptr, route->routeEntry());
  return route->directResponseEntry()->newLocation(headers);
}

TEST(RouteEntryTest, RedirectLocations) {
  EXPECT_EQ("https://example.com/a?b=1",
            locationFor("{https_redirect: true}", request("example.com", "/a?b=1")));
  // The default port of the old scheme is dropped when the scheme changes.
  EXPECT_EQ("https://example.com/a",
            locationFor("{https_redirect: true}", request("example.com:80", "/a")));
  EXPECT_EQ("https://example.com:8080/a",
            locationFor("{https_redirect: true}", request("example.com:8080", "/a")));
  EXPECT_EQ("ftp://example.com/a",
            locationFor("{scheme_redirect: ftp}", request("example.com", "/a")));
  EXPECT_EQ("http://other.com/a",
            locationFor("{host_redirect: other.com}", request("example.com:8080", "/a")));
  EXPECT_EQ("http://example.com:9090/a",
            locationFor("{port_redirect: 9090}", request("example.com:8080", "/a")));
  EXPECT_EQ("http://[::1]:9090/a",
            locationFor("{port_redirect: 9090}", request("[::1]:8080", "/a")));
  EXPECT_EQ("http://example.com/new?b=1",
            locationFor("{path_redirect: /new}", request("example.com", "/a?b=1")));
  EXPECT_EQ("http://example.com/new?own=1",
            locationFor("{path_redirect: '/new?own=1', strip_query: true}",
                        request("example.com", "/a?b=1")));
  EXPECT_EQ("http://example.com/new", locationFor("{path_redirect: /new, strip_query: true}",
                                                  request("example.com", "/a?b=1")));
  EXPECT_EQ(
      "http://example.com/v2/x?y",
      locationFor("{prefix_rewrite: /v2/}", request("example.com", "/v1/x?y"), "{prefix: /v1/}"));
  EXPECT_EQ("http://example.com/b/x",
            locationFor(
                "{regex_rewrite: {pattern: {regex: '^/a/'}, substitution: /b/}, strip_query: true}",
                request("example.com", "/a/x?q")));
  // x-forwarded-proto decides the request's scheme.
  http::HeaderMap forwarded = request("example.com:443", "/a");
  forwarded.addCopy("x-forwarded-proto", "https");
  EXPECT_EQ("http://example.com/a", locationFor("{scheme_redirect: http}", forwarded));
  EXPECT_EQ("https://example.com:443/a", locationFor("{path_redirect: /a}", forwarded));
}

TEST(RouteEntryTest, RedirectResponseCodes) {
  const auto config = mustCreateConfig(R"(
virtual_hosts:
- name: r
  domains: ['*']
  routes:
  - {match: {prefix: /301}, redirect: {path_redirect: /x}}
  - {match: {prefix: /302}, redirect: {path_redirect: /x, response_code: FOUND}}
  - {match: {prefix: /303}, redirect: {path_redirect: /x, response_code: SEE_OTHER}}
  - {match: {prefix: /307}, redirect: {path_redirect: /x, response_code: TEMPORARY_REDIRECT}}
  - {match: {prefix: /308}, redirect: {path_redirect: /x, response_code: PERMANENT_REDIRECT}}
)");
  ASSERT_NE(nullptr, config);
  for (const uint32_t code : {301u, 302u, 303u, 307u, 308u}) {
    const RouteConstSharedPtr route = routeFor(*config, request("h", absl::StrCat("/", code)));
    ASSERT_NE(nullptr, route->directResponseEntry());
    EXPECT_EQ(code, route->directResponseEntry()->responseCode());
  }
}

TEST(RouteEntryTest, DirectResponse) {
  const auto config = mustCreateConfig(R"(
virtual_hosts:
- name: d
  domains: ['*']
  routes:
  - match: {prefix: /health}
    direct_response: {status: 200, body: {inline_string: ok}}
    response_headers_to_add: [{header: {key: content-type, value: text/plain}}]
  - match: {prefix: /}
    direct_response: {status: 503}
)");
  ASSERT_NE(nullptr, config);
  const RouteConstSharedPtr health = routeFor(*config, request("h", "/health"));
  ASSERT_NE(nullptr, health->directResponseEntry());
  EXPECT_EQ(200u, health->directResponseEntry()->responseCode());
  EXPECT_EQ("ok", health->directResponseEntry()->responseBody());
  EXPECT_FALSE(health->directResponseEntry()->isRedirect());
  EXPECT_EQ("", health->directResponseEntry()->newLocation(request("h", "/health")));
  http::HeaderMap response{{":status", "200"}};
  const stream_info::StreamInfo context = testStreamInfo();
  health->finalizeResponseHeaders(response, nullptr, context);
  EXPECT_EQ("text/plain", response.getValue("content-type"));
  const RouteConstSharedPtr other = routeFor(*config, request("h", "/x"));
  EXPECT_EQ(503u, other->directResponseEntry()->responseCode());
  EXPECT_EQ("", other->directResponseEntry()->responseBody());

  const std::string too_big = configError(absl::StrCat(R"(
max_direct_response_body_size_bytes: 4
virtual_hosts:
- name: d
  domains: ['*']
  routes:
  - {match: {prefix: /}, direct_response: {status: 200, body: {inline_string: hello}}})"));
  EXPECT_EQ(
      "virtual_hosts[0].routes[0].direct_response.body: response body size is 5 bytes; "
      "maximum is 4",
      too_big);
}

// Rewrites.

std::string rewrittenPath(absl::string_view route_yaml, absl::string_view path,
                          http::HeaderMap* out = nullptr) {
  const auto config = mustCreateConfig(absl::StrCat(R"(
virtual_hosts:
- name: r
  domains: ['*']
  routes:
  - )",
                                                    route_yaml));
  if (config == nullptr) {
    return "<invalid>";
  }
  http::HeaderMap headers = request("h", path);
  const RouteConstSharedPtr route = config->route(headers, 0);
  if (route == nullptr || route->routeEntry() == nullptr) {
    return "<no route>";
  }
  const stream_info::StreamInfo context = testStreamInfo();
  route->routeEntry()->finalizeRequestHeaders(headers, context, true);
  if (out != nullptr) {
    *out = headers;
  }
  return std::string(headers.path());
}

TEST(RouteEntryTest, PrefixRewrite) {
  EXPECT_EQ("/v2/users?id=1",
            rewrittenPath("{match: {prefix: /v1/}, route: {cluster: c, prefix_rewrite: /v2/}}",
                          "/v1/users?id=1"));
  EXPECT_EQ("/users",
            rewrittenPath("{match: {prefix: /api/}, route: {cluster: c, prefix_rewrite: /}}",
                          "/api/users"));
  // Only the matched bytes are replaced, so mismatched trailing slashes double up (as Envoy).
  EXPECT_EQ("//users",
            rewrittenPath("{match: {prefix: /api}, route: {cluster: c, prefix_rewrite: /}}",
                          "/api/users"));
  // Case-insensitive prefix: the matched bytes are replaced whatever their case.
  EXPECT_EQ("/new/x", rewrittenPath("{match: {prefix: /OLD, case_sensitive: false}, "
                                    "route: {cluster: c, prefix_rewrite: /new}}",
                                    "/old/x"));
  // A path match is replaced whole; the query stays.
  EXPECT_EQ("/b?q",
            rewrittenPath("{match: {path: /a}, route: {cluster: c, prefix_rewrite: /b}}", "/a?q"));
  EXPECT_EQ("/svc/x", rewrittenPath("{match: {path_separated_prefix: /api}, "
                                    "route: {cluster: c, prefix_rewrite: /svc}}",
                                    "/api/x"));
  http::HeaderMap headers;
  rewrittenPath("{match: {prefix: /v1/}, route: {cluster: c, prefix_rewrite: /v2/}}", "/v1/a",
                &headers);
  EXPECT_EQ("/v1/a", headers.getValue("x-envoy-original-path"));
}

TEST(RouteEntryTest, RegexRewrite) {
  EXPECT_EQ(
      "/v2/b/a?x=1",
      rewrittenPath(
          R"({match: {prefix: /}, route: {cluster: c, regex_rewrite: {pattern: {regex: '^/v1/([^/]+)/([^/]+)$'}, substitution: '/v2/\2/\1'}}})",
          "/v1/a/b?x=1"));
  EXPECT_EQ(
      "/a-b-c",
      rewrittenPath(
          R"({match: {prefix: /}, route: {cluster: c, regex_rewrite: {pattern: {regex: '/'}, substitution: '-'}}})",
          "/a/b/c")
          .replace(0, 1, "/"));
  EXPECT_EQ(
      "/unchanged",
      rewrittenPath(
          R"({match: {prefix: /}, route: {cluster: c, regex_rewrite: {pattern: {regex: 'zzz'}, substitution: 'y'}}})",
          "/unchanged"));
  EXPECT_TRUE(absl::StartsWith(
      configError(R"(
virtual_hosts:
- name: r
  domains: ['*']
  routes:
  - match: {prefix: /}
    route: {cluster: c, regex_rewrite: {pattern: {regex: 'a'}, substitution: '\1'}}
)"),
      "virtual_hosts[0].routes[0].route.regex_rewrite.substitution: invalid substitution"));
  EXPECT_EQ("virtual_hosts[0].routes[0].route: specify only one of prefix_rewrite or regex_rewrite",
            configError(R"(
virtual_hosts:
- name: r
  domains: ['*']
  routes:
  - match: {prefix: /}
    route: {cluster: c, prefix_rewrite: /x, regex_rewrite: {pattern: {regex: 'a'}, substitution: b}}
)"));
}

TEST(RouteEntryTest, HostRewrites) {
  http::HeaderMap headers;
  rewrittenPath(
      "{match: {prefix: /}, route: {cluster: c, host_rewrite_literal: new.host, "
      "append_x_forwarded_host: true}}",
      "/", &headers);
  EXPECT_EQ("new.host", headers.host());
  EXPECT_EQ("h", headers.getValue("x-forwarded-host"));

  const auto config = mustCreateConfig(R"(
virtual_hosts:
- name: r
  domains: ['*']
  routes:
  - {match: {prefix: /header}, route: {cluster: c, host_rewrite_header: x-host}}
  - match: {prefix: /regex}
    route: {cluster: c, host_rewrite_path_regex: {pattern: {regex: '^/regex/([^/]+).*$'}, substitution: '\1.svc'}}
  - {match: {prefix: /auto}, route: {cluster: c, auto_host_rewrite: true}}
)");
  ASSERT_NE(nullptr, config);
  const stream_info::StreamInfo context = testStreamInfo();
  http::HeaderMap by_header = request("h", "/header");
  by_header.addCopy("x-host", "from.header");
  entryFor(routeFor(*config, by_header)).finalizeRequestHeaders(by_header, context, false);
  EXPECT_EQ("from.header", by_header.host());
  http::HeaderMap by_regex = request("h", "/regex/reviews/x?y");
  entryFor(routeFor(*config, by_regex)).finalizeRequestHeaders(by_regex, context, false);
  EXPECT_EQ("reviews.svc", by_regex.host());
  http::HeaderMap automatic = request("h", "/auto");
  const RouteConstSharedPtr auto_route = routeFor(*config, automatic);
  EXPECT_TRUE(entryFor(auto_route).autoHostRewrite());
  entryFor(auto_route).finalizeRequestHeaders(automatic, context, false);
  EXPECT_EQ("h", automatic.host());  // the router does it once a host is picked
}

// Header mutations across levels.

constexpr absl::string_view kLevels = R"(
request_headers_to_add:
- {header: {key: x-level, value: config}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}
- {header: {key: x-all, value: config}}
response_headers_to_add:
- {header: {key: x-level, value: config}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}
response_headers_to_remove: [x-secret]
virtual_hosts:
- name: v
  domains: ['*']
  request_headers_to_add:
  - {header: {key: x-level, value: vhost}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}
  - {header: {key: x-all, value: vhost}}
  response_headers_to_add:
  - {header: {key: x-level, value: vhost}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}
  routes:
  - match: {prefix: /}
    route: {cluster: c}
    request_headers_to_add:
    - {header: {key: x-level, value: route}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}
    - {header: {key: x-all, value: route}}
    - {header: {key: x-client, value: '%DOWNSTREAM_REMOTE_ADDRESS%'}}
    request_headers_to_remove: [x-drop]
    response_headers_to_add:
    - {header: {key: x-level, value: route}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}
    - {header: {key: x-echo, value: '%REQ(x-request-id)%'}}
)";

TEST(RouteEntryTest, HeaderMutationOrderDefaultLeastSpecificWins) {
  const auto config = mustCreateConfig(kLevels);
  ASSERT_NE(nullptr, config);
  http::HeaderMap headers = request("h", "/");
  headers.addCopy("x-drop", "1");
  headers.addCopy("x-request-id", "rid");
  const RouteConstSharedPtr route = routeFor(*config, headers);
  const stream_info::StreamInfo context = testStreamInfo();
  entryFor(route).finalizeRequestHeaders(headers, context, false);
  // Route, then virtual host, then route configuration: the last overwrite wins and appends
  // come in that order (Envoy's documented default).
  EXPECT_EQ("config", headers.getValue("x-level"));
  EXPECT_EQ((std::vector<absl::string_view>{"route", "vhost", "config"}), headers.getAll("x-all"));
  EXPECT_EQ("10.1.2.3:45678", headers.getValue("x-client"));
  EXPECT_FALSE(headers.has("x-drop"));

  http::HeaderMap response{{":status", "200"}, {"x-secret", "s"}};
  route->finalizeResponseHeaders(response, &headers, context);
  EXPECT_EQ("config", response.getValue("x-level"));
  EXPECT_EQ("rid", response.getValue("x-echo"));
  EXPECT_FALSE(response.has("x-secret"));
}

TEST(RouteEntryTest, HeaderMutationOrderMostSpecificWins) {
  const auto config =
      mustCreateConfig(absl::StrCat("most_specific_header_mutations_wins: true\n", kLevels));
  ASSERT_NE(nullptr, config);
  http::HeaderMap headers = request("h", "/");
  const RouteConstSharedPtr route = routeFor(*config, headers);
  const stream_info::StreamInfo context = testStreamInfo();
  entryFor(route).finalizeRequestHeaders(headers, context, false);
  EXPECT_EQ("route", headers.getValue("x-level"));
  EXPECT_EQ((std::vector<absl::string_view>{"config", "vhost", "route"}), headers.getAll("x-all"));
  http::HeaderMap response{{":status", "200"}};
  route->finalizeResponseHeaders(response, &headers, context);
  EXPECT_EQ("route", response.getValue("x-level"));
}

// Per-filter config, policies and lifetimes.

TEST(RouteEntryTest, PerFilterConfigPrefersTheMostSpecificLevel) {
  const auto config = mustCreateConfig(R"(
typed_per_filter_config:
  f.all: {'@type': type.googleapis.com/google.protobuf.StringValue, value: config}
  f.config: {'@type': type.googleapis.com/google.protobuf.StringValue, value: config}
virtual_hosts:
- name: v
  domains: ['*']
  typed_per_filter_config:
    f.all: {'@type': type.googleapis.com/google.protobuf.StringValue, value: vhost}
    f.vhost: {'@type': type.googleapis.com/google.protobuf.StringValue, value: vhost}
  routes:
  - match: {prefix: /w}
    route:
      weighted_clusters:
        clusters:
        - name: a
          weight: 1
          typed_per_filter_config:
            f.all: {'@type': type.googleapis.com/google.protobuf.StringValue, value: cluster}
  - match: {prefix: /}
    route: {cluster: c}
    typed_per_filter_config:
      f.all: {'@type': type.googleapis.com/google.protobuf.StringValue, value: route}
)");
  ASSERT_NE(nullptr, config);
  auto value = [](const google::protobuf::Any* any) -> std::string {
    if (any == nullptr) {
      return "<none>";
    }
    google::protobuf::StringValue string_value;
    EXPECT_TRUE(any->UnpackTo(&string_value));
    return string_value.value();
  };
  const RouteConstSharedPtr route = routeFor(*config, request("h", "/"));
  EXPECT_EQ("route", value(route->mostSpecificPerFilterConfig("f.all")));
  EXPECT_EQ("vhost", value(route->mostSpecificPerFilterConfig("f.vhost")));
  EXPECT_EQ("config", value(route->mostSpecificPerFilterConfig("f.config")));
  EXPECT_EQ("<none>", value(route->mostSpecificPerFilterConfig("f.missing")));
  EXPECT_EQ("vhost", value(route->virtualHost().perFilterConfig("f.all")));
  const RouteConstSharedPtr weighted = routeFor(*config, request("h", "/w"));
  EXPECT_EQ("cluster", value(weighted->mostSpecificPerFilterConfig("f.all")));
  EXPECT_EQ("vhost", value(weighted->mostSpecificPerFilterConfig("f.vhost")));
}

TEST(RouteEntryTest, TimeoutsAndPolicies) {
  const auto config = mustCreateConfig(R"(
request_mirror_policies: [{cluster: config-mirror}]
virtual_hosts:
- name: v
  domains: ['*']
  include_request_attempt_count: true
  retry_policy: {retry_on: 5xx, num_retries: 4}
  request_mirror_policies:
  - {cluster: vhost-mirror, runtime_fraction: {default_value: {numerator: 10, denominator: HUNDRED}}}
  routes:
  - match: {prefix: /own}
    route:
      cluster: c
      timeout: 0s
      idle_timeout: 30s
      max_stream_duration: {max_stream_duration: 60s, grpc_timeout_header_max: 5s}
      retry_policy: {retry_on: 'connect-failure,refused-stream', num_retries: 2}
      request_mirror_policies: [{cluster: route-mirror}]
      hash_policy: [{header: {header_name: x-user}}]
      upgrade_configs: [{upgrade_type: WebSocket}, {upgrade_type: h2c, enabled: false}]
  - match: {prefix: /}
    route: {cluster: c}
)");
  ASSERT_NE(nullptr, config);
  const RouteConstSharedPtr own = routeFor(*config, request("h", "/own"));
  const RouteEntry& entry = entryFor(own);
  EXPECT_EQ(std::chrono::milliseconds(0), entry.timeout());
  EXPECT_EQ(std::chrono::milliseconds(30000), entry.idleTimeout().value());
  EXPECT_EQ(std::chrono::milliseconds(60000), entry.maxStreamDuration().value());
  EXPECT_EQ(std::chrono::milliseconds(5000), entry.grpcTimeoutHeaderMax().value());
  EXPECT_FALSE(entry.grpcTimeoutHeaderOffset().has_value());
  EXPECT_EQ(RetryPolicy::kRetryOnConnectFailure | RetryPolicy::kRetryOnRefusedStream,
            entry.retryPolicy().retryOn());
  EXPECT_EQ(2u, entry.retryPolicy().numRetries());
  ASSERT_EQ(1u, entry.requestMirrorPolicies().size());
  EXPECT_EQ("route-mirror", entry.requestMirrorPolicies()[0].cluster());
  ASSERT_NE(nullptr, entry.hashPolicy());
  EXPECT_TRUE(entry.hashPolicy()->generateHash(http::HeaderMap{{"x-user", "u"}}, "").has_value());
  EXPECT_EQ(true, entry.upgradeEnabled("websocket"));
  EXPECT_EQ(false, entry.upgradeEnabled("h2c"));
  EXPECT_FALSE(entry.upgradeEnabled("connect").has_value());
  EXPECT_TRUE(own->virtualHost().includeAttemptCountInRequest());
  EXPECT_FALSE(own->virtualHost().includeAttemptCountInResponse());
  EXPECT_EQ("v", own->virtualHost().name());

  // Inherited from the virtual host; default timeout 15 s.
  const RouteEntry& inherited = entryFor(routeFor(*config, request("h", "/other")));
  EXPECT_EQ(std::chrono::milliseconds(15000), inherited.timeout());
  EXPECT_FALSE(inherited.idleTimeout().has_value());
  EXPECT_EQ(RetryPolicy::kRetryOn5xx, inherited.retryPolicy().retryOn());
  EXPECT_EQ(4u, inherited.retryPolicy().numRetries());
  ASSERT_EQ(1u, inherited.requestMirrorPolicies().size());
  EXPECT_EQ("vhost-mirror", inherited.requestMirrorPolicies()[0].cluster());
  EXPECT_TRUE(inherited.requestMirrorPolicies()[0].shouldMirror(109));
  EXPECT_FALSE(inherited.requestMirrorPolicies()[0].shouldMirror(110));
  EXPECT_EQ(nullptr, inherited.hashPolicy());

  const auto config_level = mustCreateConfig(R"(
request_mirror_policies: [{cluster: config-mirror}]
virtual_hosts:
- {name: v, domains: ['*'], routes: [{match: {prefix: /}, route: {cluster: c}}]}
)");
  ASSERT_NE(nullptr, config_level);
  const RouteEntry& from_config = entryFor(routeFor(*config_level, request("h", "/")));
  ASSERT_EQ(1u, from_config.requestMirrorPolicies().size());
  EXPECT_EQ("config-mirror", from_config.requestMirrorPolicies()[0].cluster());
  EXPECT_TRUE(from_config.requestMirrorPolicies()[0].shouldMirror(99));  // 100% by default
  EXPECT_EQ(0u, from_config.retryPolicy().retryOn());
  EXPECT_EQ(1u, from_config.retryPolicy().numRetries());
}

TEST(RouteEntryTest, RouteOutlivesItsTable) {
  RouteConstSharedPtr weighted;
  RouteConstSharedPtr dynamic;
  {
    const auto config = mustCreateConfig(R"(
virtual_hosts:
- name: v
  domains: ['*']
  request_headers_to_add: [{header: {key: x-vhost, value: 'yes'}}]
  routes:
  - match: {prefix: /w}
    route: {weighted_clusters: {clusters: [{name: a, weight: 1}]}}
  - match: {prefix: /}
    route: {cluster_header: x-c}
)");
    ASSERT_NE(nullptr, config);
    weighted = routeFor(*config, request("h", "/w"));
    http::HeaderMap headers = request("h", "/");
    headers.addCopy("x-c", "dyn");
    dynamic = routeFor(*config, headers);
  }
  // The table is gone; the routes handed to in-flight requests still work.
  const stream_info::StreamInfo context = testStreamInfo();
  http::HeaderMap headers = request("h", "/");
  entryFor(weighted).finalizeRequestHeaders(headers, context, false);
  EXPECT_EQ("yes", headers.getValue("x-vhost"));
  EXPECT_EQ("a", entryFor(weighted).clusterName());
  EXPECT_EQ("dyn", entryFor(dynamic).clusterName());
  EXPECT_EQ("v", dynamic->virtualHost().name());
}

TEST(RouteEntryTest, RouteNames) {
  const auto config = mustCreateConfig(R"(
virtual_hosts:
- name: v
  domains: ['*']
  routes:
  - {name: first, match: {prefix: /}, route: {cluster: c}}
)");
  ASSERT_NE(nullptr, config);
  EXPECT_EQ("first", routeFor(*config, request("h", "/"))->routeName());
}

// connect_config on the CONNECT upgrade: kept for the router (CONNECT termination), also through
// weighted clusters; what Waystone cannot do is refused naming the field.
TEST(RouteEntryTest, ConnectConfig) {
  const auto config = mustCreateConfig(R"(
virtual_hosts:
- name: v
  domains: ['*']
  routes:
  - match: {connect_matcher: {}}
    route:
      weighted_clusters: {clusters: [{name: a, weight: 1}]}
      upgrade_configs: [{upgrade_type: CONNECT, connect_config: {allow_post: true}}]
  - match: {prefix: /}
    route: {cluster: c, upgrade_configs: [{upgrade_type: CONNECT}]}
)");
  ASSERT_NE(nullptr, config);
  http::HeaderMap connect;
  connect.addCopy(":method", "CONNECT");
  connect.addCopy(":authority", "10.0.0.1:80");
  const RouteConstSharedPtr terminated = routeFor(*config, connect);
  ASSERT_TRUE(entryFor(terminated).connectConfig().has_value());
  EXPECT_TRUE(entryFor(terminated).connectConfig()->allow_post);
  EXPECT_EQ("a", entryFor(terminated).clusterName());
  const RouteConstSharedPtr plain = routeFor(*config, request("h", "/"));
  EXPECT_FALSE(entryFor(plain).connectConfig().has_value());
  EXPECT_EQ(true, entryFor(plain).upgradeEnabled("connect"));

  EXPECT_EQ(configError(R"(
virtual_hosts:
- name: v
  domains: ['*']
  routes:
  - match: {connect_matcher: {}}
    route:
      cluster: c
      upgrade_configs:
      - upgrade_type: CONNECT
        connect_config: {proxy_protocol_config: {version: V2}}
)"),
            "virtual_hosts[0].routes[0].route.upgrade_configs[0].connect_config."
            "proxy_protocol_config: PROXY protocol on terminated CONNECT is not supported");
}

}  // namespace
}  // namespace waystone::router
