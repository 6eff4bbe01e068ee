#include "source/upstream/load_balancer/priority_set.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "test/upstream/load_balancer/lb_test_util.h"

namespace waystone::upstream::lb {
namespace {

using test::makeHost;
using test::makeHosts;
using test::makeLocality;

TEST(PrioritySetTest, EmptyBuilderHasOneEmptyLevel) {
  PrioritySetConstSharedPtr set = PrioritySet::Builder().build();
  ASSERT_EQ(set->hostSetsPerPriority().size(), 1u);
  EXPECT_TRUE(set->hostSetsPerPriority()[0].hosts().empty());
  EXPECT_EQ(set->hostSetsPerPriority()[0].overprovisioningFactor(), 140u);
}

TEST(PrioritySetTest, GroupsByPriorityAndLocality) {
  const auto a = makeLocality("a");
  const auto b = makeLocality("b");
  HostConstSharedPtr h1 = makeHost("10.0.0.1:80", 1, a);
  HostConstSharedPtr h2 = makeHost("10.0.0.2:80", 1, b);
  HostConstSharedPtr h3 = makeHost("10.0.0.3:80", 1, a);
  HostConstSharedPtr h4 = makeHost("10.0.0.4:80", 1, a);
  PrioritySetConstSharedPtr set = PrioritySet::Builder()
                                      .setOverprovisioningFactor(200)
                                      .addHost(0, h1)
                                      .addHost(0, h2, envoy::config::core::v3::DEGRADED)
                                      .addHost(0, h3, envoy::config::core::v3::DRAINING)
                                      .addHost(2, h4)
                                      .setLocalityWeight(0, b, 7)
                                      .build();
  const auto& sets = set->hostSetsPerPriority();
  // Level 1 has no host but exists, so that level 2 keeps its number.
  ASSERT_EQ(sets.size(), 3u);
  EXPECT_TRUE(sets[1].hosts().empty());
  EXPECT_EQ(sets[2].priority(), 2u);
  ASSERT_EQ(sets[0].hosts().size(), 3u);
  EXPECT_EQ(sets[0].overprovisioningFactor(), 200u);
  ASSERT_EQ(sets[0].localities().size(), 2u);
  EXPECT_EQ(sets[0].localities()[0].zone(), "a");
  EXPECT_EQ(sets[0].localities()[1].zone(), "b");
  // Locality a has no weight set: 0, as Envoy.
  EXPECT_EQ(sets[0].localityWeights(), (std::vector<uint32_t>{0, 7}));
  EXPECT_EQ(sets[0].hostLocality(0), 0u);
  EXPECT_EQ(sets[0].hostLocality(1), 1u);
  EXPECT_EQ(sets[0].hostLocality(2), 0u);
  EXPECT_EQ(sets[0].health(0), HostHealth::kHealthy);
  EXPECT_EQ(sets[0].health(1), HostHealth::kDegraded);
  EXPECT_EQ(sets[0].health(2), HostHealth::kUnhealthy);
}

TEST(PrioritySetTest, EdsHealthMapping) {
  using envoy::config::core::v3::HealthStatus;
  EXPECT_EQ(healthFromEdsStatus(envoy::config::core::v3::UNKNOWN), HostHealth::kHealthy);
  EXPECT_EQ(healthFromEdsStatus(envoy::config::core::v3::HEALTHY), HostHealth::kHealthy);
  EXPECT_EQ(healthFromEdsStatus(envoy::config::core::v3::DEGRADED), HostHealth::kDegraded);
  EXPECT_EQ(healthFromEdsStatus(envoy::config::core::v3::UNHEALTHY), HostHealth::kUnhealthy);
  EXPECT_EQ(healthFromEdsStatus(envoy::config::core::v3::DRAINING), HostHealth::kUnhealthy);
  EXPECT_EQ(healthFromEdsStatus(envoy::config::core::v3::TIMEOUT), HostHealth::kUnhealthy);
}

TEST(PrioritySetTest, EjectionMakesUnhealthyAndBumpsVersion) {
  HostVector hosts = makeHosts(2);
  PrioritySetConstSharedPtr set = test::singlePriority(hosts);
  const uint64_t v0 = set->healthVersion();
  EXPECT_FALSE(set->isEjected(*hosts[0]));
  EXPECT_TRUE(set->setEjected(*hosts[0], true));
  EXPECT_TRUE(set->isEjected(*hosts[0]));
  EXPECT_EQ(set->hostSetsPerPriority()[0].health(0), HostHealth::kUnhealthy);
  EXPECT_EQ(set->hostSetsPerPriority()[0].health(1), HostHealth::kHealthy);
  const uint64_t v1 = set->healthVersion();
  EXPECT_NE(v1, v0);
  // Setting the same value again is not a change.
  EXPECT_TRUE(set->setEjected(*hosts[0], true));
  EXPECT_EQ(set->healthVersion(), v1);
  EXPECT_TRUE(set->setEjected(*hosts[0], false));
  EXPECT_NE(set->healthVersion(), v1);
  EXPECT_EQ(set->hostSetsPerPriority()[0].health(0), HostHealth::kHealthy);
  // A host of another set is not found.
  HostConstSharedPtr stranger = makeHost("10.9.9.9:80");
  EXPECT_FALSE(set->setEjected(*stranger, true));
}

TEST(PrioritySetTest, IdsAreUnique) {
  EXPECT_NE(PrioritySet::Builder().build()->id(), PrioritySet::Builder().build()->id());
}

// The hosts ClusterManager builds for a static cluster: one per lb_endpoint, in order, with its
// endpoint's locality.
HostVector hostsFor(const envoy::config::cluster::v3::Cluster& cluster) {
  HostVector hosts;
  for (const auto& locality_endpoints : cluster.load_assignment().endpoints()) {
    for (const auto& lb_endpoint : locality_endpoints.lb_endpoints()) {
      const auto& socket = lb_endpoint.endpoint().address().socket_address();
      hosts.push_back(makeHost(absl::StrCat(socket.address(), ":", socket.port_value()), 1,
                               locality_endpoints.locality()));
    }
  }
  return hosts;
}

constexpr char kClusterYaml[] = R"EOF(
name: backend
type: STATIC
load_assignment:
  cluster_name: backend
  policy: { overprovisioning_factor: 120, weighted_priority_health: true }
  endpoints:
  - locality: { zone: a }
    load_balancing_weight: 3
    lb_endpoints:
    - endpoint: { address: { socket_address: { address: 10.0.0.1, port_value: 80 } } }
    - endpoint: { address: { socket_address: { address: 10.0.0.2, port_value: 80 } } }
      health_status: UNHEALTHY
  - locality: { zone: b }
    priority: 1
    lb_endpoints:
    - endpoint: { address: { socket_address: { address: 10.0.0.3, port_value: 80 } } }
      health_status: DEGRADED
)EOF";

TEST(PrioritySetTest, FromClusterReadsPriorityHealthAndPolicy) {
  const auto cluster = test::clusterFromYaml(kClusterYaml);
  const auto hosts = hostsFor(cluster);
  auto set = PrioritySet::fromCluster(cluster, hosts);
  ASSERT_TRUE(set.ok()) << set.status();
  const auto& sets = (*set)->hostSetsPerPriority();
  ASSERT_EQ(sets.size(), 2u);
  EXPECT_EQ(sets[0].overprovisioningFactor(), 120u);
  EXPECT_TRUE(sets[0].weightedPriorityHealth());
  ASSERT_EQ(sets[0].hosts().size(), 2u);
  EXPECT_EQ(sets[0].hosts()[1], hosts[1]);
  EXPECT_EQ(sets[0].health(1), HostHealth::kUnhealthy);
  EXPECT_EQ(sets[0].localityWeights(), (std::vector<uint32_t>{3}));
  ASSERT_EQ(sets[1].hosts().size(), 1u);
  EXPECT_EQ(sets[1].health(0), HostHealth::kDegraded);
}

TEST(PrioritySetTest, FromClusterRejectsHostCountMismatch) {
  const auto cluster = test::clusterFromYaml(kClusterYaml);
  HostVector too_few_hosts = hostsFor(cluster);
  too_few_hosts.pop_back();
  auto too_few = PrioritySet::fromCluster(cluster, too_few_hosts);
  ASSERT_FALSE(too_few.ok());
  EXPECT_TRUE(absl::StrContains(too_few.status().message(), "endpoints[1].lb_endpoints[0]"))
      << too_few.status();
  auto too_many_hosts = hostsFor(cluster);
  too_many_hosts.push_back(makeHost("10.0.0.4:80", 1, makeLocality("b")));
  auto too_many = PrioritySet::fromCluster(cluster, too_many_hosts);
  ASSERT_FALSE(too_many.ok());
  EXPECT_TRUE(absl::StrContains(too_many.status().message(), "4 hosts given for 3"))
      << too_many.status();
}

TEST(PrioritySetTest, FromClusterRejectsHostsOutOfOrder) {
  const auto cluster = test::clusterFromYaml(kClusterYaml);
  HostVector hosts = hostsFor(cluster);
  std::swap(hosts[1], hosts[2]);
  auto set = PrioritySet::fromCluster(cluster, hosts);
  ASSERT_FALSE(set.ok());
  EXPECT_TRUE(
      absl::StrContains(set.status().message(), "endpoints[0].lb_endpoints[1]: host 10.0.0.3:80"))
      << set.status();
}

}  // namespace
}  // namespace waystone::upstream::lb
