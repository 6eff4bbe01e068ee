#include "test/test_common/network_utility.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

namespace waystone::test {
namespace {

using Clock = std::chrono::steady_clock;

int remainingMs(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// Waits for `events` on `fd`; DeadlineExceeded on timeout.
absl::Status pollFor(int fd, short events, Clock::time_point deadline, absl::string_view what) {
  while (true) {
    struct pollfd pfd = {fd, events, 0};
    const int rc = ::poll(&pfd, 1, remainingMs(deadline));
    if (rc > 0) {
      return absl::OkStatus();
    }
    if (rc == 0) {
      return absl::DeadlineExceededError(absl::StrCat("timed out waiting to ", what));
    }
    if (errno != EINTR) {
      return absl::ErrnoToStatus(errno, "poll");
    }
  }
}

absl::Status setNonBlocking(int fd, bool non_blocking) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) {
    return absl::ErrnoToStatus(errno, "fcntl(F_GETFL)");
  }
  const int updated = non_blocking ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (::fcntl(fd, F_SETFL, updated) != 0) {
    return absl::ErrnoToStatus(errno, "fcntl(F_SETFL)");
  }
  return absl::OkStatus();
}

// Non-blocking connect so that the deadline also covers a connect that hangs.
absl::StatusOr<FileDescriptor> connectAddress(const struct sockaddr* addr, socklen_t addr_len,
                                              Clock::time_point deadline,
                                              absl::string_view description) {
  FileDescriptor fd(::socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) {
    return absl::ErrnoToStatus(errno, "socket");
  }
  if (::connect(fd.get(), addr, addr_len) != 0) {
    if (errno != EINPROGRESS) {
      return absl::ErrnoToStatus(errno, absl::StrCat("connect to ", description));
    }
    if (absl::Status status =
            pollFor(fd.get(), POLLOUT, deadline, absl::StrCat("connect to ", description));
        !status.ok()) {
      return status;
    }
    int error = 0;
    socklen_t error_len = sizeof(error);
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &error_len) != 0) {
      return absl::ErrnoToStatus(errno, "getsockopt(SO_ERROR)");
    }
    if (error != 0) {
      return absl::ErrnoToStatus(error, absl::StrCat("connect to ", description));
    }
  }
  if (absl::Status status = setNonBlocking(fd.get(), false); !status.ok()) {
    return status;
  }
  return fd;
}

}  // namespace

uint16_t findFreeTcpPort() {
  FileDescriptor fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return 0;
  }
  struct sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) != 0) {
    return 0;
  }
  socklen_t len = sizeof(addr);
  if (::getsockname(fd.get(), reinterpret_cast<struct sockaddr*>(&addr), &len) != 0) {
    return 0;
  }
  return ntohs(addr.sin_port);
}

absl::StatusOr<HostPort> parseHostPort(absl::string_view address) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(address);
  HostPort result;
  absl::string_view port_text;
  if (!trimmed.empty() && trimmed.front() == '[') {
    const size_t close = trimmed.find(']');
    if (close == absl::string_view::npos || close + 1 >= trimmed.size() ||
        trimmed[close + 1] != ':') {
      return absl::InvalidArgumentError(absl::StrCat("malformed IPv6 address: '", trimmed, "'"));
    }
    result.host = std::string(trimmed.substr(1, close - 1));
    port_text = trimmed.substr(close + 2);
  } else {
    const size_t colon = trimmed.rfind(':');
    if (colon == absl::string_view::npos || trimmed.find(':') != colon) {
      return absl::InvalidArgumentError(
          absl::StrCat("expected host:port or [ipv6]:port, got '", trimmed, "'"));
    }
    result.host = std::string(trimmed.substr(0, colon));
    port_text = trimmed.substr(colon + 1);
  }
  uint32_t port = 0;
  if (result.host.empty() || !absl::SimpleAtoi(port_text, &port) || port == 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("bad host or port in '", trimmed, "'"));
  }
  result.port = static_cast<uint16_t>(port);
  return result;
}

std::string formatHostPort(absl::string_view host, uint16_t port) {
  if (host.find(':') != absl::string_view::npos) {
    return absl::StrCat("[", host, "]:", port);
  }
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<FileDescriptor> connectTcp(const std::string& host, uint16_t port,
                                          std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  struct addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  struct addrinfo* results = nullptr;
  const std::string port_text = std::to_string(port);
  const int rc = ::getaddrinfo(host.c_str(), port_text.c_str(), &hints, &results);
  if (rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot resolve '", host, "': ", ::gai_strerror(rc)));
  }
  std::unique_ptr<struct addrinfo, decltype(&::freeaddrinfo)> owner(results, ::freeaddrinfo);
  absl::Status last_error = absl::UnavailableError(absl::StrCat("no address for '", host, "'"));
  for (struct addrinfo* ai = results; ai != nullptr; ai = ai->ai_next) {
    absl::StatusOr<FileDescriptor> fd =
        connectAddress(ai->ai_addr, ai->ai_addrlen, deadline, formatHostPort(host, port));
    if (fd.ok()) {
      return fd;
    }
    last_error = fd.status();
  }
  return last_error;
}

absl::Status unixSocketAddress(const std::string& path, struct sockaddr_un& addr,
                               FileDescriptor& dir_holder) {
  addr = {};
  addr.sun_family = AF_UNIX;
  std::string usable = path;
  if (usable.size() >= sizeof(addr.sun_path)) {
    const size_t slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
    dir_holder.reset(::open(dir.empty() ? "/" : dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir_holder.valid()) {
      return absl::ErrnoToStatus(errno, absl::StrCat("open ", dir));
    }
    usable = absl::StrCat("/proc/self/fd/", dir_holder.get(), "/", path.substr(slash + 1));
    if (usable.size() >= sizeof(addr.sun_path)) {
      return absl::InvalidArgumentError(absl::StrCat("unix socket name too long: ", path));
    }
  }
  std::memcpy(addr.sun_path, usable.data(), usable.size());
  return absl::OkStatus();
}

absl::StatusOr<FileDescriptor> connectUnix(const std::string& path,
                                           std::chrono::milliseconds timeout) {
  struct sockaddr_un addr;
  FileDescriptor dir_holder;
  if (absl::Status status = unixSocketAddress(path, addr, dir_holder); !status.ok()) {
    return status;
  }
  return connectAddress(reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr),
                        Clock::now() + timeout, path);
}

absl::Status sendAll(int fd, absl::string_view data, std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  while (!data.empty()) {
    if (absl::Status status = pollFor(fd, POLLOUT, deadline, "send"); !status.ok()) {
      return status;
    }
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) {
        continue;
      }
      return absl::ErrnoToStatus(errno, "send");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> receiveSome(int fd, std::chrono::milliseconds timeout,
                                        size_t max_bytes) {
  const Clock::time_point deadline = Clock::now() + timeout;
  std::string buffer(max_bytes, '\0');
  while (true) {
    if (absl::Status status = pollFor(fd, POLLIN, deadline, "receive"); !status.ok()) {
      return status;
    }
    const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) {
        continue;
      }
      return absl::ErrnoToStatus(errno, "recv");
    }
    buffer.resize(static_cast<size_t>(n));
    return buffer;
  }
}

}  // namespace waystone::test
