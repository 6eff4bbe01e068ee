#include "source/upstream/cluster_manager.h"

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "gtest/gtest.h"

#include "source/common/protobuf/utility.h"
#include "source/common/stats/store.h"
#include "source/upstream/load_balancer.h"

namespace waystone::upstream {
namespace {

using envoy::config::bootstrap::v3::Bootstrap;

class ClusterManagerTest : public testing::Test {
 protected:
  absl::StatusOr<ClusterManagerPtr> create(absl::string_view yaml) {
    Bootstrap bootstrap;
    absl::Status status = protobuf::loadFromYaml(yaml, bootstrap);
    EXPECT_TRUE(status.ok()) << status;
    return ClusterManager::create(bootstrap, store_);
  }

  ClusterManagerPtr createOrFail(absl::string_view yaml) {
    absl::StatusOr<ClusterManagerPtr> manager = create(yaml);
    EXPECT_TRUE(manager.ok()) << manager.status();
    return manager.ok() ? std::move(*manager) : nullptr;
  }

  stats::Store store_;
};

// A loopback address: 127.0.0.0/8 or ::1.
bool isLoopback(const network::address::Instance& address) {
  return address.type() == network::address::Type::Ip &&
         (absl::StartsWith(address.ipString(), "127.") || address.ipString() == "::1");
}

constexpr absl::string_view kStaticYaml = R"EOF(
static_resources:
  clusters:
  - name: backend
    type: STATIC
    connect_timeout: 0.25s
    per_connection_buffer_limit_bytes: 32768
    load_assignment:
      cluster_name: backend
      endpoints:
      - locality: { region: us-east1, zone: us-east1-b, sub_zone: rack1 }
        lb_endpoints:
        - endpoint:
            address: { socket_address: { address: 10.0.0.1, port_value: 8080 } }
            hostname: a.example
          load_balancing_weight: 3
        - endpoint:
            address: { socket_address: { address: "::1", port_value: 9090 } }
      - locality: { region: eu-west1 }
        lb_endpoints:
        - endpoint:
            address: { socket_address: { address: 10.0.0.2, port_value: 8081 } }
          load_balancing_weight: 7
  - name: empty
    type: STATIC
)EOF";

TEST_F(ClusterManagerTest, StaticHostsWithWeightsAndLocalities) {
  ClusterManagerPtr manager = createOrFail(kStaticYaml);
  ASSERT_NE(manager, nullptr);
  EXPECT_EQ(manager->clusters().size(), 2u);
  ClusterConstSharedPtr cluster = manager->get("backend");
  ASSERT_NE(cluster, nullptr);
  EXPECT_EQ(cluster->name(), "backend");
  EXPECT_EQ(cluster->config().type(), envoy::config::cluster::v3::Cluster::STATIC);

  const HostVector& hosts = cluster->hosts();
  ASSERT_EQ(hosts.size(), 3u);
  // In configuration order.
  EXPECT_EQ(hosts[0]->address()->asString(), "10.0.0.1:8080");
  EXPECT_EQ(hosts[1]->address()->asString(), "[::1]:9090");
  EXPECT_EQ(hosts[2]->address()->asString(), "10.0.0.2:8081");
  // load_balancing_weight, 1 when absent.
  EXPECT_EQ(hosts[0]->weight(), 3u);
  EXPECT_EQ(hosts[1]->weight(), 1u);
  EXPECT_EQ(hosts[2]->weight(), 7u);
  // Each host carries the locality of its group.
  EXPECT_EQ(hosts[0]->locality().region(), "us-east1");
  EXPECT_EQ(hosts[0]->locality().zone(), "us-east1-b");
  EXPECT_EQ(hosts[0]->locality().sub_zone(), "rack1");
  EXPECT_EQ(hosts[1]->locality().region(), "us-east1");
  EXPECT_EQ(hosts[2]->locality().region(), "eu-west1");
  EXPECT_EQ(hosts[2]->locality().zone(), "");
  EXPECT_EQ(hosts[0]->hostname(), "a.example");
  EXPECT_EQ(hosts[1]->hostname(), "");
  for (const auto& host : hosts) {
    EXPECT_EQ(host->clusterName(), "backend");
  }
}

TEST_F(ClusterManagerTest, ExplicitTimeoutAndBufferLimit) {
  ClusterManagerPtr manager = createOrFail(kStaticYaml);
  ASSERT_NE(manager, nullptr);
  ClusterConstSharedPtr cluster = manager->get("backend");
  ASSERT_NE(cluster, nullptr);
  EXPECT_EQ(cluster->connectTimeout(), std::chrono::milliseconds(250));
  EXPECT_EQ(cluster->perConnectionBufferLimitBytes(), 32768u);
}

TEST_F(ClusterManagerTest, DefaultConnectTimeoutAndBufferLimit) {
  ClusterManagerPtr manager = createOrFail(kStaticYaml);
  ASSERT_NE(manager, nullptr);
  ClusterConstSharedPtr cluster = manager->get("empty");
  ASSERT_NE(cluster, nullptr);
  // Envoy's defaults: 5 s and 1 MiB.
  EXPECT_EQ(cluster->connectTimeout(), std::chrono::seconds(5));
  EXPECT_EQ(cluster->perConnectionBufferLimitBytes(), 1024u * 1024u);
  EXPECT_TRUE(cluster->hosts().empty());
}

TEST_F(ClusterManagerTest, UnknownClusterIsNull) {
  ClusterManagerPtr manager = createOrFail(kStaticYaml);
  ASSERT_NE(manager, nullptr);
  EXPECT_EQ(manager->get("nope"), nullptr);
  EXPECT_EQ(manager->get(""), nullptr);
}

TEST_F(ClusterManagerTest, NoClusters) {
  ClusterManagerPtr manager = createOrFail("admin: {}");
  ASSERT_NE(manager, nullptr);
  EXPECT_TRUE(manager->clusters().empty());
}

TEST_F(ClusterManagerTest, MembershipGauges) {
  ClusterManagerPtr manager = createOrFail(kStaticYaml);
  ASSERT_NE(manager, nullptr);
  EXPECT_EQ(store_.gaugeFromString("cluster.backend.membership_total").value(), 3u);
  EXPECT_EQ(store_.gaugeFromString("cluster.backend.membership_healthy").value(), 3u);
  EXPECT_EQ(store_.gaugeFromString("cluster.empty.membership_total").value(), 0u);
  EXPECT_TRUE(store_.gaugeFromString("cluster.empty.membership_total").used());
  EXPECT_EQ(store_.gaugeFromString("cluster.empty.membership_healthy").value(), 0u);
}

TEST_F(ClusterManagerTest, ClusterStatsUseTheClusterScope) {
  ClusterManagerPtr manager = createOrFail(kStaticYaml);
  ASSERT_NE(manager, nullptr);
  ClusterConstSharedPtr cluster = manager->get("backend");
  ASSERT_NE(cluster, nullptr);
  cluster->stats().upstream_cx_total.inc();
  cluster->stats().upstream_cx_connect_fail.add(2);
  EXPECT_EQ(store_.counterFromString("cluster.backend.upstream_cx_total").value(), 1u);
  EXPECT_EQ(store_.counterFromString("cluster.backend.upstream_cx_connect_fail").value(), 2u);
  EXPECT_EQ(store_.counterFromString("cluster.empty.upstream_cx_total").value(), 0u);
}

TEST_F(ClusterManagerTest, StrictDnsResolvesLocalhost) {
  ClusterManagerPtr manager = createOrFail(R"EOF(
static_resources:
  clusters:
  - name: dns
    type: STRICT_DNS
    load_assignment:
      cluster_name: dns
      endpoints:
      - lb_endpoints:
        - endpoint:
            address: { socket_address: { address: localhost, port_value: 4242 } }
          load_balancing_weight: 5
)EOF");
  ASSERT_NE(manager, nullptr);
  ClusterConstSharedPtr cluster = manager->get("dns");
  ASSERT_NE(cluster, nullptr);
  const HostVector& hosts = cluster->hosts();
  ASSERT_GE(hosts.size(), 1u);
  bool any_loopback = false;
  std::set<std::string> seen;
  for (const auto& host : hosts) {
    any_loopback |= isLoopback(*host->address());
    // Every resolved address inherits the endpoint's port and weight.
    EXPECT_EQ(host->address()->port(), 4242);
    EXPECT_EQ(host->weight(), 5u);
    EXPECT_TRUE(seen.insert(host->address()->asString()).second)
        << "duplicate address " << host->address()->asString();
  }
  EXPECT_TRUE(any_loopback);
  EXPECT_EQ(store_.gaugeFromString("cluster.dns.membership_total").value(), hosts.size());
}

TEST_F(ClusterManagerTest, StrictDnsV4OnlyGivesIpv4) {
  ClusterManagerPtr manager = createOrFail(R"EOF(
static_resources:
  clusters:
  - name: dns
    type: STRICT_DNS
    dns_lookup_family: V4_ONLY
    load_assignment:
      cluster_name: dns
      endpoints:
      - lb_endpoints:
        - endpoint:
            address: { socket_address: { address: localhost, port_value: 80 } }
)EOF");
  ASSERT_NE(manager, nullptr);
  const HostVector& hosts = manager->get("dns")->hosts();
  ASSERT_GE(hosts.size(), 1u);
  for (const auto& host : hosts) {
    EXPECT_EQ(host->address()->version(), network::address::IpVersion::V4);
    EXPECT_TRUE(isLoopback(*host->address())) << host->address()->asString();
  }
}

TEST_F(ClusterManagerTest, StrictDnsAcceptsIpLiterals) {
  ClusterManagerPtr manager = createOrFail(R"EOF(
static_resources:
  clusters:
  - name: dns
    type: STRICT_DNS
    load_assignment:
      cluster_name: dns
      endpoints:
      - lb_endpoints:
        - endpoint:
            address: { socket_address: { address: 127.0.0.3, port_value: 81 } }
        - endpoint:
            address: { socket_address: { address: 127.0.0.4, port_value: 82 } }
)EOF");
  ASSERT_NE(manager, nullptr);
  const HostVector& hosts = manager->get("dns")->hosts();
  ASSERT_EQ(hosts.size(), 2u);
  EXPECT_EQ(hosts[0]->address()->asString(), "127.0.0.3:81");
  EXPECT_EQ(hosts[1]->address()->asString(), "127.0.0.4:82");
}

TEST_F(ClusterManagerTest, LogicalDnsKeepsOneAddress) {
  constexpr absl::string_view kYaml = R"EOF(
static_resources:
  clusters:
  - name: strict
    type: STRICT_DNS
    load_assignment:
      cluster_name: strict
      endpoints:
      - lb_endpoints:
        - endpoint:
            address: { socket_address: { address: localhost, port_value: 7000 } }
  - name: logical
    type: LOGICAL_DNS
    load_assignment:
      cluster_name: logical
      endpoints:
      - lb_endpoints:
        - endpoint:
            address: { socket_address: { address: localhost, port_value: 7000 } }
)EOF";
  ClusterManagerPtr manager = createOrFail(kYaml);
  ASSERT_NE(manager, nullptr);
  const HostVector& strict = manager->get("strict")->hosts();
  const HostVector& logical = manager->get("logical")->hosts();
  ASSERT_GE(strict.size(), 1u);
  // Whatever the resolver returns (one address or several), LOGICAL_DNS keeps the first only.
  ASSERT_EQ(logical.size(), 1u);
  EXPECT_EQ(*logical[0]->address(), *strict[0]->address());
  EXPECT_TRUE(isLoopback(*logical[0]->address()));
  EXPECT_EQ(store_.gaugeFromString("cluster.logical.membership_total").value(), 1u);
}

TEST_F(ClusterManagerTest, DuplicateClusterNameNamesTheField) {
  absl::StatusOr<ClusterManagerPtr> manager = create(R"EOF(
static_resources:
  clusters:
  - name: a
    type: STATIC
  - name: b
    type: STATIC
  - name: a
    type: STATIC
)EOF");
  ASSERT_FALSE(manager.ok());
  EXPECT_EQ(manager.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(manager.status().message(),
            "static_resources.clusters[2].name: duplicate cluster name \"a\"");
}

TEST_F(ClusterManagerTest, UnresolvableNameNamesTheField) {
  // .invalid is reserved (RFC 2606): it never resolves.
  absl::StatusOr<ClusterManagerPtr> manager = create(R"EOF(
static_resources:
  clusters:
  - name: ok
    type: STATIC
  - name: dns
    type: STRICT_DNS
    load_assignment:
      cluster_name: dns
      endpoints:
      - lb_endpoints:
        - endpoint:
            address: { socket_address: { address: 127.0.0.1, port_value: 1 } }
      - lb_endpoints:
        - endpoint:
            address: { socket_address: { address: 127.0.0.1, port_value: 2 } }
        - endpoint:
            address: { socket_address: { address: waystone-test.invalid, port_value: 80 } }
)EOF");
  ASSERT_FALSE(manager.ok());
  EXPECT_EQ(manager.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(
      manager.status().message(),
      "static_resources.clusters[1].load_assignment.endpoints[1].lb_endpoints[1].endpoint.address"
      ".socket_address.address: cannot resolve \"waystone-test.invalid\""))
      << manager.status().message();
}

TEST_F(ClusterManagerTest, LogicalDnsUnresolvableNameNamesTheField) {
  absl::StatusOr<ClusterManagerPtr> manager = create(R"EOF(
static_resources:
  clusters:
  - name: logical
    type: LOGICAL_DNS
    load_assignment:
      cluster_name: logical
      endpoints:
      - lb_endpoints:
        - endpoint:
            address: { socket_address: { address: nothing.invalid, port_value: 80 } }
)EOF");
  ASSERT_FALSE(manager.ok());
  EXPECT_TRUE(absl::StartsWith(
      manager.status().message(),
      "static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address"
      ".socket_address.address: "))
      << manager.status().message();
  EXPECT_TRUE(absl::StrContains(manager.status().message(), "nothing.invalid"));
}

TEST_F(ClusterManagerTest, StaticHostnameIsRejectedWithTheFieldPath) {
  absl::StatusOr<ClusterManagerPtr> manager = create(R"EOF(
static_resources:
  clusters:
  - name: s
    type: STATIC
    load_assignment:
      cluster_name: s
      endpoints:
      - lb_endpoints:
        - endpoint:
            address: { socket_address: { address: localhost, port_value: 80 } }
)EOF");
  ASSERT_FALSE(manager.ok());
  EXPECT_EQ(manager.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(
      manager.status().message(),
      "static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address"
      ".socket_address.address: \"localhost\" is not an IP address"))
      << manager.status().message();
}

TEST_F(ClusterManagerTest, MissingPortNamesTheField) {
  absl::StatusOr<ClusterManagerPtr> manager = create(R"EOF(
static_resources:
  clusters:
  - name: first
    type: STATIC
  - name: second
    type: STATIC
    load_assignment:
      cluster_name: second
      endpoints:
      - lb_endpoints:
        - endpoint:
            address: { socket_address: { address: 10.0.0.1 } }
)EOF");
  ASSERT_FALSE(manager.ok());
  EXPECT_TRUE(absl::StartsWith(manager.status().message(),
                               "static_resources.clusters[1].load_assignment.endpoints[0]"
                               ".lb_endpoints[0].endpoint.address.socket_address.port_value"))
      << manager.status().message();
}

class RoundRobinLoadBalancerTest : public ClusterManagerTest {};

TEST_F(RoundRobinLoadBalancerTest, CyclesThroughHostsInOrder) {
  ClusterManagerPtr manager = createOrFail(kStaticYaml);
  ASSERT_NE(manager, nullptr);
  ClusterConstSharedPtr cluster = manager->get("backend");
  RoundRobinLoadBalancer lb(cluster, 0);
  EXPECT_EQ(&lb.cluster(), cluster.get());
  const HostVector& hosts = cluster->hosts();
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 0; i < hosts.size(); ++i) {
      EXPECT_EQ(lb.chooseHost(), hosts[i]) << "round " << round << " pick " << i;
    }
  }
}

TEST_F(RoundRobinLoadBalancerTest, SeedPicksTheStartingHost) {
  ClusterManagerPtr manager = createOrFail(kStaticYaml);
  ASSERT_NE(manager, nullptr);
  ClusterConstSharedPtr cluster = manager->get("backend");
  const HostVector& hosts = cluster->hosts();
  RoundRobinLoadBalancer lb(cluster, 4);  // 4 % 3 == 1
  EXPECT_EQ(lb.chooseHost(), hosts[1]);
  EXPECT_EQ(lb.chooseHost(), hosts[2]);
  EXPECT_EQ(lb.chooseHost(), hosts[0]);
  EXPECT_EQ(lb.chooseHost(), hosts[1]);
}

TEST_F(RoundRobinLoadBalancerTest, EveryHostEquallyOften) {
  ClusterManagerPtr manager = createOrFail(kStaticYaml);
  ASSERT_NE(manager, nullptr);
  ClusterConstSharedPtr cluster = manager->get("backend");
  RoundRobinLoadBalancer lb(cluster, 12345);
  std::map<const Host*, int> picks;
  for (int i = 0; i < 300; ++i) {
    HostConstSharedPtr host = lb.chooseHost();
    ASSERT_NE(host, nullptr);
    ++picks[host.get()];
  }
  ASSERT_EQ(picks.size(), 3u);
  for (const auto& [host, count] : picks) {
    EXPECT_EQ(count, 100) << host->address()->asString();
  }
}

TEST_F(RoundRobinLoadBalancerTest, NoHostsGivesNull) {
  ClusterManagerPtr manager = createOrFail(kStaticYaml);
  ASSERT_NE(manager, nullptr);
  RoundRobinLoadBalancer lb(manager->get("empty"), 0);
  EXPECT_EQ(lb.chooseHost(), nullptr);
  EXPECT_EQ(lb.chooseHost(), nullptr);
}

}  // namespace
}  // namespace waystone::upstream

namespace waystone::upstream {
namespace {

// EDS clusters start from their inline load_assignment until EDS updates arrive with xDS.
TEST(ClusterManagerEdsTest, EdsClusterTakesItsInlineLoadAssignment) {
  envoy::config::bootstrap::v3::Bootstrap bootstrap;
  ASSERT_TRUE(protobuf::loadFromYaml(R"EOF(
static_resources:
  clusters:
  - name: eds
    type: EDS
    eds_cluster_config: { service_name: eds }
    load_assignment:
      cluster_name: eds
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 10.1.0.1, port_value: 80 } } }
        - endpoint: { address: { socket_address: { address: 10.1.0.2, port_value: 80 } } }
  - name: eds_empty
    type: EDS
    eds_cluster_config: { service_name: eds_empty }
)EOF",
                                     bootstrap)
                  .ok());
  stats::Store store;
  auto manager = ClusterManager::create(bootstrap, store);
  ASSERT_TRUE(manager.ok()) << manager.status();
  ASSERT_NE((*manager)->get("eds"), nullptr);
  ASSERT_EQ((*manager)->get("eds")->hosts().size(), 2u);
  EXPECT_EQ((*manager)->get("eds")->hosts()[1]->address()->asString(), "10.1.0.2:80");
  EXPECT_TRUE((*manager)->get("eds_empty")->hosts().empty());
}

}  // namespace
}  // namespace waystone::upstream
