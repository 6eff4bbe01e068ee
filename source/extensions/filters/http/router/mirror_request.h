#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "source/common/buffer/buffer_impl.h"
#include "source/common/event/dispatcher.h"
#include "source/common/event/timer.h"
#include "source/common/http/codec.h"
#include "source/common/http/conn_pool/conn_pool.h"
#include "source/common/http/header_map.h"
#include "source/upstream/host.h"
#include "source/upstream/thread_local_cluster_manager.h"

namespace waystone::extensions::http_filters::router {

class ShadowWriter;

struct MirrorOptions {
  // The route's timeout, counted from the end of the request as for the main request. 0: none.
  std::chrono::milliseconds timeout{0};
  // Request bytes held for a mirror that cannot take them yet (its stream not ready, or its
  // upstream backing up). Beyond this the mirror is reset: it never slows the main request.
  uint64_t buffer_limit = 0;
  http::Protocol protocol = http::Protocol::Http11;
};

// One mirrored (shadowed) request: a copy of a downstream request sent, fire and forget, to a
// host of the mirror cluster. The request's body and trailers follow as the downstream delivers
// them; the response is read and discarded, counted on the mirror cluster's upstream_rq_* stats
// like any request. Owned by the worker's ShadowWriter, so it may outlive the downstream stream.
// Nothing it does reaches the main request: failures, slowness and overflow only end the mirror.
class MirrorRequest final : public http::ResponseDecoder,
                            public http::StreamCallbacks,
                            public http::PoolCallbacks {
 public:
  MirrorRequest(ShadowWriter& parent, event::Dispatcher& dispatcher,
                upstream::ThreadLocalCluster& cluster, http::RequestHeaderMapPtr headers,
                const MirrorOptions& options);
  ~MirrorRequest() override;

  // Picks a host and asks its pool for a stream. May be done at once (no healthy host, circuit
  // breaker, connection failure). `end_stream`: the request has no body or trailers.
  void start(bool end_stream);
  // The rest of the request, copied (the caller keeps `data` for the main request).
  void sendData(const buffer::Instance& data, bool end_stream);
  void sendTrailers(const http::RequestTrailerMap& trailers);
  // The downstream request will never complete (its stream went away): reset the mirror.
  void cancel();
  // Worker exit: withdraw or reset without telling the ShadowWriter.
  void abandon();

  bool done() const { return done_; }
  bool requestComplete() const { return request_end_; }

  // http::PoolCallbacks
  void onPoolFailure(http::PoolFailureReason reason, absl::string_view details,
                     const upstream::HostConstSharedPtr& host) override;
  void onPoolReady(http::RequestEncoder& encoder,
                   const upstream::HostConstSharedPtr& host) override;
  // http::ResponseDecoder: the response is discarded once counted.
  void decode1xxHeaders(http::ResponseHeaderMapPtr&&) override {}
  void decodeHeaders(http::ResponseHeaderMapPtr&& headers, bool end_stream) override;
  void decodeData(buffer::Instance& data, bool end_stream) override;
  void decodeTrailers(http::ResponseTrailerMapPtr&& trailers) override;
  // http::StreamCallbacks
  void onResetStream(http::StreamResetReason reason, absl::string_view details) override;
  void onAboveWriteBufferHighWatermark() override { ++above_watermark_; }
  void onBelowWriteBufferLowWatermark() override;

 private:
  // Sends what is held, unless the stream is not ready or is backing up.
  void flush();
  // Resets the stream (or withdraws the pool request) after counting `tx_reset`.
  void resetStream(bool count_tx_reset);
  void onRequestEnd();
  void onTimeout();
  void onResponseComplete();
  // Releases the circuit-breaker slot and host gauges once; `success` picks the host counter.
  void release(bool success);
  // Done: release everything and let the ShadowWriter free this object.
  void finish(bool success, bool notify_parent = true);

  ShadowWriter& parent_;
  event::Dispatcher& dispatcher_;
  upstream::ThreadLocalCluster& cluster_;
  const MirrorOptions options_;
  http::RequestHeaderMapPtr headers_;
  upstream::HostConstSharedPtr host_;
  http::Cancellable* pending_ = nullptr;
  http::RequestEncoder* encoder_ = nullptr;
  event::TimerPtr timer_;
  // The body not yet handed to the stream, and the trailers once they arrive.
  buffer::OwnedImpl body_;
  http::RequestTrailerMapPtr trailers_;
  uint64_t response_status_ = 0;
  uint32_t above_watermark_ = 0;
  bool request_end_ = false;  // the downstream request has ended
  bool end_sent_ = false;     // ... and that end went to the stream
  bool counted_ = false;
  bool done_ = false;
};

using MirrorRequestSharedPtr = std::shared_ptr<MirrorRequest>;

}  // namespace waystone::extensions::http_filters::router
