#include "source/common/network/listen_socket.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_format.h"
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "source/common/common/logger.h"

namespace waystone::network {
namespace {

// Status code for a failed socket call: the common, actionable ones get their own code.
absl::Status errnoStatus(int error, const std::string& message) {
  switch (error) {
    case EADDRINUSE:
      return absl::AlreadyExistsError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    case EADDRNOTAVAIL:
    case EAFNOSUPPORT:
    case EINVAL:
      return absl::InvalidArgumentError(message);
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM:
      return absl::ResourceExhaustedError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::Status failure(const std::string& what, const address::Instance& address, int error) {
  return errnoStatus(error, absl::StrFormat("%s %s: %s", what,
                                            address.asString().empty() ? std::string("(unnamed)")
                                                                       : address.asString(),
                                            std::strerror(error)));
}

// Closes the descriptor unless released: create() has many early returns.
class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  int get() const { return fd_; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

absl::Status setIntOption(int fd, int level, int name, const char* option_name,
                          const address::Instance& address) {
  const int one = 1;
  if (::setsockopt(fd, level, name, &one, sizeof(one)) != 0) {
    return failure(absl::StrFormat("setsockopt(%s)", option_name), address, errno);
  }
  return absl::OkStatus();
}

}  // namespace

ListenSocket::ListenSocket(int fd, address::InstanceConstSharedPtr local_address)
    : fd_(fd), local_address_(std::move(local_address)) {}

ListenSocket::~ListenSocket() { close(); }

void ListenSocket::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

absl::StatusOr<std::unique_ptr<ListenSocket>> ListenSocket::create(
    const address::InstanceConstSharedPtr& address, const ListenSocketOptions& options) {
  if (address == nullptr) {
    return absl::InvalidArgumentError("listen socket: no address");
  }
  const int family = address->sockAddr()->sa_family;
  FdGuard fd(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) {
    return failure("socket() for", *address, errno);
  }

  if (address->type() == address::Type::Ip) {
    // Lets a restarted process bind while old connections sit in TIME_WAIT.
    absl::Status status =
        setIntOption(fd.get(), SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", *address);
    if (!status.ok()) {
      return status;
    }
    if (options.reuse_port) {
      status = setIntOption(fd.get(), SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT", *address);
      if (!status.ok()) {
        return status;
      }
    }
    if (address->version() == address::IpVersion::V6) {
      // "::" means IPv6 only; an IPv4 listener on the same port is a separate socket.
      status = setIntOption(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, "IPV6_V6ONLY", *address);
      if (!status.ok()) {
        return status;
      }
    }
  } else {
    const auto* un = reinterpret_cast<const sockaddr_un*>(address->sockAddr());
    if (un->sun_path[0] != '\0') {
      // A socket file left by a previous process makes bind fail with EADDRINUSE. Remove it, but
      // only if it is a socket: never delete a regular file that happens to have the name.
      struct stat st;
      if (::lstat(un->sun_path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        if (::unlink(un->sun_path) != 0 && errno != ENOENT) {
          return failure("unlink stale socket", *address, errno);
        }
        WAYSTONE_LOG(debug, connection, "removed stale unix socket %s", address->asString());
      }
    }
  }

  if (::bind(fd.get(), address->sockAddr(), address->sockAddrLen()) != 0) {
    return failure("bind", *address, errno);
  }
  if (::listen(fd.get(), options.backlog) != 0) {
    return failure("listen", *address, errno);
  }

  address::InstanceConstSharedPtr local = address;
  if (address->type() == address::Type::Ip) {
    // Learn the real port when bound to port 0.
    auto bound = address::localAddressFromFd(fd.get());
    if (!bound.ok()) {
      return absl::InternalError(
          absl::StrFormat("listen %s: %s", address->asString(), bound.status().message()));
    }
    local = *std::move(bound);
  }
  WAYSTONE_LOG(debug, connection, "listening on %s (fd %d)", local->asString(), fd.get());
  return std::unique_ptr<ListenSocket>(new ListenSocket(fd.release(), std::move(local)));
}

}  // namespace waystone::network
