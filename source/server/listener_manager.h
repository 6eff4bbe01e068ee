#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"

#include "source/common/network/listen_socket.h"
#include "source/common/stats/store.h"
#include "source/server/filter_registry.h"
#include "source/server/listener_config.h"
#include "source/server/worker.h"

namespace waystone::server {

// Owns the listener configs and their sockets. Built on the main thread: each TCP listener is
// bound once per worker with SO_REUSEPORT, so the kernel spreads connections over the workers.
class ListenerManager {
 public:
  struct ActiveListenerInfo {
    ListenerConfigConstSharedPtr config;
    // The address actually bound (the real port when the config said 0).
    network::address::InstanceConstSharedPtr bound_address;
    std::vector<std::shared_ptr<network::ListenSocket>> sockets;  // one per worker
  };

  // `bind_sockets` false builds and checks everything but binds nothing (--mode validate).
  ListenerManager(stats::Store& store, uint32_t concurrency, bool bind_sockets);

  // Builds and binds every static listener; all or nothing. Errors name the field path.
  absl::Status addStaticListeners(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                  FactoryContext& context);

  // Hands every listener to every worker.
  void startWorkers(std::vector<WorkerPtr>& workers);
  // Stops accepting on all workers and closes the sockets (drain end, /drain_listeners).
  void stopListeners(std::vector<WorkerPtr>& workers);
  bool listenersStopped() const { return stopped_; }

  const std::vector<ActiveListenerInfo>& listeners() const { return listeners_; }

 private:
  absl::Status addListener(const envoy::config::listener::v3::Listener& proto,
                           const std::string& path, FactoryContext& context);
  static absl::StatusOr<FilterChain> buildFilterChain(
      const envoy::config::listener::v3::FilterChain& chain, const std::string& path, bool internal,
      FactoryContext& context);

  stats::Store& store_;
  const uint32_t concurrency_;
  const bool bind_sockets_;
  std::vector<ActiveListenerInfo> listeners_;
  bool stopped_ = false;
  // The bootstrap has the envoy.bootstrap.internal_listener extension.
  bool internal_listeners_enabled_ = false;
  stats::Gauge& total_listeners_active_;
  stats::Counter& listener_added_;
  stats::Counter& listener_create_success_;
  stats::Counter& lds_update_success_;
};

}  // namespace waystone::server
