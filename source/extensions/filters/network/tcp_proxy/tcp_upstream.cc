#include "source/extensions/filters/network/tcp_proxy/tcp_upstream.h"

#include <string>

#include "source/common/common/logger.h"
#include "source/upstream/upstream_connection.h"

namespace waystone::extensions::network_filters::tcp_proxy {

TcpUpstream::TcpUpstream(UpstreamCallbacks& callbacks, event::Dispatcher& dispatcher,
                         upstream::HostConstSharedPtr host, upstream::ClusterConstSharedPtr cluster)
    : callbacks_(&callbacks),
      dispatcher_(dispatcher),
      host_(std::move(host)),
      cluster_(std::move(cluster)) {}

TcpUpstream::~TcpUpstream() { abandon(); }

std::optional<UpstreamFailure> TcpUpstream::start(
    const stream_info::FilterState* downstream_state) {
  const upstream::Cluster& cluster = *cluster_;
  if (!cluster.resources().connections.canCreate()) {
    cluster.stats().upstream_cx_overflow.inc();
    done_ = true;
    return UpstreamFailure::Overflow;
  }
  counted_ = true;
  cluster.resources().connections.inc();
  cluster.stats().upstream_cx_total.inc();
  cluster.stats().upstream_cx_active.inc();
  host_->stats().cx_total.fetch_add(1, std::memory_order_relaxed);
  host_->stats().cx_active.fetch_add(1, std::memory_order_relaxed);

  connection_ = upstream::createUpstreamConnection(dispatcher_, *host_, cluster, downstream_state);
  connection_->setBufferLimits(cluster.perConnectionBufferLimitBytes());
  connection_->addConnectionCallbacks(*this);
  connection_->setReadCallback(this);
  connect_timer_ = dispatcher_.createTimer([this] { onConnectTimeout(); });
  connect_timer_->enableTimer(cluster.connectTimeout());
  // Never reports from inside connect().
  connection_->connect();
  return std::nullopt;
}

void TcpUpstream::write(buffer::Instance& data, bool end_stream) {
  if (done_ || !connected_) {
    data.drain(data.length());
    return;
  }
  cluster_->stats().upstream_cx_tx_bytes_total.add(data.length());
  connection_->write(data, end_stream);
}

void TcpUpstream::readDisable(bool disable) {
  if (disable) {
    ++read_disabled_;
  } else if (read_disabled_ > 0) {
    --read_disabled_;
  } else {
    return;  // unbalanced: nothing to undo
  }
  if (connected_ && !done_) {
    connection_->readDisable(disable);
  }
}

bool TcpUpstream::onDownstreamClosed(bool remote_close) {
  if (done_) {
    return false;
  }
  if (!remote_close || !connected_) {
    abandon();
    return false;
  }
  // Envoy's rule: after the downstream went away on its own, what it sent still reaches the
  // upstream. Then the connection closes itself once its buffer is written.
  connect_timer_.reset();
  // With nothing left to write the close is immediate: its event is ours, not the callbacks'.
  closing_for_downstream_ = true;
  connection_->close(network::ConnectionCloseType::FlushWrite);
  closing_for_downstream_ = false;
  if (connection_->state() == network::Connection::State::Closed) {
    done_ = true;
    release();
    return false;
  }
  return true;
}

void TcpUpstream::onConnectTimeout() {
  if (done_ || connected_) {
    return;
  }
  WAYSTONE_LOG(debug, filter, "tcp_proxy: connect to %s timed out", host_->address()->asString());
  cluster_->stats().upstream_cx_connect_timeout.inc();
  cluster_->stats().upstream_cx_connect_fail.inc();
  host_->stats().cx_connect_fail.fetch_add(1, std::memory_order_relaxed);
  done_ = true;
  connection_->close(network::ConnectionCloseType::NoFlush);
  release();
  callbacks_->onUpstreamFailure(UpstreamFailure::ConnectionFailure, "connect timeout");
}

void TcpUpstream::onEvent(network::ConnectionEvent event) {
  if (done_ || closing_for_downstream_) {
    return;
  }
  if (event == network::ConnectionEvent::Connected) {
    connected_ = true;
    connect_timer_.reset();
    for (uint32_t i = 0; i < read_disabled_; ++i) {
      connection_->readDisable(true);
    }
    callbacks_->onUpstreamReady(nullptr);
    return;
  }
  done_ = true;
  connect_timer_.reset();
  if (!connected_) {
    cluster_->stats().upstream_cx_connect_fail.inc();
    host_->stats().cx_connect_fail.fetch_add(1, std::memory_order_relaxed);
    const std::string details(connection_->transportFailureReason());
    release();
    callbacks_->onUpstreamFailure(UpstreamFailure::ConnectionFailure, details);
    return;
  }
  release();
  // A raw connection has no notion of a clean end beyond both FINs, which the data callbacks
  // already carried: either way the downstream is closed after its buffer is flushed.
  callbacks_->onUpstreamClosed(false);
}

void TcpUpstream::onData(buffer::Instance& data, bool end_stream) {
  if (done_) {
    data.drain(data.length());
    return;
  }
  cluster_->stats().upstream_cx_rx_bytes_total.add(data.length());
  callbacks_->onUpstreamData(data, end_stream);
}

void TcpUpstream::onAboveWriteBufferHighWatermark() {
  if (!done_) {
    callbacks_->onUpstreamAboveWriteBufferHighWatermark();
  }
}

void TcpUpstream::onBelowWriteBufferLowWatermark() {
  if (!done_) {
    callbacks_->onUpstreamBelowWriteBufferLowWatermark();
  }
}

void TcpUpstream::abandon() {
  connect_timer_.reset();
  done_ = true;
  if (connection_ != nullptr && connection_->state() != network::Connection::State::Closed) {
    // The events this raises find done_ set. The connection object goes with this one, which
    // its owner frees after the current loop turn.
    connection_->close(network::ConnectionCloseType::NoFlush);
  }
  release();
}

void TcpUpstream::release() {
  if (!counted_) {
    return;
  }
  counted_ = false;
  const upstream::Cluster& cluster = *cluster_;
  cluster.resources().connections.dec();
  cluster.stats().upstream_cx_active.dec();
  cluster.stats().upstream_cx_destroy.inc();
  host_->stats().cx_active.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace waystone::extensions::network_filters::tcp_proxy
