#pragma once

#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"

#include "source/common/buffer/buffer.h"
#include "source/common/event/deferred_deletable.h"
#include "source/common/event/dispatcher.h"
#include "source/common/event/timer.h"
#include "source/common/network/connection.h"
#include "source/common/stream_info/filter_state.h"
#include "source/upstream/cluster.h"
#include "source/upstream/host.h"
#include "source/upstream/thread_local_cluster_manager.h"

namespace waystone::extensions::http_filters::router {

// What a TcpUpstreamRequest tells the router. None of these is called from inside a method the
// router called on the request (start(), write(), readDisable(), abandon()), except the
// watermark callbacks, which run inside the write() that crossed the limit (as
// network::Connection raises them).
class TcpUpstreamCallbacks {
 public:
  virtual ~TcpUpstreamCallbacks() = default;
  // The connection is up: the CONNECT can be answered.
  virtual void onTcpUpstreamConnected() = 0;
  // Bytes from the host; `end_stream`: the host half-closed (sent FIN).
  virtual void onTcpUpstreamData(buffer::Instance& data, bool end_stream) = 0;
  // No connection: refused, reset or timed out while connecting. `details` is the transport
  // failure reason ("Connection refused", ...), empty when there is none.
  virtual void onTcpUpstreamConnectFailure(absl::string_view details) = 0;
  // The connection closed after it was up (reset, or closed by the host both ways).
  virtual void onTcpUpstreamClosed() = 0;
  // The connection's write buffer is above / back below its limit: pause / resume the client.
  virtual void onTcpUpstreamAboveWriteBufferHighWatermark() = 0;
  virtual void onTcpUpstreamBelowWriteBufferLowWatermark() = 0;
};

// The upstream of a CONNECT that the router terminates (a route whose CONNECT upgrade has
// connect_config, Envoy's TcpUpstream): one raw connection to one host, opened with
// upstream::createUpstreamConnection() (so an internal host gets the request's shared filter
// state and the passthrough metadata), bytes moved both ways with half-close. Not pooled: one
// connection per CONNECT stream, as with Envoy's TCP pool for terminated CONNECT.
//
// It counts, as a connection pool and an upstream request would: the cluster's connections and
// requests circuit breakers (checked in start()), upstream_cx_{total,active,destroy,
// connect_fail,connect_timeout,rx_bytes_total,tx_bytes_total}, upstream_rq_{total,active} and
// the host's cx_* / rq_* stats.
//
// Owned by the router; freed with deferredDelete() (it may be inside its own callback), or,
// when it ended well and is still flushing, handed to the worker's TcpUpstreamLinger.
class TcpUpstreamRequest final : public network::ConnectionCallbacks,
                                 public network::ReadCallback,
                                 public event::DeferredDeletable {
 public:
  // Why start() refused without opening anything.
  enum class StartResult { Started, RequestOverflow, ConnectionOverflow };

  TcpUpstreamRequest(TcpUpstreamCallbacks& callbacks, event::Dispatcher& dispatcher,
                     upstream::HostConstSharedPtr host, upstream::ClusterConstSharedPtr cluster);
  ~TcpUpstreamRequest() override;

  // Checks the circuit breakers, then opens the connection and starts the connect timer
  // (cluster connect_timeout). `filter_state`: the request's, whose shared entries go to an
  // internal listener (may be null).
  StartResult start(const stream_info::FilterState* filter_state);
  // Sends bytes to the host; `end_stream` half-closes our side after them. Only once
  // connected().
  void write(buffer::Instance& data, bool end_stream);
  // Pause / resume reading from the host (the client is not keeping up). Nests; applied once
  // the connection is up if called before.
  void readDisable(bool disable);
  // Stops every callback and closes the connection (if any). `success`: both directions ended
  // normally; what we wrote last may still be in the write buffer, so the close flushes it
  // first (see flushing()). Otherwise the close is immediate. Also counts the host's
  // rq_success / rq_error.
  void abandon(bool success);
  // After abandon(true): the connection is still writing its last bytes. Keep this object
  // alive (TcpUpstreamLinger) until `on_closed` runs, from the connection's close event.
  bool flushing() const;
  void setOnClosed(std::function<void()> on_closed) { on_closed_ = std::move(on_closed); }

  bool connected() const { return connected_; }
  const upstream::HostConstSharedPtr& host() const { return host_; }
  std::chrono::steady_clock::time_point startTime() const { return start_time_; }

  // network::ConnectionCallbacks
  void onEvent(network::ConnectionEvent event) override;
  void onAboveWriteBufferHighWatermark() override;
  void onBelowWriteBufferLowWatermark() override;
  // network::ReadCallback
  void onData(buffer::Instance& data, bool end_stream) override;

 private:
  void onConnectTimeout();
  // Gives back what start() took (circuit breakers, active gauges), once.
  void release(bool success);

  TcpUpstreamCallbacks& callbacks_;
  event::Dispatcher& dispatcher_;
  const upstream::HostConstSharedPtr host_;
  const upstream::ClusterConstSharedPtr cluster_;
  const std::chrono::steady_clock::time_point start_time_;
  network::ClientConnectionPtr connection_;
  event::TimerPtr connect_timer_;
  std::function<void()> on_closed_;
  uint32_t read_disabled_ = 0;
  bool counted_ = false;    // start() took the circuit breakers and active gauges
  bool connected_ = false;  // Connected was raised
  bool done_ = false;       // abandoned or closed: no more callbacks
};

using TcpUpstreamRequestPtr = std::unique_ptr<TcpUpstreamRequest>;

// The tunnels of one worker that ended well but whose connection is still flushing its last
// bytes (the client's final data and FIN): kept until the connection closes (flushed, or the
// connection's delayed-close timeout), so that the end of a tunnel is never cut short by freeing
// it. Lives in the worker's ThreadLocalClusterManager; at worker exit what is left is closed
// without flushing.
class TcpUpstreamLinger final : public upstream::ThreadLocalClusterManager::WorkerState {
 public:
  explicit TcpUpstreamLinger(event::Dispatcher& dispatcher) : dispatcher_(dispatcher) {}
  ~TcpUpstreamLinger() override;

  // The worker's linger list, made on first use. Worker thread only.
  static TcpUpstreamLinger& get(upstream::ThreadLocalClusterManager& clusters,
                                event::Dispatcher& dispatcher);

  // Takes a request that is flushing() and frees it once its connection has closed.
  void add(TcpUpstreamRequestPtr request);
  size_t size() const { return requests_.size(); }

 private:
  event::Dispatcher& dispatcher_;
  std::list<TcpUpstreamRequestPtr> requests_;
};

}  // namespace waystone::extensions::http_filters::router
