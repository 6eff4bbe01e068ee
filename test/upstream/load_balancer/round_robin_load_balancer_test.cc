#include "source/upstream/load_balancer/round_robin_load_balancer.h"

#include "gtest/gtest.h"

#include "test/upstream/load_balancer/lb_test_util.h"

namespace waystone::upstream::lb {
namespace {

using test::makeHosts;

TEST(RoundRobinLoadBalancerTest, EqualWeightsRotate) {
  HostVector hosts = makeHosts(3);
  auto set = test::singlePriority(hosts);
  RoundRobinLoadBalancer lb(*set, {}, 0);
  for (int round = 0; round < 5; ++round) {
    for (const auto& host : hosts) {
      EXPECT_EQ(lb.chooseHost(nullptr), host);
    }
  }
}

TEST(RoundRobinLoadBalancerTest, SeedSetsTheStartingHost) {
  HostVector hosts = makeHosts(3);
  auto set = test::singlePriority(hosts);
  RoundRobinLoadBalancer lb(*set, {}, 4);
  EXPECT_EQ(lb.chooseHost(nullptr), hosts[1]);
  EXPECT_EQ(lb.chooseHost(nullptr), hosts[2]);
  EXPECT_EQ(lb.chooseHost(nullptr), hosts[0]);
}

// Weights 1:2:7: every cycle of 10 picks gives exactly 1, 2 and 7, whatever the seed.
TEST(RoundRobinLoadBalancerTest, WeightedExactProportionsOverFullCycles) {
  HostVector hosts = makeHosts(3, {1, 2, 7});
  auto set = test::singlePriority(hosts);
  for (uint64_t seed : {0, 1, 2, 12345}) {
    RoundRobinLoadBalancer lb(*set, {}, seed);
    for (int cycle = 0; cycle < 10000; ++cycle) {
      auto counts = test::countPicks(lb, 10);
      ASSERT_EQ(counts[hosts[0].get()], 1u) << "seed " << seed << " cycle " << cycle;
      ASSERT_EQ(counts[hosts[1].get()], 2u) << "seed " << seed << " cycle " << cycle;
      ASSERT_EQ(counts[hosts[2].get()], 7u) << "seed " << seed << " cycle " << cycle;
    }
  }
}

TEST(RoundRobinLoadBalancerTest, WeightedIsSmooth) {
  // The heavy host is never idle for more than two picks in a row.
  HostVector hosts = makeHosts(3, {1, 2, 7});
  auto set = test::singlePriority(hosts);
  RoundRobinLoadBalancer lb(*set, {}, 0);
  int since_heavy = 0;
  for (int i = 0; i < 1000; ++i) {
    since_heavy = lb.chooseHost(nullptr) == hosts[2] ? 0 : since_heavy + 1;
    EXPECT_LE(since_heavy, 2) << "pick " << i;
  }
}

TEST(RoundRobinLoadBalancerTest, RetriesSkipRejectedHosts) {
  HostVector hosts = makeHosts(3);
  auto set = test::singlePriority(hosts);
  RoundRobinLoadBalancer lb(*set, {}, 0);
  test::TestContext context;
  context.rejected = {hosts[0].get(), hosts[1].get()};
  context.retry_count = 2;
  // h0 rejected, h1 rejected, h2 accepted.
  EXPECT_EQ(lb.chooseHost(&context), hosts[2]);
  EXPECT_EQ(context.predicate_calls, 3u);
}

TEST(RoundRobinLoadBalancerTest, RetriesAreBoundedAndLastHostIsReturned) {
  HostVector hosts = makeHosts(3);
  auto set = test::singlePriority(hosts);
  RoundRobinLoadBalancer lb(*set, {}, 0);
  test::TestContext context;
  context.rejected = {hosts[0].get(), hosts[1].get(), hosts[2].get()};
  context.retry_count = 1;
  // Two attempts (h0, h1), both rejected: the last one is returned anyway.
  EXPECT_EQ(lb.chooseHost(&context), hosts[1]);
  EXPECT_EQ(context.predicate_calls, 2u);

  test::TestContext no_retry;
  no_retry.rejected = {hosts[2].get()};
  EXPECT_EQ(lb.chooseHost(&no_retry), hosts[2]);
  EXPECT_EQ(no_retry.predicate_calls, 1u);
}

}  // namespace
}  // namespace waystone::upstream::lb
