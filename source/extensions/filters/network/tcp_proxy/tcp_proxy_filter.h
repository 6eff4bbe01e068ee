#pragma once

#include <cstdint>

#include "source/common/event/timer.h"
#include "source/common/network/connection.h"
#include "source/common/network/filter.h"
#include "source/extensions/filters/network/tcp_proxy/config.h"
#include "source/upstream/host.h"

namespace waystone::extensions::network_filters::tcp_proxy {

// Proxies one downstream connection to one upstream host, byte for byte, in both directions.
// Flow control: when one side's write buffer goes above its high watermark, the other side stops
// reading until it drains, so memory stays bounded by the two buffer limits.
class TcpProxyFilter final : public network::ReadFilter, public network::ConnectionCallbacks {
 public:
  explicit TcpProxyFilter(TcpProxyConfigConstSharedPtr config);
  ~TcpProxyFilter() override;

  // network::ReadFilter
  void initializeReadFilterCallbacks(network::ReadFilterCallbacks& callbacks) override;
  network::FilterStatus onNewConnection() override;
  network::FilterStatus onData(buffer::Instance& data, bool end_stream) override;

  // network::ConnectionCallbacks (downstream)
  void onEvent(network::ConnectionEvent event) override;
  void onAboveWriteBufferHighWatermark() override;
  void onBelowWriteBufferLowWatermark() override;

 private:
  // Callbacks from the upstream connection, kept apart from the downstream ones.
  class Upstream final : public network::ConnectionCallbacks, public network::ReadCallback {
   public:
    explicit Upstream(TcpProxyFilter& parent) : parent_(parent) {}
    void onEvent(network::ConnectionEvent event) override { parent_.onUpstreamEvent(event); }
    void onAboveWriteBufferHighWatermark() override;
    void onBelowWriteBufferLowWatermark() override;
    void onData(buffer::Instance& data, bool end_stream) override;

   private:
    TcpProxyFilter& parent_;
  };

  void connectUpstream();
  void onUpstreamEvent(network::ConnectionEvent event);
  void onConnectTimeout();
  void onIdleTimeout();
  void resetIdleTimer();
  void closeUpstream(network::ConnectionCloseType type);
  void releaseHost();

  const TcpProxyConfigConstSharedPtr config_;
  network::ReadFilterCallbacks* callbacks_ = nullptr;
  Upstream upstream_callbacks_{*this};
  upstream::ClusterConstSharedPtr cluster_;
  upstream::HostConstSharedPtr host_;
  network::ClientConnectionPtr upstream_;
  event::TimerPtr connect_timer_;
  event::TimerPtr idle_timer_;
  uint32_t connect_attempts_ = 0;
  bool upstream_connected_ = false;
  bool downstream_closed_ = false;
  bool destroying_ = false;
};

}  // namespace waystone::extensions::network_filters::tcp_proxy
