#pragma once

#include <memory>

#include "absl/strings/string_view.h"

#include "source/common/buffer/buffer.h"
#include "source/common/event/deferred_deletable.h"
#include "source/common/http/header_map.h"
#include "source/upstream/host.h"

namespace waystone::extensions::network_filters::tcp_proxy {

// Why an upstream could not be established.
enum class UpstreamFailure {
  Overflow,           // a circuit breaker said no (flag UO); not retried
  ConnectionFailure,  // refused, reset or timed out while connecting (flag UF)
  TunnelRefused,      // the CONNECT was answered with a non-2xx status (flag UF)
  TunnelReset,        // the CONNECT stream was reset before its response (flag UF)
};

// What an upstream (a raw connection, or a CONNECT stream) tells its owner. Nothing here is
// called from inside a method the owner called on the upstream (start(), write(), readDisable(),
// abandon()), except the watermark callbacks, which run inside the write() that crossed the
// limit, as a network::Connection raises them.
class UpstreamCallbacks {
 public:
  virtual ~UpstreamCallbacks() = default;
  // Bytes can flow. `response_headers`: the CONNECT response of a tunnel (null for raw TCP).
  virtual void onUpstreamReady(const http::ResponseHeaderMap* response_headers) = 0;
  // Establishing failed; the upstream is finished.
  virtual void onUpstreamFailure(UpstreamFailure failure, absl::string_view details) = 0;
  // Bytes from the upstream; `end_stream`: it finished its direction (FIN / END_STREAM).
  virtual void onUpstreamData(buffer::Instance& data, bool end_stream) = 0;
  // The established upstream is gone: closed both ways (`reset` false) or reset (`reset` true,
  // a tunnel's stream or its connection went away mid-way). The upstream is finished.
  virtual void onUpstreamClosed(bool reset) = 0;
  // The upstream cannot take more now / can again: pause / resume reading the downstream.
  virtual void onUpstreamAboveWriteBufferHighWatermark() = 0;
  virtual void onUpstreamBelowWriteBufferLowWatermark() = 0;
};

// One tcp_proxy connection's upstream. Owned by the filter (or the drainer) and freed with
// deferredDelete(): it may be inside its own callback.
class GenericUpstream : public event::DeferredDeletable {
 public:
  ~GenericUpstream() override = default;

  // Sends downstream bytes; `end_stream` ends our direction. Only once ready.
  virtual void write(buffer::Instance& data, bool end_stream) = 0;
  // Stop (true) / resume (false) reading from the upstream; nests. Applied once ready if called
  // before.
  virtual void readDisable(bool disable) = 0;
  // The downstream closed and will not hear from us again. Returns true when the upstream keeps
  // running to flush what it still has to write (raw TCP after a remote close), in which case
  // the caller hands it to a drainer; false when it is finished (closed or reset).
  virtual bool onDownstreamClosed(bool remote_close) = 0;
  // Closes or resets at once; no callbacks afterwards.
  virtual void abandon() = 0;
  // Points the callbacks elsewhere (a drainer taking over).
  virtual void setCallbacks(UpstreamCallbacks& callbacks) = 0;

  virtual const upstream::HostConstSharedPtr& host() const = 0;
};

using GenericUpstreamPtr = std::unique_ptr<GenericUpstream>;

}  // namespace waystone::extensions::network_filters::tcp_proxy
