#include "source/server/server.h"

#include <csignal>
#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"

#include "source/common/common/logger.h"
#include "source/common/network/address_proto.h"
#include "source/common/protobuf/utility.h"
#include "source/server/version.h"

namespace waystone::server {

absl::string_view serverStateName(ServerState state) {
  switch (state) {
    case ServerState::Live:
      return "LIVE";
    case ServerState::Draining:
      return "DRAINING";
    case ServerState::PreInitializing:
      return "PRE_INITIALIZING";
    case ServerState::Initializing:
      return "INITIALIZING";
  }
  return "UNKNOWN";
}

Server::Server(const Options& options, const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
               AdminEndpointsInstaller install_admin_endpoints)
    : options_(options),
      install_admin_endpoints_(std::move(install_admin_endpoints)),
      bootstrap_(bootstrap),
      start_time_(std::chrono::steady_clock::now()),
      store_(std::make_unique<stats::Store>()),
      dispatcher_(std::make_unique<event::DispatcherImpl>("main")),
      state_gauge_(store_->gaugeFromString("server.state")),
      live_gauge_(store_->gaugeFromString("server.live")),
      uptime_gauge_(store_->gaugeFromString("server.uptime")),
      workers_started_gauge_(store_->gaugeFromString("listener_manager.workers_started")) {
  setState(ServerState::PreInitializing);
  store_->gaugeFromString("server.concurrency").set(options_.concurrency);
  store_->gaugeFromString("server.version").set(kVersionNumber);
  store_->gaugeFromString("server.hot_restart_epoch").set(0);
}

Server::~Server() {
  for (auto& worker : workers_) {
    worker->stop();
  }
  // Worker cluster managers hold connections registered with the workers' loops: free them
  // while those loops still exist.
  worker_cluster_managers_.reset();
  workers_.clear();
  admin_.reset();
}

void Server::setState(ServerState state) {
  state_ = state;
  state_gauge_.set(static_cast<uint64_t>(state));
  live_gauge_.set(state == ServerState::Live ? 1 : 0);
}

std::chrono::seconds Server::uptime() const {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                          start_time_);
}

// Bootstrap sections Waystone reads later in its roadmap: accepted so Istio's bootstrap loads,
// and named in a warning so nobody mistakes them for working.
void Server::warnAboutIgnoredSections() const {
  std::vector<std::string> ignored;
  if (bootstrap_.has_dynamic_resources()) {
    ignored.push_back("dynamic_resources (xDS)");
  }
  for (const auto& extension : bootstrap_.bootstrap_extensions()) {
    // The internal listener extension is honoured (ListenerManager); others are not yet.
    if (protobuf::typeUrlOf(extension.typed_config()) !=
        "envoy.extensions.bootstrap.internal_listener.v3.InternalListener") {
      ignored.push_back(absl::StrCat("bootstrap_extensions (\"", extension.name(), "\")"));
    }
  }
  if (bootstrap_.has_stats_config()) {
    ignored.push_back("stats_config");
  }
  if (bootstrap_.has_overload_manager()) {
    ignored.push_back("overload_manager");
  }
  if (bootstrap_.has_layered_runtime()) {
    ignored.push_back("layered_runtime");
  }
  if (bootstrap_.has_tracing()) {
    ignored.push_back("tracing");
  }
  for (const auto& section : ignored) {
    WAYSTONE_LOG(warn, config, "bootstrap section %s is not supported yet and is ignored", section);
  }
}

absl::Status Server::initialize(bool validate_only) {
  setState(ServerState::Initializing);
  warnAboutIgnoredSections();
  auto cluster_manager = upstream::ClusterManager::create(bootstrap_, *store_);
  if (!cluster_manager.ok()) {
    return cluster_manager.status();
  }
  cluster_manager_ = std::move(*cluster_manager);
  store_->gaugeFromString("cluster_manager.active_clusters")
      .set(cluster_manager_->clusters().size());
  // Static clusters count as one successful CDS update, as in Envoy (pilot-agent's readiness
  // check wants update_success > 0).
  store_->counterFromString("cluster_manager.cds.update_success").inc();
  store_->counterFromString("cluster_manager.cds.update_attempt").inc();
  store_->counterFromString("cluster_manager.cds.update_rejected");

  auto worker_cluster_managers =
      upstream::WorkerClusterManagers::create(*cluster_manager_, *dispatcher_);
  if (!worker_cluster_managers.ok()) {
    return worker_cluster_managers.status();
  }
  worker_cluster_managers_ = std::move(*worker_cluster_managers);
  // Workers exist (not running) from here, so each gets its cluster manager before any
  // listener could route to it.
  for (uint32_t i = 0; i < options_.concurrency; ++i) {
    workers_.push_back(std::make_unique<Worker>(i));
    worker_cluster_managers_->addWorker(workers_.back()->dispatcher(), /*seed=*/i * 7919 + 1);
  }

  listener_manager_ =
      std::make_unique<ListenerManager>(*store_, options_.concurrency, !validate_only);
  FactoryContext context{*cluster_manager_, *store_,
                         protobuf::LoadOptions{options_.allow_unknown_static_fields},
                         *worker_cluster_managers_};
  absl::Status status = listener_manager_->addStaticListeners(bootstrap_, context);
  if (!status.ok()) {
    return status;
  }

  admin_ = std::make_unique<admin::AdminServer>(*dispatcher_, *store_);
  if (validate_only) {
    return absl::OkStatus();
  }
  // Before the admin address is published: a test or supervisor may signal us as soon as it
  // sees it.
  installSignalHandlers();
  if (bootstrap_.has_admin() && bootstrap_.admin().has_address()) {
    auto address = network::address::fromProto(bootstrap_.admin().address());
    if (!address.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("admin.address.", address.status().message()));
    }
    registerAdminHandlers();
    status = admin_->start(*address);
    if (!status.ok()) {
      return status;
    }
    writeAdminAddressFile();
  } else {
    WAYSTONE_LOG(warn, admin, "no admin.address configured: the admin API is disabled");
  }
  return absl::OkStatus();
}

void Server::writeAdminAddressFile() {
  if (options_.admin_address_path.empty()) {
    return;
  }
  // Write then rename, so a reader polling for the file never sees it half-written.
  const std::string tmp = options_.admin_address_path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << admin_->boundAddress()->asString() << "\n";
  }
  if (std::rename(tmp.c_str(), options_.admin_address_path.c_str()) != 0) {
    WAYSTONE_LOG(error, admin, "cannot write --admin-address-path %s", options_.admin_address_path);
  }
}

void Server::installSignalHandlers() {
  signals_.push_back(dispatcher_->listenForSignal(SIGTERM, [this] {
    WAYSTONE_LOG(info, main, "caught SIGTERM");
    shutdownWithDrain();
  }));
  signals_.push_back(dispatcher_->listenForSignal(SIGINT, [this] {
    WAYSTONE_LOG(info, main, "caught SIGINT");
    shutdownWithDrain();
  }));
  signals_.push_back(dispatcher_->listenForSignal(SIGUSR1, [] {
    WAYSTONE_LOG(info, main, "caught SIGUSR1: reopening log files");
    const absl::Status status = logger::Registry::reopenLogFile();
    if (!status.ok()) {
      WAYSTONE_LOG(error, main, "%s", status.message());
    }
  }));
  // Envoy ignores SIGHUP: configuration is reloaded through xDS, not signals.
  signals_.push_back(dispatcher_->listenForSignal(SIGHUP, [] {}));
}

void Server::registerAdminHandlers() {
  if (install_admin_endpoints_) {
    install_admin_endpoints_(*admin_, *this);
  }
}

int Server::run() {
  stats_timer_ = dispatcher_->createTimer([this] {
    uptime_gauge_.set(uptime().count());
    stats_timer_->enableTimer(std::chrono::seconds(1));
  });
  stats_timer_->enableTimer(std::chrono::seconds(1));

  listener_manager_->startWorkers(workers_);
  for (auto& worker : workers_) {
    // Each worker reports back once its loop runs with the listeners added.
    Worker* w = worker.get();
    worker->start([this] { dispatcher_->post([this] { onWorkerStarted(); }); },
                  [this, w] { worker_cluster_managers_->releaseWorker(w->dispatcher()); });
  }

  dispatcher_->run(event::Dispatcher::RunType::RunUntilExit);

  WAYSTONE_LOG(info, main, "shutting down");
  for (auto& worker : workers_) {
    worker->stop();
  }
  worker_cluster_managers_.reset();
  workers_.clear();
  WAYSTONE_LOG(info, main, "exiting");
  return 0;
}

void Server::onWorkerStarted() {
  if (++workers_started_count_ < workers_.size() || shutting_down_) {
    return;
  }
  workers_started_gauge_.set(1);
  setState(ServerState::Live);
  WAYSTONE_LOG(info, main, "all %d workers started; server is LIVE", workers_.size());
}

uint64_t Server::activeDownstreamConnections() const {
  uint64_t total = 0;
  for (const auto& info : listener_manager_->listeners()) {
    total += info.config->stats().downstream_cx_active.value();
  }
  return total;
}

void Server::drainListeners(bool graceful, bool skip_exit) {
  setState(ServerState::Draining);
  // Both kinds drain the open connections (as Envoy does since connection-level drain events);
  // graceful only decides whether the listeners keep accepting for the drain time first.
  startConnectionDrain();
  if (!graceful) {
    listener_manager_->stopListeners(workers_);
    return;
  }
  // Graceful: keep accepting for the drain period, then stop the listeners unless skip_exit.
  const auto drain_time = std::chrono::seconds(options_.drain_time_s);
  WAYSTONE_LOG(info, main, "draining listeners for %ds", drain_time.count());
  drain_timer_ = dispatcher_->createTimer([this, skip_exit] {
    if (!skip_exit) {
      listener_manager_->stopListeners(workers_);
    }
  });
  drain_timer_->enableTimer(drain_time);
}

void Server::shutdownWithDrain() {
  if (shutting_down_) {
    return;
  }
  shutting_down_ = true;
  setState(ServerState::Draining);
  startConnectionDrain();
  listener_manager_->stopListeners(workers_);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(options_.drain_time_s);
  WAYSTONE_LOG(info, main, "draining %d connections for up to %ds", activeDownstreamConnections(),
               options_.drain_time_s);
  pollDrainComplete(deadline);
}

// Connections finish on their own workers; the main thread watches the listener gauges and
// exits when they reach zero or the drain time is over.
void Server::pollDrainComplete(std::chrono::steady_clock::time_point deadline) {
  if (activeDownstreamConnections() == 0 || std::chrono::steady_clock::now() >= deadline) {
    dispatcher_->exit();
    return;
  }
  drain_timer_ = dispatcher_->createTimer([this, deadline] { pollDrainComplete(deadline); });
  drain_timer_->enableTimer(std::chrono::milliseconds(50));
}

void Server::startConnectionDrain() {
  if (connection_drain_started_) {
    return;
  }
  connection_drain_started_ = true;
  network::DrainEvent event;
  event.start_time = std::chrono::steady_clock::now();
  event.drain_time = std::chrono::seconds(options_.drain_time_s);
  event.strategy = options_.drain_strategy == Options::DrainStrategy::Immediate
                       ? network::DrainEvent::Strategy::Immediate
                       : network::DrainEvent::Strategy::Gradual;
  for (auto& worker : workers_) {
    worker->startDrain(event);
  }
}

void Server::shutdown() {
  shutting_down_ = true;
  dispatcher_->exit();
}

}  // namespace waystone::server
