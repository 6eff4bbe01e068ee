#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "source/common/event/dispatcher.h"
#include "source/common/network/connection_socket.h"
#include "source/common/network/internal/internal_pipe.h"

namespace waystone::network {

// The server side of an internal connection while the internal listener inspects it (listener
// filters, filter chain selection). peek() sees what the client has written so far, in the pipe,
// without consuming it; createConnection() turns the socket into the server half, which then reads
// those same bytes. Destroying the socket without createConnection() closes the server side: the
// client gets RemoteClose.
class InternalConnectionSocket final : public ConnectionSocket, private InternalPipe::Endpoint {
 public:
  InternalConnectionSocket(event::Dispatcher& dispatcher, std::shared_ptr<InternalPipe> pipe,
                           address::InstanceConstSharedPtr local_address,
                           address::InstanceConstSharedPtr remote_address);
  ~InternalConnectionSocket() override;

  // ConnectionSocket
  // The data is valid until the next call on this socket or until the client writes again.
  PeekResult peek(uint64_t max_bytes) override;
  // Fires once, from the loop, when the client writes more, half-closes or closes after this
  // call (at once if the client has already finished: nothing more can come).
  void waitForData(std::function<void()> cb) override;
  void cancelWait() override;
  bool isInternal() const override { return true; }
  // `dispatcher` must be the worker's (the client's). An internal connection runs no transport: a
  // non-null `transport` is refused clearly: the returned connection closes with RemoteClose on
  // the next loop iteration, with the reason in transportFailureReason() (and in the log), and the
  // client sees RemoteClose.
  ConnectionPtr createConnection(event::Dispatcher& dispatcher,
                                 TransportSocketPtr transport) override;

 private:
  // InternalPipe::Endpoint
  void onPeerActivity() override;
  void onPeerConsumed() override {}
  uint64_t unconsumedBytes() const override { return 0; }

  bool clientFinished() const;

  // Null once the socket became a connection.
  std::shared_ptr<InternalPipe> pipe_;
  std::function<void()> wait_cb_;
  event::TimerPtr wait_timer_;
};

}  // namespace waystone::network
