#include "source/extensions/filters/network/tcp_proxy/tcp_proxy_filter.h"

#include <algorithm>
#include <random>

#include "source/common/common/hash.h"
#include "source/common/common/logger.h"
#include "source/extensions/filters/network/tcp_proxy/http_upstream.h"
#include "source/extensions/filters/network/tcp_proxy/tcp_upstream.h"
#include "source/extensions/filters/network/tcp_proxy/upstream_drainer.h"

namespace waystone::extensions::network_filters::tcp_proxy {
namespace {

// Envoy's per-connection cluster override: set_filter_state (or a listener filter) names the
// cluster for this connection, in place of cluster / weighted_clusters.
constexpr absl::string_view kPerConnectionClusterKey = "envoy.tcp_proxy.cluster";

// Per-worker pseudo-random source for cluster weights: no shared state between workers on the
// data path.
uint64_t nextRandom() {
  static thread_local std::mt19937_64 engine{std::random_device{}()};
  return engine();
}

}  // namespace

TcpProxyFilter::TcpProxyFilter(TcpProxyConfigConstSharedPtr config) : config_(std::move(config)) {}

TcpProxyFilter::~TcpProxyFilter() {
  // Freed by deferred deletion, never inside an upstream callback: the upstream can go now.
  if (upstream_ != nullptr) {
    upstream_->abandon();
    upstream_.reset();
  }
}

void TcpProxyFilter::initializeReadFilterCallbacks(network::ReadFilterCallbacks& callbacks) {
  callbacks_ = &callbacks;
  callbacks_->connection().addConnectionCallbacks(*this);
}

network::FilterStatus TcpProxyFilter::onNewConnection() {
  config_->stats().downstream_cx_total.inc();
  // Hold downstream bytes in the kernel (or the internal pipe) until the upstream is ready.
  callbacks_->connection().readDisable(true);
  connect_read_disabled_ = true;
  if (config_->idleTimeout().count() > 0) {
    // Also bounds the wait for the upstream: a CONNECT that is never answered ends here.
    idle_timer_ = callbacks_->dispatcher().createTimer([this] { onIdleTimeout(); });
    resetIdleTimer();
  }

  std::string cluster_name = config_->pickCluster(nextRandom());
  if (const auto* named = streamInfo().filter_state->getData(kPerConnectionClusterKey);
      named != nullptr) {
    if (std::optional<std::string> name = named->serializeAsString(); name.has_value()) {
      cluster_name = std::move(*name);
    }
  }
  streamInfo().upstream_cluster = cluster_name;
  cluster_managers_ = config_->workerClusterManagers().forDispatcher(callbacks_->dispatcher());
  cluster_ = cluster_managers_ == nullptr ? nullptr : cluster_managers_->get(cluster_name);
  if (cluster_ == nullptr) {
    WAYSTONE_LOG(debug, filter, "tcp_proxy: unknown cluster '%s'", cluster_name);
    config_->stats().downstream_cx_no_route.inc();
    streamInfo().setResponseFlag(stream_info::NoClusterFound);
    closeDownstream(network::ConnectionCloseType::NoFlush);
    return network::FilterStatus::StopIteration;
  }
  cluster_info_ = cluster_->cluster();
  connect();
  return network::FilterStatus::StopIteration;
}

void TcpProxyFilter::connect() {
  if (connect_attempts_ >= config_->maxConnectAttempts()) {
    // Envoy's accounting: the last failure leaves "UF,URX".
    streamInfo().setResponseFlag(stream_info::UpstreamRetryLimitExceeded);
    closeDownstream(network::ConnectionCloseType::NoFlush);
    return;
  }
  ++connect_attempts_;
  upstream::HostConstSharedPtr host = cluster_->chooseHost(this);
  if (host == nullptr) {
    WAYSTONE_LOG(debug, filter, "tcp_proxy: no healthy host in cluster %s", cluster_info_->name());
    cluster_info_->stats().upstream_cx_none_healthy.inc();
    streamInfo().setResponseFlag(stream_info::NoHealthyUpstream);
    closeDownstream(network::ConnectionCloseType::NoFlush);
    return;
  }
  streamInfo().upstream_host_address = host->address();
  std::optional<UpstreamFailure> failure;
  if (const TunnelingConfig* tunneling = config_->tunneling(); tunneling != nullptr) {
    auto upstream =
        std::make_unique<HttpUpstream>(*this, *tunneling, streamInfo(), host, cluster_info_);
    HttpUpstream& ref = *upstream;
    upstream_ = std::move(upstream);
    for (uint32_t i = 0; i < downstream_full_; ++i) {
      ref.readDisable(true);
    }
    failure = ref.start(cluster_->httpConnPool(host, http::Protocol::Http2));
  } else {
    auto upstream =
        std::make_unique<TcpUpstream>(*this, callbacks_->dispatcher(), host, cluster_info_);
    TcpUpstream& ref = *upstream;
    upstream_ = std::move(upstream);
    for (uint32_t i = 0; i < downstream_full_; ++i) {
      ref.readDisable(true);
    }
    // The connection's filter state: what it shares with the upstream reaches an internal
    // listener.
    failure = ref.start(streamInfo().filter_state.get());
  }
  if (failure.has_value()) {
    onUpstreamFailure(*failure, "");
  }
}

void TcpProxyFilter::onUpstreamFailure(UpstreamFailure failure, absl::string_view details) {
  upstream::HostConstSharedPtr host = upstream_ != nullptr ? upstream_->host() : nullptr;
  releaseUpstream();
  if (failure == UpstreamFailure::Overflow) {
    WAYSTONE_LOG(debug, filter, "tcp_proxy: cluster %s overflow", cluster_info_->name());
    streamInfo().setResponseFlag(stream_info::UpstreamOverflow);
    closeDownstream(network::ConnectionCloseType::NoFlush);
    return;
  }
  WAYSTONE_LOG(debug, filter, "tcp_proxy: attempt %d to %s failed%s%s", connect_attempts_,
               host != nullptr ? host->address()->asString() : std::string("?"),
               details.empty() ? "" : ": ", details);
  streamInfo().setResponseFlag(stream_info::UpstreamConnectionFailure);
  if (host != nullptr) {
    failed_hosts_.push_back(host);
    if (auto* detector = cluster_->outlierDetector(); detector != nullptr) {
      detector->reportConnectFailure(*host);
    }
  }
  if (downstream_closed_) {
    return;
  }
  connect();
}

void TcpProxyFilter::onUpstreamReady(const http::ResponseHeaderMap*) {
  upstream_established_ = true;
  if (auto* detector = cluster_->outlierDetector(); detector != nullptr) {
    detector->reportSuccess(*upstream_->host());
  }
  if (const auto duration = config_->maxDownstreamConnectionDuration(); duration.has_value()) {
    duration_timer_ = callbacks_->dispatcher().createTimer([this] { onMaxDurationTimeout(); });
    duration_timer_->enableTimer(*duration);
  }
  resetIdleTimer();
  if (early_data_.length() > 0 || early_end_stream_) {
    upstream_->write(early_data_, early_end_stream_);
  }
  if (connect_read_disabled_ && !downstream_closed_) {
    connect_read_disabled_ = false;
    callbacks_->connection().readDisable(false);
  }
}

network::FilterStatus TcpProxyFilter::onData(buffer::Instance& data, bool end_stream) {
  config_->stats().downstream_cx_rx_bytes_total.add(data.length());
  streamInfo().bytes_received += data.length();
  resetIdleTimer();
  if (!upstream_established_) {
    // Reads are paused until then; this is what was already on its way.
    early_data_.move(data);
    early_end_stream_ = early_end_stream_ || end_stream;
  } else if (upstream_ != nullptr) {
    upstream_->write(data, end_stream);
  } else {
    data.drain(data.length());
  }
  return network::FilterStatus::StopIteration;
}

void TcpProxyFilter::onUpstreamData(buffer::Instance& data, bool end_stream) {
  config_->stats().downstream_cx_tx_bytes_total.add(data.length());
  streamInfo().bytes_sent += data.length();
  resetIdleTimer();
  if (!downstream_closed_) {
    callbacks_->connection().write(data, end_stream);
  } else {
    data.drain(data.length());
  }
}

void TcpProxyFilter::onUpstreamClosed(bool reset) {
  if (reset) {
    streamInfo().setResponseFlag(stream_info::UpstreamConnectionTermination);
  }
  releaseUpstream();
  // What the upstream sent is still on its way to the client: flush it, then close.
  closeDownstream(network::ConnectionCloseType::FlushWrite);
}

void TcpProxyFilter::onEvent(network::ConnectionEvent event) {
  if (event == network::ConnectionEvent::Connected) {
    return;
  }
  downstream_closed_ = true;
  idle_timer_.reset();
  duration_timer_.reset();
  if (upstream_ == nullptr) {
    return;
  }
  GenericUpstreamPtr upstream = std::move(upstream_);
  const bool flushing =
      upstream->onDownstreamClosed(event == network::ConnectionEvent::RemoteClose);
  if (flushing && cluster_managers_ != nullptr) {
    UpstreamDrainer::get(*cluster_managers_, callbacks_->dispatcher())
        .add(std::move(upstream), config_);
    return;
  }
  upstream->abandon();
  // We may be inside one of its callbacks.
  callbacks_->dispatcher().deferredDelete(std::move(upstream));
}

// The downstream cannot take more: stop reading from the upstream until it drains.
void TcpProxyFilter::onAboveWriteBufferHighWatermark() {
  ++downstream_full_;
  if (upstream_ != nullptr) {
    upstream_->readDisable(true);
  }
}

void TcpProxyFilter::onBelowWriteBufferLowWatermark() {
  if (downstream_full_ == 0) {
    return;
  }
  --downstream_full_;
  if (upstream_ != nullptr) {
    upstream_->readDisable(false);
  }
}

void TcpProxyFilter::onUpstreamAboveWriteBufferHighWatermark() { readDisableDownstream(true); }

void TcpProxyFilter::onUpstreamBelowWriteBufferLowWatermark() { readDisableDownstream(false); }

void TcpProxyFilter::readDisableDownstream(bool disable) {
  if (downstream_closed_) {
    return;
  }
  if (disable) {
    ++upstream_full_;
    config_->stats().downstream_flow_control_paused_reading_total.inc();
    callbacks_->connection().readDisable(true);
  } else if (upstream_full_ > 0) {
    --upstream_full_;
    config_->stats().downstream_flow_control_resumed_reading_total.inc();
    callbacks_->connection().readDisable(false);
  }
}

void TcpProxyFilter::releaseUpstream() {
  if (upstream_ != nullptr) {
    upstream_->abandon();
    // We may be inside one of its callbacks: free it at the end of the loop iteration.
    callbacks_->dispatcher().deferredDelete(std::move(upstream_));
  }
  // Reads it had paused (its buffer was full) are not its business any more.
  if (downstream_closed_) {
    upstream_full_ = 0;
  }
  while (upstream_full_ > 0) {
    readDisableDownstream(false);
  }
}

void TcpProxyFilter::closeDownstream(network::ConnectionCloseType type) {
  if (!downstream_closed_) {
    callbacks_->connection().close(type);
  }
}

void TcpProxyFilter::onIdleTimeout() {
  WAYSTONE_LOG(debug, filter, "tcp_proxy: idle timeout");
  config_->stats().idle_timeout.inc();
  releaseUpstream();
  closeDownstream(network::ConnectionCloseType::NoFlush);
}

void TcpProxyFilter::onMaxDurationTimeout() {
  WAYSTONE_LOG(debug, filter, "tcp_proxy: max_downstream_connection_duration reached");
  config_->stats().max_downstream_connection_duration.inc();
  streamInfo().setResponseFlag(stream_info::DurationTimeout);
  releaseUpstream();
  closeDownstream(network::ConnectionCloseType::NoFlush);
}

void TcpProxyFilter::resetIdleTimer() {
  if (idle_timer_ != nullptr) {
    idle_timer_->enableTimer(config_->idleTimeout());
  }
}

std::optional<uint64_t> TcpProxyFilter::computeHashKey() {
  const std::optional<TcpHashPolicy>& policy = config_->hashPolicy();
  if (!policy.has_value()) {
    return std::nullopt;
  }
  switch (policy->kind) {
    case TcpHashPolicy::Kind::SourceIp: {
      const auto& remote = callbacks_->connection().remoteAddress();
      if (remote == nullptr || remote->type() != network::address::Type::Ip) {
        return std::nullopt;
      }
      return xxHash64(remote->ipString());
    }
    case TcpHashPolicy::Kind::FilterState: {
      const auto* object = streamInfo().filter_state->getData(policy->filter_state_key);
      return object == nullptr ? std::nullopt : object->hash();
    }
  }
  return std::nullopt;
}

bool TcpProxyFilter::shouldSelectAnotherHost(const upstream::Host& host) {
  return std::any_of(failed_hosts_.begin(), failed_hosts_.end(),
                     [&host](const upstream::HostConstSharedPtr& h) { return h.get() == &host; });
}

uint32_t TcpProxyFilter::hostSelectionRetryCount() const {
  return static_cast<uint32_t>(std::min<size_t>(failed_hosts_.size(), 5));
}

network::address::InstanceConstSharedPtr TcpProxyFilter::downstreamLocalAddress() const {
  return callbacks_->connection().localAddress();
}

const stream_info::StreamInfo* TcpProxyFilter::downstreamConnectionStreamInfo() const {
  return &callbacks_->connection().streamInfo();
}

}  // namespace waystone::extensions::network_filters::tcp_proxy
