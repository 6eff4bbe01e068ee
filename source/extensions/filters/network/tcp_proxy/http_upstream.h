#pragma once

#include <optional>
#include <string>

#include "source/common/http/codec.h"
#include "source/common/http/conn_pool/conn_pool.h"
#include "source/common/stream_info/stream_info.h"
#include "source/extensions/filters/network/tcp_proxy/generic_upstream.h"
#include "source/extensions/filters/network/tcp_proxy/tunneling_config.h"
#include "source/upstream/cluster.h"
#include "source/upstream/host.h"

namespace waystone::extensions::network_filters::tcp_proxy {

// A tcp_proxy connection tunnelled as one HTTP/2 CONNECT stream (Envoy's HttpUpstream with
// tunneling_config): a stream on the cluster's pooled HTTP/2 connections to the host, so many
// tunnels share a few connections (at most max_concurrent_streams each; the pool opens another
// when all are full). The request is `CONNECT <hostname>` plus headers_to_add; a 2xx response
// establishes the tunnel, and from then on the request body is the downstream's bytes and the
// response body the upstream's. END_STREAM carries each direction's half-close; flow control is
// the stream's (a paused reader withholds WINDOW_UPDATEs, a full send buffer pauses the
// downstream).
//
// Counts as a request on the cluster: the max_requests circuit breaker (upstream_rq_pending_
// overflow when full), upstream_rq_{total,active,rx_reset,tx_reset}, upstream_rq_<N>xx for the
// CONNECT response, and the host's rq_* stats. Connections are the pool's (max_connections,
// max_pending_requests, connect timeout).
class HttpUpstream final : public GenericUpstream,
                           public http::ResponseDecoder,
                           public http::StreamCallbacks,
                           public http::PoolCallbacks {
 public:
  // `downstream_info`: the downstream connection's stream info, which hostname and header
  // values are formatted against and where propagated response headers go. It outlives this.
  HttpUpstream(UpstreamCallbacks& callbacks, const TunnelingConfig& config,
               stream_info::StreamInfo& downstream_info, upstream::HostConstSharedPtr host,
               upstream::ClusterConstSharedPtr cluster);
  ~HttpUpstream() override;

  // Asks `pool` for a stream. Returns the failure when it is known at once (circuit breaker,
  // pool overflow, a pool that fails synchronously); otherwise nullopt, and the outcome arrives
  // by callback.
  std::optional<UpstreamFailure> start(http::ConnPool& pool);

  // GenericUpstream
  void write(buffer::Instance& data, bool end_stream) override;
  void readDisable(bool disable) override;
  bool onDownstreamClosed(bool remote_close) override;
  void abandon() override;
  void setCallbacks(UpstreamCallbacks& callbacks) override { callbacks_ = &callbacks; }
  const upstream::HostConstSharedPtr& host() const override { return host_; }

  // http::PoolCallbacks
  void onPoolFailure(http::PoolFailureReason reason, absl::string_view details,
                     const upstream::HostConstSharedPtr& host) override;
  void onPoolReady(http::RequestEncoder& encoder,
                   const upstream::HostConstSharedPtr& host) override;
  // http::ResponseDecoder
  void decode1xxHeaders(http::ResponseHeaderMapPtr&&) override {}
  void decodeHeaders(http::ResponseHeaderMapPtr&& headers, bool end_stream) override;
  void decodeData(buffer::Instance& data, bool end_stream) override;
  void decodeTrailers(http::ResponseTrailerMapPtr&& trailers) override;
  // http::StreamCallbacks
  void onResetStream(http::StreamResetReason reason, absl::string_view details) override;
  void onAboveWriteBufferHighWatermark() override;
  void onBelowWriteBufferLowWatermark() override;

 private:
  // Before the tunnel is established: report (or, inside start(), record) why it failed.
  void fail(UpstreamFailure failure, absl::string_view details);
  // Lets go of the stream: reset when it is not finished both ways.
  void detachStream(bool reset);
  // Both directions ended: the stream is done, nothing more to watch.
  void maybeComplete();
  void countResponse(uint64_t status);
  // Gives back what start() took (circuit breaker, active gauges), once.
  void release(bool success);

  UpstreamCallbacks* callbacks_;
  const TunnelingConfig& config_;
  stream_info::StreamInfo& downstream_info_;
  const upstream::HostConstSharedPtr host_;
  const upstream::ClusterConstSharedPtr cluster_;
  http::Cancellable* pending_ = nullptr;
  http::RequestEncoder* encoder_ = nullptr;
  uint32_t read_disabled_ = 0;
  // Inside start(): a failure is returned, not called back.
  bool starting_ = false;
  std::optional<std::pair<UpstreamFailure, std::string>> start_failure_;
  bool counted_ = false;
  bool established_ = false;
  bool request_ended_ = false;   // END_STREAM handed to the stream
  bool response_ended_ = false;  // END_STREAM (or trailers) received
  bool done_ = false;            // finished: no more callbacks
};

}  // namespace waystone::extensions::network_filters::tcp_proxy
