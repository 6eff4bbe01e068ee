#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "source/common/buffer/buffer_impl.h"
#include "source/common/event/timer.h"
#include "source/common/network/connection.h"
#include "source/common/network/filter.h"
#include "source/extensions/filters/network/tcp_proxy/config.h"
#include "source/extensions/filters/network/tcp_proxy/generic_upstream.h"
#include "source/upstream/host.h"
#include "source/upstream/load_balancer/load_balancer_context.h"
#include "source/upstream/thread_local_cluster_manager.h"

namespace waystone::extensions::network_filters::tcp_proxy {

// Proxies one downstream connection to one upstream, byte for byte, in both directions, with
// Envoy's tcp_proxy semantics: a cluster picked per connection (weighted_clusters, or the
// connection's envoy.tcp_proxy.cluster filter state), a host from the worker's load balancer
// (this filter is the LoadBalancerContext: ORIGINAL_DST takes the downstream's local address,
// hash_policy feeds RING_HASH / MAGLEV), up to max_connect_attempts attempts, and then either a
// raw connection (TcpUpstream) or, with tunneling_config, an HTTP/2 CONNECT stream
// (HttpUpstream).
//
// Half-closes pass through both ways. Flow control: when one side cannot take more (its write
// buffer, or the tunnel stream's send buffer, is above its high watermark), the other side stops
// reading until it drains, so memory stays bounded by the buffer limits (and the stream window).
//
// What happened goes into the downstream connection's stream info for access logs: the cluster,
// the host, and the response flags UH (no host), UO (circuit breaker), UF (connect failed or
// the CONNECT was refused), URX (attempts exhausted), NC (no such cluster), UC (an established
// tunnel was reset), DT (max_downstream_connection_duration).
class TcpProxyFilter final : public network::ReadFilter,
                             public network::ConnectionCallbacks,
                             public UpstreamCallbacks,
                             public upstream::lb::LoadBalancerContext {
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

  // UpstreamCallbacks
  void onUpstreamReady(const http::ResponseHeaderMap* response_headers) override;
  void onUpstreamFailure(UpstreamFailure failure, absl::string_view details) override;
  void onUpstreamData(buffer::Instance& data, bool end_stream) override;
  void onUpstreamClosed(bool reset) override;
  void onUpstreamAboveWriteBufferHighWatermark() override;
  void onUpstreamBelowWriteBufferLowWatermark() override;

  // upstream::lb::LoadBalancerContext
  std::optional<uint64_t> computeHashKey() override;
  // Retries avoid the hosts that already failed this connection (as Envoy's previous_hosts
  // predicate would), as long as the cluster has others.
  bool shouldSelectAnotherHost(const upstream::Host& host) override;
  uint32_t hostSelectionRetryCount() const override;
  network::address::InstanceConstSharedPtr downstreamLocalAddress() const override;
  // ORIGINAL_DST reads whether original_dst restored the local address, and the connection's
  // dynamic metadata (original_dst_lb_config.metadata_key), from here.
  const stream_info::StreamInfo* downstreamConnectionStreamInfo() const override;

 private:
  stream_info::StreamInfo& streamInfo() { return callbacks_->connection().streamInfo(); }
  // One connect attempt (or the end, when attempts are exhausted).
  void connect();
  // Closes the downstream (once) and stops its timers.
  void closeDownstream(network::ConnectionCloseType type);
  // Lets go of the current upstream: abandoned, freed after this loop turn, and the downstream
  // reads it had paused resumed.
  void releaseUpstream();
  void onIdleTimeout();
  void onMaxDurationTimeout();
  void resetIdleTimer();
  // Pause / resume reading the downstream because the upstream is full (counted, nesting).
  void readDisableDownstream(bool disable);

  const TcpProxyConfigConstSharedPtr config_;
  network::ReadFilterCallbacks* callbacks_ = nullptr;
  upstream::ThreadLocalClusterManager* cluster_managers_ = nullptr;
  upstream::ThreadLocalCluster* cluster_ = nullptr;
  // Keeps the cluster's stats alive for the connection's life, whatever updates come.
  upstream::ClusterConstSharedPtr cluster_info_;
  GenericUpstreamPtr upstream_;
  std::vector<upstream::HostConstSharedPtr> failed_hosts_;
  // Bytes that arrived before the upstream was ready (reads are paused then, so this is at most
  // one read's worth).
  buffer::OwnedImpl early_data_;
  bool early_end_stream_ = false;
  event::TimerPtr idle_timer_;
  event::TimerPtr duration_timer_;
  uint32_t connect_attempts_ = 0;
  // Downstream readDisable(true) calls we made while the upstream was full.
  uint32_t upstream_full_ = 0;
  // Above-high-watermark reports of the downstream not yet undone (each pauses the upstream).
  uint32_t downstream_full_ = 0;
  bool connect_read_disabled_ = false;  // reads paused until the upstream is ready
  bool upstream_established_ = false;   // an upstream became ready (bytes flow from now on)
  bool downstream_closed_ = false;
};

}  // namespace waystone::extensions::network_filters::tcp_proxy
