#include "source/upstream/load_balancer/random_load_balancer.h"

#include "gtest/gtest.h"

#include "test/upstream/load_balancer/lb_test_util.h"

namespace waystone::upstream::lb {
namespace {

using test::makeHosts;
using test::pickFractions;

constexpr uint64_t kPicks = 100000;

TEST(RandomLoadBalancerTest, EqualWeightsAreUniform) {
  HostVector hosts = makeHosts(4);
  auto set = test::singlePriority(hosts);
  RandomLoadBalancer lb(*set, {}, 42);
  for (double fraction : pickFractions(lb, hosts, kPicks)) {
    EXPECT_NEAR(fraction, 0.25, 0.01);
  }
}

TEST(RandomLoadBalancerTest, WeightsAreRespected) {
  HostVector hosts = makeHosts(3, {1, 2, 7});
  auto set = test::singlePriority(hosts);
  RandomLoadBalancer lb(*set, {}, 42);
  const std::vector<double> f = pickFractions(lb, hosts, kPicks);
  EXPECT_NEAR(f[0], 0.1, 0.01);
  EXPECT_NEAR(f[1], 0.2, 0.01);
  EXPECT_NEAR(f[2], 0.7, 0.01);
}

TEST(RandomLoadBalancerTest, SameSeedSameSequence) {
  HostVector hosts = makeHosts(5, {1, 2, 3, 4, 5});
  auto set = test::singlePriority(hosts);
  RandomLoadBalancer a(*set, {}, 9);
  RandomLoadBalancer b(*set, {}, 9);
  RandomLoadBalancer c(*set, {}, 10);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    HostConstSharedPtr picked = a.chooseHost(nullptr);
    EXPECT_EQ(picked, b.chooseHost(nullptr));
    differs |= picked != c.chooseHost(nullptr);
  }
  EXPECT_TRUE(differs);
}

TEST(RandomLoadBalancerTest, RetriesAvoidRejectedHost) {
  HostVector hosts = makeHosts(2);
  auto set = test::singlePriority(hosts);
  RandomLoadBalancer lb(*set, {}, 1);
  test::TestContext context;
  context.rejected = {hosts[0].get()};
  context.retry_count = 40;
  // All 41 draws of a pick landing on the rejected host has probability 2^-41.
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(lb.chooseHost(&context), hosts[1]);
  }
}

}  // namespace
}  // namespace waystone::upstream::lb
