#include "source/extensions/filters/network/tcp_proxy/tcp_proxy_filter.h"

#include <random>
#include <unordered_map>

#include "source/common/common/logger.h"
#include "source/common/network/connection_impl.h"
#include "source/upstream/load_balancer.h"

namespace waystone::extensions::network_filters::tcp_proxy {
namespace {

// Per-worker pseudo-random source for cluster weights: no shared state between workers on the
// data path.
uint64_t nextRandom() {
  static thread_local std::mt19937_64 engine{std::random_device{}()};
  return engine();
}

// Each worker round-robins over a cluster's hosts on its own, starting at a random point so
// workers do not move in step. Clusters are static for the process's life today; the
// thread-local cluster manager of the L7 core replaces this map.
upstream::HostConstSharedPtr chooseHost(const upstream::ClusterConstSharedPtr& cluster) {
  static thread_local std::unordered_map<const upstream::Cluster*, upstream::RoundRobinLoadBalancer>
      balancers;
  auto it = balancers.find(cluster.get());
  if (it == balancers.end()) {
    it = balancers.emplace(cluster.get(), upstream::RoundRobinLoadBalancer(cluster, nextRandom()))
             .first;
  }
  return it->second.chooseHost();
}

}  // namespace

TcpProxyFilter::TcpProxyFilter(TcpProxyConfigConstSharedPtr config) : config_(std::move(config)) {}

TcpProxyFilter::~TcpProxyFilter() {
  destroying_ = true;
  closeUpstream(network::ConnectionCloseType::NoFlush);
}

void TcpProxyFilter::initializeReadFilterCallbacks(network::ReadFilterCallbacks& callbacks) {
  callbacks_ = &callbacks;
  callbacks_->connection().addConnectionCallbacks(*this);
}

network::FilterStatus TcpProxyFilter::onNewConnection() {
  config_->stats().downstream_cx_total.inc();
  cluster_ = config_->pickCluster(nextRandom());
  // Hold downstream bytes in the kernel until the upstream is connected.
  callbacks_->connection().readDisable(true);
  if (config_->idleTimeout().count() > 0) {
    idle_timer_ = callbacks_->dispatcher().createTimer([this] { onIdleTimeout(); });
    resetIdleTimer();
  }
  connectUpstream();
  return network::FilterStatus::StopIteration;
}

void TcpProxyFilter::connectUpstream() {
  ++connect_attempts_;
  host_ = chooseHost(cluster_);
  if (host_ == nullptr) {
    WAYSTONE_LOG(debug, filter, "tcp_proxy: cluster %s has no hosts", cluster_->name());
    cluster_->stats().upstream_cx_none_healthy.inc();
    config_->stats().downstream_cx_no_route.inc();
    callbacks_->connection().close(network::ConnectionCloseType::NoFlush);
    return;
  }
  upstream_ = network::createClientConnection(callbacks_->dispatcher(), host_->address(), nullptr,
                                              cluster_->createTransportSocket());
  upstream_->setBufferLimits(cluster_->perConnectionBufferLimitBytes());
  upstream_->addConnectionCallbacks(upstream_callbacks_);
  upstream_->setReadCallback(&upstream_callbacks_);
  cluster_->stats().upstream_cx_total.inc();
  cluster_->stats().upstream_cx_active.inc();
  host_->stats().cx_total.fetch_add(1, std::memory_order_relaxed);
  host_->stats().cx_active.fetch_add(1, std::memory_order_relaxed);
  connect_timer_ = callbacks_->dispatcher().createTimer([this] { onConnectTimeout(); });
  connect_timer_->enableTimer(cluster_->connectTimeout());
  upstream_->connect();
}

void TcpProxyFilter::onConnectTimeout() {
  WAYSTONE_LOG(debug, filter, "tcp_proxy: connect to %s timed out", host_->address()->asString());
  cluster_->stats().upstream_cx_connect_timeout.inc();
  onUpstreamEvent(network::ConnectionEvent::RemoteClose);
}

void TcpProxyFilter::onUpstreamEvent(network::ConnectionEvent event) {
  // upstream_ is null once we detached it (closeUpstream), which itself raises a close event.
  if (destroying_ || upstream_ == nullptr) {
    return;
  }
  if (event == network::ConnectionEvent::Connected) {
    upstream_connected_ = true;
    connect_timer_.reset();
    callbacks_->connection().readDisable(false);
    return;
  }
  if (!upstream_connected_) {
    // The connect attempt failed (refused, reset or timed out).
    cluster_->stats().upstream_cx_connect_fail.inc();
    host_->stats().cx_connect_fail.fetch_add(1, std::memory_order_relaxed);
    connect_timer_.reset();
    closeUpstream(network::ConnectionCloseType::NoFlush);
    if (!downstream_closed_ && connect_attempts_ < config_->maxConnectAttempts()) {
      connectUpstream();
      return;
    }
    if (!downstream_closed_) {
      callbacks_->connection().close(network::ConnectionCloseType::NoFlush);
    }
    return;
  }
  // The upstream closed: flush what the client has not received yet, then close.
  closeUpstream(network::ConnectionCloseType::NoFlush);
  if (!downstream_closed_) {
    callbacks_->connection().close(network::ConnectionCloseType::FlushWrite);
  }
}

network::FilterStatus TcpProxyFilter::onData(buffer::Instance& data, bool end_stream) {
  config_->stats().downstream_cx_rx_bytes_total.add(data.length());
  resetIdleTimer();
  if (upstream_ != nullptr && upstream_connected_) {
    cluster_->stats().upstream_cx_tx_bytes_total.add(data.length());
    upstream_->write(data, end_stream);
  }
  return network::FilterStatus::StopIteration;
}

void TcpProxyFilter::Upstream::onData(buffer::Instance& data, bool end_stream) {
  parent_.cluster_->stats().upstream_cx_rx_bytes_total.add(data.length());
  parent_.config_->stats().downstream_cx_tx_bytes_total.add(data.length());
  parent_.resetIdleTimer();
  if (!parent_.downstream_closed_) {
    parent_.callbacks_->connection().write(data, end_stream);
  } else {
    data.drain(data.length());
  }
}

void TcpProxyFilter::onEvent(network::ConnectionEvent event) {
  if (event == network::ConnectionEvent::Connected) {
    return;
  }
  downstream_closed_ = true;
  if (upstream_ != nullptr) {
    config_->stats().upstream_flush_total.inc();
    closeUpstream(upstream_connected_ ? network::ConnectionCloseType::FlushWrite
                                      : network::ConnectionCloseType::NoFlush);
  }
  idle_timer_.reset();
  connect_timer_.reset();
}

// The downstream cannot take more: stop reading from the upstream until it drains.
void TcpProxyFilter::onAboveWriteBufferHighWatermark() {
  if (upstream_ != nullptr) {
    upstream_->readDisable(true);
  }
}

void TcpProxyFilter::onBelowWriteBufferLowWatermark() {
  if (upstream_ != nullptr) {
    upstream_->readDisable(false);
  }
}

// The upstream cannot take more: stop reading from the downstream until it drains.
void TcpProxyFilter::Upstream::onAboveWriteBufferHighWatermark() {
  if (!parent_.downstream_closed_) {
    parent_.callbacks_->connection().readDisable(true);
  }
}

void TcpProxyFilter::Upstream::onBelowWriteBufferLowWatermark() {
  if (!parent_.downstream_closed_) {
    parent_.callbacks_->connection().readDisable(false);
  }
}

void TcpProxyFilter::onIdleTimeout() {
  WAYSTONE_LOG(debug, filter, "tcp_proxy: idle timeout");
  config_->stats().idle_timeout.inc();
  closeUpstream(network::ConnectionCloseType::NoFlush);
  if (!downstream_closed_) {
    callbacks_->connection().close(network::ConnectionCloseType::NoFlush);
  }
}

void TcpProxyFilter::resetIdleTimer() {
  if (idle_timer_ != nullptr) {
    idle_timer_->enableTimer(config_->idleTimeout());
  }
}

void TcpProxyFilter::closeUpstream(network::ConnectionCloseType type) {
  if (upstream_ == nullptr) {
    return;
  }
  network::ClientConnectionPtr upstream = std::move(upstream_);
  releaseHost();
  upstream->setReadCallback(nullptr);
  upstream->close(type);
  // We may be inside one of its callbacks: free it at the end of the loop iteration.
  callbacks_->dispatcher().deferredDelete(std::move(upstream));
}

void TcpProxyFilter::releaseHost() {
  if (host_ != nullptr) {
    cluster_->stats().upstream_cx_active.dec();
    host_->stats().cx_active.fetch_sub(1, std::memory_order_relaxed);
  }
  upstream_connected_ = false;
}

}  // namespace waystone::extensions::network_filters::tcp_proxy
