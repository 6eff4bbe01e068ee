#pragma once

#include <chrono>
#include <memory>

#include "source/common/event/timer.h"
#include "source/common/http/codec.h"
#include "source/common/http/conn_pool/conn_pool.h"
#include "source/upstream/host.h"

namespace waystone::extensions::http_filters::router {

class RouterFilter;

// One attempt of a request to one upstream host: waits for a pooled stream, sends the request,
// and hands the response (or the failure) back to the router.
class UpstreamRequest final : public http::ResponseDecoder,
                              public http::StreamCallbacks,
                              public http::PoolCallbacks {
 public:
  UpstreamRequest(RouterFilter& parent, upstream::HostConstSharedPtr host);
  ~UpstreamRequest() override;

  // Asks `pool` for a stream; the request goes out when it is ready.
  void start(http::ConnPool& pool);
  // Sends the request headers once the stream is ready (errors: headers that cannot be sent).
  absl::Status encodeHeaders(const http::RequestHeaderMap& headers, bool end_stream);
  // Sends request data / trailers that arrived after the stream was ready.
  void encodeData(buffer::Instance& data, bool end_stream);
  void encodeTrailers(const http::RequestTrailerMap& trailers);
  // Withdraws or resets the attempt; no callbacks to the router afterwards.
  void abandon();
  // Flow control from the downstream: pause / resume reading the upstream response.
  void readDisable(bool disable);

  bool ready() const { return encoder_ != nullptr; }
  const upstream::HostConstSharedPtr& host() const { return host_; }
  std::chrono::steady_clock::time_point startTime() const { return start_time_; }
  void setPerTryTimer(event::TimerPtr timer) { per_try_timer_ = std::move(timer); }
  event::Timer* perTryTimer() { return per_try_timer_.get(); }

  // http::PoolCallbacks
  void onPoolFailure(http::PoolFailureReason reason, absl::string_view details,
                     const upstream::HostConstSharedPtr& host) override;
  void onPoolReady(http::RequestEncoder& encoder,
                   const upstream::HostConstSharedPtr& host) override;
  // http::ResponseDecoder
  void decode1xxHeaders(http::ResponseHeaderMapPtr&& headers) override;
  void decodeHeaders(http::ResponseHeaderMapPtr&& headers, bool end_stream) override;
  void decodeData(buffer::Instance& data, bool end_stream) override;
  void decodeTrailers(http::ResponseTrailerMapPtr&& trailers) override;
  // http::StreamCallbacks
  void onResetStream(http::StreamResetReason reason, absl::string_view details) override;
  void onAboveWriteBufferHighWatermark() override;
  void onBelowWriteBufferLowWatermark() override;

 private:
  void finish(bool success);
  // The response is complete: let go of the stream, which the codec may now free or reuse. If
  // the request is still being sent, reset it (Envoy's rule; the connection cannot carry
  // another request otherwise).
  void detachCompletedStream();

  RouterFilter& parent_;
  const upstream::HostConstSharedPtr host_;
  http::Cancellable* pending_ = nullptr;
  http::RequestEncoder* encoder_ = nullptr;
  event::TimerPtr per_try_timer_;
  const std::chrono::steady_clock::time_point start_time_;
  uint32_t read_disabled_ = 0;
  bool end_sent_ = false;  // the request's end went to the stream
  bool counted_ = false;
  bool done_ = false;
};

using UpstreamRequestPtr = std::unique_ptr<UpstreamRequest>;

}  // namespace waystone::extensions::http_filters::router
