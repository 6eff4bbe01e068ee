#include "source/upstream/load_balancer/lb_config.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

#include "test/upstream/load_balancer/lb_test_util.h"

namespace waystone::upstream::lb {
namespace {

absl::StatusOr<LbConfig> parse(const std::string& yaml) {
  return parseLbConfig(test::clusterFromYaml(yaml));
}

void expectError(const std::string& yaml, const std::string& field) {
  auto config = parse(yaml);
  ASSERT_FALSE(config.ok()) << yaml;
  EXPECT_TRUE(absl::StartsWith(config.status().message(), field)) << config.status();
}

TEST(LbConfigTest, Defaults) {
  auto config = parse("name: c\n");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->policy, LbPolicy::kRoundRobin);
  EXPECT_EQ(config->common.healthy_panic_threshold, 50u);
  EXPECT_FALSE(config->common.locality_weighted);
  EXPECT_EQ(config->least_request.choice_count, 2u);
  EXPECT_EQ(config->least_request.active_request_bias, 1.0);
  EXPECT_EQ(config->ring_hash.minimum_ring_size, 1024u);
  EXPECT_EQ(config->ring_hash.maximum_ring_size, 8388608u);
  EXPECT_EQ(config->ring_hash.hash_function, RingHashFunction::kXxHash);
  EXPECT_EQ(config->maglev.table_size, 65537u);
}

TEST(LbConfigTest, ReadsEveryPolicy) {
  EXPECT_EQ(parse("name: c\nlb_policy: LEAST_REQUEST\n")->policy, LbPolicy::kLeastRequest);
  EXPECT_EQ(parse("name: c\nlb_policy: RANDOM\n")->policy, LbPolicy::kRandom);
  EXPECT_EQ(parse("name: c\nlb_policy: RING_HASH\n")->policy, LbPolicy::kRingHash);
  EXPECT_EQ(parse("name: c\nlb_policy: MAGLEV\n")->policy, LbPolicy::kMaglev);
}

TEST(LbConfigTest, ReadsCommonSettings) {
  auto config = parse(R"EOF(
name: c
common_lb_config:
  healthy_panic_threshold: { value: 33.6 }
  locality_weighted_lb_config: {}
  consistent_hashing_lb_config: { use_hostname_for_hashing: true }
)EOF");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->common.healthy_panic_threshold, 34u);
  EXPECT_TRUE(config->common.locality_weighted);
  EXPECT_TRUE(config->common.use_hostname_for_hashing);

  auto zone_aware = parse(R"EOF(
name: c
common_lb_config: { zone_aware_lb_config: { fail_traffic_on_panic: true } }
)EOF");
  ASSERT_TRUE(zone_aware.ok()) << zone_aware.status();
  EXPECT_TRUE(zone_aware->common.fail_traffic_on_panic);
  EXPECT_FALSE(zone_aware->common.locality_weighted);
}

TEST(LbConfigTest, ReadsPolicySettings) {
  auto least = parse(R"EOF(
name: c
lb_policy: LEAST_REQUEST
least_request_lb_config: { choice_count: 4, active_request_bias: { default_value: 0.5, runtime_key: k } }
)EOF");
  ASSERT_TRUE(least.ok()) << least.status();
  EXPECT_EQ(least->least_request.choice_count, 4u);
  EXPECT_EQ(least->least_request.active_request_bias, 0.5);

  auto ring = parse(R"EOF(
name: c
lb_policy: RING_HASH
ring_hash_lb_config: { minimum_ring_size: 16, maximum_ring_size: 64, hash_function: MURMUR_HASH_2 }
)EOF");
  ASSERT_TRUE(ring.ok()) << ring.status();
  EXPECT_EQ(ring->ring_hash.minimum_ring_size, 16u);
  EXPECT_EQ(ring->ring_hash.maximum_ring_size, 64u);
  EXPECT_EQ(ring->ring_hash.hash_function, RingHashFunction::kMurmurHash2);

  auto maglev = parse("name: c\nlb_policy: MAGLEV\nmaglev_lb_config: { table_size: 5000011 }\n");
  ASSERT_TRUE(maglev.ok()) << maglev.status();
  EXPECT_EQ(maglev->maglev.table_size, 5000011u);
}

TEST(LbConfigTest, RejectsPoliciesWithoutALoadBalancer) {
  expectError("name: c\nlb_policy: CLUSTER_PROVIDED\n", "lb_policy: CLUSTER_PROVIDED");
  expectError("name: c\nlb_policy: LOAD_BALANCING_POLICY_CONFIG\n",
              "lb_policy: LOAD_BALANCING_POLICY_CONFIG");
  envoy::config::cluster::v3::Cluster unknown;
  unknown.set_lb_policy(static_cast<envoy::config::cluster::v3::Cluster::LbPolicy>(4));
  auto config = parseLbConfig(unknown);
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(absl::StartsWith(config.status().message(), "lb_policy:")) << config.status();
}

TEST(LbConfigTest, RejectsBadSettings) {
  expectError(
      "name: c\nlb_policy: RING_HASH\nring_hash_lb_config: { minimum_ring_size: 100, "
      "maximum_ring_size: 10 }\n",
      "ring_hash_lb_config.minimum_ring_size");
  expectError(
      "name: c\nlb_policy: RING_HASH\nring_hash_lb_config: { maximum_ring_size: 8388609 }\n",
      "ring_hash_lb_config.maximum_ring_size");
  expectError("name: c\nlb_policy: RING_HASH\nring_hash_lb_config: { minimum_ring_size: 0 }\n",
              "ring_hash_lb_config.minimum_ring_size");
  expectError("name: c\nlb_policy: MAGLEV\nmaglev_lb_config: { table_size: 65536 }\n",
              "maglev_lb_config.table_size");
  expectError("name: c\nlb_policy: MAGLEV\nmaglev_lb_config: { table_size: 5000012 }\n",
              "maglev_lb_config.table_size");
  expectError("name: c\nlb_policy: LEAST_REQUEST\nleast_request_lb_config: { choice_count: 1 }\n",
              "least_request_lb_config.choice_count");
  expectError(
      "name: c\nlb_policy: LEAST_REQUEST\nleast_request_lb_config: { active_request_bias: { "
      "default_value: -1, runtime_key: k } }\n",
      "least_request_lb_config.active_request_bias");
  expectError("name: c\ncommon_lb_config: { healthy_panic_threshold: { value: 101 } }\n",
              "common_lb_config.healthy_panic_threshold");
}

TEST(LbConfigTest, IgnoresSettingsOfOtherPolicies) {
  // As Envoy: a ROUND_ROBIN cluster's unused ring settings are not checked.
  auto config =
      parse("name: c\nring_hash_lb_config: { minimum_ring_size: 100, maximum_ring_size: 10 }\n");
  EXPECT_TRUE(config.ok()) << config.status();
}

}  // namespace
}  // namespace waystone::upstream::lb
