#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"

#include "source/common/event/dispatcher_impl.h"
#include "source/common/stats/store.h"
#include "source/server/admin/admin_server.h"
#include "source/server/listener_manager.h"
#include "source/server/options.h"
#include "source/server/worker.h"
#include "source/upstream/cluster_manager.h"
#include "source/upstream/thread_local_cluster_manager.h"

namespace waystone::server {

// Envoy's server states, with Envoy's numbering for the server.state stat (pilot-agent reads it).
enum class ServerState : int { Live = 0, Draining = 1, PreInitializing = 2, Initializing = 3 };

absl::string_view serverStateName(ServerState state);

// The process: the main thread's dispatcher, configuration, admin, cluster and listener
// managers and the workers. Everything here runs on the main thread unless noted.
class Server {
 public:
  // Installs the admin endpoints. Passed in (by main) because the endpoints depend on the
  // Server, not the other way round.
  using AdminEndpointsInstaller = std::function<void(admin::AdminHandlerRegistry&, Server&)>;

  Server(const Options& options, const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
         AdminEndpointsInstaller install_admin_endpoints);
  ~Server();

  // Builds clusters and listeners, binds every socket and the admin endpoint. On error nothing
  // is left listening and the message names the field. `validate_only` (--mode validate) builds
  // and checks everything but binds nothing.
  absl::Status initialize(bool validate_only = false);
  // Starts the workers, becomes LIVE and runs the main loop until shutdown. Returns the exit code.
  int run();

  // Stops listeners (graceful: after the drain period) as Envoy's /drain_listeners.
  void drainListeners(bool graceful, bool skip_exit);
  // SIGTERM/SIGINT: stop accepting, let connections finish for --drain-time-s, then exit 0.
  void shutdownWithDrain();
  // /quitquitquit: exit now.
  void shutdown();

  ServerState state() const { return state_; }
  bool healthCheckFailed() const { return health_check_failed_; }
  void setHealthCheckFailed(bool failed) { health_check_failed_ = failed; }
  std::chrono::seconds uptime() const;

  const Options& options() const { return options_; }
  const envoy::config::bootstrap::v3::Bootstrap& bootstrap() const { return bootstrap_; }
  stats::Store& stats() { return *store_; }
  const upstream::ClusterManager& clusterManager() const { return *cluster_manager_; }
  // Every cluster's current hosts (they change with DNS refreshes). Main thread.
  const upstream::WorkerClusterManagers& workerClusterManagers() const {
    return *worker_cluster_managers_;
  }
  const ListenerManager& listenerManager() const { return *listener_manager_; }
  event::Dispatcher& dispatcher() { return *dispatcher_; }

 private:
  void setState(ServerState state);
  void warnAboutIgnoredSections() const;
  void installSignalHandlers();
  void registerAdminHandlers();
  void writeAdminAddressFile();
  void onWorkerStarted();
  uint64_t activeDownstreamConnections() const;
  void pollDrainComplete(std::chrono::steady_clock::time_point deadline);
  // Tells every connection on every worker that the drain started (HTTP: GOAWAY, connection:
  // close), once, whatever started it.
  void startConnectionDrain();

  const Options options_;
  const AdminEndpointsInstaller install_admin_endpoints_;
  const envoy::config::bootstrap::v3::Bootstrap bootstrap_;
  const std::chrono::steady_clock::time_point start_time_;
  std::unique_ptr<stats::Store> store_;
  std::unique_ptr<event::DispatcherImpl> dispatcher_;
  upstream::ClusterManagerPtr cluster_manager_;
  std::unique_ptr<upstream::WorkerClusterManagers> worker_cluster_managers_;
  std::unique_ptr<ListenerManager> listener_manager_;
  std::unique_ptr<admin::AdminServer> admin_;
  std::vector<WorkerPtr> workers_;
  std::vector<event::SignalEventPtr> signals_;
  event::TimerPtr stats_timer_;
  event::TimerPtr drain_timer_;
  ServerState state_ = ServerState::PreInitializing;
  bool health_check_failed_ = false;
  bool shutting_down_ = false;
  bool connection_drain_started_ = false;
  uint32_t workers_started_count_ = 0;
  stats::Gauge& state_gauge_;
  stats::Gauge& live_gauge_;
  stats::Gauge& uptime_gauge_;
  stats::Gauge& workers_started_gauge_;
};

}  // namespace waystone::server
