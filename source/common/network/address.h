#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include <sys/socket.h>

namespace waystone::network::address {

enum class Type { Ip, Pipe };
enum class IpVersion { V4, V6 };

// An immutable socket address: IPv4/IPv6 with port, or a unix domain socket path ("pipe").
class Instance {
 public:
  virtual ~Instance() = default;

  virtual Type type() const = 0;
  // Envoy's spelling: "127.0.0.1:80", "[::1]:80", or the pipe path.
  virtual const std::string& asString() const = 0;
  virtual const sockaddr* sockAddr() const = 0;
  virtual socklen_t sockAddrLen() const = 0;

  // Ip only. For pipes they return V4, "", 0 and false: never rely on that.
  virtual IpVersion version() const = 0;
  virtual const std::string& ipString() const = 0;  // "127.0.0.1", "::1"
  virtual uint16_t port() const = 0;
  // True for 0.0.0.0 and ::.
  virtual bool isAnyAddress() const = 0;
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
