#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"

#include "source/common/event/dispatcher.h"
#include "source/common/http/codec.h"
#include "source/common/http/conn_pool/conn_pool.h"
#include "source/upstream/cluster_manager.h"
#include "source/upstream/load_balancer/load_balancer.h"
#include "source/upstream/load_balancer/priority_set.h"
#include "source/upstream/outlier_detection/outlier_detector.h"

namespace waystone::upstream {

// One cluster as one worker sees it: its own load balancer instance and connection pools, so
// picking a host and getting a connection take no locks.
// What every worker shares about balancing one cluster: its hosts by priority and the factory
// of its lb_policy. Immutable.
struct ClusterLoadBalancing {
  ClusterConstSharedPtr cluster;
  lb::PrioritySetConstSharedPtr priority_set;
  lb::LoadBalancerFactoryPtr factory;
  // Shared by the workers (reports are lock-free); created and destroyed on the main thread.
  std::shared_ptr<OutlierDetector> outlier_detector;
};

class ThreadLocalCluster {
 public:
  ThreadLocalCluster(const ClusterLoadBalancing& balancing, event::Dispatcher& dispatcher,
                     uint64_t seed);

  const Cluster& info() const { return *cluster_; }
  // nullptr when the cluster has no outlier_detection.
  OutlierDetector* outlierDetector() const { return outlier_detector_; }
  const ClusterConstSharedPtr& cluster() const { return cluster_; }
  // nullptr when no host is available.
  HostConstSharedPtr chooseHost(lb::LoadBalancerContext* context);
  http::ConnPool& httpConnPool(const HostConstSharedPtr& host, http::Protocol protocol);

 private:
  const ClusterConstSharedPtr cluster_;
  const lb::PrioritySetConstSharedPtr priority_set_;  // outlives load_balancer_
  OutlierDetector* const outlier_detector_;
  event::Dispatcher& dispatcher_;
  lb::LoadBalancerPtr load_balancer_;
  std::map<std::pair<const Host*, http::Protocol>, http::ConnPoolPtr> pools_;
};

// All clusters for one worker. Built on the main thread before the worker starts, then used
// only on that worker.
class ThreadLocalClusterManager {
 public:
  ThreadLocalClusterManager(const std::map<std::string, ClusterLoadBalancing>& clusters,
                            event::Dispatcher& dispatcher, uint64_t seed);
  // nullptr when no such cluster.
  ThreadLocalCluster* get(const std::string& name);

 private:
  std::map<std::string, std::unique_ptr<ThreadLocalCluster>> clusters_;
};

// The per-worker cluster managers, found by the worker's dispatcher. Complete before any worker
// runs and never changed afterwards, so lookups from workers need no lock.
class WorkerClusterManagers {
 public:
  // Validates every cluster's lb_policy and builds its priority set and outlier detector
  // (errors name the field, e.g. "static_resources.clusters[0].lb_policy: ..."). Outlier
  // detectors run their timers on `main_dispatcher`.
  static absl::StatusOr<std::unique_ptr<WorkerClusterManagers>> create(
      const ClusterManager& cluster_manager, event::Dispatcher& main_dispatcher);

  // Builds the cluster manager for one worker (on the main thread, before it runs).
  void addWorker(event::Dispatcher& dispatcher, uint64_t seed);
  // Frees one worker's cluster manager; called on that worker's thread as it exits. The map
  // itself does not change, so other workers' lookups stay safe.
  void releaseWorker(event::Dispatcher& dispatcher) {
    auto it = managers_.find(&dispatcher);
    if (it != managers_.end()) {
      it->second.reset();
    }
  }
  // nullptr for a dispatcher that is not a worker's.
  ThreadLocalClusterManager* forDispatcher(event::Dispatcher& dispatcher) const {
    auto it = managers_.find(&dispatcher);
    return it == managers_.end() ? nullptr : it->second.get();
  }

 private:
  std::map<std::string, ClusterLoadBalancing> clusters_;
  std::map<const event::Dispatcher*, std::unique_ptr<ThreadLocalClusterManager>> managers_;
};

}  // namespace waystone::upstream
