#include "source/config/bootstrap_validator.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "source/common/protobuf/message_loader.h"

namespace waystone::config {
namespace {

using envoy::config::bootstrap::v3::Bootstrap;

const std::string kTestData = "test/config/testdata/";

// Loads a test bootstrap (which must parse) and returns its validation error, "" if valid.
std::string validationError(const std::string& file) {
  Bootstrap bootstrap;
  absl::Status loaded = protobuf::loadFromFile(kTestData + file, bootstrap);
  EXPECT_TRUE(loaded.ok()) << file << ": " << loaded;
  absl::Status status = validateBootstrap(bootstrap);
  return status.ok() ? "" : std::string(status.message());
}

TEST(BootstrapValidatorTest, GoodBootstrapsPass) {
  EXPECT_EQ(validationError("good_static.yaml"), "");
  EXPECT_EQ(validationError("good_minimal.json"), "");
}

struct BadCase {
  const char* file;
  const char* error;
};

class BadBootstrapTest : public testing::TestWithParam<BadCase> {};

TEST_P(BadBootstrapTest, NamesFieldPath) {
  EXPECT_EQ(validationError(GetParam().file), GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Files, BadBootstrapTest,
    testing::Values(
        BadCase{"bad_duplicate_listener.yaml",
                "static_resources.listeners[2].name: duplicate listener name \"x\" (also "
                "static_resources.listeners[0])"},
        BadCase{"bad_duplicate_cluster.yaml",
                "static_resources.clusters[1].name: duplicate cluster name \"a\" (also "
                "static_resources.clusters[0])"},
        BadCase{"bad_duplicate_secret.yaml",
                "static_resources.secrets[1].name: duplicate secret name \"cert\" (also "
                "static_resources.secrets[0])"},
        BadCase{"bad_listener_no_address.yaml",
                "static_resources.listeners[0].address: a listener needs an address (or "
                "internal_listener for an internal one)"},
        BadCase{"bad_listener_hostname.yaml",
                "static_resources.listeners[0].address.socket_address.address: \"localhost\" is "
                "not an IP address (listeners bind to IPv4/IPv6 literals; named resolution is not "
                "supported)"},
        BadCase{"bad_listener_ip.yaml",
                "static_resources.listeners[0].address.socket_address.address: \"0.0.0.256\" is "
                "not an IP address (listeners bind to IPv4/IPv6 literals; named resolution is not "
                "supported)"},
        BadCase{"bad_same_address.yaml",
                "static_resources.listeners[1].additional_addresses[0].address: [::]:80 is already "
                "bound by static_resources.listeners[0].address"},
        BadCase{"bad_listener_udp.yaml",
                "static_resources.listeners[0].address.socket_address.protocol: UDP listeners are "
                "not supported"},
        BadCase{"bad_named_port.yaml",
                "static_resources.listeners[0].address.socket_address.named_port: named ports are "
                "not supported"},
        BadCase{"bad_internal_address_listener.yaml",
                "static_resources.listeners[0].address.envoy_internal_address: not a bind address "
                "(an internal listener sets internal_listener instead)"},
        BadCase{"bad_admin_address.yaml",
                "admin.address.socket_address.address: \"admin.local\" is not an IP address "
                "(listeners bind to IPv4/IPv6 literals; named resolution is not supported)"},
        BadCase{
            "bad_static_hostname.yaml",
            "static_resources.clusters[0].load_assignment.endpoints[1].lb_endpoints[1].endpoint."
            "address.socket_address.address: \"backend.local\" is not an IP address (STATIC "
            "cluster endpoints need IP literals; use STRICT_DNS or LOGICAL_DNS for host "
            "names)"},
        BadCase{
            "bad_dns_hostname.yaml",
            "static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint."
            "address.socket_address.address: \"bad host\" is neither a host name nor an IP "
            "address"},
        BadCase{
            "bad_eds_hostname.yaml",
            "static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint."
            "address.socket_address.address: \"backend.local\" is not an IP address (STATIC "
            "cluster endpoints need IP literals; use STRICT_DNS or LOGICAL_DNS for host "
            "names)"},
        BadCase{"bad_eds_without_config.yaml",
                "static_resources.clusters[0].eds_cluster_config: an EDS cluster needs "
                "eds_cluster_config"},
        BadCase{"bad_custom_cluster_type.yaml",
                "static_resources.clusters[0].cluster_type: custom cluster types are not "
                "supported (got \"envoy.clusters.aggregate\")"},
        BadCase{"bad_connect_timeout.yaml",
                "static_resources.clusters[0].connect_timeout: value must be > 0 (got -2s)"},
        BadCase{"bad_port.yaml",
                "static_resources.listeners[0].address.socket_address.port_value: value must be <= "
                "65535 (got 70000)"},
        BadCase{"bad_logical_dns_endpoints.yaml",
                "static_resources.clusters[0].load_assignment.endpoints: a LOGICAL_DNS cluster "
                "needs exactly one locality with exactly one lb_endpoint (got 2 endpoints in 1 "
                "localities)"},
        BadCase{"bad_original_dst_lb_policy.yaml",
                "static_resources.clusters[0].lb_policy: LB policy ROUND_ROBIN is not valid for an "
                "ORIGINAL_DST cluster; it needs CLUSTER_PROVIDED"},
        BadCase{"bad_original_dst_endpoints.yaml",
                "static_resources.clusters[0].load_assignment.endpoints: an ORIGINAL_DST cluster "
                "takes its hosts from connections; it must not list endpoints"},
        BadCase{"bad_dns_failure_refresh_rate.yaml",
                "static_resources.clusters[0].dns_failure_refresh_rate.max_interval: must be "
                "greater than or equal to base_interval"},
        BadCase{"bad_cluster_provided.yaml",
                "static_resources.clusters[0].lb_policy: CLUSTER_PROVIDED is valid only for "
                "ORIGINAL_DST clusters (type is STRICT_DNS)"},
        BadCase{"bad_typed_struct.yaml",
                "static_resources.listeners[0].filter_chains[0].filters[0].typed_config: one of "
                "[cluster, weighted_clusters] must be set (oneof cluster_specifier)"}),
    [](const testing::TestParamInfo<BadCase>& info) {
      std::string name = info.param.file;
      name = name.substr(0, name.find('.'));
      return name;
    });

TEST(BootstrapValidatorTest, TypedStructUnknownFieldsFollowOptions) {
  Bootstrap bootstrap;
  ASSERT_TRUE(protobuf::loadFromYaml(R"(
static_resources:
  listeners:
  - name: l
    address: { socket_address: { address: 0.0.0.0, port_value: 80 } }
    filter_chains:
    - filters:
      - name: tcp
        typed_config:
          "@type": type.googleapis.com/udpa.type.v1.TypedStruct
          type_url: type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          value: { stat_prefix: tcp, cluster: c, future_field: 1 }
)",
                                     bootstrap)
                  .ok());
  EXPECT_EQ(validateBootstrap(bootstrap).message(),
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.future_field: "
            "unknown field");
  protobuf::LoadOptions lenient;
  lenient.allow_unknown_fields = true;
  EXPECT_TRUE(validateBootstrap(bootstrap, lenient).ok());
}

TEST(BootstrapValidatorTest, EmptyBootstrapIsValid) {
  EXPECT_TRUE(validateBootstrap(Bootstrap()).ok());
}

}  // namespace
}  // namespace waystone::config
