#include "source/config/address_validator.h"

#include "absl/strings/str_cat.h"
#include <arpa/inet.h>

#include "source/common/protobuf/string_formats.h"

namespace waystone::config {
namespace {

using envoy::config::core::v3::Address;
using envoy::config::core::v3::SocketAddress;

absl::Status fail(const std::string& path, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", message));
}

// The canonical text of an IP literal (inet_ntop of inet_pton), or "" if it is not one.
std::string canonicalIp(const std::string& text) {
  char buffer[INET6_ADDRSTRLEN];
  struct in_addr v4;
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1 &&
      ::inet_ntop(AF_INET, &v4, buffer, sizeof(buffer)) != nullptr) {
    return buffer;
  }
  struct in6_addr v6;
  if (::inet_pton(AF_INET6, text.c_str(), &v6) == 1 &&
      ::inet_ntop(AF_INET6, &v6, buffer, sizeof(buffer)) != nullptr) {
    return absl::StrCat("[", buffer, "]");
  }
  return "";
}

absl::Status validateSocketAddress(const SocketAddress& socket, AddressUse use,
                                   const std::string& path) {
  const bool listen = use == AddressUse::Listen;
  if (socket.protocol() == SocketAddress::UDP) {
    return fail(absl::StrCat(path, ".protocol"),
                listen ? "UDP listeners are not supported" : "UDP endpoints are not supported");
  }
  if (!socket.resolver_name().empty()) {
    return fail(
        absl::StrCat(path, ".resolver_name"),
        absl::StrCat("custom resolvers are not supported (got \"", socket.resolver_name(), "\")"));
  }
  switch (socket.port_specifier_case()) {
    case SocketAddress::kPortValue:
      break;
    case SocketAddress::kNamedPort:
      return fail(absl::StrCat(path, ".named_port"), "named ports are not supported");
    case SocketAddress::PORT_SPECIFIER_NOT_SET:
      return fail(path, "port_value is required");
  }
  const std::string& host = socket.address();
  if (protobuf::isIp(host)) {
    return absl::OkStatus();
  }
  const std::string address_path = absl::StrCat(path, ".address");
  if (use == AddressUse::DnsEndpoint) {
    return protobuf::isHostname(host)
               ? absl::OkStatus()
               : fail(address_path,
                      absl::StrCat("\"", host, "\" is neither a host name nor an IP address"));
  }
  if (listen) {
    return fail(address_path,
                absl::StrCat("\"", host,
                             "\" is not an IP address (listeners bind to IPv4/IPv6 literals; named "
                             "resolution is not supported)"));
  }
  return fail(
      address_path,
      absl::StrCat("\"", host,
                   "\" is not an IP address (STATIC cluster endpoints need IP literals; use "
                   "STRICT_DNS or LOGICAL_DNS for host names)"));
}

}  // namespace

absl::Status validateAddress(const Address& address, AddressUse use, const std::string& path) {
  switch (address.address_case()) {
    case Address::kSocketAddress:
      return validateSocketAddress(address.socket_address(), use,
                                   absl::StrCat(path, ".socket_address"));
    case Address::kPipe:
      if (use == AddressUse::DnsEndpoint) {
        return fail(absl::StrCat(path, ".pipe"), "DNS clusters need socket addresses");
      }
      return absl::OkStatus();
    case Address::kEnvoyInternalAddress:
      if (use != AddressUse::StaticEndpoint) {
        return fail(absl::StrCat(path, ".envoy_internal_address"),
                    use == AddressUse::Listen
                        ? "not a bind address (an internal listener sets internal_listener instead)"
                        : "internal addresses are valid only in STATIC clusters");
      }
      return absl::OkStatus();
    case Address::ADDRESS_NOT_SET:
      break;
  }
  return fail(path, "one of socket_address, pipe or envoy_internal_address is required");
}

std::string bindKey(const Address& address) {
  if (!address.has_socket_address() || address.socket_address().port_value() == 0) {
    return "";
  }
  const std::string ip = canonicalIp(address.socket_address().address());
  if (ip.empty()) {
    return "";
  }
  return absl::StrCat(ip, ":", address.socket_address().port_value());
}

}  // namespace waystone::config
