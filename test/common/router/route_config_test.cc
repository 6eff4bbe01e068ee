#include "source/common/router/route_config.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

#include "test/common/router/router_test_util.h"

namespace waystone::router {
namespace {

// The cluster of the route picked for `headers`, "<none>" when nothing matches and "<direct>"
// for redirects and direct responses.
std::string clusterFor(const ConfigImpl& config, const http::HeaderMap& headers,
                       uint64_t random_value = 0) {
  const RouteConstSharedPtr route = config.route(headers, random_value);
  if (route == nullptr) {
    return "<none>";
  }
  if (route->routeEntry() == nullptr) {
    return "<direct>";
  }
  return route->routeEntry()->clusterName();
}

std::string vhostFor(const ConfigImpl& config, absl::string_view authority) {
  const VirtualHostImpl* vhost = config.findVirtualHost(authority);
  return vhost == nullptr ? "<none>" : vhost->name();
}

constexpr absl::string_view kDomains = R"(
virtual_hosts:
- {name: exact, domains: [www.example.com, Mixed.Example.COM], routes: [{match: {prefix: /}, route: {cluster: c}}]}
- {name: suffix-long, domains: ['*-bar.example.com'], routes: [{match: {prefix: /}, route: {cluster: c}}]}
- {name: suffix, domains: ['*.example.com'], routes: [{match: {prefix: /}, route: {cluster: c}}]}
- {name: prefix-long, domains: ['api.example.*'], routes: [{match: {prefix: /}, route: {cluster: c}}]}
- {name: prefix, domains: ['api.*', 'api-*'], routes: [{match: {prefix: /}, route: {cluster: c}}]}
- {name: default, domains: ['*'], routes: [{match: {prefix: /}, route: {cluster: c}}]}
)";

TEST(RouteConfigTest, DomainPrecedence) {
  const auto config = mustCreateConfig(kDomains);
  ASSERT_NE(nullptr, config);
  EXPECT_EQ("exact", vhostFor(*config, "www.example.com"));
  EXPECT_EQ("exact", vhostFor(*config, "WWW.Example.Com"));
  EXPECT_EQ("exact", vhostFor(*config, "mixed.example.com"));
  // Longest suffix wildcard first.
  EXPECT_EQ("suffix-long", vhostFor(*config, "foo-bar.example.com"));
  EXPECT_EQ("suffix", vhostFor(*config, "foo.example.com"));
  EXPECT_EQ("suffix", vhostFor(*config, "a.b.example.com"));
  // A wildcard never matches an empty part.
  EXPECT_EQ("default", vhostFor(*config, ".example.com"));
  // "*-bar.example.com" needs something before "-bar"; "*.example.com" still takes it.
  EXPECT_EQ("suffix", vhostFor(*config, "-bar.example.com"));
  // Suffix wildcards beat prefix wildcards; the longest prefix wildcard wins among those.
  EXPECT_EQ("suffix", vhostFor(*config, "api.example.com"));
  EXPECT_EQ("prefix-long", vhostFor(*config, "api.example.org"));
  EXPECT_EQ("prefix", vhostFor(*config, "api.other.org"));
  EXPECT_EQ("prefix", vhostFor(*config, "api-v2"));
  EXPECT_EQ("default", vhostFor(*config, "api."));
  EXPECT_EQ("default", vhostFor(*config, "unknown.org"));
}

TEST(RouteConfigTest, PortIsStrippedWhenNoDomainHasAPort) {
  const auto config = mustCreateConfig(kDomains);
  ASSERT_NE(nullptr, config);
  EXPECT_EQ("exact", vhostFor(*config, "www.example.com:8080"));
  EXPECT_EQ("suffix", vhostFor(*config, "foo.example.com:443"));
  EXPECT_EQ("default", vhostFor(*config, "[::1]:80"));
}

TEST(RouteConfigTest, PortsAreMatchedWhenADomainHasOne) {
  const auto config = mustCreateConfig(R"(
virtual_hosts:
- {name: plain, domains: [svc.ns], routes: [{match: {prefix: /}, route: {cluster: plain}}]}
- {name: port, domains: ['svc.ns:8080', '[fd00::1]:80'], routes: [{match: {prefix: /}, route: {cluster: port}}]}
)");
  ASSERT_NE(nullptr, config);
  EXPECT_EQ("plain", vhostFor(*config, "svc.ns"));
  EXPECT_EQ("port", vhostFor(*config, "svc.ns:8080"));
  EXPECT_EQ("port", vhostFor(*config, "[FD00::1]:80"));
  EXPECT_EQ("<none>", vhostFor(*config, "svc.ns:9090"));

  // ignore_port_in_host_matching strips the port regardless.
  const auto ignoring = mustCreateConfig(R"(
ignore_port_in_host_matching: true
virtual_hosts:
- {name: plain, domains: [svc.ns], routes: [{match: {prefix: /}, route: {cluster: plain}}]}
- {name: other, domains: ['other:8080'], routes: [{match: {prefix: /}, route: {cluster: o}}]}
)");
  ASSERT_NE(nullptr, ignoring);
  EXPECT_EQ("plain", vhostFor(*ignoring, "svc.ns:9090"));
}

TEST(RouteConfigTest, MissingAuthority) {
  const auto only_default = mustCreateConfig(R"(
virtual_hosts:
- {name: d, domains: ['*'], routes: [{match: {prefix: /}, route: {cluster: d}}]}
)");
  ASSERT_NE(nullptr, only_default);
  http::HeaderMap headers{{":method", "GET"}, {":path", "/"}};
  EXPECT_EQ("d", clusterFor(*only_default, headers));
  const auto config = mustCreateConfig(kDomains);
  ASSERT_NE(nullptr, config);
  EXPECT_EQ("<none>", clusterFor(*config, headers));
}

constexpr absl::string_view kPaths = R"(
virtual_hosts:
- name: paths
  domains: ['*']
  routes:
  - {match: {path: /exact}, route: {cluster: exact}}
  - {match: {path: /Exact-CI, case_sensitive: false}, route: {cluster: exact-ci}}
  - {match: {safe_regex: {regex: '/re/[0-9]+'}}, route: {cluster: regex}}
  - {match: {path_separated_prefix: /sep}, route: {cluster: separated}}
  - {match: {prefix: /Pre, case_sensitive: false}, route: {cluster: prefix-ci}}
  - {match: {prefix: /api/}, route: {cluster: api}}
  - {match: {connect_matcher: {}}, route: {cluster: connect}}
  - {match: {prefix: /}, route: {cluster: catch-all}}
)";

TEST(RouteConfigTest, PathMatchers) {
  const auto config = mustCreateConfig(kPaths);
  ASSERT_NE(nullptr, config);
  EXPECT_EQ("exact", clusterFor(*config, request("h", "/exact")));
  EXPECT_EQ("exact", clusterFor(*config, request("h", "/exact?x=1")));
  EXPECT_EQ("catch-all", clusterFor(*config, request("h", "/exact/more")));
  EXPECT_EQ("catch-all", clusterFor(*config, request("h", "/EXACT")));
  EXPECT_EQ("exact-ci", clusterFor(*config, request("h", "/exact-ci")));
  EXPECT_EQ("regex", clusterFor(*config, request("h", "/re/123")));
  EXPECT_EQ("regex", clusterFor(*config, request("h", "/re/123?q=abc")));  // query ignored
  EXPECT_EQ("catch-all", clusterFor(*config, request("h", "/re/123/x")));  // full match only
  EXPECT_EQ("separated", clusterFor(*config, request("h", "/sep")));
  EXPECT_EQ("separated", clusterFor(*config, request("h", "/sep/x")));
  EXPECT_EQ("separated", clusterFor(*config, request("h", "/sep?x")));
  EXPECT_EQ("catch-all", clusterFor(*config, request("h", "/separate")));
  EXPECT_EQ("prefix-ci", clusterFor(*config, request("h", "/PREfix")));
  EXPECT_EQ("api", clusterFor(*config, request("h", "/api/v1")));
  EXPECT_EQ("catch-all", clusterFor(*config, request("h", "/API/v1")));  // case-sensitive default
  EXPECT_EQ("catch-all", clusterFor(*config, request("h", "/apix")));
}

TEST(RouteConfigTest, ConnectRequests) {
  const auto config = mustCreateConfig(kPaths);
  ASSERT_NE(nullptr, config);
  // A CONNECT without :path only matches connect_matcher routes.
  http::HeaderMap connect{{":method", "CONNECT"}, {":authority", "10.0.0.1:80"}};
  EXPECT_EQ("connect", clusterFor(*config, connect));
  // connect_matcher never matches other methods.
  const auto connect_only = mustCreateConfig(R"(
virtual_hosts:
- name: c
  domains: ['*']
  routes:
  - {match: {connect_matcher: {}}, route: {cluster: connect}}
)");
  ASSERT_NE(nullptr, connect_only);
  EXPECT_EQ("<none>", clusterFor(*connect_only, request("h", "/")));
  EXPECT_EQ("connect", clusterFor(*connect_only, connect));
  // Without connect_matcher routes, a path-less CONNECT matches nothing, even prefix "".
  const auto prefix_only = mustCreateConfig(R"(
virtual_hosts:
- {name: p, domains: ['*'], routes: [{match: {prefix: ''}, route: {cluster: p}}]}
)");
  ASSERT_NE(nullptr, prefix_only);
  EXPECT_EQ("<none>", clusterFor(*prefix_only, connect));
  EXPECT_EQ("p", clusterFor(*prefix_only, request("h", "/x")));
}

TEST(RouteConfigTest, HeaderQueryGrpcAndRuntimeMatchers) {
  const auto config = mustCreateConfig(R"(
virtual_hosts:
- name: m
  domains: ['*']
  routes:
  - match:
      prefix: /
      headers: [{name: x-canary, string_match: {exact: 'true'}}, {name: x-user, present_match: true}]
    route: {cluster: canary}
  - match: {prefix: /, query_parameters: [{name: debug, string_match: {exact: '1'}}]}
    route: {cluster: debug}
  - match: {prefix: /, grpc: {}}
    route: {cluster: grpc}
  - match:
      prefix: /
      runtime_fraction: {default_value: {numerator: 25, denominator: HUNDRED}}
    route: {cluster: quarter}
  - match: {prefix: /}
    route: {cluster: rest}
)");
  ASSERT_NE(nullptr, config);
  http::HeaderMap canary = request("h", "/");
  canary.addCopy("x-canary", "true");
  EXPECT_EQ("quarter", clusterFor(*config, canary, 0));  // x-user missing
  canary.addCopy("x-user", "u");
  EXPECT_EQ("canary", clusterFor(*config, canary, 99));

  EXPECT_EQ("debug", clusterFor(*config, request("h", "/a?debug=1"), 99));
  EXPECT_EQ("rest", clusterFor(*config, request("h", "/a?debug=0"), 99));

  for (const auto& [content_type, cluster] :
       std::vector<std::pair<std::string, std::string>>{{"application/grpc", "grpc"},
                                                        {"application/grpc+proto", "grpc"},
                                                        {"application/grpc-web", "rest"},
                                                        {"application/json", "rest"}}) {
    http::HeaderMap grpc = request("h", "/svc/Method", "POST");
    grpc.addCopy("content-type", content_type);
    EXPECT_EQ(cluster, clusterFor(*config, grpc, 99)) << content_type;
  }

  // runtime_fraction: random_value % 100 < 25.
  EXPECT_EQ("quarter", clusterFor(*config, request("h", "/"), 24));
  EXPECT_EQ("rest", clusterFor(*config, request("h", "/"), 25));
  EXPECT_EQ("quarter", clusterFor(*config, request("h", "/"), 1000));
  EXPECT_EQ("rest", clusterFor(*config, request("h", "/"), 1099));
}

TEST(RouteConfigTest, IgnorePathParameters) {
  const auto config = mustCreateConfig(R"(
ignore_path_parameters_in_path_matching: true
virtual_hosts:
- {name: p, domains: ['*'], routes: [{match: {path: /a/b}, route: {cluster: ab}}]}
)");
  ASSERT_NE(nullptr, config);
  EXPECT_EQ("ab", clusterFor(*config, request("h", "/a/b;jsessionid=1?x")));
}

TEST(RouteConfigTest, NoMatchingRoute) {
  const auto config = mustCreateConfig(R"(
virtual_hosts:
- {name: p, domains: [a.com], routes: [{match: {prefix: /only}, route: {cluster: c}}]}
)");
  ASSERT_NE(nullptr, config);
  EXPECT_EQ("<none>", clusterFor(*config, request("a.com", "/other")));
  EXPECT_EQ("<none>", clusterFor(*config, request("b.com", "/only")));
  EXPECT_EQ("c", clusterFor(*config, request("a.com", "/only/x")));
}

TEST(RouteConfigTest, InternalOnlyHeadersAndName) {
  const auto config = mustCreateConfig(R"(
name: local_route
internal_only_headers: [X-Internal]
virtual_hosts: []
)");
  ASSERT_NE(nullptr, config);
  EXPECT_EQ("local_route", config->name());
  EXPECT_EQ(std::vector<std::string>{"x-internal"}, config->internalOnlyHeaders());
}

// Config errors: each names the field path.

TEST(RouteConfigErrorTest, BadRegex) {
  EXPECT_TRUE(absl::StartsWith(configError(R"(
virtual_hosts:
- {name: a, domains: [a], routes: [{match: {prefix: /}, route: {cluster: c}}]}
- name: b
  domains: [b]
  routes:
  - match: {safe_regex: {regex: '/(unclosed'}}
    route: {cluster: c}
)"),
                               "virtual_hosts[1].routes[0].match.safe_regex.regex: invalid RE2: "));
}

TEST(RouteConfigErrorTest, RegexProgramSizeLimit) {
  constexpr absl::string_view kYaml = R"(
virtual_hosts:
- name: a
  domains: [a]
  routes:
  - match:
      prefix: /
      headers: [{name: x, string_match: {safe_regex: {regex: '[a-z]{1,40}[0-9]{1,40}'}}}]
    route: {cluster: c}
)";
  const std::string error = configError(kYaml);
  EXPECT_TRUE(absl::StartsWith(
      error, "virtual_hosts[0].routes[0].match.headers[0].string_match.safe_regex.regex: regex"))
      << error;
  EXPECT_TRUE(absl::StrContains(error, "exceeds the maximum program size 100")) << error;
  ConfigOptions options;
  options.max_regex_program_size = 100000;
  EXPECT_NE(nullptr, mustCreateConfig(kYaml, options));
}

TEST(RouteConfigErrorTest, DuplicateDomainAndName) {
  EXPECT_EQ(
      "virtual_hosts[1].domains[1]: duplicate domain 'a.com' (already in virtual host "
      "'one'); domains must be unique across virtual hosts",
      configError(R"(
virtual_hosts:
- {name: one, domains: [a.com], routes: []}
- {name: two, domains: [b.com, A.com], routes: []}
)"));
  EXPECT_TRUE(absl::StartsWith(configError(R"(
virtual_hosts:
- {name: one, domains: ['*'], routes: []}
- {name: two, domains: ['*'], routes: []}
)"),
                               "virtual_hosts[1].domains[0]: duplicate domain '*'"));
  EXPECT_EQ("virtual_hosts[1].name: duplicate virtual host name 'one'", configError(R"(
virtual_hosts:
- {name: one, domains: [a.com], routes: []}
- {name: one, domains: [b.com], routes: []}
)"));
}

TEST(RouteConfigErrorTest, UnknownFormatterCommand) {
  EXPECT_EQ(
      "virtual_hosts[0].routes[0].response_headers_to_add[0].header.value: unknown command "
      "\"%NOT_A_COMMAND%\" at position 0 of \"%NOT_A_COMMAND%\"",
      configError(R"(
virtual_hosts:
- name: a
  domains: [a]
  routes:
  - match: {prefix: /}
    route: {cluster: c}
    response_headers_to_add: [{header: {key: x-a, value: '%NOT_A_COMMAND%'}}]
)"));
  EXPECT_TRUE(
      absl::StartsWith(configError(R"(
request_headers_to_add: [{header: {key: x-a, value: '%BAD%'}}]
virtual_hosts: []
)"),
                       "request_headers_to_add[0].header.value: unknown command \"%BAD%\""));
}

TEST(RouteConfigErrorTest, RemovingPseudoHeadersOrHost) {
  EXPECT_EQ(
      "virtual_hosts[0].routes[0].request_headers_to_remove[0]: :-prefixed or host headers may "
      "not be removed",
      configError(R"(
virtual_hosts:
- name: a
  domains: [a]
  routes:
  - {match: {prefix: /}, route: {cluster: c}, request_headers_to_remove: [':path']}
)"));
  EXPECT_EQ(
      "virtual_hosts[0].request_headers_to_remove[0]: :-prefixed or host headers may not be "
      "removed",
      configError(R"(
virtual_hosts:
- {name: a, domains: [a], request_headers_to_remove: [host], routes: []}
)"));
}

TEST(RouteConfigErrorTest, InternalRedirectsAreRefused) {
  EXPECT_EQ(
      "virtual_hosts[0].routes[0].route.internal_redirect_policy: internal redirects are not "
      "supported",
      configError(R"(
virtual_hosts:
- name: a
  domains: [a]
  routes:
  - match: {prefix: /}
    route: {cluster: c, internal_redirect_policy: {max_internal_redirects: 3}}
)"));
  // An explicitly empty (all-default) policy is accepted.
  EXPECT_NE(nullptr, mustCreateConfig(R"(
virtual_hosts:
- name: a
  domains: [a]
  routes:
  - {match: {prefix: /}, route: {cluster: c, internal_redirect_policy: {}}}
)"));
}

TEST(RouteConfigErrorTest, ValidationRulesNameTheField) {
  // protoc-gen-validate: a route needs a match and an action; a virtual host needs domains.
  const std::string error = configError(R"(
virtual_hosts:
- {name: a, domains: [], routes: []}
)");
  EXPECT_TRUE(absl::StartsWith(error, "virtual_hosts[0].domains")) << error;
  const std::string weights = configError(R"(
virtual_hosts:
- name: a
  domains: [a]
  routes:
  - match: {prefix: /}
    route: {weighted_clusters: {clusters: [{name: x, weight: 0}]}}
)");
  EXPECT_EQ(
      "virtual_hosts[0].routes[0].route.weighted_clusters.clusters: the sum of the weights must "
      "be greater than 0",
      weights);
}

TEST(RouteConfigErrorTest, UnsupportedFeaturesAreRefused) {
  EXPECT_EQ("virtual_hosts[0].require_tls: require_tls is not supported", configError(R"(
virtual_hosts:
- {name: a, domains: [a], require_tls: ALL, routes: []}
)"));
  EXPECT_EQ("virtual_hosts[0].routes[0].match.tls_context: TLS context matching is not supported",
            configError(R"(
virtual_hosts:
- name: a
  domains: [a]
  routes:
  - {match: {prefix: /, tls_context: {presented: true}}, route: {cluster: c}}
)"));
}

}  // namespace
}  // namespace waystone::router
