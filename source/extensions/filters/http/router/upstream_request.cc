#include "source/extensions/filters/http/router/upstream_request.h"

#include "source/common/common/logger.h"
#include "source/extensions/filters/http/router/router_filter.h"

namespace waystone::extensions::http_filters::router {

UpstreamRequest::UpstreamRequest(RouterFilter& parent, upstream::HostConstSharedPtr host)
    : parent_(parent), host_(std::move(host)), start_time_(std::chrono::steady_clock::now()) {}

UpstreamRequest::~UpstreamRequest() { abandon(); }

void UpstreamRequest::start(http::ConnPool& pool) {
  const upstream::Cluster& cluster = parent_.cluster();
  if (!cluster.resources().requests.canCreate()) {
    // Circuit breaker: too many requests in flight to this cluster.
    cluster.stats().upstream_rq_pending_overflow.inc();
    done_ = true;
    parent_.onUpstreamReset(*this, http::StreamResetReason::Overflow, "", false, true);
    return;
  }
  counted_ = true;
  cluster.resources().requests.inc();
  cluster.stats().upstream_rq_total.inc();
  cluster.stats().upstream_rq_active.inc();
  host_->stats().rq_total.fetch_add(1, std::memory_order_relaxed);
  host_->stats().rq_active.fetch_add(1, std::memory_order_relaxed);
  pending_ = pool.newStream(*this, *this);
}

void UpstreamRequest::finish(bool success) {
  if (!counted_) {
    return;
  }
  counted_ = false;
  const upstream::Cluster& cluster = parent_.cluster();
  cluster.resources().requests.dec();
  cluster.stats().upstream_rq_active.dec();
  host_->stats().rq_active.fetch_sub(1, std::memory_order_relaxed);
  (success ? host_->stats().rq_success : host_->stats().rq_error)
      .fetch_add(1, std::memory_order_relaxed);
}

void UpstreamRequest::onPoolFailure(http::PoolFailureReason reason, absl::string_view details,
                                    const upstream::HostConstSharedPtr&) {
  pending_ = nullptr;
  if (done_) {
    return;
  }
  done_ = true;
  finish(false);
  const bool overflow = reason == http::PoolFailureReason::Overflow;
  parent_.onUpstreamReset(*this, http::StreamResetReason::ConnectionFailure, details, !overflow,
                          overflow);
}

void UpstreamRequest::onPoolReady(http::RequestEncoder& encoder,
                                  const upstream::HostConstSharedPtr&) {
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
  parent_.onUpstreamReady(*this, encoder);
}

absl::Status UpstreamRequest::encodeHeaders(const http::RequestHeaderMap& headers,
                                            bool end_stream) {
  if (encoder_ == nullptr || done_) {
    return absl::OkStatus();
  }
  end_sent_ = end_stream;
  return encoder_->encodeHeaders(headers, end_stream);
}

void UpstreamRequest::encodeData(buffer::Instance& data, bool end_stream) {
  if (encoder_ != nullptr && !done_) {
    end_sent_ = end_stream;
    encoder_->encodeData(data, end_stream);
  }
}

void UpstreamRequest::encodeTrailers(const http::RequestTrailerMap& trailers) {
  if (encoder_ != nullptr && !done_) {
    end_sent_ = true;
    encoder_->encodeTrailers(trailers);
  }
}

void UpstreamRequest::detachCompletedStream() {
  if (encoder_ == nullptr) {
    return;
  }
  http::RequestEncoder* encoder = encoder_;
  encoder_ = nullptr;
  encoder->getStream().removeCallbacks(*this);
  if (!end_sent_) {
    encoder->getStream().resetStream(http::StreamResetReason::LocalReset);
  }
}

void UpstreamRequest::abandon() {
  per_try_timer_.reset();
  if (pending_ != nullptr) {
    http::Cancellable* pending = pending_;
    pending_ = nullptr;
    pending->cancel();
  }
  if (encoder_ != nullptr) {
    http::RequestEncoder* encoder = encoder_;
    encoder_ = nullptr;
    encoder->getStream().removeCallbacks(*this);
    if (!done_) {
      parent_.cluster().stats().upstream_rq_tx_reset.inc();
      encoder->getStream().resetStream(http::StreamResetReason::LocalReset);
    }
  }
  if (!done_) {
    done_ = true;
    finish(false);
  }
}

void UpstreamRequest::readDisable(bool disable) {
  if (disable) {
    ++read_disabled_;
  } else if (read_disabled_ > 0) {
    --read_disabled_;
  }
  if (encoder_ != nullptr) {
    encoder_->getStream().readDisable(disable);
  }
}

void UpstreamRequest::decode1xxHeaders(http::ResponseHeaderMapPtr&& headers) {
  if (!done_) {
    parent_.onUpstream1xxHeaders(std::move(headers));
  }
}

void UpstreamRequest::decodeHeaders(http::ResponseHeaderMapPtr&& headers, bool end_stream) {
  if (done_) {
    return;
  }
  per_try_timer_.reset();
  if (end_stream) {
    done_ = true;
    finish(headers->status() < 500);
    detachCompletedStream();
  }
  parent_.onUpstreamHeaders(*this, std::move(headers), end_stream);
}

void UpstreamRequest::decodeData(buffer::Instance& data, bool end_stream) {
  if (done_) {
    data.drain(data.length());
    return;
  }
  if (end_stream) {
    done_ = true;
    finish(true);
    detachCompletedStream();
  }
  parent_.onUpstreamData(data, end_stream);
}

void UpstreamRequest::decodeTrailers(http::ResponseTrailerMapPtr&& trailers) {
  if (done_) {
    return;
  }
  done_ = true;
  finish(true);
  detachCompletedStream();
  parent_.onUpstreamTrailers(std::move(trailers));
}

void UpstreamRequest::onResetStream(http::StreamResetReason reason, absl::string_view details) {
  if (done_) {
    return;
  }
  done_ = true;
  encoder_ = nullptr;  // the stream is gone
  per_try_timer_.reset();
  parent_.cluster().stats().upstream_rq_rx_reset.inc();
  finish(false);
  const bool connect_failure = reason == http::StreamResetReason::ConnectionFailure;
  parent_.onUpstreamReset(*this, reason, details, connect_failure, false);
}

void UpstreamRequest::onAboveWriteBufferHighWatermark() {
  parent_.onUpstreamAboveWriteBufferHighWatermark();
}

void UpstreamRequest::onBelowWriteBufferLowWatermark() {
  parent_.onUpstreamBelowWriteBufferLowWatermark();
}

}  // namespace waystone::extensions::http_filters::router
