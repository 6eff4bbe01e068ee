#include "source/upstream/membership_update.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "gtest/gtest.h"

#include "source/common/network/address.h"
#include "source/common/protobuf/message_loader.h"

namespace waystone::upstream {
namespace {

using envoy::config::endpoint::v3::ClusterLoadAssignment;

network::address::InstanceConstSharedPtr address(const std::string& ip_port) {
  auto parsed = network::address::parseIpAndPort(ip_port);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *parsed : nullptr;
}

ClusterLoadAssignment assignmentFromYaml(const std::string& yaml) {
  ClusterLoadAssignment assignment;
  absl::Status status = protobuf::loadFromYaml(yaml, assignment);
  EXPECT_TRUE(status.ok()) << status;
  return assignment;
}

MembershipUpdate::Endpoint endpoint(const std::string& ip_port, uint32_t weight = 1,
                                    uint32_t priority = 0) {
  MembershipUpdate::Endpoint out;
  out.address = address(ip_port);
  out.weight = weight;
  out.priority = priority;
  return out;
}

std::vector<std::string> addressesOf(const HostVector& hosts) {
  std::vector<std::string> out;
  for (const auto& host : hosts) {
    out.push_back(host->address()->asString());
  }
  return out;
}

TEST(MembershipUpdateTest, FromLoadAssignmentExpandsEachEndpointToItsAddresses) {
  const ClusterLoadAssignment assignment = assignmentFromYaml(R"EOF(
cluster_name: dns
policy: { overprovisioning_factor: 200, weighted_priority_health: true }
endpoints:
- locality: { zone: a }
  load_balancing_weight: 7
  lb_endpoints:
  - endpoint:
      address: { socket_address: { address: one.example, port_value: 80 } }
    load_balancing_weight: 3
    health_status: DEGRADED
- locality: { zone: b }
  priority: 1
  lb_endpoints:
  - endpoint:
      address: { socket_address: { address: two.example, port_value: 81 } }
      hostname: named
)EOF");
  auto update = MembershipUpdate::fromLoadAssignment(
      assignment, {{address("10.0.0.1:80"), address("10.0.0.2:80")}, {address("10.0.0.3:81")}},
      /*dns_names_as_hostnames=*/true);
  ASSERT_TRUE(update.ok()) << update.status();
  EXPECT_EQ(update->overprovisioning_factor, 200u);
  EXPECT_TRUE(update->weighted_priority_health);
  ASSERT_EQ(update->endpoints.size(), 3u);
  EXPECT_EQ(update->endpoints[0].address->asString(), "10.0.0.1:80");
  EXPECT_EQ(update->endpoints[1].address->asString(), "10.0.0.2:80");
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(update->endpoints[i].weight, 3u);
    EXPECT_EQ(update->endpoints[i].locality.zone(), "a");
    // Envoy names DNS hosts after their name when the endpoint has no hostname.
    EXPECT_EQ(update->endpoints[i].hostname, "one.example");
    EXPECT_EQ(update->endpoints[i].priority, 0u);
    EXPECT_EQ(update->endpoints[i].health_status, envoy::config::core::v3::DEGRADED);
  }
  EXPECT_EQ(update->endpoints[2].hostname, "named");
  EXPECT_EQ(update->endpoints[2].priority, 1u);
  EXPECT_EQ(update->endpoints[2].weight, 1u);
  ASSERT_EQ(update->locality_weights.size(), 1u);
  EXPECT_EQ(update->locality_weights[0].weight, 7u);
  EXPECT_EQ(update->locality_weights[0].locality.zone(), "a");
}

TEST(MembershipUpdateTest, FromLoadAssignmentChecksTheCountsAndFields) {
  const ClusterLoadAssignment assignment = assignmentFromYaml(R"EOF(
cluster_name: x
endpoints:
- lb_endpoints:
  - endpoint: { address: { socket_address: { address: 10.0.0.1, port_value: 80 } } }
)EOF");
  EXPECT_FALSE(MembershipUpdate::fromLoadAssignment(assignment, {}).ok());
  EXPECT_FALSE(MembershipUpdate::fromLoadAssignment(assignment, {{}, {}}).ok());
  // An endpoint may stand for no address at all (a name that resolved to nothing).
  auto empty = MembershipUpdate::fromLoadAssignment(assignment, {{}});
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->endpoints.empty());

  ClusterLoadAssignment bad_priority = assignment;
  bad_priority.mutable_endpoints(0)->set_priority(129);
  EXPECT_EQ(MembershipUpdate::fromLoadAssignment(bad_priority).status().message(),
            "load_assignment.endpoints[0].priority: 129 is above 128");

  ClusterLoadAssignment bad_factor = assignment;
  bad_factor.mutable_policy()->mutable_overprovisioning_factor()->set_value(0);
  EXPECT_EQ(MembershipUpdate::fromLoadAssignment(bad_factor).status().message(),
            "load_assignment.policy.overprovisioning_factor: must be greater than 0");

  ClusterLoadAssignment name = assignment;
  name.mutable_endpoints(0)
      ->mutable_lb_endpoints(0)
      ->mutable_endpoint()
      ->mutable_address()
      ->mutable_socket_address()
      ->set_address("not-an-ip");
  auto named = MembershipUpdate::fromLoadAssignment(name);
  ASSERT_FALSE(named.ok());
  EXPECT_EQ(named.status().message().substr(0, 63),
            "load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.s");
}

TEST(MembershipUpdateTest, KeptHostsKeepTheirObjectsAndNewOnesAreAdded) {
  MembershipUpdate first;
  first.endpoints = {endpoint("10.0.0.1:80"), endpoint("10.0.0.2:80")};
  auto initial = applyMembershipUpdate("c", first, {});
  ASSERT_TRUE(initial.ok()) << initial.status();
  EXPECT_EQ(initial->added.size(), 2u);
  EXPECT_TRUE(initial->removed.empty());
  EXPECT_EQ(initial->hosts[0]->clusterName(), "c");

  MembershipUpdate second;
  second.endpoints = {endpoint("10.0.0.2:80", /*weight=*/9), endpoint("10.0.0.3:80")};
  auto next = applyMembershipUpdate("c", second, initial->hosts);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(addressesOf(next->hosts), (std::vector<std::string>{"10.0.0.2:80", "10.0.0.3:80"}));
  // The kept host is the same object; its weight changed in place.
  EXPECT_EQ(next->hosts[0], initial->hosts[1]);
  EXPECT_EQ(next->hosts[0]->weight(), 9u);
  EXPECT_EQ(addressesOf(next->added), std::vector<std::string>{"10.0.0.3:80"});
  EXPECT_EQ(addressesOf(next->removed), std::vector<std::string>{"10.0.0.1:80"});
  EXPECT_EQ(next->removed[0], initial->hosts[0]);
  ASSERT_EQ(next->priority_set->hostSetsPerPriority().size(), 1u);
  EXPECT_EQ(next->priority_set->hostSetsPerPriority()[0].hosts().size(), 2u);
}

TEST(MembershipUpdateTest, ALocalityOrHostnameChangeMakesANewHost) {
  MembershipUpdate first;
  first.endpoints = {endpoint("10.0.0.1:80"), endpoint("10.0.0.2:80")};
  auto initial = applyMembershipUpdate("c", first, {});
  ASSERT_TRUE(initial.ok());
  MembershipUpdate second = first;
  second.endpoints[0].locality.set_zone("elsewhere");
  second.endpoints[1].hostname = "renamed";
  auto next = applyMembershipUpdate("c", second, initial->hosts);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->added.size(), 2u);
  EXPECT_EQ(next->removed.size(), 2u);
  EXPECT_NE(next->hosts[0], initial->hosts[0]);
}

// Endpoint metadata (what internal_upstream passes through, e.g. the HBONE target) reaches the
// Host; hosts are immutable, so other metadata makes a new Host and the same keeps it.
TEST(MembershipUpdateTest, MetadataReachesTheHostAndAChangeMakesANewHost) {
  const ClusterLoadAssignment assignment = assignmentFromYaml(R"EOF(
cluster_name: c
endpoints:
- lb_endpoints:
  - endpoint:
      address: { socket_address: { address: 10.0.0.1, port_value: 80 } }
    metadata:
      filter_metadata:
        envoy.filters.listener.original_dst: { local: "10.1.0.1:8080" }
  - endpoint:
      address: { socket_address: { address: 10.0.0.2, port_value: 80 } }
)EOF");
  auto first = MembershipUpdate::fromLoadAssignment(assignment);
  ASSERT_TRUE(first.ok()) << first.status();
  auto initial = applyMembershipUpdate("c", *first, {});
  ASSERT_TRUE(initial.ok());
  ASSERT_EQ(initial->hosts.size(), 2u);
  EXPECT_EQ(initial->hosts[0]
                ->metadata()
                .filter_metadata()
                .at("envoy.filters.listener.original_dst")
                .fields()
                .at("local")
                .string_value(),
            "10.1.0.1:8080");
  EXPECT_TRUE(initial->hosts[1]->metadata().filter_metadata().empty());

  auto same = applyMembershipUpdate("c", *first, initial->hosts);
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->added.empty());
  EXPECT_EQ(same->hosts[0], initial->hosts[0]);

  MembershipUpdate changed = *first;
  (*changed.endpoints[0].metadata.mutable_filter_metadata())["envoy.filters.listener.original_dst"]
      .mutable_fields()
      ->at("local")
      .set_string_value("10.1.0.9:8080");
  auto next = applyMembershipUpdate("c", changed, initial->hosts);
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->added.size(), 1u);
  EXPECT_NE(next->hosts[0], initial->hosts[0]);
  EXPECT_EQ(next->hosts[1], initial->hosts[1]);
  ASSERT_EQ(next->removed.size(), 1u);
  EXPECT_EQ(next->removed[0], initial->hosts[0]);
}

TEST(MembershipUpdateTest, DuplicatesKeepOneHostEach) {
  MembershipUpdate twice;
  twice.endpoints = {endpoint("10.0.0.1:80"), endpoint("10.0.0.1:80")};
  auto initial = applyMembershipUpdate("c", twice, {});
  ASSERT_TRUE(initial.ok());
  ASSERT_EQ(initial->hosts.size(), 2u);
  EXPECT_NE(initial->hosts[0], initial->hosts[1]);
  MembershipUpdate once;
  once.endpoints = {endpoint("10.0.0.1:80")};
  auto next = applyMembershipUpdate("c", once, initial->hosts);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->hosts[0], initial->hosts[0]);
  ASSERT_EQ(next->removed.size(), 1u);
  EXPECT_EQ(next->removed[0], initial->hosts[1]);
}

TEST(MembershipUpdateTest, PrioritiesLocalityWeightsAndHealthReachThePrioritySet) {
  MembershipUpdate update;
  update.endpoints = {endpoint("10.0.0.1:80", 1, 0), endpoint("10.0.0.2:80", 1, 2)};
  update.endpoints[1].health_status = envoy::config::core::v3::UNHEALTHY;
  update.endpoints[1].locality.set_zone("z");
  MembershipUpdate::LocalityWeight weight;
  weight.priority = 2;
  weight.locality.set_zone("z");
  weight.weight = 5;
  update.locality_weights.push_back(weight);
  update.overprovisioning_factor = 100;
  auto change = applyMembershipUpdate("c", update, {});
  ASSERT_TRUE(change.ok()) << change.status();
  const auto& sets = change->priority_set->hostSetsPerPriority();
  ASSERT_EQ(sets.size(), 3u);
  EXPECT_EQ(sets[0].hosts().size(), 1u);
  EXPECT_TRUE(sets[1].hosts().empty());
  ASSERT_EQ(sets[2].hosts().size(), 1u);
  EXPECT_EQ(sets[2].edsHealth(0), lb::HostHealth::kUnhealthy);
  EXPECT_EQ(sets[2].localityWeights(), std::vector<uint32_t>{5});
  EXPECT_EQ(sets[2].overprovisioningFactor(), 100u);
}

TEST(MembershipUpdateTest, ARejectedUpdateChangesNothing) {
  MembershipUpdate first;
  first.endpoints = {endpoint("10.0.0.1:80", 4)};
  auto initial = applyMembershipUpdate("c", first, {});
  ASSERT_TRUE(initial.ok());
  MembershipUpdate bad;
  bad.endpoints = {endpoint("10.0.0.1:80", 8), endpoint("10.0.0.2:80", 1, 300)};
  auto rejected = applyMembershipUpdate("c", bad, initial->hosts);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.status().message(), "priority: 300 is above 128");
  // Validation happens before any kept host is touched.
  EXPECT_EQ(initial->hosts[0]->weight(), 4u);
  MembershipUpdate no_factor;
  no_factor.overprovisioning_factor = 0;
  EXPECT_FALSE(applyMembershipUpdate("c", no_factor, {}).ok());
}

}  // namespace
}  // namespace waystone::upstream
