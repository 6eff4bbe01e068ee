// The concrete address classes behind address.h: Ipv4Instance, Ipv6Instance, PipeInstance and
// InternalInstance. They are private to this file; code outside builds addresses through the
// factory functions.
#include <cerrno>
#include <cstddef>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include "source/common/network/address.h"

namespace waystone::network::address {
namespace {

const std::string& emptyString() {
  static const std::string* const kEmpty = new std::string();
  return *kEmpty;
}

class Ipv4Instance final : public Instance {
 public:
  explicit Ipv4Instance(const sockaddr_in& address) : address_(address) {
    char text[INET_ADDRSTRLEN];
    // inet_ntop cannot fail for AF_INET with a buffer of INET_ADDRSTRLEN.
    ::inet_ntop(AF_INET, &address_.sin_addr, text, sizeof(text));
    ip_string_ = text;
    as_string_ = absl::StrCat(ip_string_, ":", port());
  }

  Type type() const override { return Type::Ip; }
  const std::string& asString() const override { return as_string_; }
  const sockaddr* sockAddr() const override { return reinterpret_cast<const sockaddr*>(&address_); }
  socklen_t sockAddrLen() const override { return sizeof(address_); }
  IpVersion version() const override { return IpVersion::V4; }
  const std::string& ipString() const override { return ip_string_; }
  uint16_t port() const override { return ntohs(address_.sin_port); }
  bool isAnyAddress() const override { return address_.sin_addr.s_addr == htonl(INADDR_ANY); }

 private:
  sockaddr_in address_;
  std::string ip_string_;
  std::string as_string_;
};

class Ipv6Instance final : public Instance {
 public:
  explicit Ipv6Instance(const sockaddr_in6& address) : address_(address) {
    char text[INET6_ADDRSTRLEN];
    ::inet_ntop(AF_INET6, &address_.sin6_addr, text, sizeof(text));
    ip_string_ = text;
    as_string_ = absl::StrCat("[", ip_string_, "]:", port());
  }

  Type type() const override { return Type::Ip; }
  const std::string& asString() const override { return as_string_; }
  const sockaddr* sockAddr() const override { return reinterpret_cast<const sockaddr*>(&address_); }
  socklen_t sockAddrLen() const override { return sizeof(address_); }
  IpVersion version() const override { return IpVersion::V6; }
  const std::string& ipString() const override { return ip_string_; }
  uint16_t port() const override { return ntohs(address_.sin6_port); }
  bool isAnyAddress() const override {
    return std::memcmp(&address_.sin6_addr, &in6addr_any, sizeof(in6_addr)) == 0;
  }

 private:
  sockaddr_in6 address_;
  std::string ip_string_;
  std::string as_string_;
};

class PipeInstance final : public Instance {
 public:
  // `address` holds the path (NUL-terminated) or, for an abstract socket, a NUL followed by
  // `length` - offsetof(sun_path) - 1 name bytes. `as_string` is Envoy's spelling ("@name" for
  // abstract sockets).
  PipeInstance(const sockaddr_un& address, socklen_t length, std::string as_string)
      : address_(address), length_(length), as_string_(std::move(as_string)) {}

  Type type() const override { return Type::Pipe; }
  const std::string& asString() const override { return as_string_; }
  const sockaddr* sockAddr() const override { return reinterpret_cast<const sockaddr*>(&address_); }
  socklen_t sockAddrLen() const override { return length_; }
  IpVersion version() const override { return IpVersion::V4; }
  const std::string& ipString() const override { return emptyString(); }
  uint16_t port() const override { return 0; }
  bool isAnyAddress() const override { return false; }

 private:
  sockaddr_un address_;
  socklen_t length_;
  std::string as_string_;
};

class InternalInstance final : public Instance, public EnvoyInternalAddress {
 public:
  InternalInstance(absl::string_view server_listener_name, absl::string_view endpoint_id)
      : server_listener_name_(server_listener_name),
        endpoint_id_(endpoint_id),
        as_string_(absl::StrCat("envoy://", server_listener_name, "/", endpoint_id)) {}

  Type type() const override { return Type::Internal; }
  const std::string& asString() const override { return as_string_; }
  // AF_UNSPEC (all zero): socket(), bind() and connect() refuse it, so code that treats an
  // internal address as a socket address fails cleanly instead of reading garbage.
  const sockaddr* sockAddr() const override { return reinterpret_cast<const sockaddr*>(&kUnspec); }
  socklen_t sockAddrLen() const override { return sizeof(sa_family_t); }
  IpVersion version() const override { return IpVersion::V4; }
  const std::string& ipString() const override { return emptyString(); }
  uint16_t port() const override { return 0; }
  bool isAnyAddress() const override { return false; }
  const EnvoyInternalAddress* envoyInternalAddress() const override { return this; }

  // EnvoyInternalAddress
  const std::string& serverListenerName() const override { return server_listener_name_; }
  const std::string& endpointId() const override { return endpoint_id_; }

 private:
  static constexpr sockaddr_storage kUnspec{};

  const std::string server_listener_name_;
  const std::string endpoint_id_;
  const std::string as_string_;
};

}  // namespace

InstanceConstSharedPtr envoyInternal(absl::string_view server_listener_name,
                                     absl::string_view endpoint_id) {
  return std::make_shared<const InternalInstance>(server_listener_name, endpoint_id);
}

absl::StatusOr<InstanceConstSharedPtr> parseIp(absl::string_view ip, uint16_t port) {
  // inet_pton needs a NUL-terminated string; also reject embedded NULs that would cut it short.
  const std::string text(ip);
  if (text.find('\0') == std::string::npos) {
    sockaddr_in v4{};
    if (::inet_pton(AF_INET, text.c_str(), &v4.sin_addr) == 1) {
      v4.sin_family = AF_INET;
      v4.sin_port = htons(port);
      return std::make_shared<const Ipv4Instance>(v4);
    }
    sockaddr_in6 v6{};
    if (::inet_pton(AF_INET6, text.c_str(), &v6.sin6_addr) == 1) {
      v6.sin6_family = AF_INET6;
      v6.sin6_port = htons(port);
      return std::make_shared<const Ipv6Instance>(v6);
    }
  }
  return absl::InvalidArgumentError(
      absl::StrFormat("\"%s\" is not an IPv4 or IPv6 address", absl::CHexEscape(ip)));
}

absl::StatusOr<InstanceConstSharedPtr> parseIpAndPort(absl::string_view ip_port) {
  const auto bad = [ip_port](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrFormat("\"%s\" is not an IP address and port: %s",
                                                      absl::CHexEscape(ip_port), why));
  };
  absl::string_view ip;
  absl::string_view port_text;
  if (!ip_port.empty() && ip_port.front() == '[') {
    const size_t close = ip_port.find(']');
    if (close == absl::string_view::npos) {
      return bad("missing ']'");
    }
    ip = ip_port.substr(1, close - 1);
    const absl::string_view rest = ip_port.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      return bad("expected ':' and a port after ']'");
    }
    port_text = rest.substr(1);
  } else {
    const size_t colon = ip_port.rfind(':');
    if (colon == absl::string_view::npos) {
      return bad("missing ':' and port");
    }
    ip = ip_port.substr(0, colon);
    if (ip.find(':') != absl::string_view::npos) {
      return bad("an IPv6 address must be in brackets");
    }
    port_text = ip_port.substr(colon + 1);
  }
  uint32_t port = 0;
  // SimpleAtoi accepts a sign and surrounding spaces; a port is digits only.
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != absl::string_view::npos ||
      !absl::SimpleAtoi(port_text, &port) || port > 65535) {
    return bad("invalid port");
  }
  auto address = parseIp(ip, static_cast<uint16_t>(port));
  if (!address.ok()) {
    return bad(address.status().message());
  }
  // The bracketed form is for IPv6 only.
  if (ip_port.front() == '[' && (*address)->version() != IpVersion::V6) {
    return bad("brackets around an IPv4 address");
  }
  return address;
}

absl::StatusOr<InstanceConstSharedPtr> pipe(absl::string_view path) {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  const auto bad = [path](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrFormat("invalid unix socket path \"%s\": %s", absl::CHexEscape(path), why));
  };
  if (path.empty()) {
    return bad("empty");
  }
  if (path.front() == '@') {
    // Abstract namespace: sun_path = NUL + name, and the length counts exactly those bytes.
    const absl::string_view name = path.substr(1);
    if (name.empty()) {
      // The kernel would "autobind" a random name for a bare NUL.
      return bad("empty abstract name");
    }
    if (name.size() + 1 > sizeof(un.sun_path)) {
      return bad(absl::StrCat("longer than ", sizeof(un.sun_path) - 1, " bytes"));
    }
    std::memcpy(un.sun_path + 1, name.data(), name.size());
    const socklen_t length = offsetof(sockaddr_un, sun_path) + 1 + name.size();
    return std::make_shared<const PipeInstance>(un, length, std::string(path));
  }
  if (path.find('\0') != absl::string_view::npos) {
    return bad("contains a NUL byte");
  }
  if (path.size() + 1 > sizeof(un.sun_path)) {
    return bad(absl::StrCat("longer than ", sizeof(un.sun_path) - 1, " bytes"));
  }
  std::memcpy(un.sun_path, path.data(), path.size());
  return std::make_shared<const PipeInstance>(un, sizeof(un), std::string(path));
}

absl::StatusOr<InstanceConstSharedPtr> fromSockAddr(const sockaddr_storage& ss, socklen_t len) {
  switch (ss.ss_family) {
    case AF_INET: {
      if (len < static_cast<socklen_t>(sizeof(sockaddr_in))) {
        break;
      }
      return std::make_shared<const Ipv4Instance>(reinterpret_cast<const sockaddr_in&>(ss));
    }
    case AF_INET6: {
      if (len < static_cast<socklen_t>(sizeof(sockaddr_in6))) {
        break;
      }
      return std::make_shared<const Ipv6Instance>(reinterpret_cast<const sockaddr_in6&>(ss));
    }
    case AF_UNIX: {
      const socklen_t path_offset = offsetof(sockaddr_un, sun_path);
      if (len < path_offset || len > static_cast<socklen_t>(sizeof(sockaddr_un))) {
        break;
      }
      const auto& un = reinterpret_cast<const sockaddr_un&>(ss);
      const size_t path_length = len - path_offset;
      if (path_length == 0) {
        // Unnamed (an unbound client socket).
        return std::make_shared<const PipeInstance>(un, len, std::string());
      }
      if (un.sun_path[0] == '\0') {
        std::string name = absl::StrCat("@", absl::string_view(un.sun_path + 1, path_length - 1));
        return std::make_shared<const PipeInstance>(un, len, std::move(name));
      }
      // A filesystem path, NUL-terminated within `len` (or filling it completely).
      const size_t n = strnlen(un.sun_path, path_length);
      sockaddr_un copy{};
      copy.sun_family = AF_UNIX;
      std::memcpy(copy.sun_path, un.sun_path, n);
      return std::make_shared<const PipeInstance>(copy, sizeof(copy), std::string(un.sun_path, n));
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrFormat("unsupported socket address family %d", ss.ss_family));
  }
  return absl::InvalidArgumentError(
      absl::StrFormat("socket address of family %d has an invalid length %d", ss.ss_family, len));
}

namespace {

absl::StatusOr<InstanceConstSharedPtr> fromFd(int fd, bool peer) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  const int rc = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len)
                      : ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  if (rc != 0) {
    const int error = errno;
    return absl::InternalError(absl::StrFormat(
        "%s(fd %d): %s", peer ? "getpeername" : "getsockname", fd, std::strerror(error)));
  }
  return fromSockAddr(ss, len);
}

}  // namespace

absl::StatusOr<InstanceConstSharedPtr> localAddressFromFd(int fd) { return fromFd(fd, false); }

absl::StatusOr<InstanceConstSharedPtr> peerAddressFromFd(int fd) { return fromFd(fd, true); }

bool operator==(const Instance& a, const Instance& b) {
  if (a.type() != b.type()) {
    return false;
  }
  if (a.type() == Type::Ip && a.version() != b.version()) {
    return false;
  }
  return a.asString() == b.asString();
}

}  // namespace waystone::network::address
