#pragma once

#include <functional>
#include <string>

#include "source/common/event/dispatcher.h"
#include "source/common/event/file_event.h"
#include "source/common/network/connection_socket.h"

namespace waystone::network {

// A kernel socket accepted by a TCP (or unix) listener, before it has a filter chain. Peeking
// uses recv(MSG_PEEK), so inspected bytes stay in the kernel for the transport to read.
class TcpConnectionSocket final : public ConnectionSocket {
 public:
  // Takes ownership of `fd` (non-blocking).
  TcpConnectionSocket(event::Dispatcher& dispatcher, int fd,
                      address::InstanceConstSharedPtr local_address,
                      address::InstanceConstSharedPtr remote_address);
  ~TcpConnectionSocket() override;

  PeekResult peek(uint64_t max_bytes) override;
  void waitForData(std::function<void()> cb) override;
  void cancelWait() override;
  bool isInternal() const override { return false; }
  ConnectionPtr createConnection(event::Dispatcher& dispatcher,
                                 TransportSocketPtr transport) override;

  int fd() const { return fd_; }

 private:
  event::Dispatcher& dispatcher_;
  int fd_;
  std::string peeked_;
  event::FileEventPtr file_event_;
  std::function<void()> wait_cb_;
  bool peer_closed_ = false;
};

}  // namespace waystone::network
