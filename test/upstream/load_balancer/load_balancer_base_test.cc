#include "source/upstream/load_balancer/load_balancer_base.h"

#include "gtest/gtest.h"

#include "source/upstream/load_balancer/random_load_balancer.h"
#include "source/upstream/load_balancer/round_robin_load_balancer.h"
#include "test/upstream/load_balancer/lb_test_util.h"

namespace waystone::upstream::lb {
namespace {

using envoy::config::core::v3::DEGRADED;
using envoy::config::core::v3::HEALTHY;
using envoy::config::core::v3::UNHEALTHY;
using test::makeHost;
using test::makeHosts;
using test::makeLocality;
using test::pickFractions;

constexpr uint64_t kPicks = 100000;

// Exposes the base's priority loads and panic flags.
class LoadView : public LoadBalancerBase {
 public:
  LoadView(const PrioritySet& priority_set, const CommonLbSettings& common)
      : LoadBalancerBase(priority_set, common, 1) {}

  HostConstSharedPtr chooseHost(LoadBalancerContext*) override { return nullptr; }

  std::vector<uint32_t> healthy() {
    refreshIfStale();
    return healthyPriorityLoad();
  }
  std::vector<uint32_t> degraded() {
    refreshIfStale();
    return degradedPriorityLoad();
  }
  bool panic(uint32_t priority) {
    refreshIfStale();
    return priorityStates()[priority].panic;
  }
  int refreshes = 0;

 private:
  void onRefresh() override { ++refreshes; }
};

TEST(LoadBalancerBaseTest, AllHealthyLevelZeroTakesEverything) {
  HostVector hosts = makeHosts(4);
  auto set = PrioritySet::Builder()
                 .addHost(0, hosts[0])
                 .addHost(0, hosts[1])
                 .addHost(1, hosts[2])
                 .addHost(1, hosts[3])
                 .build();
  LoadView view(*set, {});
  EXPECT_EQ(view.healthy(), (std::vector<uint32_t>{100, 0}));
  EXPECT_EQ(view.degraded(), (std::vector<uint32_t>{0, 0}));
  EXPECT_FALSE(view.panic(0));
}

// Envoy's documented example: one of two P0 hosts down: P0 health = min(100, 1.4 * 50) = 70,
// so P0 keeps 70% and spills 30% to P1.
TEST(LoadBalancerBaseTest, SpillsOverToNextPriorityWithOverprovisioning) {
  HostVector hosts = makeHosts(4);
  auto set = PrioritySet::Builder()
                 .addHost(0, hosts[0])
                 .addHost(0, hosts[1], UNHEALTHY)
                 .addHost(1, hosts[2])
                 .addHost(1, hosts[3])
                 .build();
  LoadView view(*set, {});
  EXPECT_EQ(view.healthy(), (std::vector<uint32_t>{70, 30}));
  // 50% healthy is not below the 50% panic threshold.
  EXPECT_FALSE(view.panic(0));

  RoundRobinLoadBalancer lb(*set, {}, 7);
  const std::vector<double> f = pickFractions(lb, hosts, kPicks);
  EXPECT_NEAR(f[0], 0.70, 0.01);
  EXPECT_EQ(f[1], 0.0);
  EXPECT_NEAR(f[2], 0.15, 0.01);
  EXPECT_NEAR(f[3], 0.15, 0.01);
}

TEST(LoadBalancerBaseTest, OverprovisioningFactorIsConfigurable) {
  HostVector hosts = makeHosts(4);
  auto set = PrioritySet::Builder()
                 .setOverprovisioningFactor(100)
                 .addHost(0, hosts[0])
                 .addHost(0, hosts[1], UNHEALTHY)
                 .addHost(1, hosts[2])
                 .addHost(1, hosts[3])
                 .build();
  LoadView view(*set, {});
  EXPECT_EQ(view.healthy(), (std::vector<uint32_t>{50, 50}));
}

TEST(LoadBalancerBaseTest, WeightedPriorityHealthCountsWeights) {
  // P0: a healthy host of weight 1 and an unhealthy one of weight 3: 25% of the weight is
  // healthy, so P0's availability is 1.4 * 25 = 35 rather than 1.4 * 50 = 70 by count.
  HostConstSharedPtr light = makeHost("10.0.0.1:80", 1);
  HostConstSharedPtr heavy = makeHost("10.0.0.2:80", 3);
  HostConstSharedPtr backup = makeHost("10.0.0.3:80", 1);
  auto by_weight = PrioritySet::Builder()
                       .setWeightedPriorityHealth(true)
                       .addHost(0, light)
                       .addHost(0, heavy, UNHEALTHY)
                       .addHost(1, backup)
                       .build();
  CommonLbSettings no_panic;
  no_panic.healthy_panic_threshold = 0;
  LoadView view(*by_weight, no_panic);
  EXPECT_EQ(view.healthy(), (std::vector<uint32_t>{35, 65}));
}

TEST(LoadBalancerBaseTest, DegradedHostsTakeWhatHealthyOnesCannot) {
  // P0: one healthy, one degraded: healthy availability 70, degraded 70. Healthy hosts take
  // 70%, degraded hosts the remaining 30%.
  HostVector hosts = makeHosts(2);
  auto set = PrioritySet::Builder().addHost(0, hosts[0]).addHost(0, hosts[1], DEGRADED).build();
  LoadView view(*set, {});
  EXPECT_EQ(view.healthy(), (std::vector<uint32_t>{70}));
  EXPECT_EQ(view.degraded(), (std::vector<uint32_t>{30}));

  RoundRobinLoadBalancer lb(*set, {}, 3);
  const std::vector<double> f = pickFractions(lb, hosts, kPicks);
  EXPECT_NEAR(f[0], 0.70, 0.01);
  EXPECT_NEAR(f[1], 0.30, 0.01);
}

TEST(LoadBalancerBaseTest, PanicModeUsesAllHosts) {
  // One healthy host of three (33% < 50%): panic, every host serves.
  HostVector hosts = makeHosts(3);
  auto set = PrioritySet::Builder()
                 .addHost(0, hosts[0])
                 .addHost(0, hosts[1], UNHEALTHY)
                 .addHost(0, hosts[2], UNHEALTHY)
                 .build();
  LoadView view(*set, {});
  EXPECT_TRUE(view.panic(0));
  RoundRobinLoadBalancer lb(*set, {}, 0);
  const std::vector<double> f = pickFractions(lb, hosts, 3000);
  EXPECT_DOUBLE_EQ(f[0], 1.0 / 3);
  EXPECT_DOUBLE_EQ(f[1], 1.0 / 3);
  EXPECT_DOUBLE_EQ(f[2], 1.0 / 3);
}

TEST(LoadBalancerBaseTest, PanicThresholdIsConfigurable) {
  HostVector hosts = makeHosts(3);
  auto set = PrioritySet::Builder()
                 .addHost(0, hosts[0])
                 .addHost(0, hosts[1], UNHEALTHY)
                 .addHost(0, hosts[2], UNHEALTHY)
                 .build();
  CommonLbSettings common;
  common.healthy_panic_threshold = 30;
  LoadView view(*set, common);
  EXPECT_FALSE(view.panic(0));
  RoundRobinLoadBalancer lb(*set, common, 0);
  const std::vector<double> f = pickFractions(lb, hosts, 1000);
  EXPECT_EQ(f[0], 1.0);
}

TEST(LoadBalancerBaseTest, FailTrafficOnPanicReturnsNoHost) {
  HostVector hosts = makeHosts(3);
  auto set = PrioritySet::Builder()
                 .addHost(0, hosts[0])
                 .addHost(0, hosts[1], UNHEALTHY)
                 .addHost(0, hosts[2], UNHEALTHY)
                 .build();
  CommonLbSettings common;
  common.fail_traffic_on_panic = true;
  RoundRobinLoadBalancer lb(*set, common, 0);
  EXPECT_EQ(lb.chooseHost(nullptr), nullptr);
}

TEST(LoadBalancerBaseTest, TotalPanicSpreadsByHostCountOverAllLevels) {
  // Nothing healthy anywhere: every level is in panic and takes load by its host count.
  HostVector hosts = makeHosts(4);
  auto set = PrioritySet::Builder()
                 .addHost(0, hosts[0], UNHEALTHY)
                 .addHost(1, hosts[1], UNHEALTHY)
                 .addHost(1, hosts[2], UNHEALTHY)
                 .addHost(1, hosts[3], UNHEALTHY)
                 .build();
  LoadView view(*set, {});
  EXPECT_EQ(view.healthy(), (std::vector<uint32_t>{25, 75}));
  EXPECT_TRUE(view.panic(0));
  EXPECT_TRUE(view.panic(1));
  RandomLoadBalancer lb(*set, {}, 5);
  const std::vector<double> f = pickFractions(lb, hosts, kPicks);
  for (double fraction : f) {
    EXPECT_NEAR(fraction, 0.25, 0.01);
  }
}

TEST(LoadBalancerBaseTest, AllUnhealthyWithPanicDisabledReturnsNoHost) {
  HostVector hosts = makeHosts(2);
  auto set = PrioritySet::Builder()
                 .addHost(0, hosts[0], UNHEALTHY)
                 .addHost(0, hosts[1], UNHEALTHY)
                 .build();
  CommonLbSettings common;
  common.healthy_panic_threshold = 0;
  LoadView view(*set, common);
  EXPECT_EQ(view.healthy(), (std::vector<uint32_t>{100}));
  EXPECT_FALSE(view.panic(0));
  RoundRobinLoadBalancer rr(*set, common, 0);
  EXPECT_EQ(rr.chooseHost(nullptr), nullptr);
  RandomLoadBalancer random(*set, common, 0);
  EXPECT_EQ(random.chooseHost(nullptr), nullptr);
}

TEST(LoadBalancerBaseTest, EmptySetReturnsNoHost) {
  auto set = PrioritySet::Builder().build();
  RoundRobinLoadBalancer rr(*set, {}, 0);
  EXPECT_EQ(rr.chooseHost(nullptr), nullptr);
  RandomLoadBalancer random(*set, {}, 0);
  EXPECT_EQ(random.chooseHost(nullptr), nullptr);
}

TEST(LoadBalancerBaseTest, OutlierEjectionTakesEffectOnTheNextPick) {
  HostVector hosts = makeHosts(3);
  auto set = test::singlePriority(hosts);
  RoundRobinLoadBalancer lb(*set, {}, 0);
  EXPECT_EQ(test::countPicks(lb, 300).size(), 3u);

  ASSERT_TRUE(set->setEjected(*hosts[1], true));
  auto counts = test::countPicks(lb, 300);
  EXPECT_EQ(counts.count(hosts[1].get()), 0u);
  EXPECT_EQ(counts[hosts[0].get()], 150u);
  EXPECT_EQ(counts[hosts[2].get()], 150u);

  ASSERT_TRUE(set->setEjected(*hosts[1], false));
  EXPECT_EQ(test::countPicks(lb, 300)[hosts[1].get()], 100u);
}

TEST(LoadBalancerBaseTest, ViewIsRebuiltOnlyWhenHealthChanges) {
  HostVector hosts = makeHosts(2);
  auto set = test::singlePriority(hosts);
  LoadView view(*set, {});
  view.healthy();
  view.healthy();
  EXPECT_EQ(view.refreshes, 1);
  set->setEjected(*hosts[0], true);
  view.healthy();
  view.healthy();
  EXPECT_EQ(view.refreshes, 2);
}

// Two localities of two hosts each, weights 1 and 3.
class LocalityWeightTest : public testing::Test {
 protected:
  void build(envoy::config::core::v3::HealthStatus b2_health) {
    a1_ = makeHost("10.0.1.1:80", 1, makeLocality("a"));
    a2_ = makeHost("10.0.1.2:80", 1, makeLocality("a"));
    b1_ = makeHost("10.0.2.1:80", 1, makeLocality("b"));
    b2_ = makeHost("10.0.2.2:80", 1, makeLocality("b"));
    set_ = PrioritySet::Builder()
               .addHost(0, a1_)
               .addHost(0, a2_)
               .addHost(0, b1_)
               .addHost(0, b2_, b2_health)
               .setLocalityWeight(0, makeLocality("a"), 1)
               .setLocalityWeight(0, makeLocality("b"), 3)
               .build();
  }
  HostConstSharedPtr a1_, a2_, b1_, b2_;
  PrioritySetConstSharedPtr set_;
};

TEST_F(LocalityWeightTest, LocalitiesShareByWeight) {
  build(HEALTHY);
  CommonLbSettings common;
  common.locality_weighted = true;
  RoundRobinLoadBalancer lb(*set_, common, 0);
  // Localities are picked by EDF too: over 400 picks exactly 100 and 300.
  const std::vector<double> f = pickFractions(lb, {a1_, a2_, b1_, b2_}, 400);
  EXPECT_DOUBLE_EQ(f[0] + f[1], 0.25);
  EXPECT_DOUBLE_EQ(f[2] + f[3], 0.75);
  EXPECT_DOUBLE_EQ(f[0], f[1]);
  EXPECT_DOUBLE_EQ(f[2], f[3]);
}

TEST_F(LocalityWeightTest, UnhealthyHostsShrinkTheirLocalitysWeight) {
  // b: 1 of 2 healthy: effective weight 3 * min(1, 1.4 * 0.5) = 2.1; a keeps 1.
  build(UNHEALTHY);
  CommonLbSettings common;
  common.locality_weighted = true;
  RandomLoadBalancer lb(*set_, common, 11);
  const std::vector<double> f = pickFractions(lb, {a1_, a2_, b1_, b2_}, kPicks);
  EXPECT_NEAR(f[0] + f[1], 1.0 / 3.1, 0.01);
  EXPECT_NEAR(f[2], 2.1 / 3.1, 0.01);
  EXPECT_EQ(f[3], 0.0);
}

TEST_F(LocalityWeightTest, WeightsIgnoredWithoutLocalityWeightedConfig) {
  build(HEALTHY);
  RoundRobinLoadBalancer lb(*set_, {}, 0);
  const std::vector<double> f = pickFractions(lb, {a1_, a2_, b1_, b2_}, 400);
  for (double fraction : f) {
    EXPECT_DOUBLE_EQ(fraction, 0.25);
  }
}

}  // namespace
}  // namespace waystone::upstream::lb
