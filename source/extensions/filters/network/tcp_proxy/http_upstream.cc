#include "source/extensions/filters/network/tcp_proxy/http_upstream.h"

#include "absl/strings/str_cat.h"

#include "source/common/common/logger.h"

namespace waystone::extensions::network_filters::tcp_proxy {

HttpUpstream::HttpUpstream(UpstreamCallbacks& callbacks, const TunnelingConfig& config,
                           stream_info::StreamInfo& downstream_info,
                           upstream::HostConstSharedPtr host,
                           upstream::ClusterConstSharedPtr cluster)
    : callbacks_(&callbacks),
      config_(config),
      downstream_info_(downstream_info),
      host_(std::move(host)),
      cluster_(std::move(cluster)) {}

HttpUpstream::~HttpUpstream() { abandon(); }

std::optional<UpstreamFailure> HttpUpstream::start(http::ConnPool& pool) {
  const upstream::Cluster& cluster = *cluster_;
  // A tunnel is a request on the cluster: max_requests bounds how many are open (Envoy counts
  // its overflow as upstream_rq_pending_overflow).
  if (!cluster.resources().requests.canCreate()) {
    cluster.stats().upstream_rq_pending_overflow.inc();
    done_ = true;
    return UpstreamFailure::Overflow;
  }
  counted_ = true;
  cluster.resources().requests.inc();
  cluster.stats().upstream_rq_total.inc();
  cluster.stats().upstream_rq_active.inc();
  host_->stats().rq_total.fetch_add(1, std::memory_order_relaxed);
  host_->stats().rq_active.fetch_add(1, std::memory_order_relaxed);
  starting_ = true;
  http::Cancellable* pending = pool.newStream(*this, *this);
  starting_ = false;
  if (start_failure_.has_value()) {
    return start_failure_->first;
  }
  // nullptr when the pool answered at once (ready, or failed).
  pending_ = pending;
  return std::nullopt;
}

void HttpUpstream::fail(UpstreamFailure failure, absl::string_view details) {
  WAYSTONE_LOG(debug, filter, "tcp_proxy: tunnel to %s failed: %s", host_->address()->asString(),
               details);
  done_ = true;
  release(false);
  detachStream(true);
  if (starting_) {
    start_failure_.emplace(failure, std::string(details));
    return;
  }
  callbacks_->onUpstreamFailure(failure, details);
}

void HttpUpstream::onPoolFailure(http::PoolFailureReason reason, absl::string_view details,
                                 const upstream::HostConstSharedPtr&) {
  pending_ = nullptr;
  if (done_) {
    return;
  }
  fail(reason == http::PoolFailureReason::Overflow ? UpstreamFailure::Overflow
                                                   : UpstreamFailure::ConnectionFailure,
       details);
}

void HttpUpstream::onPoolReady(http::RequestEncoder& encoder, const upstream::HostConstSharedPtr&) {
  pending_ = nullptr;
  if (done_) {
    encoder.getStream().resetStream(http::StreamResetReason::LocalReset);
    return;
  }
  encoder_ = &encoder;
  encoder_->getStream().addCallbacks(*this);
  for (uint32_t i = 0; i < read_disabled_; ++i) {
    encoder_->getStream().readDisable(true);
  }
  http::RequestHeaderMapPtr headers = config_.requestHeaders(downstream_info_);
  WAYSTONE_LOG(debug, filter, "tcp_proxy: CONNECT %s via %s", headers->host(),
               host_->address()->asString());
  const absl::Status status = encoder_->encodeHeaders(*headers, false);
  if (!status.ok() && !done_) {
    fail(UpstreamFailure::TunnelReset, absl::StrCat("cannot send CONNECT: ", status.message()));
  }
}

void HttpUpstream::decodeHeaders(http::ResponseHeaderMapPtr&& headers, bool end_stream) {
  if (done_ || established_) {
    return;
  }
  const uint64_t status = headers->status();
  countResponse(status);
  // Envoy's rule: any 2xx establishes the tunnel; a response that ends with its headers cannot
  // carry one.
  if (status < 200 || status >= 300 || end_stream) {
    fail(UpstreamFailure::TunnelRefused, absl::StrCat("CONNECT answered ", status));
    return;
  }
  established_ = true;
  if (config_.propagateResponseHeaders()) {
    // Mutable: a later attempt on the same connection (max_connect_attempts) replaces it.
    (void)downstream_info_.filter_state->setData(
        kPropagateResponseHeadersKey,
        std::make_shared<TunnelResponseHeaders>(std::make_unique<http::HeaderMap>(*headers)),
        stream_info::FilterState::StateType::Mutable);
  }
  callbacks_->onUpstreamReady(headers.get());
}

void HttpUpstream::decodeData(buffer::Instance& data, bool end_stream) {
  if (done_ || !established_) {
    data.drain(data.length());
    return;
  }
  if (end_stream) {
    response_ended_ = true;
  }
  callbacks_->onUpstreamData(data, end_stream);
  if (end_stream) {
    maybeComplete();
  }
}

void HttpUpstream::decodeTrailers(http::ResponseTrailerMapPtr&& trailers) {
  if (done_ || !established_) {
    return;
  }
  if (config_.propagateResponseTrailers()) {
    (void)downstream_info_.filter_state->setData(
        kPropagateResponseTrailersKey, std::make_shared<TunnelResponseHeaders>(std::move(trailers)),
        stream_info::FilterState::StateType::Mutable);
  }
  // Trailers end the upstream's direction like END_STREAM on data.
  response_ended_ = true;
  buffer::OwnedImpl empty;
  callbacks_->onUpstreamData(empty, true);
  maybeComplete();
}

void HttpUpstream::write(buffer::Instance& data, bool end_stream) {
  if (done_ || encoder_ == nullptr || !established_ || request_ended_) {
    data.drain(data.length());
    return;
  }
  if (end_stream) {
    request_ended_ = true;
  }
  encoder_->encodeData(data, end_stream);
  if (end_stream) {
    maybeComplete();
  }
}

void HttpUpstream::readDisable(bool disable) {
  if (disable) {
    ++read_disabled_;
  } else if (read_disabled_ > 0) {
    --read_disabled_;
  } else {
    return;  // unbalanced: nothing to undo
  }
  if (encoder_ != nullptr && !done_) {
    encoder_->getStream().readDisable(disable);
  }
}

void HttpUpstream::maybeComplete() {
  if (done_ || !request_ended_ || !response_ended_) {
    return;
  }
  // Both directions ended: the codec finishes the stream (our END_STREAM may still be queued
  // behind the flow-control window) and frees it; the downstream closes on its own, having
  // seen both FINs.
  done_ = true;
  release(true);
  detachStream(false);
}

void HttpUpstream::detachStream(bool reset) {
  if (encoder_ == nullptr) {
    return;
  }
  http::RequestEncoder* encoder = encoder_;
  encoder_ = nullptr;
  encoder->getStream().removeCallbacks(*this);
  if (reset) {
    encoder->getStream().resetStream(http::StreamResetReason::LocalReset);
  }
}

void HttpUpstream::onResetStream(http::StreamResetReason reason, absl::string_view details) {
  encoder_ = nullptr;  // the stream is gone
  if (done_) {
    return;
  }
  WAYSTONE_LOG(debug, filter, "tcp_proxy: tunnel stream to %s reset (%s%s%s)",
               host_->address()->asString(), http::resetReasonString(reason),
               details.empty() ? "" : ": ", details);
  cluster_->stats().upstream_rq_rx_reset.inc();
  if (!established_) {
    fail(reason == http::StreamResetReason::ConnectionFailure ? UpstreamFailure::ConnectionFailure
                                                              : UpstreamFailure::TunnelReset,
         details.empty() ? http::resetReasonString(reason) : details);
    return;
  }
  done_ = true;
  release(false);
  callbacks_->onUpstreamClosed(true);
}

void HttpUpstream::onAboveWriteBufferHighWatermark() {
  if (!done_) {
    callbacks_->onUpstreamAboveWriteBufferHighWatermark();
  }
}

void HttpUpstream::onBelowWriteBufferLowWatermark() {
  if (!done_) {
    callbacks_->onUpstreamBelowWriteBufferLowWatermark();
  }
}

bool HttpUpstream::onDownstreamClosed(bool) {
  // A tunnel is never kept to flush: once the downstream is gone nobody reads the response, and
  // a stream that is not finished both ways is reset (a finished one was let go already).
  abandon();
  return false;
}

void HttpUpstream::abandon() {
  const bool was_done = done_;
  done_ = true;
  if (pending_ != nullptr) {
    http::Cancellable* pending = pending_;
    pending_ = nullptr;
    pending->cancel();
  }
  if (encoder_ != nullptr) {
    if (!was_done) {
      cluster_->stats().upstream_rq_tx_reset.inc();
    }
    detachStream(true);
  }
  release(false);
}

void HttpUpstream::countResponse(uint64_t status) {
  const upstream::ClusterStats& stats = cluster_->stats();
  switch (status / 100) {
    case 1:
      stats.upstream_rq_1xx.inc();
      break;
    case 2:
      stats.upstream_rq_2xx.inc();
      break;
    case 3:
      stats.upstream_rq_3xx.inc();
      break;
    case 4:
      stats.upstream_rq_4xx.inc();
      break;
    case 5:
      stats.upstream_rq_5xx.inc();
      break;
    default:
      break;
  }
}

void HttpUpstream::release(bool success) {
  if (!counted_) {
    return;
  }
  counted_ = false;
  const upstream::Cluster& cluster = *cluster_;
  cluster.resources().requests.dec();
  cluster.stats().upstream_rq_active.dec();
  host_->stats().rq_active.fetch_sub(1, std::memory_order_relaxed);
  (success ? host_->stats().rq_success : host_->stats().rq_error)
      .fetch_add(1, std::memory_order_relaxed);
}

}  // namespace waystone::extensions::network_filters::tcp_proxy
