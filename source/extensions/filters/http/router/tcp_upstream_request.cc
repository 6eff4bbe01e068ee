#include "source/extensions/filters/http/router/tcp_upstream_request.h"

#include "source/common/common/logger.h"
#include "source/upstream/upstream_connection.h"

namespace waystone::extensions::http_filters::router {

TcpUpstreamRequest::TcpUpstreamRequest(TcpUpstreamCallbacks& callbacks,
                                       event::Dispatcher& dispatcher,
                                       upstream::HostConstSharedPtr host,
                                       upstream::ClusterConstSharedPtr cluster)
    : callbacks_(callbacks),
      dispatcher_(dispatcher),
      host_(std::move(host)),
      cluster_(std::move(cluster)),
      start_time_(std::chrono::steady_clock::now()) {}

TcpUpstreamRequest::~TcpUpstreamRequest() { abandon(false); }

TcpUpstreamRequest::StartResult TcpUpstreamRequest::start(
    const stream_info::FilterState* filter_state) {
  const upstream::Cluster& cluster = *cluster_;
  // The same refusals, and counters, as the connection pools: a CONNECT stream is a request
  // that needs its own connection.
  if (!cluster.resources().requests.canCreate()) {
    cluster.stats().upstream_rq_pending_overflow.inc();
    done_ = true;
    return StartResult::RequestOverflow;
  }
  if (!cluster.resources().connections.canCreate()) {
    cluster.stats().upstream_cx_overflow.inc();
    done_ = true;
    return StartResult::ConnectionOverflow;
  }
  counted_ = true;
  cluster.resources().requests.inc();
  cluster.resources().connections.inc();
  cluster.stats().upstream_rq_total.inc();
  cluster.stats().upstream_rq_active.inc();
  cluster.stats().upstream_cx_total.inc();
  cluster.stats().upstream_cx_active.inc();
  host_->stats().rq_total.fetch_add(1, std::memory_order_relaxed);
  host_->stats().rq_active.fetch_add(1, std::memory_order_relaxed);
  host_->stats().cx_total.fetch_add(1, std::memory_order_relaxed);
  host_->stats().cx_active.fetch_add(1, std::memory_order_relaxed);

  connection_ = upstream::createUpstreamConnection(dispatcher_, *host_, cluster, filter_state);
  connection_->setBufferLimits(cluster.perConnectionBufferLimitBytes());
  connection_->addConnectionCallbacks(*this);
  connection_->setReadCallback(this);
  connect_timer_ = dispatcher_.createTimer([this] { onConnectTimeout(); });
  connect_timer_->enableTimer(cluster.connectTimeout());
  connection_->connect();
  return StartResult::Started;
}

void TcpUpstreamRequest::write(buffer::Instance& data, bool end_stream) {
  if (done_ || !connected_) {
    data.drain(data.length());
    return;
  }
  cluster_->stats().upstream_cx_tx_bytes_total.add(data.length());
  connection_->write(data, end_stream);
}

void TcpUpstreamRequest::readDisable(bool disable) {
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

void TcpUpstreamRequest::onConnectTimeout() {
  if (done_ || connected_) {
    return;
  }
  WAYSTONE_LOG(debug, router, "CONNECT upstream %s: connect timeout", host_->address()->asString());
  cluster_->stats().upstream_cx_connect_timeout.inc();
  cluster_->stats().upstream_cx_connect_fail.inc();
  host_->stats().cx_connect_fail.fetch_add(1, std::memory_order_relaxed);
  done_ = true;
  connection_->close(network::ConnectionCloseType::NoFlush);
  release(false);
  callbacks_.onTcpUpstreamConnectFailure("");
}

void TcpUpstreamRequest::onEvent(network::ConnectionEvent event) {
  if (done_) {
    if (event != network::ConnectionEvent::Connected && on_closed_) {
      std::function<void()> on_closed = std::move(on_closed_);
      on_closed_ = nullptr;
      on_closed();  // may free this object after the loop turn
    }
    return;
  }
  if (event == network::ConnectionEvent::Connected) {
    connected_ = true;
    connect_timer_.reset();
    for (uint32_t i = 0; i < read_disabled_; ++i) {
      connection_->readDisable(true);
    }
    callbacks_.onTcpUpstreamConnected();
    return;
  }
  done_ = true;
  connect_timer_.reset();
  if (!connected_) {
    cluster_->stats().upstream_cx_connect_fail.inc();
    host_->stats().cx_connect_fail.fetch_add(1, std::memory_order_relaxed);
    const std::string details(connection_->transportFailureReason());
    release(false);
    callbacks_.onTcpUpstreamConnectFailure(details);
    return;
  }
  release(false);
  callbacks_.onTcpUpstreamClosed();
}

void TcpUpstreamRequest::onData(buffer::Instance& data, bool end_stream) {
  if (done_) {
    data.drain(data.length());
    return;
  }
  cluster_->stats().upstream_cx_rx_bytes_total.add(data.length());
  callbacks_.onTcpUpstreamData(data, end_stream);
}

void TcpUpstreamRequest::onAboveWriteBufferHighWatermark() {
  if (!done_) {
    callbacks_.onTcpUpstreamAboveWriteBufferHighWatermark();
  }
}

void TcpUpstreamRequest::onBelowWriteBufferLowWatermark() {
  if (!done_) {
    callbacks_.onTcpUpstreamBelowWriteBufferLowWatermark();
  }
}

void TcpUpstreamRequest::abandon(bool success) {
  connect_timer_.reset();
  done_ = true;
  if (connection_ != nullptr && connection_->state() == network::Connection::State::Open) {
    // The events this raises find done_ set. The connection object itself goes with this one:
    // freed after the current loop turn, or once flushed (TcpUpstreamLinger).
    connection_->close(success && connected_ ? network::ConnectionCloseType::FlushWrite
                                             : network::ConnectionCloseType::NoFlush);
  }
  release(success);
}

bool TcpUpstreamRequest::flushing() const {
  return done_ && connection_ != nullptr &&
         connection_->state() == network::Connection::State::Closing;
}

namespace {
constexpr absl::string_view kLingerStateKey = "envoy.filters.http.router.tcp_upstream_linger";
}  // namespace

TcpUpstreamLinger::~TcpUpstreamLinger() {
  // Worker exit: close what is left now (the destructors close without flushing); nothing may
  // call back into this list while it goes.
  for (auto& request : requests_) {
    request->setOnClosed(nullptr);
  }
  requests_.clear();
}

TcpUpstreamLinger& TcpUpstreamLinger::get(upstream::ThreadLocalClusterManager& clusters,
                                          event::Dispatcher& dispatcher) {
  return static_cast<TcpUpstreamLinger&>(clusters.workerState(
      kLingerStateKey, [&dispatcher] { return std::make_unique<TcpUpstreamLinger>(dispatcher); }));
}

void TcpUpstreamLinger::add(TcpUpstreamRequestPtr request) {
  TcpUpstreamRequest& raw = *request;
  requests_.push_back(std::move(request));
  auto position = std::prev(requests_.end());
  raw.setOnClosed([this, position] {
    // Inside the connection's close event: free it after this loop turn.
    dispatcher_.deferredDelete(std::move(*position));
    requests_.erase(position);
  });
}

void TcpUpstreamRequest::release(bool success) {
  if (!counted_) {
    return;
  }
  counted_ = false;
  const upstream::Cluster& cluster = *cluster_;
  cluster.resources().requests.dec();
  cluster.resources().connections.dec();
  cluster.stats().upstream_rq_active.dec();
  cluster.stats().upstream_cx_active.dec();
  cluster.stats().upstream_cx_destroy.inc();
  host_->stats().rq_active.fetch_sub(1, std::memory_order_relaxed);
  host_->stats().cx_active.fetch_sub(1, std::memory_order_relaxed);
  (success ? host_->stats().rq_success : host_->stats().rq_error)
      .fetch_add(1, std::memory_order_relaxed);
}

}  // namespace waystone::extensions::http_filters::router
