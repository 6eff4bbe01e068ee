#include "source/upstream/thread_local_cluster_manager.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

#include "source/common/common/logger.h"
#include "source/upstream/load_balancer/load_balancer_factory_impl.h"

namespace waystone::upstream {
namespace {

using ClusterProto = envoy::config::cluster::v3::Cluster;

// Snapshots may hold an outlier detector, which must be destroyed on the main thread: a worker
// never drops one itself but posts it to the main dispatcher (which frees it when the post runs,
// or when it is destroyed if it no longer runs).
void releaseOnMain(event::Dispatcher& main_dispatcher,
                   ClusterLoadBalancingConstSharedPtr balancing) {
  if (balancing == nullptr || main_dispatcher.isThreadSafe()) {
    return;
  }
  main_dispatcher.post([balancing = std::move(balancing)]() mutable { balancing.reset(); });
}

// The hosts a cluster starts with, as a MembershipUpdate of the Host objects ClusterManager
// built (so that they are the ones every part of the process sees).
absl::StatusOr<MembershipUpdate> initialMembership(const ClusterProto& cluster_info,
                                                   const Cluster& cluster) {
  std::vector<std::vector<network::address::InstanceConstSharedPtr>> addresses;
  for (const auto& endpoint : cluster.endpointHosts()) {
    std::vector<network::address::InstanceConstSharedPtr> list;
    for (const auto& host : endpoint) {
      list.push_back(host->address());
    }
    addresses.push_back(std::move(list));
  }
  const bool dns = cluster_info.type() == ClusterProto::STRICT_DNS ||
                   cluster_info.type() == ClusterProto::LOGICAL_DNS;
  return MembershipUpdate::fromLoadAssignment(cluster_info.load_assignment(), addresses, dns);
}

}  // namespace

ThreadLocalCluster::ThreadLocalCluster(ClusterLoadBalancingConstSharedPtr balancing,
                                       event::Dispatcher& dispatcher,
                                       event::Dispatcher& main_dispatcher, uint64_t seed)
    : cluster_(balancing->cluster),
      balancing_(std::move(balancing)),
      dispatcher_(dispatcher),
      main_dispatcher_(main_dispatcher),
      seed_(seed) {
  createLoadBalancer();
}

ThreadLocalCluster::~ThreadLocalCluster() {
  // Pools first: their connections may still point at hosts of the snapshot.
  pools_.clear();
  draining_pools_.clear();
  load_balancer_.reset();
  releaseOnMain(main_dispatcher_, std::move(balancing_));
}

void ThreadLocalCluster::createLoadBalancer() {
  original_dst_ = nullptr;
  if (balancing_->original_dst != nullptr) {
    auto original_dst = std::make_unique<OriginalDstLoadBalancer>(
        balancing_->original_dst, cluster_, dispatcher_,
        [this](const HostVector& removed) { drainPoolsOf(removed); });
    original_dst_ = original_dst.get();
    load_balancer_ = std::move(original_dst);
    return;
  }
  load_balancer_ = balancing_->factory->create(*balancing_->priority_set, seed_);
}

HostConstSharedPtr ThreadLocalCluster::chooseHost(lb::LoadBalancerContext* context) {
  return load_balancer_->chooseHost(context);
}

http::ConnPool& ThreadLocalCluster::httpConnPool(const HostConstSharedPtr& host,
                                                 http::Protocol protocol) {
  auto& pool = pools_[{host.get(), protocol}];
  if (pool == nullptr) {
    pool = std::make_unique<http::ConnPool>(dispatcher_, host, cluster_, protocol);
  }
  return *pool;
}

void ThreadLocalCluster::update(ClusterLoadBalancingConstSharedPtr balancing) {
  ClusterLoadBalancingConstSharedPtr old = std::move(balancing_);
  balancing_ = std::move(balancing);
  // The old load balancer refers to the old priority set: replace it before letting that go.
  createLoadBalancer();
  absl::flat_hash_set<const Host*> kept;
  for (const auto& host : balancing_->hosts) {
    kept.insert(host.get());
  }
  HostVector gone;
  for (const auto& host : old->hosts) {
    if (!kept.contains(host.get())) {
      gone.push_back(host);
    }
  }
  drainPoolsOf(gone);
  releaseOnMain(main_dispatcher_, std::move(old));
}

void ThreadLocalCluster::drainPoolsOf(const HostVector& hosts) {
  for (const auto& host : hosts) {
    for (http::Protocol protocol : {http::Protocol::Http11, http::Protocol::Http2}) {
      auto it = pools_.find({host.get(), protocol});
      if (it != pools_.end()) {
        http::ConnPoolPtr pool = std::move(it->second);
        pools_.erase(it);
        drainPool(std::move(pool));
      }
    }
  }
}

void ThreadLocalCluster::drainPool(http::ConnPoolPtr pool) {
  http::ConnPool* raw = pool.get();
  auto position = draining_pools_.insert(draining_pools_.end(), std::move(pool));
  // The callback may run inside the pool's own callbacks: free the pool after this loop turn.
  raw->drain([this, position] {
    struct DeferredPool : event::DeferredDeletable {
      explicit DeferredPool(http::ConnPoolPtr p) : pool(std::move(p)) {}
      http::ConnPoolPtr pool;
    };
    dispatcher_.deferredDelete(std::make_unique<DeferredPool>(std::move(*position)));
    draining_pools_.erase(position);
  });
}

HostVector ThreadLocalCluster::originalDstHosts() const {
  return original_dst_ == nullptr ? HostVector{} : original_dst_->hosts();
}

ThreadLocalClusterManager::ThreadLocalClusterManager(
    const std::map<std::string, ClusterLoadBalancingConstSharedPtr>& clusters,
    event::Dispatcher& dispatcher, event::Dispatcher& main_dispatcher, uint64_t seed) {
  for (const auto& [name, balancing] : clusters) {
    clusters_[name] =
        std::make_unique<ThreadLocalCluster>(balancing, dispatcher, main_dispatcher, seed++);
  }
}

ThreadLocalCluster* ThreadLocalClusterManager::get(const std::string& name) {
  auto it = clusters_.find(name);
  return it == clusters_.end() ? nullptr : it->second.get();
}

ThreadLocalClusterManager::~ThreadLocalClusterManager() { worker_state_.clear(); }

ThreadLocalClusterManager::WorkerState& ThreadLocalClusterManager::workerState(
    absl::string_view key, const std::function<std::unique_ptr<WorkerState>()>& factory) {
  auto it = worker_state_.find(key);
  if (it == worker_state_.end()) {
    it = worker_state_.emplace(std::string(key), factory()).first;
  }
  return *it->second;
}

absl::StatusOr<std::unique_ptr<WorkerClusterManagers>> WorkerClusterManagers::create(
    const ClusterManager& cluster_manager, event::Dispatcher& main_dispatcher) {
  std::unique_ptr<WorkerClusterManagers> managers(new WorkerClusterManagers(main_dispatcher));
  for (const auto& [name, cluster] : cluster_manager.clusters()) {
    const std::string path = absl::StrCat("cluster \"", name, "\"");
    auto balancing = std::make_shared<ClusterLoadBalancing>();
    balancing->cluster = cluster;
    if (cluster->config().type() == ClusterProto::ORIGINAL_DST) {
      auto original_dst = OriginalDstConfig::fromCluster(cluster->config());
      if (!original_dst.ok()) {
        return absl::Status(original_dst.status().code(),
                            absl::StrCat(path, ".", original_dst.status().message()));
      }
      balancing->original_dst = std::make_shared<const OriginalDstConfig>(*original_dst);
      balancing->priority_set = lb::PrioritySet::Builder().build();
      if (cluster->config().has_outlier_detection()) {
        // Its hosts live on the workers, out of any detector's sight.
        WAYSTONE_LOG(warn, upstream,
                     "cluster %s: outlier_detection is ignored on ORIGINAL_DST clusters", name);
      }
      managers->setMembershipStats(*balancing, false);
      managers->clusters_[name] = std::move(balancing);
      continue;
    }
    auto membership = initialMembership(cluster->config(), *cluster);
    if (!membership.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", membership.status().message()));
    }
    auto change = applyMembershipUpdate(name, *membership, cluster->hosts());
    if (!change.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", change.status().message()));
    }
    balancing->priority_set = change->priority_set;
    balancing->hosts = std::move(change->hosts);
    auto factory = lb::createLoadBalancerFactory(cluster->config());
    if (!factory.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ".", factory.status().message()));
    }
    balancing->factory = std::move(*factory);
    if (cluster->config().has_outlier_detection()) {
      auto created =
          OutlierDetector::create(cluster->config().outlier_detection(), balancing->priority_set,
                                  main_dispatcher, cluster->statsScope());
      if (!created.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(path, ".", created.status().message()));
      }
      balancing->outlier_detector = std::move(*created);
    }
    // The first host set is a membership change, as in Envoy.
    managers->setMembershipStats(*balancing, !balancing->hosts.empty());
    managers->clusters_[name] = std::move(balancing);

    const auto type = cluster->config().type();
    if (type == ClusterProto::STRICT_DNS || type == ClusterProto::LOGICAL_DNS) {
      if (managers->dns_thread_ == nullptr) {
        managers->dns_thread_ =
            std::make_unique<DnsResolverThread>(cluster_manager.dnsResolver(), main_dispatcher);
      }
      WorkerClusterManagers* self = managers.get();
      auto refresher = DnsClusterRefresher::create(
          cluster, *managers->dns_thread_, main_dispatcher,
          [self, name = name](const MembershipUpdate& update) {
            absl::Status status = self->updateHosts(name, update);
            if (!status.ok()) {
              WAYSTONE_LOG(error, upstream, "cluster %s: DNS update rejected: %s", name,
                           status.message());
            }
          });
      if (!refresher.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(path, ".", refresher.status().message()));
      }
      (*refresher)->start();
      managers->dns_refreshers_[name] = std::move(*refresher);
    }
  }
  return managers;
}

WorkerClusterManagers::~WorkerClusterManagers() {
  // Stop the refreshes before anything they update goes (member order does it too; explicit
  // because the resolver thread must be joined before the refreshers' callbacks could run).
  dns_refreshers_.clear();
  dns_thread_.reset();
}

void WorkerClusterManagers::addWorker(event::Dispatcher& dispatcher, uint64_t seed) {
  managers_[&dispatcher] =
      std::make_unique<ThreadLocalClusterManager>(clusters_, dispatcher, main_dispatcher_, seed);
}

void WorkerClusterManagers::setMembershipStats(const ClusterLoadBalancing& balancing,
                                               bool changed) {
  ClusterStats& stats = balancing.cluster->stats();
  uint64_t total = 0;
  uint64_t healthy = 0;
  for (const auto& host_set : balancing.priority_set->hostSetsPerPriority()) {
    for (size_t i = 0; i < host_set.hosts().size(); ++i) {
      ++total;
      if (host_set.edsHealth(i) == lb::HostHealth::kHealthy) {
        ++healthy;
      }
    }
  }
  stats.membership_total.set(total);
  stats.membership_healthy.set(healthy);
  if (changed) {
    stats.membership_change.inc();
  }
}

absl::Status WorkerClusterManagers::updateHosts(const std::string& cluster_name,
                                                const MembershipUpdate& update) {
  auto it = clusters_.find(cluster_name);
  if (it == clusters_.end()) {
    return absl::NotFoundError(absl::StrCat("unknown cluster \"", cluster_name, "\""));
  }
  const ClusterLoadBalancing& current = *it->second;
  if (current.original_dst != nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cluster \"", cluster_name, "\" is ORIGINAL_DST: its hosts come from requests"));
  }
  auto change = applyMembershipUpdate(cluster_name, update, current.hosts);
  if (!change.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cluster \"", cluster_name, "\": ", change.status().message()));
  }
  auto next = std::make_shared<ClusterLoadBalancing>();
  next->cluster = current.cluster;
  next->priority_set = change->priority_set;
  next->hosts = std::move(change->hosts);
  next->factory = current.factory;
  if (current.outlier_detector != nullptr) {
    next->outlier_detector = current.outlier_detector->successor(next->priority_set);
  }
  const bool changed = !change->added.empty() || !change->removed.empty();
  setMembershipStats(*next, changed);
  WAYSTONE_LOG(debug, upstream, "cluster %s: %d hosts (%d added, %d removed)", cluster_name,
               next->hosts.size(), change->added.size(), change->removed.size());
  ClusterLoadBalancingConstSharedPtr published = std::move(next);
  it->second = published;
  for (auto& [dispatcher, manager] : managers_) {
    if (manager == nullptr) {
      continue;
    }
    event::Dispatcher* worker = dispatcher;
    event::Dispatcher* main = &main_dispatcher_;
    worker->post([this, worker, main, cluster_name, balancing = published,
                  alive = std::weak_ptr<char>(alive_)]() mutable {
      ThreadLocalClusterManager* local = alive.lock() != nullptr ? forDispatcher(*worker) : nullptr;
      ThreadLocalCluster* cluster = local != nullptr ? local->get(cluster_name) : nullptr;
      if (cluster != nullptr) {
        cluster->update(std::move(balancing));
      }
      // Not taken (the worker is going away): the main thread frees it.
      releaseOnMain(*main, std::move(balancing));
    });
  }
  return absl::OkStatus();
}

ClusterLoadBalancingConstSharedPtr WorkerClusterManagers::current(
    const std::string& cluster_name) const {
  auto it = clusters_.find(cluster_name);
  return it == clusters_.end() ? nullptr : it->second;
}

DnsClusterRefresher* WorkerClusterManagers::dnsRefresher(const std::string& cluster_name) const {
  auto it = dns_refreshers_.find(cluster_name);
  return it == dns_refreshers_.end() ? nullptr : it->second.get();
}

}  // namespace waystone::upstream
