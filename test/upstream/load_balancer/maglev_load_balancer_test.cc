#include "source/upstream/load_balancer/maglev_load_balancer.h"

#include <map>
#include <string>

#include "gtest/gtest.h"

#include "source/upstream/load_balancer/load_balancer_factory_impl.h"
#include "source/upstream/load_balancer/maglev_table.h"
#include "source/upstream/load_balancer/random_generator.h"
#include "test/upstream/load_balancer/lb_test_util.h"

namespace waystone::upstream::lb {
namespace {

using test::makeHost;
using test::makeHosts;

constexpr uint64_t kKeys = 100000;

std::vector<std::string> mapKeys(LoadBalancer& lb, uint64_t keys, uint64_t key_seed = 77) {
  RandomGenerator random(key_seed);
  std::vector<std::string> out;
  test::TestContext context;
  for (uint64_t i = 0; i < keys; ++i) {
    context.hash = random.random();
    HostConstSharedPtr host = lb.chooseHost(&context);
    out.push_back(host == nullptr ? "" : host->address()->asString());
  }
  return out;
}

std::map<std::string, double> shares(const std::vector<std::string>& mapped) {
  std::map<std::string, double> out;
  for (const auto& address : mapped) {
    out[address] += 1.0 / mapped.size();
  }
  return out;
}

// Slots per host, by walking every hash value modulo the table size.
std::map<const Host*, uint64_t> slotCounts(const MaglevTable& table) {
  std::map<const Host*, uint64_t> counts;
  for (uint64_t slot = 0; slot < table.size(); ++slot) {
    ++counts[table.chooseHost(slot, 0).get()];
  }
  return counts;
}

TEST(MaglevTableTest, FillsEverySlotInProportionToWeight) {
  HostVector hosts = makeHosts(3);
  NormalizedHostWeights weights{{hosts[0], 0.1}, {hosts[1], 0.2}, {hosts[2], 0.7}};
  MaglevTable table(weights, 0.7, 65537, false);
  ASSERT_EQ(table.size(), 65537u);
  auto counts = slotCounts(table);
  EXPECT_EQ(counts.count(nullptr), 0u);
  EXPECT_NEAR(counts[hosts[0].get()] / 65537.0, 0.1, 0.001);
  EXPECT_NEAR(counts[hosts[1].get()] / 65537.0, 0.2, 0.001);
  EXPECT_NEAR(counts[hosts[2].get()] / 65537.0, 0.7, 0.001);
}

TEST(MaglevTableTest, EqualWeightsGetEqualSlots) {
  HostVector hosts = makeHosts(4);
  NormalizedHostWeights weights;
  for (const auto& host : hosts) {
    weights.emplace_back(host, 0.25);
  }
  MaglevTable table(weights, 0.25, 7, false);
  auto counts = slotCounts(table);
  // 7 slots over 4 hosts taking turns: 2, 2, 2, 1.
  uint64_t total = 0;
  for (const auto& host : hosts) {
    EXPECT_GE(counts[host.get()], 1u);
    EXPECT_LE(counts[host.get()], 2u);
    total += counts[host.get()];
  }
  EXPECT_EQ(total, 7u);
}

TEST(MaglevLoadBalancerTest, SameKeySameHostAcrossWorkers) {
  HostVector hosts = makeHosts(5);
  auto set = test::singlePriority(hosts);
  MaglevLoadBalancer a(*set, {}, {}, 1, nullptr);
  MaglevLoadBalancer b(*set, {}, {}, 2, nullptr);
  EXPECT_EQ(mapKeys(a, 1000), mapKeys(b, 1000));
}

TEST(MaglevLoadBalancerTest, KeysSpreadByWeight) {
  HostVector hosts = makeHosts(3, {1, 2, 7});
  auto set = test::singlePriority(hosts);
  MaglevLoadBalancer lb(*set, {}, {}, 1, nullptr);
  auto s = shares(mapKeys(lb, kKeys));
  EXPECT_NEAR(s["10.0.0.1:80"], 0.1, 0.1 * 0.05);
  EXPECT_NEAR(s["10.0.0.2:80"], 0.2, 0.2 * 0.05);
  EXPECT_NEAR(s["10.0.0.3:80"], 0.7, 0.7 * 0.05);
}

TEST(MaglevLoadBalancerTest, RemovingAHostMovesAboutItsShare) {
  constexpr size_t kHosts = 10;
  HostVector hosts = makeHosts(kHosts);
  auto before_set = test::singlePriority(hosts);
  HostVector fewer(hosts.begin(), hosts.end() - 1);
  auto after_set = test::singlePriority(fewer);
  MaglevLoadBalancer before_lb(*before_set, {}, {}, 1, nullptr);
  MaglevLoadBalancer after_lb(*after_set, {}, {}, 1, nullptr);
  const auto before = mapKeys(before_lb, kKeys);
  const auto after = mapKeys(after_lb, kKeys);
  uint64_t moved = 0;
  for (size_t i = 0; i < before.size(); ++i) {
    if (before[i] == "10.0.0.10:80") {
      EXPECT_NE(after[i], "10.0.0.10:80");
    }
    moved += before[i] != after[i];
  }
  const double fraction = static_cast<double>(moved) / kKeys;

  // The removed host's 1/N must move; Maglev moves only a little more.
  EXPECT_GE(fraction, 1.0 / kHosts - 0.01);
  EXPECT_LE(fraction, 1.0 / kHosts + 0.05);
}

TEST(MaglevLoadBalancerTest, RetryMovesOffTheRejectedHost) {
  HostVector hosts = makeHosts(4);
  auto set = test::singlePriority(hosts);
  MaglevLoadBalancer lb(*set, {}, {}, 1, nullptr);
  RandomGenerator random(5);
  for (int i = 0; i < 200; ++i) {
    test::TestContext context;
    context.hash = random.random();
    HostConstSharedPtr first = lb.chooseHost(&context);
    ASSERT_NE(first, nullptr);
    context.rejected = {first.get()};
    context.retry_count = 10;
    HostConstSharedPtr retried = lb.chooseHost(&context);
    EXPECT_NE(retried, first);
    EXPECT_LE(context.predicate_calls, 11u);
  }
}

TEST(MaglevLoadBalancerTest, NoHashKeyPicksAtRandom) {
  HostVector hosts = makeHosts(4);
  auto set = test::singlePriority(hosts);
  MaglevLoadBalancer lb(*set, {}, {}, 1, nullptr);
  auto counts = test::countPicks(lb, 10000);
  ASSERT_EQ(counts.size(), 4u);
  for (const auto& [host, count] : counts) {
    EXPECT_GT(count, 2000u);
  }
}

TEST(MaglevLoadBalancerTest, LocalityWeightsScaleTheTable) {
  // Locality a (weight 1) and b (weight 3), one host each: keys split 25/75.
  HostConstSharedPtr a = makeHost("10.0.1.1:80", 1, test::makeLocality("a"));
  HostConstSharedPtr b = makeHost("10.0.2.1:80", 1, test::makeLocality("b"));
  auto set = PrioritySet::Builder()
                 .addHost(0, a)
                 .addHost(0, b)
                 .setLocalityWeight(0, test::makeLocality("a"), 1)
                 .setLocalityWeight(0, test::makeLocality("b"), 3)
                 .build();
  CommonLbSettings common;
  common.locality_weighted = true;
  MaglevLoadBalancer lb(*set, common, {}, 1, nullptr);
  auto s = shares(mapKeys(lb, kKeys));
  EXPECT_NEAR(s["10.0.1.1:80"], 0.25, 0.01);
  EXPECT_NEAR(s["10.0.2.1:80"], 0.75, 0.01);
  // Without locality_weighted the two hosts split evenly.
  MaglevLoadBalancer flat(*set, {}, {}, 1, nullptr);
  EXPECT_NEAR(shares(mapKeys(flat, kKeys))["10.0.1.1:80"], 0.5, 0.01);
}

TEST(MaglevLoadBalancerTest, EmptySetGivesNoHost) {
  auto empty = PrioritySet::Builder().build();
  MaglevLoadBalancer lb(*empty, {}, {}, 1, nullptr);
  test::TestContext context;
  context.hash = 12345;
  EXPECT_EQ(lb.chooseHost(&context), nullptr);
  EXPECT_EQ(lb.chooseHost(nullptr), nullptr);
}

TEST(MaglevLoadBalancerTest, FactoryUsesConfiguredTableSize) {
  auto factory =
      test::factoryFromYaml("name: c\nlb_policy: MAGLEV\nmaglev_lb_config: { table_size: 7 }\n");
  ASSERT_NE(factory, nullptr);
  HostVector hosts = makeHosts(3);
  auto set = test::singlePriority(hosts);
  LoadBalancerPtr lb = factory->create(*set, 0);
  // Hashes that agree modulo 7 land in the same slot.
  test::TestContext first;
  test::TestContext second;
  for (uint64_t h = 0; h < 7; ++h) {
    first.hash = h;
    second.hash = h + 7 * 1000003;
    EXPECT_EQ(lb->chooseHost(&first), lb->chooseHost(&second));
  }
}

}  // namespace
}  // namespace waystone::upstream::lb
