#pragma once

#include <string>

#include "source/common/network/transport_socket.h"

namespace waystone::network {

// Plain TCP / unix socket I/O: readv into the read buffer, sendmsg(MSG_NOSIGNAL) from the write
// buffer, shutdown(SHUT_WR) for end_stream. ECONNRESET, EPIPE and any other error close.
class RawTransport final : public TransportSocket {
 public:
  // Upper bound of one read call: also the per-event read budget when the connection has no
  // buffer limit, so that one busy connection cannot starve the others on its loop.
  static constexpr uint64_t kMaxReadChunk = 64 * 1024;

  // TransportSocket
  void setTransportSocketCallbacks(TransportSocketCallbacks& callbacks) override {
    callbacks_ = &callbacks;
  }
  absl::string_view protocol() const override { return {}; }
  void onConnected() override;
  IoResult doRead(buffer::OwnedImpl& buffer, uint64_t max_bytes) override;
  IoResult doWrite(buffer::OwnedImpl& buffer, bool end_stream) override;
  void closeSocket(ConnectionEvent) override {}
  absl::string_view failureReason() const override { return failure_reason_; }

 private:
  TransportSocketCallbacks* callbacks_ = nullptr;
  bool shutdown_ = false;
  std::string failure_reason_;
};

}  // namespace waystone::network
