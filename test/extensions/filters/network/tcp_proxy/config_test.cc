#include "source/extensions/filters/network/tcp_proxy/config.h"

#include <map>
#include <string>

#include "absl/strings/string_view.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "gtest/gtest.h"

#include "source/common/event/dispatcher_impl.h"
#include "source/common/network/address.h"
#include "source/common/protobuf/utility.h"
#include "source/common/stats/store.h"
#include "source/common/stream_info/filter_state_objects.h"
#include "source/upstream/cluster_manager.h"
#include "source/upstream/thread_local_cluster_manager.h"

namespace waystone::extensions::network_filters::tcp_proxy {
namespace {

using envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy;

constexpr absl::string_view kPath =
    "static_resources.listeners[0].filter_chains[0].filters[0].typed_config";

class TcpProxyConfigTest : public testing::Test {
 protected:
  void SetUp() override {
    envoy::config::bootstrap::v3::Bootstrap bootstrap;
    absl::Status status = protobuf::loadFromYaml(R"EOF(
static_resources:
  clusters:
  - { name: a, type: STATIC }
  - { name: b, type: STATIC }
  - { name: c, type: STATIC }
  - name: h2
    type: STATIC
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {http2_protocol_options: {}}
)EOF",
                                                 bootstrap);
    ASSERT_TRUE(status.ok()) << status;
    auto manager = upstream::ClusterManager::create(bootstrap, store_);
    ASSERT_TRUE(manager.ok()) << manager.status();
    cluster_manager_ = std::move(*manager);
    auto workers = upstream::WorkerClusterManagers::create(*cluster_manager_, dispatcher_);
    ASSERT_TRUE(workers.ok()) << workers.status();
    workers_ = std::move(*workers);
  }

  absl::StatusOr<TcpProxyConfigConstSharedPtr> create(absl::string_view yaml) {
    TcpProxy proto;
    absl::Status status = protobuf::loadFromYaml(yaml, proto);
    EXPECT_TRUE(status.ok()) << status;
    return TcpProxyConfig::create(proto, *cluster_manager_, *workers_, store_, std::string(kPath));
  }

  TcpProxyConfigConstSharedPtr createOrFail(absl::string_view yaml) {
    auto config = create(yaml);
    EXPECT_TRUE(config.ok()) << config.status();
    return config.ok() ? *config : nullptr;
  }

  // The error message of a config that must fail.
  std::string error(absl::string_view yaml) {
    auto config = create(yaml);
    EXPECT_FALSE(config.ok());
    if (config.ok()) {
      return "";
    }
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(config.status().message());
  }

  stats::Store store_;
  event::DispatcherImpl dispatcher_{"test"};
  upstream::ClusterManagerPtr cluster_manager_;
  std::unique_ptr<upstream::WorkerClusterManagers> workers_;
};

TEST_F(TcpProxyConfigTest, MissingStatPrefix) {
  EXPECT_EQ(error("cluster: a"), std::string(kPath) + ".stat_prefix: must not be empty");
}

TEST_F(TcpProxyConfigTest, UnknownCluster) {
  EXPECT_EQ(error("{ stat_prefix: t, cluster: nope }"),
            std::string(kPath) + ".cluster: unknown cluster \"nope\"");
}

TEST_F(TcpProxyConfigTest, NoClusterSpecifier) {
  EXPECT_EQ(error("stat_prefix: t"),
            std::string(kPath) + ": one of cluster or weighted_clusters is required");
}

TEST_F(TcpProxyConfigTest, SingleCluster) {
  TcpProxyConfigConstSharedPtr config = createOrFail("{ stat_prefix: t, cluster: b }");
  ASSERT_NE(config, nullptr);
  for (uint64_t random : {uint64_t{0}, uint64_t{1}, uint64_t{12345}, ~uint64_t{0}}) {
    EXPECT_EQ(config->pickCluster(random), "b");
  }
}

TEST_F(TcpProxyConfigTest, WeightedClustersUnknownClusterNamesTheEntry) {
  EXPECT_EQ(
      error(R"EOF(
stat_prefix: t
weighted_clusters:
  clusters:
  - { name: a, weight: 1 }
  - { name: missing, weight: 1 }
)EOF"),
      std::string(kPath) + ".weighted_clusters.clusters[1].name: unknown cluster \"missing\"");
}

TEST_F(TcpProxyConfigTest, WeightedClustersAllZeroWeights) {
  EXPECT_EQ(error(R"EOF(
stat_prefix: t
weighted_clusters:
  clusters:
  - { name: a, weight: 0 }
  - { name: b }
)EOF"),
            std::string(kPath) +
                ".weighted_clusters.clusters: needs at least one cluster with weight > 0");
}

TEST_F(TcpProxyConfigTest, WeightedClustersEmptyList) {
  EXPECT_EQ(error("{ stat_prefix: t, weighted_clusters: { clusters: [] } }"),
            std::string(kPath) +
                ".weighted_clusters.clusters: needs at least one cluster with weight > 0");
}

TEST_F(TcpProxyConfigTest, WeightedDistributionIsProportionalToWeights) {
  TcpProxyConfigConstSharedPtr config = createOrFail(R"EOF(
stat_prefix: t
weighted_clusters:
  clusters:
  - { name: a, weight: 1 }
  - { name: b, weight: 3 }
  - { name: c, weight: 6 }
)EOF");
  ASSERT_NE(config, nullptr);
  const std::map<std::string, uint64_t> weights = {{"a", 1}, {"b", 3}, {"c", 6}};
  const uint64_t total = 10;
  // Deterministic inputs covering every residue equally often.
  constexpr uint64_t kPicks = 10000;
  std::map<std::string, uint64_t> picks;
  for (uint64_t random = 0; random < kPicks; ++random) {
    ++picks[config->pickCluster(random)];
  }
  ASSERT_EQ(picks.size(), weights.size());
  for (const auto& [name, weight] : weights) {
    EXPECT_EQ(picks[name], kPicks * weight / total) << name;
  }
}

TEST_F(TcpProxyConfigTest, WeightedPickIsStableForLargeRandomValues) {
  TcpProxyConfigConstSharedPtr config = createOrFail(R"EOF(
stat_prefix: t
weighted_clusters:
  clusters:
  - { name: a, weight: 1 }
  - { name: b, weight: 1 }
)EOF");
  ASSERT_NE(config, nullptr);
  // Only random % total matters, whatever the magnitude.
  EXPECT_EQ(config->pickCluster(~uint64_t{0}), "b");       // odd
  EXPECT_EQ(config->pickCluster(~uint64_t{0} - 1), "a");   // even
  EXPECT_EQ(config->pickCluster(uint64_t{1} << 63), "a");  // even
  EXPECT_EQ(config->pickCluster((uint64_t{1} << 63) + 1), "b");
}

TEST_F(TcpProxyConfigTest, ZeroWeightClustersAreNeverPicked) {
  TcpProxyConfigConstSharedPtr config = createOrFail(R"EOF(
stat_prefix: t
weighted_clusters:
  clusters:
  - { name: a, weight: 0 }
  - { name: b, weight: 2 }
  - { name: c, weight: 0 }
  - { name: a, weight: 2 }
)EOF");
  ASSERT_NE(config, nullptr);
  std::map<std::string, int> picks;
  for (uint64_t random = 0; random < 400; ++random) {
    ++picks[config->pickCluster(random)];
  }
  EXPECT_EQ(picks.count("c"), 0u);
  // The zero-weight "a" entry is dropped; the later "a" entry with weight 2 still counts.
  EXPECT_EQ(picks["a"], 200);
  EXPECT_EQ(picks["b"], 200);
}

TEST_F(TcpProxyConfigTest, IdleTimeoutDefaultsToOneHour) {
  TcpProxyConfigConstSharedPtr config = createOrFail("{ stat_prefix: t, cluster: a }");
  ASSERT_NE(config, nullptr);
  EXPECT_EQ(config->idleTimeout(), std::chrono::hours(1));
}

TEST_F(TcpProxyConfigTest, IdleTimeoutZeroDisables) {
  TcpProxyConfigConstSharedPtr config =
      createOrFail("{ stat_prefix: t, cluster: a, idle_timeout: 0s }");
  ASSERT_NE(config, nullptr);
  EXPECT_EQ(config->idleTimeout(), std::chrono::milliseconds(0));
}

TEST_F(TcpProxyConfigTest, IdleTimeoutExplicit) {
  TcpProxyConfigConstSharedPtr config =
      createOrFail("{ stat_prefix: t, cluster: a, idle_timeout: 1.5s }");
  ASSERT_NE(config, nullptr);
  EXPECT_EQ(config->idleTimeout(), std::chrono::milliseconds(1500));
}

TEST_F(TcpProxyConfigTest, MaxConnectAttemptsDefaultsToOne) {
  TcpProxyConfigConstSharedPtr config = createOrFail("{ stat_prefix: t, cluster: a }");
  ASSERT_NE(config, nullptr);
  EXPECT_EQ(config->maxConnectAttempts(), 1u);
}

TEST_F(TcpProxyConfigTest, MaxConnectAttemptsExplicit) {
  TcpProxyConfigConstSharedPtr config =
      createOrFail("{ stat_prefix: t, cluster: a, max_connect_attempts: 3 }");
  ASSERT_NE(config, nullptr);
  EXPECT_EQ(config->maxConnectAttempts(), 3u);
}

TEST_F(TcpProxyConfigTest, MaxConnectAttemptsZeroIsAnError) {
  EXPECT_EQ(error("{ stat_prefix: t, cluster: a, max_connect_attempts: 0 }"),
            std::string(kPath) + ".max_connect_attempts: must be at least 1");
}

TEST_F(TcpProxyConfigTest, StatsUseTheTcpPrefix) {
  TcpProxyConfigConstSharedPtr config = createOrFail("{ stat_prefix: ingress_tcp, cluster: a }");
  ASSERT_NE(config, nullptr);
  config->stats().downstream_cx_total.inc();
  config->stats().idle_timeout.add(2);
  EXPECT_EQ(store_.counterFromString("tcp.ingress_tcp.downstream_cx_total").value(), 1u);
  EXPECT_EQ(store_.counterFromString("tcp.ingress_tcp.idle_timeout").value(), 2u);
  EXPECT_EQ(store_.counterFromString("tcp.ingress_tcp.downstream_cx_no_route").value(), 0u);
}

TEST_F(TcpProxyConfigTest, FilterFactoryCreatesAFilterPerCall) {
  TcpProxy proto;
  ASSERT_TRUE(protobuf::loadFromYaml("{ stat_prefix: t, cluster: a }", proto).ok());
  auto factory =
      createFilterFactory(proto, *cluster_manager_, *workers_, store_, std::string(kPath));
  ASSERT_TRUE(factory.ok()) << factory.status();
  network::ReadFilterPtr first = (*factory)();
  network::ReadFilterPtr second = (*factory)();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_NE(first.get(), second.get());
}

TEST_F(TcpProxyConfigTest, FilterFactoryPropagatesErrors) {
  TcpProxy proto;
  ASSERT_TRUE(protobuf::loadFromYaml("{ stat_prefix: t, cluster: zzz }", proto).ok());
  auto factory = createFilterFactory(proto, *cluster_manager_, *workers_, store_, "my.path");
  ASSERT_FALSE(factory.ok());
  EXPECT_EQ(factory.status().message(), "my.path.cluster: unknown cluster \"zzz\"");
}

TEST_F(TcpProxyConfigTest, MaxDownstreamConnectionDuration) {
  TcpProxyConfigConstSharedPtr config = createOrFail("{ stat_prefix: t, cluster: a }");
  ASSERT_NE(config, nullptr);
  EXPECT_FALSE(config->maxDownstreamConnectionDuration().has_value());
  config = createOrFail("{ stat_prefix: t, cluster: a, max_downstream_connection_duration: 2s }");
  ASSERT_NE(config, nullptr);
  EXPECT_EQ(config->maxDownstreamConnectionDuration(), std::chrono::milliseconds(2000));
}

TEST_F(TcpProxyConfigTest, NoTunnelingByDefault) {
  TcpProxyConfigConstSharedPtr config = createOrFail("{ stat_prefix: t, cluster: a }");
  ASSERT_NE(config, nullptr);
  EXPECT_EQ(config->tunneling(), nullptr);
}

TEST_F(TcpProxyConfigTest, TunnelingBuildsClassicConnect) {
  TcpProxyConfigConstSharedPtr config = createOrFail(R"EOF(
stat_prefix: t
cluster: h2
tunneling_config:
  hostname: "%DOWNSTREAM_LOCAL_ADDRESS%"
  headers_to_add:
  - header: { key: X-Literal, value: "one" }
  - header: { key: x-literal, value: "two" }
  - header: { key: x-over, value: "first" }
    append_action: OVERWRITE_IF_EXISTS_OR_ADD
  - header: { key: x-over, value: "second" }
    append_action: OVERWRITE_IF_EXISTS_OR_ADD
  - header: { key: x-absent-only, value: "added" }
    append_action: ADD_IF_ABSENT
  - header: { key: x-only-if-there, value: "never" }
    append_action: OVERWRITE_IF_EXISTS
  - header: { key: x-missing, value: "%FILTER_STATE(nope:PLAIN)%" }
  - header: { key: x-kept-empty, value: "%FILTER_STATE(nope:PLAIN)%" }
    keep_empty_value: true
  - header: { key: x-state, value: "v=%FILTER_STATE(my.key:PLAIN)%" }
  - header: { key: x-legacy, value: "old" }
    append: false
)EOF");
  ASSERT_NE(config, nullptr);
  ASSERT_NE(config->tunneling(), nullptr);
  stream_info::StreamInfo info;
  auto local = network::address::parseIp("10.1.2.3", 8080);
  ASSERT_TRUE(local.ok());
  info.downstream_local_address = *local;
  ASSERT_TRUE(info.filter_state
                  ->setData("my.key", std::make_shared<stream_info::StringAccessor>("abc"),
                            stream_info::FilterState::StateType::ReadOnly)
                  .ok());
  http::RequestHeaderMapPtr headers = config->tunneling()->requestHeaders(info);
  EXPECT_EQ(headers->method(), "CONNECT");
  EXPECT_EQ(headers->host(), "10.1.2.3:8080");
  EXPECT_FALSE(headers->has(":path"));
  EXPECT_FALSE(headers->has(":scheme"));
  EXPECT_EQ(headers->getAll("x-literal"), (std::vector<absl::string_view>{"one", "two"}));
  EXPECT_EQ(headers->getAll("x-over"), (std::vector<absl::string_view>{"second"}));
  EXPECT_EQ(headers->getValue("x-absent-only"), "added");
  EXPECT_FALSE(headers->has("x-only-if-there"));
  EXPECT_FALSE(headers->has("x-missing"));
  EXPECT_TRUE(headers->has("x-kept-empty"));
  EXPECT_EQ(headers->getValue("x-kept-empty"), "");
  EXPECT_EQ(headers->getValue("x-state"), "v=abc");
  EXPECT_EQ(headers->getValue("x-legacy"), "old");
  EXPECT_FALSE(config->tunneling()->propagateResponseHeaders());
}

TEST_F(TcpProxyConfigTest, TunnelingHostnameMissingValueIsADash) {
  TcpProxyConfigConstSharedPtr config = createOrFail(
      "{ stat_prefix: t, cluster: h2, tunneling_config: { hostname: "
      "'%FILTER_STATE(absent:PLAIN)%:443', propagate_response_headers: true } }");
  ASSERT_NE(config, nullptr);
  stream_info::StreamInfo info;
  EXPECT_EQ(config->tunneling()->requestHeaders(info)->host(), "-:443");
  EXPECT_TRUE(config->tunneling()->propagateResponseHeaders());
}

TEST_F(TcpProxyConfigTest, TunnelingRefusesPost) {
  EXPECT_EQ(error("{ stat_prefix: t, cluster: h2, tunneling_config: { hostname: h, use_post: true "
                  "} }"),
            std::string(kPath) +
                ".tunneling_config.use_post: not supported: Waystone tunnels with HTTP/2 CONNECT "
                "only");
  EXPECT_EQ(error("{ stat_prefix: t, cluster: h2, tunneling_config: { hostname: h, post_path: /x "
                  "} }"),
            std::string(kPath) + ".tunneling_config.post_path: only valid with use_post");
}

TEST_F(TcpProxyConfigTest, TunnelingRefusesPseudoHeadersAndHost) {
  EXPECT_EQ(error(R"EOF(
stat_prefix: t
cluster: h2
tunneling_config:
  hostname: h
  headers_to_add: [{ header: { key: ":authority", value: x } }]
)EOF"),
            std::string(kPath) +
                ".tunneling_config.headers_to_add[0].header.key: :-prefixed or host headers may "
                "not be modified");
  EXPECT_EQ(error(R"EOF(
stat_prefix: t
cluster: h2
tunneling_config:
  hostname: h
  headers_to_add: [{ header: { key: ok, value: x } }, { header: { key: Host, value: x } }]
)EOF"),
            std::string(kPath) +
                ".tunneling_config.headers_to_add[1].header.key: :-prefixed or host headers may "
                "not be modified");
}

TEST_F(TcpProxyConfigTest, TunnelingBadFormatNamesTheField) {
  const std::string message =
      error("{ stat_prefix: t, cluster: h2, tunneling_config: { hostname: '%NOPE%' } }");
  EXPECT_EQ(message.rfind(std::string(kPath) + ".tunneling_config.hostname: ", 0), 0u) << message;
}

TEST_F(TcpProxyConfigTest, TunnelingNeedsAnHttp2Cluster) {
  EXPECT_EQ(
      error("{ stat_prefix: t, cluster: a, tunneling_config: { hostname: h } }"),
      std::string(kPath) +
          ".tunneling_config: cluster \"a\" must use HTTP/2 (typed_extension_protocol_options "
          "HttpProtocolOptions explicit_http_config.http2_protocol_options); HTTP/1.1 "
          "CONNECT tunneling is not supported");
}

TEST_F(TcpProxyConfigTest, HashPolicies) {
  TcpProxyConfigConstSharedPtr config =
      createOrFail("{ stat_prefix: t, cluster: a, hash_policy: [{ source_ip: {} }] }");
  ASSERT_NE(config, nullptr);
  ASSERT_TRUE(config->hashPolicy().has_value());
  EXPECT_EQ(config->hashPolicy()->kind, TcpHashPolicy::Kind::SourceIp);
  config =
      createOrFail("{ stat_prefix: t, cluster: a, hash_policy: [{ filter_state: { key: k } }] }");
  ASSERT_NE(config, nullptr);
  EXPECT_EQ(config->hashPolicy()->kind, TcpHashPolicy::Kind::FilterState);
  EXPECT_EQ(config->hashPolicy()->filter_state_key, "k");
}

TEST_F(TcpProxyConfigTest, MetadataMatchAndOnDemandAreRefused) {
  EXPECT_EQ(error("{ stat_prefix: t, cluster: a, metadata_match: { filter_metadata: { envoy.lb: "
                  "{ k: v } } } }"),
            std::string(kPath) + ".metadata_match: not supported (no subset load balancing)");
  EXPECT_EQ(error("{ stat_prefix: t, cluster: a, on_demand: {} }"),
            std::string(kPath) + ".on_demand: not supported (no on-demand CDS)");
}

TEST_F(TcpProxyConfigTest, AccessLogIsAccepted) {
  // No access logs in Waystone yet: accepted (istiod sends them) and not acted on.
  TcpProxyConfigConstSharedPtr config = createOrFail(R"EOF(
stat_prefix: t
cluster: a
access_log:
- name: envoy.access_loggers.file
  typed_config:
    "@type": type.googleapis.com/google.protobuf.Struct
)EOF");
  EXPECT_NE(config, nullptr);
}

}  // namespace
}  // namespace waystone::extensions::network_filters::tcp_proxy
