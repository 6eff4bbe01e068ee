#include "source/server/filter_chain_selector.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "envoy/config/listener/v3/listener.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "source/common/protobuf/utility.h"
#include "source/common/stream_info/filter_state_objects.h"
#include "test/common/matcher/test_connection_socket.h"

namespace waystone::server {
namespace {

using matcher::TestConnectionSocket;
using testing::HasSubstr;

absl::StatusOr<std::unique_ptr<const FilterChainSelector>> build(const std::string& yaml) {
  envoy::config::listener::v3::Listener listener;
  absl::Status status = protobuf::loadFromYaml(yaml, listener);
  if (!status.ok()) {
    return status;
  }
  return FilterChainSelector::create(listener, "static_resources.listeners[0]");
}

std::unique_ptr<const FilterChainSelector> mustBuild(const std::string& yaml) {
  auto selector = build(yaml);
  EXPECT_TRUE(selector.ok()) << selector.status();
  return selector.ok() ? std::move(*selector) : nullptr;
}

std::string buildError(const std::string& yaml) {
  auto selector = build(yaml);
  EXPECT_FALSE(selector.ok()) << "built";
  return selector.ok() ? "" : std::string(selector.status().message());
}

// The selection spelled for assertions: the chain's name (names are unique in these tests),
// "default" or "none".
class Selector {
 public:
  Selector(const std::string& yaml) : selector_(mustBuild(yaml)) {
    EXPECT_TRUE(protobuf::loadFromYaml(yaml, listener_).ok());
  }

  std::string select(const network::ConnectionSocket& socket) const {
    if (selector_ == nullptr) {
      return "<no selector>";
    }
    const FilterChainSelection selection = selector_->select(socket);
    switch (selection.kind) {
      case FilterChainSelection::Kind::None:
        return "none";
      case FilterChainSelection::Kind::Default:
        return "default";
      case FilterChainSelection::Kind::Chain:
        return listener_.filter_chains(selection.index).name();
    }
    return "?";
  }

  const FilterChainSelector& get() const { return *selector_; }

 private:
  std::unique_ptr<const FilterChainSelector> selector_;
  envoy::config::listener::v3::Listener listener_;
};

// A socket as listener filters leave it.
struct SocketSpec {
  std::string local = "10.0.0.1:80";
  std::string remote = "10.0.0.2:40000";
  std::string sni;
  std::string transport = "raw_buffer";
  std::vector<std::string> alpn;
};

std::unique_ptr<TestConnectionSocket> socket(const SocketSpec& spec) {
  auto result = std::make_unique<TestConnectionSocket>(spec.local, spec.remote);
  result->setRequestedServerName(spec.sni);
  result->setDetectedTransportProtocol(spec.transport);
  result->setRequestedApplicationProtocols(spec.alpn);
  return result;
}

// ---------------------------------------------------------------------------------------------
// filter_chain_matcher: istiod's main_internal listener (reference §3.2), trimmed to two
// services and two pod IPs. Service VIP 10.96.0.10 (reviews) has port 9080 of known protocol
// HTTP, port 3306 of known protocol TCP and port 8000 of unknown protocol (sniffed:
// ApplicationProtocolInput map with 'h2c' / 'http/1.1' keys, on_no_match the TCP chain).
// Service VIP 10.96.0.20 / fd00:10:96::20 (ratings, dual stack) has port 8080, unknown
// protocol. Pod IPs of the waypoint's workloads lead to direct-http / direct-tcp.
constexpr char kMainInternal[] = R"(
name: main_internal
internal_listener: {}
traffic_direction: INBOUND
listener_filters:
- name: envoy.filters.listener.original_dst
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst
filter_chain_matcher:
  matcher_tree:
    input:
      name: ip
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.DestinationIPInput
    custom_match:
      name: ip
      typed_config:
        "@type": type.googleapis.com/xds.type.matcher.v3.IPMatcher
        range_matchers:
        - ranges:
          - address_prefix: 10.96.0.10
            prefix_len: 32
          on_match:
            matcher:
              matcher_tree:
                input:
                  name: port
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.DestinationPortInput
                exact_match_map:
                  map:
                    "9080":
                      action:
                        name: inbound-vip|9080|http|reviews.default.svc.cluster.local
                        typed_config:
                          "@type": type.googleapis.com/google.protobuf.StringValue
                          value: inbound-vip|9080|http|reviews.default.svc.cluster.local
                    "3306":
                      action:
                        name: inbound-vip|3306|tcp|reviews.default.svc.cluster.local
                        typed_config:
                          "@type": type.googleapis.com/google.protobuf.StringValue
                          value: inbound-vip|3306|tcp|reviews.default.svc.cluster.local
                    "8000":
                      matcher:
                        matcher_tree:
                          input:
                            name: application-protocol
                            typed_config:
                              "@type": type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.ApplicationProtocolInput
                          exact_match_map:
                            map:
                              "'h2c'":
                                action:
                                  name: inbound-vip|8000|http|reviews.default.svc.cluster.local
                                  typed_config:
                                    "@type": type.googleapis.com/google.protobuf.StringValue
                                    value: inbound-vip|8000|http|reviews.default.svc.cluster.local
                              "'http/1.1'":
                                action:
                                  name: inbound-vip|8000|http|reviews.default.svc.cluster.local
                                  typed_config:
                                    "@type": type.googleapis.com/google.protobuf.StringValue
                                    value: inbound-vip|8000|http|reviews.default.svc.cluster.local
                        on_no_match:
                          action:
                            name: inbound-vip|8000|tcp|reviews.default.svc.cluster.local
                            typed_config:
                              "@type": type.googleapis.com/google.protobuf.StringValue
                              value: inbound-vip|8000|tcp|reviews.default.svc.cluster.local
        - ranges:
          - address_prefix: 10.96.0.20
            prefix_len: 32
          - address_prefix: fd00:10:96::20
            prefix_len: 128
          on_match:
            matcher:
              matcher_tree:
                input:
                  name: port
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.DestinationPortInput
                exact_match_map:
                  map:
                    "8080":
                      matcher:
                        matcher_tree:
                          input:
                            name: application-protocol
                            typed_config:
                              "@type": type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.ApplicationProtocolInput
                          exact_match_map:
                            map:
                              "'h2c'":
                                action:
                                  name: inbound-vip|8080|http|ratings.default.svc.cluster.local
                                  typed_config:
                                    "@type": type.googleapis.com/google.protobuf.StringValue
                                    value: inbound-vip|8080|http|ratings.default.svc.cluster.local
                              "'http/1.1'":
                                action:
                                  name: inbound-vip|8080|http|ratings.default.svc.cluster.local
                                  typed_config:
                                    "@type": type.googleapis.com/google.protobuf.StringValue
                                    value: inbound-vip|8080|http|ratings.default.svc.cluster.local
                        on_no_match:
                          action:
                            name: inbound-vip|8080|tcp|ratings.default.svc.cluster.local
                            typed_config:
                              "@type": type.googleapis.com/google.protobuf.StringValue
                              value: inbound-vip|8080|tcp|ratings.default.svc.cluster.local
        - ranges:
          - address_prefix: 10.244.1.5
            prefix_len: 32
          - address_prefix: 10.244.2.7
            prefix_len: 32
          - address_prefix: fd00:244::5
            prefix_len: 128
          on_match:
            matcher:
              matcher_tree:
                input:
                  name: application-protocol
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.ApplicationProtocolInput
                exact_match_map:
                  map:
                    "'h2c'":
                      action:
                        name: direct-http
                        typed_config:
                          "@type": type.googleapis.com/google.protobuf.StringValue
                          value: direct-http
                    "'http/1.1'":
                      action:
                        name: direct-http
                        typed_config:
                          "@type": type.googleapis.com/google.protobuf.StringValue
                          value: direct-http
              on_no_match:
                action:
                  name: direct-tcp
                  typed_config:
                    "@type": type.googleapis.com/google.protobuf.StringValue
                    value: direct-tcp
filter_chains:
- name: inbound-vip|9080|http|reviews.default.svc.cluster.local
- name: inbound-vip|3306|tcp|reviews.default.svc.cluster.local
- name: inbound-vip|8000|http|reviews.default.svc.cluster.local
- name: inbound-vip|8000|tcp|reviews.default.svc.cluster.local
- name: inbound-vip|8080|http|ratings.default.svc.cluster.local
- name: inbound-vip|8080|tcp|ratings.default.svc.cluster.local
- name: direct-http
- name: direct-tcp
)";

// A connection to main_internal as original_dst leaves it: the local address restored from the
// CONNECT authority, the remote from the client address; http_inspector's verdict as ALPN.
std::string selectInternal(const Selector& selector, const std::string& destination,
                           std::vector<std::string> alpn = {}) {
  TestConnectionSocket socket("10.0.0.1:15008", "10.0.0.1:40000");
  socket.restoreLocal(destination);
  socket.setRemote("10.244.9.9:51234");
  socket.setRequestedApplicationProtocols(std::move(alpn));
  return selector.select(socket);
}

TEST(FilterChainSelectorMatcherTest, IstiodMainInternal) {
  const Selector selector(kMainInternal);
  ASSERT_TRUE(selector.get().usesMatcher());
  // Known-protocol ports: the port decides, whatever the inspector found.
  EXPECT_EQ(selectInternal(selector, "10.96.0.10:9080"),
            "inbound-vip|9080|http|reviews.default.svc.cluster.local");
  EXPECT_EQ(selectInternal(selector, "10.96.0.10:9080", {"h2c"}),
            "inbound-vip|9080|http|reviews.default.svc.cluster.local");
  EXPECT_EQ(selectInternal(selector, "10.96.0.10:3306"),
            "inbound-vip|3306|tcp|reviews.default.svc.cluster.local");
  // Unknown-protocol port: the sniffed protocol decides, TCP when nothing HTTP was seen.
  EXPECT_EQ(selectInternal(selector, "10.96.0.10:8000", {"h2c"}),
            "inbound-vip|8000|http|reviews.default.svc.cluster.local");
  EXPECT_EQ(selectInternal(selector, "10.96.0.10:8000", {"http/1.1"}),
            "inbound-vip|8000|http|reviews.default.svc.cluster.local");
  EXPECT_EQ(selectInternal(selector, "10.96.0.10:8000"),
            "inbound-vip|8000|tcp|reviews.default.svc.cluster.local");
  EXPECT_EQ(selectInternal(selector, "10.96.0.10:8000", {"http/1.0"}),
            "inbound-vip|8000|tcp|reviews.default.svc.cluster.local");
  // A port the service does not have: nothing, and main_internal has no default chain.
  EXPECT_EQ(selectInternal(selector, "10.96.0.10:9999"), "none");
  // Dual-stack VIP.
  EXPECT_EQ(selectInternal(selector, "10.96.0.20:8080", {"http/1.1"}),
            "inbound-vip|8080|http|ratings.default.svc.cluster.local");
  EXPECT_EQ(selectInternal(selector, "[fd00:10:96::20]:8080", {"h2c"}),
            "inbound-vip|8080|http|ratings.default.svc.cluster.local");
  EXPECT_EQ(selectInternal(selector, "[fd00:10:96::20]:8080"),
            "inbound-vip|8080|tcp|ratings.default.svc.cluster.local");
  EXPECT_EQ(selectInternal(selector, "10.96.0.20:9080"), "none");
  // Pod IPs (workload-addressed traffic), any port.
  EXPECT_EQ(selectInternal(selector, "10.244.1.5:8080", {"http/1.1"}), "direct-http");
  EXPECT_EQ(selectInternal(selector, "10.244.2.7:9", {"h2c"}), "direct-http");
  EXPECT_EQ(selectInternal(selector, "10.244.2.7:9"), "direct-tcp");
  EXPECT_EQ(selectInternal(selector, "[fd00:244::5]:3306"), "direct-tcp");
  // Neither a VIP nor a pod of this waypoint.
  EXPECT_EQ(selectInternal(selector, "10.96.0.11:9080"), "none");
  EXPECT_EQ(selectInternal(selector, "[fd00:244::6]:80"), "none");
}

// AMBIENT_ENABLE_MULTI_NETWORK: the root is a FilterStateInput map on the CONNECT authority
// whose on_no_match is the IP matcher above.
TEST(FilterChainSelectorMatcherTest, IstiodMultiNetworkFilterStateRoot) {
  envoy::config::listener::v3::Listener listener;
  ASSERT_TRUE(protobuf::loadFromYaml(kMainInternal, listener).ok());
  xds::type::matcher::v3::Matcher ip_matcher = listener.filter_chain_matcher();
  auto* root = listener.mutable_filter_chain_matcher();
  ASSERT_TRUE(protobuf::loadFromYaml(R"(
matcher_tree:
  input:
    name: authority
    typed_config:
      "@type": type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.FilterStateInput
      key: io.istio.connect_authority
  exact_match_map:
    map:
      "reviews.remote.svc.cluster.local:9080":
        action:
          name: inbound-vip|9080|http|reviews.default.svc.cluster.local
          typed_config:
            "@type": type.googleapis.com/google.protobuf.StringValue
            value: inbound-vip|9080|http|reviews.default.svc.cluster.local
)",
                                     *root)
                  .ok());
  *root->mutable_on_no_match()->mutable_matcher() = ip_matcher;
  auto selector = FilterChainSelector::create(listener, "listeners[1]");
  ASSERT_TRUE(selector.ok()) << selector.status();

  TestConnectionSocket socket("10.0.0.1:15008", "10.0.0.1:40000");
  socket.restoreLocal("10.244.1.5:80");
  // No authority: the IP matcher decides (direct-tcp is filter_chains[7]).
  EXPECT_EQ((*selector)->select(socket), FilterChainSelection::chain(7));
  ASSERT_TRUE(socket.streamInfo()
                  .filter_state
                  ->setData("io.istio.connect_authority",
                            std::make_shared<stream_info::HashableString>(
                                "reviews.remote.svc.cluster.local:9080"),
                            stream_info::FilterState::StateType::ReadOnly)
                  .ok());
  EXPECT_EQ((*selector)->select(socket), FilterChainSelection::chain(0));
}

TEST(FilterChainSelectorMatcherTest, NoMatchUsesDefaultChain) {
  const Selector selector(R"(
filter_chain_matcher:
  matcher_tree:
    input:
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.ServerNameInput
    exact_match_map:
      map:
        api.example.com:
          action:
            typed_config: {"@type": type.googleapis.com/google.protobuf.StringValue, value: api}
filter_chains:
- name: api
  filter_chain_match: {server_names: [ignored.example.com]}  # ignored with a matcher
default_filter_chain:
  name: fallback
)");
  SocketSpec spec;
  spec.sni = "api.example.com";
  EXPECT_EQ(selector.select(*socket(spec)), "api");
  spec.sni = "ignored.example.com";
  EXPECT_EQ(selector.select(*socket(spec)), "default");
  spec.sni = "";
  EXPECT_EQ(selector.select(*socket(spec)), "default");
}

TEST(FilterChainSelectorMatcherTest, EverySourceAndTransportInput) {
  const Selector selector(R"(
filter_chain_matcher:
  matcher_list:
    matchers:
    - predicate:
        and_matcher:
          predicate:
          - single_predicate:
              input: {typed_config: {"@type": type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.TransportProtocolInput}}
              value_match: {exact: tls}
          - single_predicate:
              input: {typed_config: {"@type": type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.SourcePortInput}}
              value_match: {exact: "1234"}
      on_match: {action: {typed_config: {"@type": type.googleapis.com/google.protobuf.StringValue, value: tls-from-1234}}}
    - predicate:
        single_predicate:
          input: {typed_config: {"@type": type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.SourceTypeInput}}
          value_match: {exact: local}
      on_match: {action: {typed_config: {"@type": type.googleapis.com/google.protobuf.StringValue, value: local}}}
    - predicate:
        single_predicate:
          input: {typed_config: {"@type": type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.DirectSourceIPInput}}
          custom_match:
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.matching.input_matchers.ip.v3.Ip
              stat_prefix: direct
              cidr_ranges: [{address_prefix: 192.168.0.0, prefix_len: 16}]
      on_match: {action: {typed_config: {"@type": type.googleapis.com/google.protobuf.StringValue, value: direct-lan}}}
    - predicate:
        single_predicate:
          input: {typed_config: {"@type": type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.SourceIPInput}}
          value_match: {prefix: "172."}
      on_match: {action: {typed_config: {"@type": type.googleapis.com/google.protobuf.StringValue, value: source-172}}}
filter_chains:
- name: tls-from-1234
- name: local
- name: direct-lan
- name: source-172
)");
  SocketSpec spec;
  spec.transport = "tls";
  spec.remote = "10.0.0.2:1234";
  EXPECT_EQ(selector.select(*socket(spec)), "tls-from-1234");
  spec.remote = "10.0.0.2:1235";
  EXPECT_EQ(selector.select(*socket(spec)), "none");
  spec.remote = "127.0.0.1:1235";
  EXPECT_EQ(selector.select(*socket(spec)), "local");
  spec.remote = "192.168.3.4:1";
  EXPECT_EQ(selector.select(*socket(spec)), "direct-lan");
  // The direct source stays the connecting peer when the remote is replaced.
  auto replaced = socket(spec);
  replaced->setRemote("172.16.0.1:1");
  EXPECT_EQ(selector.select(*replaced), "direct-lan");
  spec.remote = "10.1.1.1:1";
  auto from_172 = socket(spec);
  from_172->setRemote("172.16.0.1:1");
  EXPECT_EQ(selector.select(*from_172), "source-172");
}

constexpr char kOneChainMatcher[] = R"(
filter_chain_matcher:
  on_no_match:
    action:
      typed_config: {"@type": type.googleapis.com/google.protobuf.StringValue, value: a}
)";

TEST(FilterChainSelectorMatcherTest, ConfigErrors) {
  EXPECT_THAT(buildError(absl::StrCat(kOneChainMatcher, "filter_chains: [{name: a}, {}]")),
              HasSubstr("static_resources.listeners[0].filter_chains[1].name: required when the "
                        "listener has a filter_chain_matcher"));
  EXPECT_THAT(buildError(absl::StrCat(kOneChainMatcher, "filter_chains: [{name: a}, {name: a}]")),
              HasSubstr("static_resources.listeners[0].filter_chains[1].name: duplicated value "
                        "'a' (also filter_chains[0])"));
  EXPECT_THAT(buildError(absl::StrCat(kOneChainMatcher, "filter_chains: [{name: b}]")),
              HasSubstr("static_resources.listeners[0].filter_chain_matcher.on_no_match.action."
                        "typed_config: no filter chain named 'a' in filter_chains"));
  // The default chain is not reachable by name (as in Envoy).
  EXPECT_THAT(buildError(absl::StrCat(
                  kOneChainMatcher, "filter_chains: [{name: b}]\ndefault_filter_chain: {name: a}")),
              HasSubstr("no filter chain named 'a'"));
  EXPECT_THAT(buildError(R"(
filter_chain_matcher:
  on_no_match:
    action:
      typed_config: {"@type": type.googleapis.com/google.protobuf.UInt32Value, value: 1}
filter_chains: [{name: a}]
)"),
              HasSubstr("filter_chain_matcher.on_no_match.action.typed_config: unsupported action "
                        "type 'google.protobuf.UInt32Value'"));
  EXPECT_THAT(buildError(R"(
filter_chain_matcher:
  matcher_tree:
    input: {typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst}}
    exact_match_map:
      map:
        x: {action: {typed_config: {"@type": type.googleapis.com/google.protobuf.StringValue, value: a}}}
filter_chains: [{name: a}]
)"),
              HasSubstr("static_resources.listeners[0].filter_chain_matcher.matcher_tree.input."
                        "typed_config: unsupported input type "
                        "'envoy.extensions.filters.listener.original_dst.v3.OriginalDst'"));
}

// ---------------------------------------------------------------------------------------------
// Classic filter_chain_match.

TEST(FilterChainSelectorClassicTest, SingleChainWithoutMatchTakesEverything) {
  const Selector selector("filter_chains: [{name: only}]");
  EXPECT_FALSE(selector.get().usesMatcher());
  EXPECT_EQ(selector.select(*socket({})), "only");
  EXPECT_EQ(selector.select(TestConnectionSocket("pipe:/tmp/l.sock", "pipe:/tmp/c.sock")), "only");
  SocketSpec v6;
  v6.local = "[::1]:80";
  v6.remote = "[::1]:5";
  EXPECT_EQ(selector.select(*socket(v6)), "only");
}

TEST(FilterChainSelectorClassicTest, NoChainsAndDefault) {
  EXPECT_EQ(Selector("{}").select(*socket({})), "none");
  EXPECT_EQ(Selector("default_filter_chain: {name: d}").select(*socket({})), "default");
}

TEST(FilterChainSelectorClassicTest, DestinationPortFirstAndNoFallbackToPortZero) {
  const Selector selector(R"(
filter_chains:
- name: port-8080-tls
  filter_chain_match: {destination_port: 8080, transport_protocol: tls}
- name: any-port
default_filter_chain: {name: d}
)");
  SocketSpec spec;
  spec.local = "10.0.0.1:9090";
  EXPECT_EQ(selector.select(*socket(spec)), "any-port");
  spec.local = "10.0.0.1:8080";
  spec.transport = "tls";
  EXPECT_EQ(selector.select(*socket(spec)), "port-8080-tls");
  // Port 8080 has its own subtree, which rejects raw_buffer: the default chain, not any-port.
  spec.transport = "raw_buffer";
  EXPECT_EQ(selector.select(*socket(spec)), "default");
  // original_dst's restored destination is what counts.
  auto restored = socket(spec);
  restored->restoreLocal("10.0.0.1:9090");
  EXPECT_EQ(selector.select(*restored), "any-port");
}

TEST(FilterChainSelectorClassicTest, DestinationIpMostSpecificWins) {
  const Selector selector(R"(
filter_chains:
- name: ten
  filter_chain_match: {prefix_ranges: [{address_prefix: 10.0.0.0, prefix_len: 8}]}
- name: ten-one-tls
  filter_chain_match:
    prefix_ranges: [{address_prefix: 10.1.0.0, prefix_len: 16}]
    transport_protocol: tls
- name: host
  filter_chain_match:
    prefix_ranges: [{address_prefix: 10.1.2.3, prefix_len: 32}, {address_prefix: "fd00::1", prefix_len: 128}]
- name: anywhere
)");
  SocketSpec spec;
  spec.local = "10.1.2.3:80";
  EXPECT_EQ(selector.select(*socket(spec)), "host");
  spec.local = "[fd00::1]:80";
  EXPECT_EQ(selector.select(*socket(spec)), "host");
  spec.local = "[fd00::2]:80";
  EXPECT_EQ(selector.select(*socket(spec)), "anywhere");
  spec.local = "10.2.0.1:80";
  EXPECT_EQ(selector.select(*socket(spec)), "ten");
  spec.local = "192.168.0.1:80";
  EXPECT_EQ(selector.select(*socket(spec)), "anywhere");
  spec.local = "10.1.9.9:80";
  spec.transport = "tls";
  EXPECT_EQ(selector.select(*socket(spec)), "ten-one-tls");
  // 10.1.0.0/16 is the most specific range and rejects raw_buffer: no fallback to 10.0.0.0/8.
  spec.transport = "raw_buffer";
  EXPECT_EQ(selector.select(*socket(spec)), "none");
  // A pipe matches as 255.255.255.255: only the catch-all.
  EXPECT_EQ(selector.select(TestConnectionSocket("pipe:/tmp/l.sock", "pipe:/tmp/c.sock")),
            "anywhere");
}

TEST(FilterChainSelectorClassicTest, ServerNamesExactThenLongestWildcard) {
  const Selector selector(R"(
filter_chains:
- name: exact
  filter_chain_match: {server_names: [WWW.Example.COM]}
- name: wild-example
  filter_chain_match: {server_names: ["*.example.com"]}
- name: wild-sub
  filter_chain_match: {server_names: ["*.sub.example.com", other.org]}
- name: wild-com
  filter_chain_match: {server_names: ["*.com"]}
- name: no-sni
)");
  SocketSpec spec;
  spec.sni = "www.example.com";
  EXPECT_EQ(selector.select(*socket(spec)), "exact");
  spec.sni = "api.example.com";
  EXPECT_EQ(selector.select(*socket(spec)), "wild-example");
  spec.sni = "a.b.sub.example.com";
  EXPECT_EQ(selector.select(*socket(spec)), "wild-sub");
  spec.sni = "other.org";
  EXPECT_EQ(selector.select(*socket(spec)), "wild-sub");
  spec.sni = "example.com";  // "*.example.com" needs a label before it
  EXPECT_EQ(selector.select(*socket(spec)), "wild-com");
  spec.sni = "foo.net";
  EXPECT_EQ(selector.select(*socket(spec)), "no-sni");
  spec.sni = "";
  EXPECT_EQ(selector.select(*socket(spec)), "no-sni");
  spec.sni = "API.Example.com";  // SNI is case-insensitive
  EXPECT_EQ(selector.select(*socket(spec)), "wild-example");
}

TEST(FilterChainSelectorClassicTest, TransportThenApplicationProtocols) {
  const Selector selector(R"(
filter_chains:
- name: tls-h2
  filter_chain_match: {transport_protocol: tls, application_protocols: [h2]}
- name: tls-http11
  filter_chain_match: {transport_protocol: tls, application_protocols: [http/1.1, http/1.0]}
- name: tls-other
  filter_chain_match: {transport_protocol: tls}
- name: plain
)");
  SocketSpec spec;
  spec.transport = "tls";
  spec.alpn = {"h2"};
  EXPECT_EQ(selector.select(*socket(spec)), "tls-h2");
  // The client's order decides: the first requested protocol that has chains.
  spec.alpn = {"http/1.1", "h2"};
  EXPECT_EQ(selector.select(*socket(spec)), "tls-http11");
  spec.alpn = {"spdy/3", "h2"};
  EXPECT_EQ(selector.select(*socket(spec)), "tls-h2");
  spec.alpn = {"http/1.0"};
  EXPECT_EQ(selector.select(*socket(spec)), "tls-http11");
  spec.alpn = {};
  EXPECT_EQ(selector.select(*socket(spec)), "tls-other");
  spec.transport = "raw_buffer";
  spec.alpn = {"h2"};
  EXPECT_EQ(selector.select(*socket(spec)), "plain");
}

TEST(FilterChainSelectorClassicTest, DirectSourceThenSourceTypeThenSourceIpAndPort) {
  const Selector selector(R"(
filter_chains:
- name: direct-lan
  filter_chain_match:
    direct_source_prefix_ranges: [{address_prefix: 192.168.0.0, prefix_len: 16}]
- name: local
  filter_chain_match: {source_type: SAME_IP_OR_LOOPBACK}
- name: external-from-172
  filter_chain_match:
    source_type: EXTERNAL
    source_prefix_ranges: [{address_prefix: 172.16.0.0, prefix_len: 12}]
- name: from-172-port-22
  filter_chain_match:
    source_prefix_ranges: [{address_prefix: 172.16.0.0, prefix_len: 12}]
    source_ports: [22]
- name: any-source
)");
  SocketSpec spec;
  spec.remote = "192.168.1.1:5";
  EXPECT_EQ(selector.select(*socket(spec)), "direct-lan");
  // The remote replaced (original_dst on an internal connection): direct source still decides.
  auto replaced = socket(spec);
  replaced->setRemote("127.0.0.1:5");
  EXPECT_EQ(selector.select(*replaced), "direct-lan");

  spec.remote = "127.0.0.1:5";
  EXPECT_EQ(selector.select(*socket(spec)), "local");
  spec.remote = "10.0.0.1:5";  // same IP as the local address
  EXPECT_EQ(selector.select(*socket(spec)), "local");
  spec.remote = "172.16.5.5:22";
  EXPECT_EQ(selector.select(*socket(spec)), "external-from-172");
  // EXTERNAL has chains but none for this source: no fallback to ANY's chains.
  spec.remote = "8.8.8.8:22";
  EXPECT_EQ(selector.select(*socket(spec)), "none");
}

TEST(FilterChainSelectorClassicTest, SourcePortExactThenAny) {
  const Selector selector(R"(
filter_chains:
- name: port-22
  filter_chain_match:
    source_prefix_ranges: [{address_prefix: 10.0.0.0, prefix_len: 8}]
    source_ports: [22, 2222]
- name: ten-any-port
  filter_chain_match:
    source_prefix_ranges: [{address_prefix: 10.0.0.0, prefix_len: 8}]
- name: narrow-port-only
  filter_chain_match:
    source_prefix_ranges: [{address_prefix: 10.9.0.0, prefix_len: 16}]
    source_ports: [443]
)");
  SocketSpec spec;
  spec.remote = "10.0.0.2:22";
  EXPECT_EQ(selector.select(*socket(spec)), "port-22");
  spec.remote = "10.0.0.2:2222";
  EXPECT_EQ(selector.select(*socket(spec)), "port-22");
  spec.remote = "10.0.0.2:23";
  EXPECT_EQ(selector.select(*socket(spec)), "ten-any-port");
  spec.remote = "10.9.0.2:443";
  EXPECT_EQ(selector.select(*socket(spec)), "narrow-port-only");
  // The /16 is the most specific source range; its ports do not include 80: nothing.
  spec.remote = "10.9.0.2:80";
  EXPECT_EQ(selector.select(*socket(spec)), "none");
}

TEST(FilterChainSelectorClassicTest, ConfigErrors) {
  EXPECT_THAT(buildError(R"(
filter_chains:
- name: a
  filter_chain_match: {destination_port: 80, server_names: [x.com]}
- name: b
  filter_chain_match: {destination_port: 80, server_names: [x.com]}
)"),
              HasSubstr("static_resources.listeners[0].filter_chains[1].filter_chain_match: "
                        "filter chain 'b' has the same matching rules defined as 'a'"));
  EXPECT_THAT(buildError("filter_chains: [{name: a}, {name: b}]"),
              HasSubstr("filter chain 'b' has the same matching rules defined as 'a'"));
  EXPECT_THAT(buildError(R"(
filter_chains:
- name: a
  filter_chain_match: {server_names: [x.com, y.com]}
- name: b
  filter_chain_match: {server_names: [y.com, z.com]}
)"),
              HasSubstr("static_resources.listeners[0].filter_chains[1].filter_chain_match: "
                        "multiple filter chains with overlapping matching rules are defined: "
                        "filter_chains[0] 'a' and filter_chains[1] 'b'"));
  // Different spellings of one range overlap too.
  EXPECT_THAT(buildError(R"(
filter_chains:
- name: a
  filter_chain_match: {prefix_ranges: [{address_prefix: 10.1.0.0, prefix_len: 8}]}
- name: b
  filter_chain_match: {prefix_ranges: [{address_prefix: 10.0.0.0, prefix_len: 8}]}
)"),
              HasSubstr("overlapping matching rules"));
  EXPECT_THAT(buildError(R"(
filter_chains:
- name: a
  filter_chain_match: {server_names: ["foo.*.com"]}
)"),
              HasSubstr("static_resources.listeners[0].filter_chains[0].filter_chain_match."
                        "server_names[0]: partial wildcards are not supported"));
  EXPECT_THAT(buildError(R"(
filter_chains:
- name: a
  filter_chain_match: {source_prefix_ranges: [{address_prefix: 10.0.0.0, prefix_len: 40}]}
)"),
              HasSubstr("static_resources.listeners[0].filter_chains[0].filter_chain_match."
                        "source_prefix_ranges[0].prefix_len: 40 is longer than the address"));
  EXPECT_THAT(buildError(R"(
filter_chains:
- name: a
  filter_chain_match: {direct_source_prefix_ranges: [{address_prefix: nope}]}
)"),
              HasSubstr("filter_chain_match.direct_source_prefix_ranges[0].address_prefix: "
                        "malformed IP address 'nope'"));
  EXPECT_THAT(buildError(R"(
filter_chains:
- name: a
  filter_chain_match: {destination_port: 70000}
)"),
              HasSubstr("filter_chain_match.destination_port: 70000 is not a port"));
  EXPECT_THAT(buildError(R"(
filter_chains:
- name: a
  filter_chain_match: {source_ports: [1, 0]}
)"),
              HasSubstr("filter_chain_match.source_ports[1]: 0 is not a port"));
  EXPECT_THAT(buildError(R"(
filter_chains:
- name: a
  filter_chain_match: {address_suffix: "::1"}
)"),
              HasSubstr("filter_chains[0].filter_chain_match: filter chain 'a' contains "
                        "unimplemented fields"));
}

// One selector, many workers: evaluation is const and keeps no state.
TEST(FilterChainSelectorMatcherTest, ConcurrentSelection) {
  const Selector selector(kMainInternal);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&selector, &wrong, t] {
      for (int i = 0; i < 500; ++i) {
        const bool http = (i + t) % 2 == 0;
        const std::string got =
            selectInternal(selector, "10.96.0.10:8000",
                           http ? std::vector<std::string>{"h2c"} : std::vector<std::string>{});
        const std::string want = http ? "inbound-vip|8000|http|reviews.default.svc.cluster.local"
                                      : "inbound-vip|8000|tcp|reviews.default.svc.cluster.local";
        if (got != want) {
          ++wrong;
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace waystone::server
