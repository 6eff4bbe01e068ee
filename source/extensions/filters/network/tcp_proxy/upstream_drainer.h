#pragma once

#include <chrono>
#include <list>
#include <memory>

#include "source/common/event/dispatcher.h"
#include "source/common/event/timer.h"
#include "source/extensions/filters/network/tcp_proxy/config.h"
#include "source/extensions/filters/network/tcp_proxy/generic_upstream.h"
#include "source/upstream/thread_local_cluster_manager.h"

namespace waystone::extensions::network_filters::tcp_proxy {

// Upstream connections whose downstream went away while they still had bytes to write (Envoy's
// tcp_proxy Drainer): kept, on their worker, until the write buffer is out and the connection
// closes, or until the tcp_proxy's idle_timeout passes without that happening. Bytes the
// upstream sends meanwhile have nowhere to go: the connection is closed at once, as the kernel
// resets a socket whose reader is gone. Counted in tcp.<prefix>.upstream_flush_total and
// upstream_flush_active.
//
// One per worker, kept with the worker's cluster manager (workerState), so the connections go
// with the worker at shutdown.
class UpstreamDrainer : public upstream::ThreadLocalClusterManager::WorkerState {
 public:
  explicit UpstreamDrainer(event::Dispatcher& dispatcher);
  ~UpstreamDrainer() override;

  // This worker's drainer.
  static UpstreamDrainer& get(upstream::ThreadLocalClusterManager& managers,
                              event::Dispatcher& dispatcher);

  // Takes over an upstream that is flushing (GenericUpstream::onDownstreamClosed() said so).
  void add(GenericUpstreamPtr upstream, TcpProxyConfigConstSharedPtr config);

  size_t size() const { return entries_.size(); }

 private:
  class Entry;
  void remove(Entry& entry);

  event::Dispatcher& dispatcher_;
  std::list<std::unique_ptr<Entry>> entries_;
  bool destroying_ = false;
};

}  // namespace waystone::extensions::network_filters::tcp_proxy
