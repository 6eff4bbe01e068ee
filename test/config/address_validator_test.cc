#include "source/config/address_validator.h"

#include <string>

#include "gtest/gtest.h"

#include "source/common/protobuf/message_loader.h"

namespace waystone::config {
namespace {

using envoy::config::core::v3::Address;

Address address(absl::string_view yaml) {
  Address out;
  EXPECT_TRUE(protobuf::loadFromYaml(yaml, out).ok()) << yaml;
  return out;
}

TEST(AddressValidatorTest, ListenAddresses) {
  EXPECT_TRUE(validateAddress(address("socket_address: {address: 0.0.0.0, port_value: 80}"),
                              AddressUse::Listen, "a")
                  .ok());
  EXPECT_TRUE(validateAddress(address("socket_address: {address: '::', port_value: 0}"),
                              AddressUse::Listen, "a")
                  .ok());
  EXPECT_TRUE(
      validateAddress(address("pipe: {path: /tmp/admin.sock}"), AddressUse::Listen, "a").ok());
  EXPECT_EQ(validateAddress(address("socket_address: {address: 1.2.3.4}"), AddressUse::Listen, "a")
                .message(),
            "a.socket_address: port_value is required");
  EXPECT_EQ(validateAddress(address("socket_address: {address: 1.2.3.4, port_value: 1, "
                                    "resolver_name: r}"),
                            AddressUse::Listen, "a")
                .message(),
            "a.socket_address.resolver_name: custom resolvers are not supported (got \"r\")");
  EXPECT_EQ(validateAddress(Address(), AddressUse::Listen, "a").message(),
            "a: one of socket_address, pipe or envoy_internal_address is required");
}

TEST(AddressValidatorTest, EndpointAddresses) {
  const Address host =
      address("socket_address: {address: svc.ns.svc.cluster.local, port_value: 80}");
  EXPECT_TRUE(validateAddress(host, AddressUse::DnsEndpoint, "e").ok());
  EXPECT_FALSE(validateAddress(host, AddressUse::StaticEndpoint, "e").ok());
  const Address internal = address("envoy_internal_address: {server_listener_name: x}");
  EXPECT_TRUE(validateAddress(internal, AddressUse::StaticEndpoint, "e").ok());
  EXPECT_EQ(validateAddress(internal, AddressUse::DnsEndpoint, "e").message(),
            "e.envoy_internal_address: internal addresses are valid only in STATIC clusters");
  EXPECT_EQ(validateAddress(address("pipe: {path: /x}"), AddressUse::DnsEndpoint, "e").message(),
            "e.pipe: DNS clusters need socket addresses");
  EXPECT_EQ(validateAddress(address("socket_address: {protocol: UDP, address: 1.1.1.1, "
                                    "port_value: 53}"),
                            AddressUse::StaticEndpoint, "e")
                .message(),
            "e.socket_address.protocol: UDP endpoints are not supported");
}

TEST(AddressValidatorTest, BindKeyIsCanonical) {
  EXPECT_EQ(bindKey(address("socket_address: {address: '0::0', port_value: 80}")), "[::]:80");
  EXPECT_EQ(bindKey(address("socket_address: {address: '::', port_value: 80}")), "[::]:80");
  EXPECT_EQ(bindKey(address("socket_address: {address: 10.0.0.1, port_value: 8080}")),
            "10.0.0.1:8080");
  EXPECT_EQ(bindKey(address("socket_address: {address: 10.0.0.1, port_value: 0}")), "");
  EXPECT_EQ(bindKey(address("pipe: {path: /x}")), "");
}

}  // namespace
}  // namespace waystone::config
