#pragma once

#include <optional>

#include "source/common/event/dispatcher.h"
#include "source/common/event/timer.h"
#include "source/common/network/connection.h"
#include "source/common/stream_info/filter_state.h"
#include "source/extensions/filters/network/tcp_proxy/generic_upstream.h"
#include "source/upstream/cluster.h"
#include "source/upstream/host.h"

namespace waystone::extensions::network_filters::tcp_proxy {

// A raw upstream connection to one host (Envoy's TcpUpstream over a TCP pool of one): opened
// with upstream::createUpstreamConnection(), so an internal host receives the downstream
// connection's shared filter state and the host's passthrough metadata. Bytes and half-closes
// pass as they are.
//
// Counts what Envoy's TCP connection pool counts: the cluster's max_connections circuit breaker
// (checked in start(); upstream_cx_overflow), upstream_cx_{total,active,destroy,connect_fail,
// connect_timeout,rx_bytes_total,tx_bytes_total} and the host's cx_* stats. The connect timeout
// is the cluster's connect_timeout.
class TcpUpstream final : public GenericUpstream,
                          public network::ConnectionCallbacks,
                          public network::ReadCallback {
 public:
  TcpUpstream(UpstreamCallbacks& callbacks, event::Dispatcher& dispatcher,
              upstream::HostConstSharedPtr host, upstream::ClusterConstSharedPtr cluster);
  ~TcpUpstream() override;

  // Opens the connection. Returns Overflow, without opening anything, when the cluster is at
  // max_connections; otherwise nullopt, and the outcome arrives by callback.
  std::optional<UpstreamFailure> start(const stream_info::FilterState* downstream_state);

  // GenericUpstream
  void write(buffer::Instance& data, bool end_stream) override;
  void readDisable(bool disable) override;
  bool onDownstreamClosed(bool remote_close) override;
  void abandon() override;
  void setCallbacks(UpstreamCallbacks& callbacks) override { callbacks_ = &callbacks; }
  const upstream::HostConstSharedPtr& host() const override { return host_; }

  // network::ConnectionCallbacks
  void onEvent(network::ConnectionEvent event) override;
  void onAboveWriteBufferHighWatermark() override;
  void onBelowWriteBufferLowWatermark() override;
  // network::ReadCallback
  void onData(buffer::Instance& data, bool end_stream) override;

 private:
  void onConnectTimeout();
  // Gives back what start() took (circuit breaker, active gauges), once.
  void release();

  UpstreamCallbacks* callbacks_;
  event::Dispatcher& dispatcher_;
  const upstream::HostConstSharedPtr host_;
  const upstream::ClusterConstSharedPtr cluster_;
  network::ClientConnectionPtr connection_;
  event::TimerPtr connect_timer_;
  uint32_t read_disabled_ = 0;
  bool counted_ = false;
  bool connected_ = false;
  bool done_ = false;                    // abandoned or closed: no more callbacks
  bool closing_for_downstream_ = false;  // inside onDownstreamClosed()'s close()
};

}  // namespace waystone::extensions::network_filters::tcp_proxy
