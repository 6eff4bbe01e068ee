#pragma once

#include "absl/status/statusor.h"

#include "source/common/network/address.h"

namespace waystone::network {

struct ListenSocketOptions {
  // One socket per worker on the same address, load-balanced by the kernel.
  bool reuse_port = true;
  int backlog = 1024;
};

// An owned, bound and listening non-blocking socket. Closed on destruction.
class ListenSocket {
 public:
  ~ListenSocket();
  ListenSocket(const ListenSocket&) = delete;
  ListenSocket& operator=(const ListenSocket&) = delete;

  // Binds and listens. For port 0 the kernel picks a port; localAddress() reports it. For pipes
  // a stale socket file is removed first. The error names the address and the errno text.
  static absl::StatusOr<std::unique_ptr<ListenSocket>> create(
      const address::InstanceConstSharedPtr& address, const ListenSocketOptions& options);

  int fd() const { return fd_; }
  // The bound address (with the real port when bound to port 0).
  const address::InstanceConstSharedPtr& localAddress() const { return local_address_; }
  // Stops accepting by closing the socket early (idempotent).
  void close();

 private:
  ListenSocket(int fd, address::InstanceConstSharedPtr local_address);

  int fd_;
  address::InstanceConstSharedPtr local_address_;
};

using ListenSocketPtr = std::unique_ptr<ListenSocket>;

}  // namespace waystone::network
