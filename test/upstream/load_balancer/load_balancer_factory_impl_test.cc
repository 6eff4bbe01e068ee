#include "source/upstream/load_balancer/load_balancer_factory_impl.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

#include "source/upstream/load_balancer/least_request_load_balancer.h"
#include "source/upstream/load_balancer/maglev_load_balancer.h"
#include "source/upstream/load_balancer/random_load_balancer.h"
#include "source/upstream/load_balancer/ring_hash_load_balancer.h"
#include "source/upstream/load_balancer/round_robin_load_balancer.h"
#include "test/upstream/load_balancer/lb_test_util.h"

namespace waystone::upstream::lb {
namespace {

using test::makeHosts;

template <class Expected>
void expectPolicy(const std::string& policy) {
  auto factory = test::factoryFromYaml("name: c\nlb_policy: " + policy + "\n");
  ASSERT_NE(factory, nullptr);
  HostVector hosts = makeHosts(3, {1, 2, 7});
  auto set = test::singlePriority(hosts);
  LoadBalancerPtr lb = factory->create(*set, 17);
  ASSERT_NE(lb, nullptr);
  EXPECT_NE(dynamic_cast<Expected*>(lb.get()), nullptr) << policy;
  // Weight-aware: the weight-7 host takes about 70% whatever the policy.
  const std::vector<double> f = test::pickFractions(*lb, hosts, 20000);
  EXPECT_NEAR(f[2], 0.7, 0.05) << policy;
}

TEST(LoadBalancerFactoryImplTest, CreatesEachPolicy) {
  expectPolicy<RoundRobinLoadBalancer>("ROUND_ROBIN");
  expectPolicy<LeastRequestLoadBalancer>("LEAST_REQUEST");
  expectPolicy<RandomLoadBalancer>("RANDOM");
  expectPolicy<RingHashLoadBalancer>("RING_HASH");
  expectPolicy<MaglevLoadBalancer>("MAGLEV");
}

TEST(LoadBalancerFactoryImplTest, ErrorNamesLbPolicy) {
  auto factory = createLoadBalancerFactory(
      test::clusterFromYaml("name: c\ntype: ORIGINAL_DST\nlb_policy: CLUSTER_PROVIDED\n"));
  ASSERT_FALSE(factory.ok());
  EXPECT_EQ(factory.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(factory.status().message(), "lb_policy:")) << factory.status();
}

TEST(LoadBalancerFactoryImplTest, OnlyHashingPoliciesHaveATableCache) {
  auto rr = test::factoryFromYaml("name: c\n");
  auto maglev = test::factoryFromYaml("name: c\nlb_policy: MAGLEV\n");
  ASSERT_NE(rr, nullptr);
  ASSERT_NE(maglev, nullptr);
  EXPECT_EQ(dynamic_cast<const LoadBalancerFactoryImpl&>(*rr).tableCache(), nullptr);
  EXPECT_NE(dynamic_cast<const LoadBalancerFactoryImpl&>(*maglev).tableCache(), nullptr);
}

TEST(LoadBalancerFactoryImplTest, CommonSettingsReachTheLoadBalancer) {
  // healthy_panic_threshold 0: all hosts unhealthy gives no host instead of panic routing.
  auto factory = test::factoryFromYaml(
      "name: c\ncommon_lb_config: { healthy_panic_threshold: { value: 0 } }\n");
  ASSERT_NE(factory, nullptr);
  HostVector hosts = makeHosts(2);
  auto set = PrioritySet::Builder()
                 .addHost(0, hosts[0], envoy::config::core::v3::UNHEALTHY)
                 .addHost(0, hosts[1], envoy::config::core::v3::UNHEALTHY)
                 .build();
  EXPECT_EQ(factory->create(*set, 0)->chooseHost(nullptr), nullptr);
  auto default_factory = test::factoryFromYaml("name: c\n");
  EXPECT_NE(default_factory->create(*set, 0)->chooseHost(nullptr), nullptr);
}

}  // namespace
}  // namespace waystone::upstream::lb
