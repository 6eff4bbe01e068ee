#include "source/upstream/load_balancer/least_request_load_balancer.h"

#include "gtest/gtest.h"

#include "test/upstream/load_balancer/lb_test_util.h"

namespace waystone::upstream::lb {
namespace {

using test::makeHosts;
using test::pickFractions;

constexpr uint64_t kPicks = 100000;

void setActive(const HostConstSharedPtr& host, uint64_t active) {
  host->stats().rq_active.store(active, std::memory_order_relaxed);
}

TEST(LeastRequestLoadBalancerTest, EqualWeightsIdleHostsSpreadEvenly) {
  HostVector hosts = makeHosts(4);
  auto set = test::singlePriority(hosts);
  LeastRequestLoadBalancer lb(*set, {}, {}, 1);
  for (double fraction : pickFractions(lb, hosts, kPicks)) {
    EXPECT_NEAR(fraction, 0.25, 0.01);
  }
}

TEST(LeastRequestLoadBalancerTest, PowerOfTwoChoicesPrefersFewerActiveRequests) {
  HostVector hosts = makeHosts(2);
  setActive(hosts[0], 10);
  setActive(hosts[1], 0);
  auto set = test::singlePriority(hosts);
  // The busy host wins only when both draws pick it: (1/2)^2.
  LeastRequestLoadBalancer lb(*set, {}, {}, 2);
  const std::vector<double> f = pickFractions(lb, hosts, kPicks);
  EXPECT_NEAR(f[0], 0.25, 0.01);
  EXPECT_NEAR(f[1], 0.75, 0.01);
}

TEST(LeastRequestLoadBalancerTest, ChoiceCountSharpensThePreference) {
  HostVector hosts = makeHosts(2);
  setActive(hosts[0], 10);
  setActive(hosts[1], 0);
  auto set = test::singlePriority(hosts);
  LeastRequestSettings settings;
  settings.choice_count = 5;
  LeastRequestLoadBalancer lb(*set, {}, settings, 3);
  const std::vector<double> f = pickFractions(lb, hosts, kPicks);
  EXPECT_NEAR(f[0], 1.0 / 32, 0.005);
}

TEST(LeastRequestLoadBalancerTest, WeightedIdleHostsFollowWeights) {
  HostVector hosts = makeHosts(3, {1, 2, 7});
  auto set = test::singlePriority(hosts);
  LeastRequestLoadBalancer lb(*set, {}, {}, 0);
  // With no active requests, weight / (0 + 1) is the weight: exact smooth round robin.
  const std::vector<double> f = pickFractions(lb, hosts, kPicks);
  EXPECT_DOUBLE_EQ(f[0], 0.1);
  EXPECT_DOUBLE_EQ(f[1], 0.2);
  EXPECT_DOUBLE_EQ(f[2], 0.7);
}

TEST(LeastRequestLoadBalancerTest, WeightedDividesWeightByActiveRequests) {
  // Effective weights: 1/1, 2/1, 7/(6+1) = 1: the heavy host drops to the lightest's share.
  HostVector hosts = makeHosts(3, {1, 2, 7});
  setActive(hosts[2], 6);
  auto set = test::singlePriority(hosts);
  LeastRequestLoadBalancer lb(*set, {}, {}, 0);
  const std::vector<double> f = pickFractions(lb, hosts, 40000);
  EXPECT_NEAR(f[0], 0.25, 0.01);
  EXPECT_NEAR(f[1], 0.50, 0.01);
  EXPECT_NEAR(f[2], 0.25, 0.01);
}

TEST(LeastRequestLoadBalancerTest, ActiveRequestBiasZeroIgnoresLoad) {
  HostVector hosts = makeHosts(3, {1, 2, 7});
  setActive(hosts[2], 6);
  auto set = test::singlePriority(hosts);
  LeastRequestSettings settings;
  settings.active_request_bias = 0.0;
  LeastRequestLoadBalancer lb(*set, {}, settings, 0);
  const std::vector<double> f = pickFractions(lb, hosts, 10000);
  EXPECT_DOUBLE_EQ(f[2], 0.7);
}

TEST(LeastRequestLoadBalancerTest, ActiveRequestBiasIsAnExponent) {
  // Bias 2: 7 / (1 + 1)^2 = 1.75 against 1 and 2.
  HostVector hosts = makeHosts(3, {1, 2, 7});
  setActive(hosts[2], 1);
  auto set = test::singlePriority(hosts);
  LeastRequestSettings settings;
  settings.active_request_bias = 2.0;
  LeastRequestLoadBalancer lb(*set, {}, settings, 0);
  const std::vector<double> f = pickFractions(lb, hosts, 47000);
  EXPECT_NEAR(f[2], 1.75 / 4.75, 0.01);
}

TEST(LeastRequestLoadBalancerTest, FollowsLoadChangesWithoutRebuild) {
  HostVector hosts = makeHosts(2);
  auto set = test::singlePriority(hosts);
  LeastRequestLoadBalancer lb(*set, {}, {}, 0);
  setActive(hosts[0], 5);
  EXPECT_GT(test::countPicks(lb, 1000)[hosts[1].get()], 700u);
  setActive(hosts[0], 0);
  setActive(hosts[1], 5);
  EXPECT_GT(test::countPicks(lb, 1000)[hosts[0].get()], 700u);
}

}  // namespace
}  // namespace waystone::upstream::lb
