#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

#include "source/common/event/dispatcher.h"
#include "source/common/network/address.h"
#include "source/common/network/connection.h"
#include "source/common/network/transport_socket.h"
#include "source/common/stream_info/stream_info.h"

namespace waystone::network {

// An accepted connection before it has a filter chain (Envoy's ConnectionSocket): what listener
// filters inspect and change, and what filter chain selection matches on. Once a chain is chosen,
// createConnection() turns it into a Connection with that chain's transport.
//
// Two kinds exist: a kernel socket accepted by a TCP listener, and the server side of an
// in-process internal connection (internal listeners). Listener filters do not care which.
class ConnectionSocket {
 public:
  virtual ~ConnectionSocket() = default;

  // Local address; original_dst may restore the original destination, after which
  // localAddressRestored() is true.
  const address::InstanceConstSharedPtr& localAddress() const { return local_address_; }
  void restoreLocalAddress(address::InstanceConstSharedPtr address) {
    local_address_ = std::move(address);
    local_address_restored_ = true;
  }
  bool localAddressRestored() const { return local_address_restored_; }

  // Remote address; original_dst on an internal connection may replace it with the original
  // client's. directRemoteAddress() keeps the peer that actually connected.
  const address::InstanceConstSharedPtr& remoteAddress() const { return remote_address_; }
  void setRemoteAddress(address::InstanceConstSharedPtr address) {
    remote_address_ = std::move(address);
  }
  const address::InstanceConstSharedPtr& directRemoteAddress() const {
    return direct_remote_address_;
  }

  // What inspectors found: "tls" or "raw_buffer" (default), the SNI, the application protocols
  // (ALPN, or "http/1.1"/"h2c" from http_inspector).
  absl::string_view detectedTransportProtocol() const { return transport_protocol_; }
  void setDetectedTransportProtocol(std::string protocol) {
    transport_protocol_ = std::move(protocol);
  }
  absl::string_view requestedServerName() const { return server_name_; }
  void setRequestedServerName(std::string name) { server_name_ = std::move(name); }
  const std::vector<std::string>& requestedApplicationProtocols() const {
    return application_protocols_;
  }
  void setRequestedApplicationProtocols(std::vector<std::string> protocols) {
    application_protocols_ = std::move(protocols);
  }

  // The connection-to-be's stream info: connection-level filter state and dynamic metadata
  // (an internal connection arrives with what the previous hop shared). Moved into the
  // Connection by createConnection().
  stream_info::StreamInfo& streamInfo() { return stream_info_; }
  const stream_info::StreamInfo& streamInfo() const { return stream_info_; }

  // Peeking, for inspectors: the bytes received so far (at most `max_bytes`), not consumed.
  struct PeekResult {
    absl::string_view data;
    bool end_stream = false;  // the peer closed or reset: no more will come
  };
  virtual PeekResult peek(uint64_t max_bytes) = 0;
  // Calls `cb` once, on the dispatcher, when more bytes or the end of stream may be available.
  // A new call replaces the previous wait; cancelWait() drops it.
  virtual void waitForData(std::function<void()> cb) = 0;
  virtual void cancelWait() = 0;

  // True for the server side of an internal connection.
  virtual bool isInternal() const = 0;
  // Ends the socket's life as a socket: the Connection, with `transport` (null: plain) and the
  // addresses and stream info above. Called at most once; afterwards only the destructor runs.
  // An internal socket accepts only a null transport.
  virtual ConnectionPtr createConnection(event::Dispatcher& dispatcher,
                                         TransportSocketPtr transport) = 0;

 protected:
  ConnectionSocket(address::InstanceConstSharedPtr local, address::InstanceConstSharedPtr remote)
      : local_address_(std::move(local)),
        remote_address_(remote),
        direct_remote_address_(std::move(remote)) {}

  // For createConnection(): the stream info to give the new connection.
  stream_info::StreamInfo takeStreamInfo() {
    stream_info_.downstream_local_address_restored = local_address_restored_;
    return std::move(stream_info_);
  }

 private:
  address::InstanceConstSharedPtr local_address_;
  address::InstanceConstSharedPtr remote_address_;
  const address::InstanceConstSharedPtr direct_remote_address_;
  bool local_address_restored_ = false;
  std::string transport_protocol_ = "raw_buffer";
  std::string server_name_;
  std::vector<std::string> application_protocols_;
  stream_info::StreamInfo stream_info_;
};

using ConnectionSocketPtr = std::unique_ptr<ConnectionSocket>;

}  // namespace waystone::network
