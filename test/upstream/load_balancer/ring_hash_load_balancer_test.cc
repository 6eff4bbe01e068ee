#include "source/upstream/load_balancer/ring_hash_load_balancer.h"

#include <map>
#include <string>

#include "gtest/gtest.h"

#include "source/common/common/hash.h"
#include "source/upstream/load_balancer/load_balancer_factory_impl.h"
#include "source/upstream/load_balancer/random_generator.h"
#include "source/upstream/load_balancer/ring_hash_table.h"
#include "test/upstream/load_balancer/lb_test_util.h"

namespace waystone::upstream::lb {
namespace {

using test::makeHost;
using test::makeHosts;

constexpr uint64_t kKeys = 100000;

// The address each of `keys` hash keys maps to.
std::vector<std::string> mapKeys(LoadBalancer& lb, uint64_t keys, uint64_t key_seed = 99) {
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

double movedFraction(const std::vector<std::string>& before,
                     const std::vector<std::string>& after) {
  uint64_t moved = 0;
  for (size_t i = 0; i < before.size(); ++i) {
    moved += before[i] != after[i];
  }
  return static_cast<double>(moved) / before.size();
}

TEST(RingHashTableTest, RingSizeFollowsEnvoysFormula) {
  // The lightest host (0.1) gets ceil(0.1 * 1024) = 103 entries; the others 206 and 721.
  HostVector hosts = makeHosts(3);
  NormalizedHostWeights weights{{hosts[0], 0.1}, {hosts[1], 0.2}, {hosts[2], 0.7}};
  RingHashTable ring(weights, 0.1, RingHashSettings{}, false);
  EXPECT_EQ(ring.size(), 1030u);
  RingHashSettings capped;
  capped.maximum_ring_size = 500;
  EXPECT_EQ(RingHashTable(weights, 0.1, capped, false).size(), 500u);
}

TEST(RingHashTableTest, KeyMapsToFirstEntryAtOrAfterIt) {
  // One host, three entries hashing "10.0.0.1:80_0.._2": a key equal to an entry's hash, or just
  // below it, lands on it; every key lands on the only host.
  HostVector hosts = makeHosts(2);
  NormalizedHostWeights weights{{hosts[0], 0.5}, {hosts[1], 0.5}};
  RingHashSettings settings;
  settings.minimum_ring_size = 2;
  RingHashTable ring(weights, 0.5, settings, false);
  ASSERT_EQ(ring.size(), 2u);
  const uint64_t h0 = xxHash64("10.0.0.1:80_0");
  const uint64_t h1 = xxHash64("10.0.0.2:80_0");
  EXPECT_EQ(ring.chooseHost(h0, 0), hosts[0]);
  EXPECT_EQ(ring.chooseHost(h0 - 1, 0), hosts[0]);
  EXPECT_EQ(ring.chooseHost(h1, 0), hosts[1]);
  // Past the largest entry wraps to the smallest.
  const uint64_t largest = std::max(h0, h1);
  EXPECT_EQ(ring.chooseHost(largest + 1, 0), largest == h0 ? hosts[1] : hosts[0]);
  // A retry takes the next entry.
  EXPECT_EQ(ring.chooseHost(h0, 1), hosts[1]);
}

TEST(RingHashLoadBalancerTest, SameKeySameHostAcrossWorkers) {
  HostVector hosts = makeHosts(5);
  auto set = test::singlePriority(hosts);
  RingHashLoadBalancer a(*set, {}, {}, 1, nullptr);
  RingHashLoadBalancer b(*set, {}, {}, 2, nullptr);
  EXPECT_EQ(mapKeys(a, 1000), mapKeys(b, 1000));
  // And repeatedly on the same worker.
  EXPECT_EQ(mapKeys(a, 1000), mapKeys(a, 1000));
}

TEST(RingHashLoadBalancerTest, KeysSpreadByWeight) {
  HostVector hosts = makeHosts(3, {1, 2, 7});
  auto set = test::singlePriority(hosts);
  RingHashLoadBalancer lb(*set, {}, {}, 1, nullptr);
  auto s = shares(mapKeys(lb, kKeys));
  EXPECT_NEAR(s["10.0.0.1:80"], 0.1, 0.05);
  EXPECT_NEAR(s["10.0.0.2:80"], 0.2, 0.05);
  EXPECT_NEAR(s["10.0.0.3:80"], 0.7, 0.05);
}

TEST(RingHashLoadBalancerTest, LargerRingSpreadsWithinFivePercentOfEachShare) {
  HostVector hosts = makeHosts(3, {1, 2, 7});
  auto set = test::singlePriority(hosts);
  RingHashSettings settings;
  settings.minimum_ring_size = 65536;
  RingHashLoadBalancer lb(*set, {}, settings, 1, nullptr);
  auto s = shares(mapKeys(lb, kKeys));
  EXPECT_NEAR(s["10.0.0.1:80"], 0.1, 0.1 * 0.05);
  EXPECT_NEAR(s["10.0.0.2:80"], 0.2, 0.2 * 0.05);
  EXPECT_NEAR(s["10.0.0.3:80"], 0.7, 0.7 * 0.05);
}

// Envoy's ring keeps the least-weighted host at ceil(min_weight * minimum_ring_size) entries,
// so removing one of N equal hosts also gives each survivor more entries (here 205 -> 256):
// besides the removed host's ~1/N of the keys, the survivors' new entries take about another
// 1/N. Maglev (see its test) moves only about 1/N.
TEST(RingHashLoadBalancerTest, RemovingAHostMovesItsKeysAndAboutAsManyMore) {
  constexpr size_t kHosts = 5;
  HostVector hosts = makeHosts(kHosts);
  auto before_set = test::singlePriority(hosts);
  HostVector fewer(hosts.begin(), hosts.end() - 1);
  auto after_set = test::singlePriority(fewer);
  RingHashLoadBalancer before_lb(*before_set, {}, {}, 1, nullptr);
  RingHashLoadBalancer after_lb(*after_set, {}, {}, 1, nullptr);
  const auto before = mapKeys(before_lb, kKeys);
  const auto after = mapKeys(after_lb, kKeys);
  uint64_t removed_keys = 0;
  uint64_t survivor_keys_moved = 0;
  for (size_t i = 0; i < before.size(); ++i) {
    if (before[i] == "10.0.0.5:80") {
      ++removed_keys;
      EXPECT_NE(after[i], "10.0.0.5:80");
    } else {
      survivor_keys_moved += before[i] != after[i];
    }
  }
  const double removed_share = static_cast<double>(removed_keys) / kKeys;
  const double survivors_moved = static_cast<double>(survivor_keys_moved) / kKeys;
  EXPECT_NEAR(removed_share, 1.0 / kHosts, 0.03);
  EXPECT_LE(survivors_moved, 1.0 / kHosts) << "removed host's share " << removed_share;
  EXPECT_LE(movedFraction(before, after), 2.0 / kHosts);
}

TEST(RingHashLoadBalancerTest, RemovingAHostAtFixedRingScaleMovesOnlyItsKeys) {
  // When the survivors keep their entry count, only the removed host's keys move: here the ring
  // is scaled by the lightest host (weight 1, 1 entry at minimum_ring_size 8 of a total weight
  // of 1 + 3 * 100), which stays after removing a heavy one.
  HostVector hosts = makeHosts(4, {1, 100, 100, 100});
  auto before_set = test::singlePriority(hosts);
  HostVector fewer(hosts.begin(), hosts.end() - 1);
  auto after_set = test::singlePriority(fewer);
  RingHashSettings settings;
  settings.minimum_ring_size = 8;
  RingHashLoadBalancer before_lb(*before_set, {}, settings, 1, nullptr);
  RingHashLoadBalancer after_lb(*after_set, {}, settings, 1, nullptr);
  const auto before = mapKeys(before_lb, kKeys);
  const auto after = mapKeys(after_lb, kKeys);
  uint64_t removed_keys = 0;
  for (size_t i = 0; i < before.size(); ++i) {
    if (before[i] == "10.0.0.4:80") {
      ++removed_keys;
      EXPECT_NE(after[i], "10.0.0.4:80");
    } else {
      EXPECT_EQ(after[i], before[i]) << "key " << i;
    }
  }
  EXPECT_GT(removed_keys, kKeys / 5);
}

TEST(RingHashLoadBalancerTest, NoHashKeyPicksAtRandom) {
  HostVector hosts = makeHosts(4);
  auto set = test::singlePriority(hosts);
  RingHashLoadBalancer lb(*set, {}, {}, 1, nullptr);
  auto counts = test::countPicks(lb, 10000);
  ASSERT_EQ(counts.size(), 4u);
  for (const auto& [host, count] : counts) {
    EXPECT_GT(count, 1500u);
  }
  test::TestContext no_hash;
  EXPECT_EQ(test::countPicks(lb, 1000, &no_hash).size(), 4u);
  EXPECT_EQ(no_hash.hash_calls, 1000u);
}

TEST(RingHashLoadBalancerTest, RetryMovesOffTheRejectedHost) {
  HostVector hosts = makeHosts(4);
  auto set = test::singlePriority(hosts);
  RingHashLoadBalancer lb(*set, {}, {}, 1, nullptr);
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
    // Deterministic: the same request retried picks the same alternative.
    EXPECT_EQ(lb.chooseHost(&context), retried);
  }
}

TEST(RingHashLoadBalancerTest, MurmurHashBuildsAnotherValidRing) {
  HostVector hosts = makeHosts(3, {1, 2, 7});
  auto set = test::singlePriority(hosts);
  RingHashSettings settings;
  settings.hash_function = RingHashFunction::kMurmurHash2;
  RingHashLoadBalancer murmur(*set, {}, settings, 1, nullptr);
  RingHashLoadBalancer xx(*set, {}, {}, 1, nullptr);
  const auto by_murmur = mapKeys(murmur, kKeys);
  EXPECT_NE(by_murmur, mapKeys(xx, kKeys));
  auto s = shares(by_murmur);
  EXPECT_NEAR(s["10.0.0.3:80"], 0.7, 0.05);
}

TEST(RingHashLoadBalancerTest, HostnameHashingIgnoresAddresses) {
  HostVector a{makeHost("10.0.0.1:80", 1, {}, "alpha"), makeHost("10.0.0.2:80", 1, {}, "beta")};
  HostVector b{makeHost("10.1.0.1:80", 1, {}, "alpha"), makeHost("10.1.0.2:80", 1, {}, "beta")};
  auto set_a = test::singlePriority(a);
  auto set_b = test::singlePriority(b);
  CommonLbSettings common;
  common.use_hostname_for_hashing = true;
  RingHashLoadBalancer lb_a(*set_a, common, {}, 1, nullptr);
  RingHashLoadBalancer lb_b(*set_b, common, {}, 1, nullptr);
  RandomGenerator random(3);
  for (int i = 0; i < 1000; ++i) {
    test::TestContext context;
    context.hash = random.random();
    EXPECT_EQ(lb_a.chooseHost(&context)->hostname(), lb_b.chooseHost(&context)->hostname());
  }
}

TEST(RingHashLoadBalancerTest, EjectedHostLeavesTheRing) {
  HostVector hosts = makeHosts(4);
  auto set = test::singlePriority(hosts);
  RingHashLoadBalancer lb(*set, {}, {}, 1, nullptr);
  const auto before = mapKeys(lb, 10000);
  set->setEjected(*hosts[0], true);
  const auto during = mapKeys(lb, 10000);
  for (const auto& address : during) {
    EXPECT_NE(address, "10.0.0.1:80");
  }
  set->setEjected(*hosts[0], false);
  EXPECT_EQ(mapKeys(lb, 10000), before);
}

TEST(RingHashLoadBalancerTest, HashChoosesPriorityWithSpillOver) {
  HostVector hosts = makeHosts(4);
  auto set = PrioritySet::Builder()
                 .addHost(0, hosts[0])
                 .addHost(0, hosts[1], envoy::config::core::v3::UNHEALTHY)
                 .addHost(1, hosts[2])
                 .addHost(1, hosts[3])
                 .build();
  RingHashLoadBalancer lb(*set, {}, {}, 1, nullptr);
  auto s = shares(mapKeys(lb, kKeys));
  EXPECT_NEAR(s["10.0.0.1:80"], 0.70, 0.01);
  EXPECT_EQ(s.count("10.0.0.2:80"), 0u);
  EXPECT_NEAR(s["10.0.0.3:80"] + s["10.0.0.4:80"], 0.30, 0.01);
}

TEST(RingHashLoadBalancerTest, EmptyOrAllUnhealthyWithoutPanicGivesNoHost) {
  auto empty = PrioritySet::Builder().build();
  RingHashLoadBalancer lb(*empty, {}, {}, 1, nullptr);
  EXPECT_EQ(lb.chooseHost(nullptr), nullptr);

  HostVector hosts = makeHosts(2);
  auto down = PrioritySet::Builder()
                  .addHost(0, hosts[0], envoy::config::core::v3::UNHEALTHY)
                  .addHost(0, hosts[1], envoy::config::core::v3::UNHEALTHY)
                  .build();
  CommonLbSettings no_panic;
  no_panic.healthy_panic_threshold = 0;
  RingHashLoadBalancer strict(*down, no_panic, {}, 1, nullptr);
  EXPECT_EQ(strict.chooseHost(nullptr), nullptr);
  // With panic (the default) every host serves.
  RingHashLoadBalancer panicking(*down, {}, {}, 1, nullptr);
  EXPECT_EQ(test::countPicks(panicking, 1000).size(), 2u);
}

TEST(RingHashLoadBalancerTest, WorkersShareOneRingPerHealthVersion) {
  auto factory = test::factoryFromYaml("name: c\nlb_policy: RING_HASH\n");
  ASSERT_NE(factory, nullptr);
  const auto* impl = dynamic_cast<const LoadBalancerFactoryImpl*>(factory.get());
  ASSERT_NE(impl, nullptr);
  HostVector hosts = makeHosts(3);
  auto set = test::singlePriority(hosts);
  std::vector<LoadBalancerPtr> workers;
  for (uint64_t seed = 0; seed < 4; ++seed) {
    workers.push_back(factory->create(*set, seed));
    ASSERT_NE(workers.back()->chooseHost(nullptr), nullptr);
  }
  EXPECT_EQ(impl->tableCache()->buildCount(), 1u);
  set->setEjected(*hosts[0], true);
  for (auto& worker : workers) {
    ASSERT_NE(worker->chooseHost(nullptr), nullptr);
  }
  EXPECT_EQ(impl->tableCache()->buildCount(), 2u);
}

}  // namespace
}  // namespace waystone::upstream::lb
