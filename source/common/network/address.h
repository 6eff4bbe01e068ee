#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include <sys/socket.h>

namespace waystone::network::address {

// Internal: an Envoy internal listener address (envoy_internal_address), reached in process by
// an internal connection, never by a socket.
enum class Type { Ip, Pipe, Internal };
enum class IpVersion { V4, V6 };

// The two names of an internal address (Envoy's EnvoyInternalAddress).
class EnvoyInternalAddress {
 public:
  virtual ~EnvoyInternalAddress() = default;
  // The internal listener's name (Listener.name): what a client connects to.
  virtual const std::string& serverListenerName() const = 0;
  // Tells apart endpoints that reach the same listener (istiod puts the destination "ip:port"
  // here); may be empty.
  virtual const std::string& endpointId() const = 0;
};

// An immutable address: IPv4/IPv6 with port, a unix domain socket path ("pipe"), or an internal
// listener address.
class Instance {
 public:
  virtual ~Instance() = default;

  virtual Type type() const = 0;
  // Envoy's spelling: "127.0.0.1:80", "[::1]:80", the pipe path, or
  // "envoy://<server_listener_name>/<endpoint_id>".
  virtual const std::string& asString() const = 0;
  // An internal address has no socket address: an AF_UNSPEC one, which every socket call
  // refuses.
  virtual const sockaddr* sockAddr() const = 0;
  virtual socklen_t sockAddrLen() const = 0;

  // Ip only. For pipes and internal addresses they return V4, "", 0 and false: never rely on that.
  virtual IpVersion version() const = 0;
  virtual const std::string& ipString() const = 0;  // "127.0.0.1", "::1"
  virtual uint16_t port() const = 0;
  // True for 0.0.0.0 and ::.
  virtual bool isAnyAddress() const = 0;

  // Internal only: the listener and endpoint names; nullptr for the other types.
  virtual const EnvoyInternalAddress* envoyInternalAddress() const { return nullptr; }
};

using InstanceConstSharedPtr = std::shared_ptr<const Instance>;

// "1.2.3.4", "::1" with a port; the error names the bad text. Names are not resolved, and
// brackets or IPv6 zone ids ("fe80::1%eth0") are not accepted.
absl::StatusOr<InstanceConstSharedPtr> parseIp(absl::string_view ip, uint16_t port);
// "1.2.3.4:80" or "[::1]:80".
absl::StatusOr<InstanceConstSharedPtr> parseIpAndPort(absl::string_view ip_port);
// A unix socket path; "@name" is `name` in the Linux abstract namespace (asString() keeps the
// "@"). The path must fit sockaddr_un (107 bytes, 108 for an abstract name including the '@').
absl::StatusOr<InstanceConstSharedPtr> pipe(absl::string_view path);
// The internal listener address "envoy://<server_listener_name>/<endpoint_id>". Callers check
// that the listener name is not empty (fromProto does).
InstanceConstSharedPtr envoyInternal(absl::string_view server_listener_name,
                                     absl::string_view endpoint_id = "");
// From a kernel address (getsockname/getpeername/accept). An unnamed unix socket (the usual
// client side of a pipe connection) gives a pipe whose asString() is empty.
absl::StatusOr<InstanceConstSharedPtr> fromSockAddr(const sockaddr_storage& ss, socklen_t len);

// getsockname() / getpeername() of `fd`, through fromSockAddr(). The error names the errno text.
absl::StatusOr<InstanceConstSharedPtr> localAddressFromFd(int fd);
absl::StatusOr<InstanceConstSharedPtr> peerAddressFromFd(int fd);

// Same type and same asString() (for IP: same family, address and port).
bool operator==(const Instance& a, const Instance& b);
inline bool operator!=(const Instance& a, const Instance& b) { return !(a == b); }

}  // namespace waystone::network::address
