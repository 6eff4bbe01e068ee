#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "source/common/buffer/buffer_impl.h"
#include "source/common/http/filter.h"
#include "source/common/router/route.h"
#include "source/extensions/filters/http/router/mirror_request.h"
#include "source/extensions/filters/http/router/retry_state.h"
#include "source/extensions/filters/http/router/router_config.h"
#include "source/extensions/filters/http/router/tcp_upstream_request.h"
#include "source/extensions/filters/http/router/upstream_request.h"
#include "source/upstream/load_balancer/load_balancer_context.h"

namespace waystone::extensions::http_filters::router {

// The terminal HTTP filter: matches the route, picks a cluster and a host, sends the request
// upstream through the worker's connection pool, and streams the response back. Owns retries
// (retry_policy, x-envoy-retry-on), timeouts (route timeout, per_try_timeout), request mirroring
// (request_mirror_policies, through the worker's ShadowWriter) and the upstream half of flow
// control. A CONNECT to a route whose CONNECT upgrade has connect_config is terminated here
// (Envoy's TCP upstream): no HTTP pool, one raw connection per stream (TcpUpstreamRequest),
// answered 200 once connected, then bytes both ways as the request and response bodies.
class RouterFilter final : public http::StreamDecoderFilter,
                           public http::DownstreamWatermarkCallbacks,
                           public upstream::lb::LoadBalancerContext,
                           public TcpUpstreamCallbacks {
 public:
  explicit RouterFilter(RouterConfigConstSharedPtr config) : config_(std::move(config)) {}
  ~RouterFilter() override;

  // http::StreamDecoderFilter
  http::FilterHeadersStatus decodeHeaders(http::RequestHeaderMap& headers,
                                          bool end_stream) override;
  http::FilterDataStatus decodeData(buffer::Instance& data, bool end_stream) override;
  http::FilterTrailersStatus decodeTrailers(http::RequestTrailerMap& trailers) override;
  void setDecoderFilterCallbacks(http::StreamDecoderFilterCallbacks& callbacks) override {
    callbacks_ = &callbacks;
  }
  void onDestroy() override;

  // http::DownstreamWatermarkCallbacks: the client is not reading the response fast enough.
  void onAboveWriteBufferHighWatermark() override;
  void onBelowWriteBufferLowWatermark() override;

  // upstream::lb::LoadBalancerContext
  std::optional<uint64_t> computeHashKey() override;
  bool shouldSelectAnotherHost(const upstream::Host& host) override;
  uint32_t hostSelectionRetryCount() const override;
  network::address::InstanceConstSharedPtr downstreamLocalAddress() const override;
  const http::RequestHeaderMap* downstreamHeaders() const override { return request_headers_; }
  const stream_info::StreamInfo* requestStreamInfo() const override {
    return callbacks_ == nullptr ? nullptr : &callbacks_->streamInfo();
  }
  // The request's stream info carries the connection's restored-address flag (the HCM copies
  // it), which is what ORIGINAL_DST needs from the connection here.
  const stream_info::StreamInfo* downstreamConnectionStreamInfo() const override {
    return requestStreamInfo();
  }

  // From the current UpstreamRequest.
  void onUpstreamReady(UpstreamRequest& request, http::RequestEncoder& encoder);
  void onUpstream1xxHeaders(http::ResponseHeaderMapPtr&& headers);
  void onUpstreamHeaders(UpstreamRequest& request, http::ResponseHeaderMapPtr&& headers,
                         bool end_stream);
  void onUpstreamData(buffer::Instance& data, bool end_stream);
  void onUpstreamTrailers(http::ResponseTrailerMapPtr&& trailers);
  // The attempt failed before or during the response. `connect_failure`: no connection;
  // `overflow`: a circuit breaker said no.
  void onUpstreamReset(UpstreamRequest& request, http::StreamResetReason reason,
                       absl::string_view details, bool connect_failure, bool overflow);
  void onUpstreamAboveWriteBufferHighWatermark();
  void onUpstreamBelowWriteBufferLowWatermark();
  const upstream::Cluster& cluster() const { return cluster_->info(); }

  // TcpUpstreamCallbacks: the terminated CONNECT's connection.
  void onTcpUpstreamConnected() override;
  void onTcpUpstreamData(buffer::Instance& data, bool end_stream) override;
  void onTcpUpstreamConnectFailure(absl::string_view details) override;
  void onTcpUpstreamClosed() override;
  void onTcpUpstreamAboveWriteBufferHighWatermark() override;
  void onTcpUpstreamBelowWriteBufferLowWatermark() override;

 private:
  void startAttempt();
  // CONNECT termination: picks a host and opens the raw connection (no retries).
  void startTunnel();
  // upstream_rq_<N>xx for a response status.
  void countResponseCode(uint64_t status);
  // x-envoy-upstream-service-time, x-envoy-attempt-count and the route's response header
  // mutations, on a response from an upstream attempt that started at `start`.
  void decorateResponseHeaders(http::ResponseHeaderMap& headers,
                               std::chrono::steady_clock::time_point start);
  void onGlobalTimeout();
  void onPerTryTimeout(UpstreamRequest& request);
  void retryOrFail(http::StreamResetReason reason, absl::string_view details, bool connect_failure,
                   bool overflow, bool per_try_timeout);
  void scheduleRetry();
  void sendRequestBody(UpstreamRequest& request);
  void onResponseComplete();
  void resetUpstream();
  void localReply(uint32_t status, absl::string_view body, absl::string_view details,
                  stream_info::ResponseFlag flag);
  void startPerTryTimer(UpstreamRequest& request);
  // Starts the mirrors the route's request_mirror_policies sample for this request.
  void startMirrors(const http::RequestHeaderMap& headers, bool end_stream);
  // Resets the mirrors whose request did not finish (the downstream stream went away).
  void cancelMirrors();

  const RouterConfigConstSharedPtr config_;
  http::StreamDecoderFilterCallbacks* callbacks_ = nullptr;
  http::RequestHeaderMap* request_headers_ = nullptr;
  const waystone::router::Route* route_ = nullptr;
  const waystone::router::RouteEntry* route_entry_ = nullptr;
  upstream::ThreadLocalCluster* cluster_ = nullptr;
  std::optional<RetryState> retry_state_;
  UpstreamRequestPtr upstream_request_;
  // CONNECT termination: set for the stream's life once decodeHeaders() chose it.
  bool tunnel_ = false;
  TcpUpstreamRequestPtr tcp_upstream_;
  bool tunnel_upstream_ended_ = false;  // the host half-closed: the response has ended
  std::vector<upstream::HostConstSharedPtr> attempted_hosts_;
  // Mirrors still receiving the request; owned by the worker's ShadowWriter. Cleared once the
  // request has ended: from then on a mirror lives on its own.
  std::vector<std::weak_ptr<MirrorRequest>> mirrors_;
  // The request body: a full copy while a retry may need it (retry_buffering_), else only the
  // bytes not yet sent because the upstream stream is not ready.
  buffer::OwnedImpl request_body_;
  bool retry_buffering_ = false;
  http::RequestTrailerMap* request_trailers_ = nullptr;
  bool downstream_end_stream_ = false;
  bool response_started_ = false;
  bool downstream_paused_ = false;
  bool attempt_counted_ = false;
  uint32_t attempts_ = 0;
  uint32_t downstream_above_watermark_ = 0;
  std::chrono::milliseconds timeout_{0};
  std::chrono::milliseconds per_try_timeout_{0};
  event::TimerPtr global_timer_;
  event::TimerPtr retry_timer_;
  bool destroyed_ = false;
};

}  // namespace waystone::extensions::http_filters::router
