#pragma once

#include <string>

#include "absl/status/status.h"
#include "envoy/config/core/v3/address.pb.h"

namespace waystone::config {

// Where an Address is used decides what it may be.
enum class AddressUse {
  // A listener's or the admin's bind address: an IPv4/IPv6 literal and a port, or a pipe.
  Listen,
  // An endpoint of a STATIC cluster: an IP literal and port, a pipe or an internal listener.
  StaticEndpoint,
  // An endpoint of a STRICT_DNS / LOGICAL_DNS cluster: a host name or IP literal and port.
  DnsEndpoint,
};

// Checks what protoc-gen-validate cannot: that a socket address parses as the use requires
// (inet_pton for IP literals), that it has a numeric port, and that it asks for nothing
// Waystone lacks (named ports, custom resolvers, UDP). `path` names the Address field; errors
// start with it, e.g.
//   static_resources.listeners[0].address.socket_address.address: "localhost" is not an IP
//   address (listeners bind to IPv4/IPv6 literals; named resolution is not supported)
absl::Status validateAddress(const envoy::config::core::v3::Address& address, AddressUse use,
                             const std::string& path);

// "ip:port" with the IP in canonical form ("[::1]:80" for IPv6), identifying the socket a listen
// address binds; empty when the address is not an IP socket address or its port is 0
// (ephemeral ports never collide).
std::string bindKey(const envoy::config::core::v3::Address& address);

}  // namespace waystone::config
