#include "source/extensions/filters/http/router/mirror_request.h"

#include "source/common/common/logger.h"
#include "source/extensions/filters/http/router/shadow_writer.h"

namespace waystone::extensions::http_filters::router {

MirrorRequest::MirrorRequest(ShadowWriter& parent, event::Dispatcher& dispatcher,
                             upstream::ThreadLocalCluster& cluster,
                             http::RequestHeaderMapPtr headers, const MirrorOptions& options)
    : parent_(parent),
      dispatcher_(dispatcher),
      cluster_(cluster),
      options_(options),
      headers_(std::move(headers)) {}

// Done mirrors are freed by the dispatcher's deferred-delete list, possibly after the worker's
// clusters are gone: the destructor must not touch cluster_ or parent_ then.
MirrorRequest::~MirrorRequest() {
  if (!done_) {
    abandon();
  }
}

void MirrorRequest::start(bool end_stream) {
  request_end_ = end_stream;
  const upstream::Cluster& info = cluster_.info();
  // No load balancer context: a mirror has no hash policy or retry predicates of its own.
  host_ = cluster_.chooseHost(nullptr);
  if (host_ == nullptr) {
    info.stats().upstream_cx_none_healthy.inc();
    finish(false);
    return;
  }
  if (!info.resources().requests.canCreate()) {
    info.stats().upstream_rq_pending_overflow.inc();
    finish(false);
    return;
  }
  counted_ = true;
  info.resources().requests.inc();
  info.stats().upstream_rq_total.inc();
  info.stats().upstream_rq_active.inc();
  host_->stats().rq_total.fetch_add(1, std::memory_order_relaxed);
  host_->stats().rq_active.fetch_add(1, std::memory_order_relaxed);
  if (request_end_) {
    onRequestEnd();
  }
  // May call back at once (ready, or failed).
  pending_ = cluster_.httpConnPool(host_, options_.protocol).newStream(*this, *this);
}

void MirrorRequest::onPoolFailure(http::PoolFailureReason reason, absl::string_view details,
                                  const upstream::HostConstSharedPtr&) {
  pending_ = nullptr;
  if (done_) {
    return;
  }
  WAYSTONE_LOG(debug, router, "mirror to cluster %s: no connection: %s", cluster_.info().name(),
               details);
  // A circuit breaker's refusal is not the host's fault.
  if (auto* detector = cluster_.outlierDetector();
      detector != nullptr && reason != http::PoolFailureReason::Overflow) {
    detector->reportConnectFailure(*host_);
  }
  finish(false);
}

void MirrorRequest::onPoolReady(http::RequestEncoder& encoder,
                                const upstream::HostConstSharedPtr&) {
  pending_ = nullptr;
  if (done_) {
    encoder.getStream().resetStream(http::StreamResetReason::LocalReset);
    return;
  }
  encoder_ = &encoder;
  // Tells us at once if the connection is already backing up.
  encoder_->getStream().addCallbacks(*this);
  const bool headers_only = request_end_ && body_.length() == 0 && trailers_ == nullptr;
  const absl::Status status = encoder_->encodeHeaders(*headers_, headers_only);
  if (!status.ok()) {
    WAYSTONE_LOG(debug, router, "mirror to cluster %s: cannot send the request: %s",
                 cluster_.info().name(), status.message());
    resetStream(true);
    finish(false);
    return;
  }
  end_sent_ = headers_only;
  headers_.reset();  // sent; nothing needs them any more
  flush();
}

void MirrorRequest::sendData(const buffer::Instance& data, bool end_stream) {
  if (done_ || request_end_) {
    return;
  }
  data.forEachSlice([this](absl::string_view slice) { body_.add(slice); });
  if (end_stream) {
    request_end_ = true;
    onRequestEnd();
  }
  flush();
  if (!done_ && body_.length() > options_.buffer_limit) {
    // The mirror cannot keep up with the main request: give the mirror up, never the request.
    WAYSTONE_LOG(debug, router, "mirror to cluster %s: over the %d byte buffer limit, reset",
                 cluster_.info().name(), options_.buffer_limit);
    cluster_.info().statsScope().counterFromString("retry_or_shadow_abandoned").inc();
    resetStream(true);
    finish(false);
  }
}

void MirrorRequest::sendTrailers(const http::RequestTrailerMap& trailers) {
  if (done_ || request_end_) {
    return;
  }
  trailers_ = std::make_unique<http::RequestTrailerMap>(trailers);
  request_end_ = true;
  onRequestEnd();
  flush();
}

void MirrorRequest::flush() {
  if (done_ || encoder_ == nullptr || above_watermark_ > 0 || end_sent_) {
    return;
  }
  const bool end_with_data = request_end_ && trailers_ == nullptr;
  if (body_.length() > 0 || end_with_data) {
    encoder_->encodeData(body_, end_with_data);
    body_.drain(body_.length());
    end_sent_ = end_with_data;
  }
  // encodeData() may have reset the stream under us.
  if (!done_ && encoder_ != nullptr && request_end_ && trailers_ != nullptr) {
    encoder_->encodeTrailers(*trailers_);
    end_sent_ = true;
  }
}

void MirrorRequest::onBelowWriteBufferLowWatermark() {
  if (above_watermark_ > 0) {
    --above_watermark_;
  }
  flush();
}

void MirrorRequest::onRequestEnd() {
  if (options_.timeout.count() > 0 && timer_ == nullptr) {
    timer_ = dispatcher_.createTimer([this] { onTimeout(); });
    timer_->enableTimer(options_.timeout);
  }
}

void MirrorRequest::onTimeout() {
  if (done_) {
    return;
  }
  cluster_.info().stats().upstream_rq_timeout.inc();
  host_->stats().rq_timeout.fetch_add(1, std::memory_order_relaxed);
  if (auto* detector = cluster_.outlierDetector(); detector != nullptr) {
    detector->reportTimeout(*host_);
  }
  resetStream(true);
  finish(false);
}

void MirrorRequest::decodeHeaders(http::ResponseHeaderMapPtr&& headers, bool end_stream) {
  if (done_) {
    return;
  }
  response_status_ = headers->status();
  const upstream::ClusterStats& stats = cluster_.info().stats();
  switch (response_status_ / 100) {
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
    default:
      stats.upstream_rq_5xx.inc();
      break;
  }
  if (auto* detector = cluster_.outlierDetector(); detector != nullptr) {
    detector->reportHttpResult(*host_, static_cast<uint32_t>(response_status_));
  }
  if (end_stream) {
    onResponseComplete();
  }
}

void MirrorRequest::decodeData(buffer::Instance& data, bool end_stream) {
  data.drain(data.length());
  if (!done_ && end_stream) {
    onResponseComplete();
  }
}

void MirrorRequest::decodeTrailers(http::ResponseTrailerMapPtr&&) {
  if (!done_) {
    onResponseComplete();
  }
}

void MirrorRequest::onResponseComplete() {
  cluster_.info().stats().upstream_rq_completed.inc();
  if (end_sent_) {
    // The stream is complete; the pool takes the connection back. Unsubscribe now, while the
    // stream certainly exists.
    encoder_->getStream().removeCallbacks(*this);
    encoder_ = nullptr;
  } else {
    // An early answer: the rest of the request is of no use to anyone.
    resetStream(false);
  }
  finish(response_status_ < 500);
}

void MirrorRequest::onResetStream(http::StreamResetReason reason, absl::string_view details) {
  if (done_) {
    return;
  }
  encoder_ = nullptr;  // the stream is gone
  WAYSTONE_LOG(debug, router, "mirror to cluster %s reset: %s %s", cluster_.info().name(),
               http::resetReasonString(reason), details);
  cluster_.info().stats().upstream_rq_rx_reset.inc();
  if (auto* detector = cluster_.outlierDetector(); detector != nullptr) {
    if (reason == http::StreamResetReason::ConnectionFailure) {
      detector->reportConnectFailure(*host_);
    } else {
      detector->reportHttpResult(*host_, 503);
    }
  }
  finish(false);
}

void MirrorRequest::resetStream(bool count_tx_reset) {
  if (pending_ != nullptr) {
    http::Cancellable* pending = pending_;
    pending_ = nullptr;
    pending->cancel();
  }
  if (encoder_ != nullptr) {
    http::RequestEncoder* encoder = encoder_;
    encoder_ = nullptr;
    // Unsubscribe first: the reset would otherwise call back into onResetStream().
    encoder->getStream().removeCallbacks(*this);
    if (count_tx_reset) {
      cluster_.info().stats().upstream_rq_tx_reset.inc();
    }
    encoder->getStream().resetStream(http::StreamResetReason::LocalReset);
  }
}

void MirrorRequest::cancel() {
  if (done_) {
    return;
  }
  resetStream(true);
  finish(false);
}

void MirrorRequest::abandon() {
  if (done_) {
    return;
  }
  resetStream(true);
  finish(false, /*notify_parent=*/false);
}

void MirrorRequest::release(bool success) {
  if (!counted_) {
    return;
  }
  counted_ = false;
  const upstream::Cluster& info = cluster_.info();
  info.resources().requests.dec();
  info.stats().upstream_rq_active.dec();
  host_->stats().rq_active.fetch_sub(1, std::memory_order_relaxed);
  (success ? host_->stats().rq_success : host_->stats().rq_error)
      .fetch_add(1, std::memory_order_relaxed);
}

void MirrorRequest::finish(bool success, bool notify_parent) {
  if (done_) {
    return;
  }
  done_ = true;
  timer_.reset();
  body_.drain(body_.length());
  trailers_.reset();
  headers_.reset();
  release(success);
  if (notify_parent) {
    parent_.onMirrorDone(*this);
  }
}

}  // namespace waystone::extensions::http_filters::router
