#include "source/extensions/filters/network/tcp_proxy/config.h"

#include <map>
#include <string>

#include "absl/strings/string_view.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "gtest/gtest.h"

#include "source/common/protobuf/utility.h"
#include "source/common/stats/store.h"
#include "source/upstream/cluster_manager.h"

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
)EOF",
                                                 bootstrap);
    ASSERT_TRUE(status.ok()) << status;
    auto manager = upstream::ClusterManager::create(bootstrap, store_);
    ASSERT_TRUE(manager.ok()) << manager.status();
    cluster_manager_ = std::move(*manager);
  }

  absl::StatusOr<TcpProxyConfigConstSharedPtr> create(absl::string_view yaml) {
    TcpProxy proto;
    absl::Status status = protobuf::loadFromYaml(yaml, proto);
    EXPECT_TRUE(status.ok()) << status;
    return TcpProxyConfig::create(proto, *cluster_manager_, store_, std::string(kPath));
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
  upstream::ClusterManagerPtr cluster_manager_;
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
    EXPECT_EQ(config->pickCluster(random)->name(), "b");
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
    ++picks[config->pickCluster(random)->name()];
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
  EXPECT_EQ(config->pickCluster(~uint64_t{0})->name(), "b");       // odd
  EXPECT_EQ(config->pickCluster(~uint64_t{0} - 1)->name(), "a");   // even
  EXPECT_EQ(config->pickCluster(uint64_t{1} << 63)->name(), "a");  // even
  EXPECT_EQ(config->pickCluster((uint64_t{1} << 63) + 1)->name(), "b");
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
    ++picks[config->pickCluster(random)->name()];
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
  auto factory = createFilterFactory(proto, *cluster_manager_, store_, std::string(kPath));
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
  auto factory = createFilterFactory(proto, *cluster_manager_, store_, "my.path");
  ASSERT_FALSE(factory.ok());
  EXPECT_EQ(factory.status().message(), "my.path.cluster: unknown cluster \"zzz\"");
}

}  // namespace
}  // namespace waystone::extensions::network_filters::tcp_proxy
