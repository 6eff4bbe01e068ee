#include "source/common/network/address_proto.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace waystone::network::address {

using envoy::config::core::v3::Address;
using envoy::config::core::v3::SocketAddress;

absl::StatusOr<InstanceConstSharedPtr> fromProto(const SocketAddress& proto) {
  if (proto.protocol() != SocketAddress::TCP) {
    return absl::InvalidArgumentError(
        absl::StrFormat("socket_address.protocol: %s is not supported (TCP only)",
                        SocketAddress::Protocol_Name(proto.protocol()).empty()
                            ? absl::StrCat(static_cast<int>(proto.protocol()))
                            : SocketAddress::Protocol_Name(proto.protocol())));
  }
  if (!proto.resolver_name().empty()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("socket_address.resolver_name: \"%s\" is not supported",
                        absl::CHexEscape(proto.resolver_name())));
  }
  uint32_t port = 0;
  switch (proto.port_specifier_case()) {
    case SocketAddress::kPortValue:
      port = proto.port_value();
      if (port > 65535) {
        return absl::InvalidArgumentError(
            absl::StrFormat("socket_address.port_value: %u is out of range (0-65535)", port));
      }
      break;
    case SocketAddress::kNamedPort:
      return absl::InvalidArgumentError(
          absl::StrFormat("socket_address.named_port: \"%s\" is not supported (use port_value)",
                          absl::CHexEscape(proto.named_port())));
    case SocketAddress::PORT_SPECIFIER_NOT_SET:
      return absl::InvalidArgumentError("socket_address.port_value: required");
  }
  auto address = parseIp(proto.address(), static_cast<uint16_t>(port));
  if (!address.ok()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "socket_address.address: \"%s\" is not an IP address (names are not resolved here)",
        absl::CHexEscape(proto.address())));
  }
  return address;
}

absl::StatusOr<InstanceConstSharedPtr> fromProto(const Address& proto) {
  switch (proto.address_case()) {
    case Address::kSocketAddress:
      return fromProto(proto.socket_address());
    case Address::kPipe: {
      if (proto.pipe().mode() > 0777) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "pipe.mode: %o is not a permission mode (at most 0777)", proto.pipe().mode()));
      }
      auto address = pipe(proto.pipe().path());
      if (!address.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("pipe.path: ", address.status().message()));
      }
      return address;
    }
    case Address::kEnvoyInternalAddress: {
      const auto& internal = proto.envoy_internal_address();
      if (internal.server_listener_name().empty()) {
        return absl::InvalidArgumentError(
            "envoy_internal_address.server_listener_name: required (the name of an internal "
            "listener)");
      }
      return envoyInternal(internal.server_listener_name(), internal.endpoint_id());
    }
    case Address::ADDRESS_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(
      "address: one of socket_address, pipe or envoy_internal_address is required");
}

}  // namespace waystone::network::address
