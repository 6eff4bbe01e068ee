#pragma once

#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "source/common/event/dispatcher.h"
#include "source/common/http/codec.h"
#include "source/common/http/conn_pool/conn_pool.h"
#include "source/upstream/cluster_manager.h"
#include "source/upstream/dns_cluster_refresher.h"
#include "source/upstream/dns_resolver_thread.h"
#include "source/upstream/load_balancer/load_balancer.h"
#include "source/upstream/load_balancer/priority_set.h"
#include "source/upstream/membership_update.h"
#include "source/upstream/original_dst_load_balancer.h"
#include "source/upstream/outlier_detection/outlier_detector.h"

namespace waystone::upstream {

// What every worker shares about balancing one cluster at one moment: its hosts by priority and
// how to balance them. Immutable: a membership update builds a new one and posts it to every
// worker, which swaps its load balancer. Workers hand the ones they drop back to the main thread
// (the outlier detector must die there).
struct ClusterLoadBalancing {
  ClusterConstSharedPtr cluster;
  lb::PrioritySetConstSharedPtr priority_set;
  // Every host of priority_set, in config order (admin, pool draining).
  HostVector hosts;
  // The lb_policy's factory; null for ORIGINAL_DST, whose hosts come from each request.
  lb::LoadBalancerFactoryPtr factory;
  // ORIGINAL_DST only.
  OriginalDstConfigConstSharedPtr original_dst;
  // Shared by the workers (reports are lock-free); created and destroyed on the main thread.
  std::shared_ptr<OutlierDetector> outlier_detector;
};

using ClusterLoadBalancingConstSharedPtr = std::shared_ptr<const ClusterLoadBalancing>;

// One cluster as one worker sees it: its own load balancer instance and connection pools, so
// picking a host and getting a connection take no locks. The object lives as long as the
// worker; membership updates swap what is inside.
class ThreadLocalCluster {
 public:
  ThreadLocalCluster(ClusterLoadBalancingConstSharedPtr balancing, event::Dispatcher& dispatcher,
                     event::Dispatcher& main_dispatcher, uint64_t seed);
  ~ThreadLocalCluster();
  ThreadLocalCluster(const ThreadLocalCluster&) = delete;
  ThreadLocalCluster& operator=(const ThreadLocalCluster&) = delete;

  const Cluster& info() const { return *cluster_; }
  // nullptr when the cluster has no outlier_detection. Fetch it per report: an update replaces
  // it.
  OutlierDetector* outlierDetector() const { return balancing_->outlier_detector.get(); }
  const ClusterConstSharedPtr& cluster() const { return cluster_; }
  // nullptr when no host is available.
  HostConstSharedPtr chooseHost(lb::LoadBalancerContext* context);
  http::ConnPool& httpConnPool(const HostConstSharedPtr& host, http::Protocol protocol);

  // On this worker: switches to a new host set. The load balancer is rebuilt over it; the
  // connection pools of hosts that stayed are kept, those of hosts that left drain (idle
  // connections close now, requests in flight finish) and are freed when empty.
  void update(ClusterLoadBalancingConstSharedPtr balancing);

  const ClusterLoadBalancing& balancing() const { return *balancing_; }
  size_t poolCount() const { return pools_.size(); }
  size_t drainingPoolCount() const { return draining_pools_.size(); }
  // ORIGINAL_DST: this worker's hosts (empty for other clusters).
  HostVector originalDstHosts() const;

 private:
  void createLoadBalancer();
  // Moves the pools of `hosts` out of pools_ and drains them.
  void drainPoolsOf(const HostVector& hosts);
  void drainPool(http::ConnPoolPtr pool);

  const ClusterConstSharedPtr cluster_;
  ClusterLoadBalancingConstSharedPtr balancing_;  // outlives load_balancer_
  event::Dispatcher& dispatcher_;
  event::Dispatcher& main_dispatcher_;
  const uint64_t seed_;
  lb::LoadBalancerPtr load_balancer_;
  OriginalDstLoadBalancer* original_dst_ = nullptr;  // load_balancer_, for ORIGINAL_DST
  std::map<std::pair<const Host*, http::Protocol>, http::ConnPoolPtr> pools_;
  std::list<http::ConnPoolPtr> draining_pools_;
};

// All clusters for one worker. Built on the main thread before the worker starts, then used
// only on that worker.
class ThreadLocalClusterManager {
 public:
  // Per-worker state that other components keep next to the clusters (e.g. the router's
  // ShadowWriter, whose mirrors use the pools). Destroyed before the clusters and their pools.
  class WorkerState {
   public:
    virtual ~WorkerState() = default;
  };

  ThreadLocalClusterManager(
      const std::map<std::string, ClusterLoadBalancingConstSharedPtr>& clusters,
      event::Dispatcher& dispatcher, event::Dispatcher& main_dispatcher, uint64_t seed);
  ~ThreadLocalClusterManager();
  // nullptr when no such cluster.
  ThreadLocalCluster* get(const std::string& name);

  // The worker state stored under `key`, made by `factory` on first use. Worker thread only.
  WorkerState& workerState(absl::string_view key,
                           const std::function<std::unique_ptr<WorkerState>()>& factory);

 private:
  std::map<std::string, std::unique_ptr<ThreadLocalCluster>> clusters_;
  // Declared after clusters_ and cleared first by the destructor anyway: state that uses the
  // pools goes while they still exist.
  std::map<std::string, std::unique_ptr<WorkerState>, std::less<>> worker_state_;
};

// The per-worker cluster managers, found by the worker's dispatcher, and the main thread's
// view of every cluster's current hosts. The set of workers is complete before any worker runs
// and never changes afterwards, so lookups from workers need no lock. Membership changes go
// one way only: updateHosts() on the main thread publishes a new ClusterLoadBalancing, each
// worker receives it by post().
class WorkerClusterManagers {
 public:
  // Validates every cluster's lb_policy and builds its priority set and outlier detector
  // (errors name the field, e.g. "cluster \"x\".lb_policy: ..."). Outlier detectors run their
  // timers on `main_dispatcher`, and so do the DNS refreshes of STRICT_DNS and LOGICAL_DNS
  // clusters (their resolutions run on a resolver thread with the cluster manager's
  // DnsResolver). Call on the main thread.
  static absl::StatusOr<std::unique_ptr<WorkerClusterManagers>> create(
      const ClusterManager& cluster_manager, event::Dispatcher& main_dispatcher);
  ~WorkerClusterManagers();

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

  // Main thread. Replaces the hosts of `cluster_name` (the path EDS will use; DNS refreshes use
  // it now). Hosts that stay (same address, locality and hostname) keep their Host object, so
  // their connection pools, stats and outlier-detection state survive; the outlier detector is
  // rebuilt over the new set with that state carried over. Updates
  // cluster.<name>.membership_total / membership_healthy, and membership_change when a host came
  // or went. Every worker gets the new set by post(). Errors: unknown cluster, ORIGINAL_DST
  // cluster (its hosts come from requests), invalid update (nothing changes then).
  absl::Status updateHosts(const std::string& cluster_name, const MembershipUpdate& update);

  // Main thread: a cluster's hosts as published last (admin /clusters); nullptr when unknown.
  ClusterLoadBalancingConstSharedPtr current(const std::string& cluster_name) const;
  const std::map<std::string, ClusterLoadBalancingConstSharedPtr>& clusters() const {
    return clusters_;
  }
  // Main thread: the DNS refresher of a STRICT_DNS / LOGICAL_DNS cluster, else nullptr.
  DnsClusterRefresher* dnsRefresher(const std::string& cluster_name) const;

 private:
  explicit WorkerClusterManagers(event::Dispatcher& main_dispatcher)
      : main_dispatcher_(main_dispatcher) {}
  void setMembershipStats(const ClusterLoadBalancing& balancing, bool changed);

  event::Dispatcher& main_dispatcher_;
  std::map<std::string, ClusterLoadBalancingConstSharedPtr> clusters_;
  std::map<event::Dispatcher*, std::unique_ptr<ThreadLocalClusterManager>> managers_;
  // Declared last: destroyed first, so no refresh outlives what it updates.
  std::unique_ptr<DnsResolverThread> dns_thread_;
  std::map<std::string, std::unique_ptr<DnsClusterRefresher>> dns_refreshers_;
  // Updates posted to workers check it, in case this object went first (tests that share one
  // dispatcher between "main" and "worker").
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace waystone::upstream
