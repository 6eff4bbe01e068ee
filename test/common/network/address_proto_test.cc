#include "source/common/network/address_proto.h"

#include "gtest/gtest.h"

namespace waystone::network::address {
namespace {

using envoy::config::core::v3::Address;
using envoy::config::core::v3::SocketAddress;

Address socketAddress(const std::string& ip, uint32_t port) {
  Address proto;
  proto.mutable_socket_address()->set_address(ip);
  proto.mutable_socket_address()->set_port_value(port);
  return proto;
}

void expectError(const Address& proto, absl::string_view message) {
  auto address = fromProto(proto);
  ASSERT_FALSE(address.ok()) << proto.DebugString();
  EXPECT_EQ(address.status().message(), message);
}

TEST(AddressProtoTest, SocketAddressV4AndV6) {
  auto v4 = fromProto(socketAddress("10.0.0.1", 15008));
  ASSERT_TRUE(v4.ok()) << v4.status();
  EXPECT_EQ((*v4)->asString(), "10.0.0.1:15008");
  auto v6 = fromProto(socketAddress("::", 15001));
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ((*v6)->asString(), "[::]:15001");
  EXPECT_TRUE((*v6)->isAnyAddress());
}

TEST(AddressProtoTest, PortZeroIsExplicitlyAllowed) {
  auto address = fromProto(socketAddress("127.0.0.1", 0));
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ((*address)->port(), 0);
}

TEST(AddressProtoTest, Ipv4CompatIsIgnored) {
  Address proto = socketAddress("::", 80);
  proto.mutable_socket_address()->set_ipv4_compat(true);
  auto address = fromProto(proto);
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ((*address)->asString(), "[::]:80");
}

TEST(AddressProtoTest, SocketAddressErrorsNameTheField) {
  expectError(socketAddress("foo", 80),
              "socket_address.address: \"foo\" is not an IP address (names are not resolved "
              "here)");
  expectError(socketAddress("", 80),
              "socket_address.address: \"\" is not an IP address (names are not resolved here)");
  expectError(socketAddress("1.2.3.4", 65536),
              "socket_address.port_value: 65536 is out of range (0-65535)");

  Address no_port;
  no_port.mutable_socket_address()->set_address("1.2.3.4");
  expectError(no_port, "socket_address.port_value: required");

  Address named = socketAddress("1.2.3.4", 80);
  named.mutable_socket_address()->set_named_port("http");
  expectError(named, "socket_address.named_port: \"http\" is not supported (use port_value)");

  Address udp = socketAddress("1.2.3.4", 80);
  udp.mutable_socket_address()->set_protocol(SocketAddress::UDP);
  expectError(udp, "socket_address.protocol: UDP is not supported (TCP only)");

  Address resolver = socketAddress("1.2.3.4", 80);
  resolver.mutable_socket_address()->set_resolver_name("dns");
  expectError(resolver, "socket_address.resolver_name: \"dns\" is not supported");
}

TEST(AddressProtoTest, Pipes) {
  Address proto;
  proto.mutable_pipe()->set_path("/var/run/waystone.sock");
  auto path = fromProto(proto);
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ((*path)->type(), Type::Pipe);
  EXPECT_EQ((*path)->asString(), "/var/run/waystone.sock");

  proto.mutable_pipe()->set_path("@istio-admin");
  auto abstract = fromProto(proto);
  ASSERT_TRUE(abstract.ok()) << abstract.status();
  EXPECT_EQ((*abstract)->asString(), "@istio-admin");
}

TEST(AddressProtoTest, PipeErrors) {
  Address empty;
  empty.mutable_pipe();
  auto address = fromProto(empty);
  ASSERT_FALSE(address.ok());
  EXPECT_EQ(address.status().message(), "pipe.path: invalid unix socket path \"\": empty");

  Address too_long;
  too_long.mutable_pipe()->set_path(std::string(200, 'x'));
  address = fromProto(too_long);
  ASSERT_FALSE(address.ok());
  EXPECT_EQ(address.status().message().substr(0, 10), "pipe.path:");

  Address bad_mode;
  bad_mode.mutable_pipe()->set_path("/a");
  bad_mode.mutable_pipe()->set_mode(01000);
  address = fromProto(bad_mode);
  ASSERT_FALSE(address.ok());
  EXPECT_EQ(address.status().message(), "pipe.mode: 1000 is not a permission mode (at most 0777)");
}

TEST(AddressProtoTest, InternalAndUnsetAddresses) {
  Address internal;
  internal.mutable_envoy_internal_address()->set_server_listener_name("connect_originate");
  internal.mutable_envoy_internal_address()->set_endpoint_id("10.244.1.24:9080");
  auto address = fromProto(internal);
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ((*address)->type(), Type::Internal);
  EXPECT_EQ((*address)->asString(), "envoy://connect_originate/10.244.1.24:9080");
  ASSERT_NE((*address)->envoyInternalAddress(), nullptr);
  EXPECT_EQ((*address)->envoyInternalAddress()->serverListenerName(), "connect_originate");
  EXPECT_EQ((*address)->envoyInternalAddress()->endpointId(), "10.244.1.24:9080");

  internal.mutable_envoy_internal_address()->clear_endpoint_id();
  address = fromProto(internal);
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ((*address)->asString(), "envoy://connect_originate/");

  Address unnamed;
  unnamed.mutable_envoy_internal_address()->set_endpoint_id("x");
  address = fromProto(unnamed);
  ASSERT_FALSE(address.ok());
  EXPECT_EQ(address.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(address.status().message(),
            "envoy_internal_address.server_listener_name: required (the name of an internal "
            "listener)");

  address = fromProto(Address());
  ASSERT_FALSE(address.ok());
  EXPECT_EQ(address.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(address.status().message().substr(0, 8), "address:");
}

}  // namespace
}  // namespace waystone::network::address
