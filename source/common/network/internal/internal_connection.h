#pragma once

#include <cstdint>
#include <vector>

#include "envoy/config/core/v3/base.pb.h"

#include "source/common/event/dispatcher.h"
#include "source/common/network/address.h"
#include "source/common/network/connection.h"
#include "source/common/network/transport_socket.h"
#include "source/common/stream_info/filter_state.h"

namespace waystone::network {

// Internal connections: Envoy's internal listeners, in process. A client connection to an
// envoy_internal_address ("envoy://<listener>/<endpoint_id>") becomes the downstream connection
// of the internal listener of that name on the same worker thread, without a socket: bytes move
// between the two halves as buffer slices. See InternalConnectionImpl for the exact semantics and
// InternalListenerRegistry for how listeners are found.

// The buffer limit both halves start with, as ConnectionImpl (and Envoy's internal listener
// default buffer_size_kb of 1024).
inline constexpr uint32_t kDefaultInternalBufferLimit = 1024 * 1024;

// What the client side passes to the listener it reaches.
struct InternalConnectionOptions {
  // The previous hop's filter state entries that travel upstream
  // (FilterState::objectsSharedWithUpstreamConnection()): they arrive in the server side's
  // streamInfo().filter_state (FilterState::addSharedFromDownstream()).
  std::vector<stream_info::FilterState::Entry> shared_filter_state;
  // Becomes the server side's streamInfo().dynamic_metadata (what the internal_upstream transport
  // socket passes through from the host and cluster metadata).
  envoy::config::core::v3::Metadata metadata;
};

// The address both halves use for the client end (the client's localAddress(), the server's
// remoteAddress()): "envoy://internal_client_address/", as in Envoy.
const address::InstanceConstSharedPtr& internalClientAddress();

// A client connection to the internal listener named by `address` (Type::Internal). connect()
// looks the listener up in this thread's InternalListenerRegistry on the next loop iteration:
// - none: RemoteClose, transportFailureReason() = `no internal listener named "<name>"`;
// - found: the listener's onAccept() gets the server side as a ConnectionSocket (local address =
//   `address`, remote = internalClientAddress(), stream info carrying `options`), then the client
//   raises Connected. If the socket is destroyed without becoming a connection (a listener filter
//   rejected it), the client gets RemoteClose.
// Data written before Connected waits in the pipe and is visible to the socket's peek().
// Internal connections run no transport: a non-null `transport` (or an address that is not
// internal) makes connect() fail with RemoteClose and the reason in transportFailureReason().
// Must be called on the worker thread that runs `dispatcher`.
ClientConnectionPtr createInternalClientConnection(event::Dispatcher& dispatcher,
                                                   address::InstanceConstSharedPtr address,
                                                   InternalConnectionOptions options,
                                                   TransportSocketPtr transport = nullptr);

}  // namespace waystone::network
