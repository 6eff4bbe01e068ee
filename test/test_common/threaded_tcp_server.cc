#include "test/test_common/threaded_tcp_server.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "test/test_common/network_utility.h"

namespace waystone::test {
namespace {

// Polls `fd` for `events` and `stop_fd` for readability. Returns false once stop_fd is readable
// (the eventfd stays readable forever once signalled, so every thread sees it).
bool pollUnlessStopped(int fd, short events, int stop_fd) {
  while (true) {
    struct pollfd pfds[2] = {{fd, events, 0}, {stop_fd, POLLIN, 0}};
    const int rc = ::poll(pfds, 2, -1);
    if (rc < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    if (pfds[1].revents != 0) {
      return false;
    }
    if (pfds[0].revents != 0) {
      return true;
    }
  }
}

}  // namespace

bool ServerConnection::waitFor(short events) {
  return pollUnlessStopped(fd_.get(), events, stop_fd_);
}

bool ServerConnection::read(std::string& out) {
  while (waitFor(POLLIN)) {
    char buffer[16384];
    const ssize_t n = ::recv(fd_.get(), buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n > 0) {
      out.append(buffer, static_cast<size_t>(n));
      return true;
    }
    if (n == 0) {
      return false;
    }
    if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
      return false;
    }
  }
  return false;
}

bool ServerConnection::write(absl::string_view data) {
  while (!data.empty()) {
    if (!waitFor(POLLOUT)) {
      return false;
    }
    const ssize_t n = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) {
        continue;
      }
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void ServerConnection::shutdownWrite() { ::shutdown(fd_.get(), SHUT_WR); }

absl::StatusOr<std::unique_ptr<ThreadedTcpServer>> ThreadedTcpServer::listenTcp(Handler handler) {
  FileDescriptor fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return absl::ErrnoToStatus(errno, "socket");
  }
  struct sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) != 0) {
    return absl::ErrnoToStatus(errno, "bind 127.0.0.1:0");
  }
  socklen_t len = sizeof(addr);
  if (::getsockname(fd.get(), reinterpret_cast<struct sockaddr*>(&addr), &len) != 0) {
    return absl::ErrnoToStatus(errno, "getsockname");
  }
  return start(std::move(fd), ntohs(addr.sin_port), std::move(handler));
}

absl::StatusOr<std::unique_ptr<ThreadedTcpServer>> ThreadedTcpServer::listenUnix(
    const std::string& path, Handler handler) {
  struct sockaddr_un addr;
  FileDescriptor dir_holder;
  if (absl::Status status = unixSocketAddress(path, addr, dir_holder); !status.ok()) {
    return status;
  }
  FileDescriptor fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return absl::ErrnoToStatus(errno, "socket");
  }
  if (::bind(fd.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("bind ", path));
  }
  absl::StatusOr<std::unique_ptr<ThreadedTcpServer>> server =
      start(std::move(fd), 0, std::move(handler));
  if (server.ok()) {
    (*server)->unix_path_ = path;
  } else {
    ::unlink(path.c_str());
  }
  return server;
}

absl::StatusOr<std::unique_ptr<ThreadedTcpServer>> ThreadedTcpServer::start(FileDescriptor listener,
                                                                            uint16_t port,
                                                                            Handler handler) {
  // A deep accept queue: load tests open hundreds of connections at once, and an overflowing
  // queue makes the kernel reset some of them.
  if (::listen(listener.get(), SOMAXCONN) != 0) {
    return absl::ErrnoToStatus(errno, "listen");
  }
  FileDescriptor stop(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stop.valid()) {
    return absl::ErrnoToStatus(errno, "eventfd");
  }
  return std::unique_ptr<ThreadedTcpServer>(
      new ThreadedTcpServer(std::move(listener), std::move(stop), port, std::move(handler)));
}

ThreadedTcpServer::ThreadedTcpServer(FileDescriptor listener, FileDescriptor stop, uint16_t port,
                                     Handler handler)
    : listener_(std::move(listener)),
      stop_(std::move(stop)),
      port_(port),
      handler_(std::move(handler)) {
  accept_thread_ = std::thread([this] { acceptLoop(); });
}

ThreadedTcpServer::~ThreadedTcpServer() {
  const uint64_t one = 1;
  // Cannot fail on a fresh eventfd short of a counter overflow; the threads would hang without it.
  while (::write(stop_.get(), &one, sizeof(one)) < 0 && errno == EINTR) {
  }
  accept_thread_.join();
  // The accept thread has exited, so no new workers appear.
  std::vector<Worker> workers;
  {
    absl::MutexLock lock(&mutex_);
    workers.swap(workers_);
  }
  for (Worker& worker : workers) {
    worker.thread.join();
  }
  if (!unix_path_.empty()) {
    ::unlink(unix_path_.c_str());
  }
}

void ThreadedTcpServer::acceptLoop() {
  while (pollUnlessStopped(listener_.get(), POLLIN, stop_.get())) {
    FileDescriptor fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!fd.valid()) {
      continue;  // e.g. the peer already reset the connection
    }
    const int one = 1;
    // Small test messages must not wait for Nagle (fails harmlessly on unix sockets).
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ++connection_count_;
    auto done = std::make_shared<std::atomic<bool>>(false);
    absl::MutexLock lock(&mutex_);
    joinFinishedWorkers();
    workers_.push_back(Worker{std::thread([this, done, conn_fd = fd.release()]() mutable {
                                ServerConnection connection(FileDescriptor(conn_fd), stop_.get());
                                handler_(connection);
                                done->store(true);
                              }),
                              done});
  }
}

void ThreadedTcpServer::joinFinishedWorkers() {
  // Keeps the thread count bounded by live connections in long tests.
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (it->done->load()) {
      it->thread.join();
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace waystone::test
