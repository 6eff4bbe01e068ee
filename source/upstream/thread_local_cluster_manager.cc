#include "source/upstream/thread_local_cluster_manager.h"

#include "absl/strings/str_cat.h"

#include "source/upstream/load_balancer/load_balancer_factory_impl.h"

namespace waystone::upstream {
namespace {

// STATIC clusters map one host per lb_endpoint (fromCluster); DNS clusters may resolve one
// endpoint to several hosts, and EDS/ORIGINAL_DST have none yet: build those by hand.
absl::StatusOr<lb::PrioritySetConstSharedPtr> prioritySetFor(const Cluster& cluster) {
  if (cluster.config().type() == envoy::config::cluster::v3::Cluster::STATIC ||
      cluster.config().type() == envoy::config::cluster::v3::Cluster::EDS) {
    return lb::PrioritySet::fromCluster(cluster.config(), cluster.hosts());
  }
  lb::PrioritySet::Builder builder;
  for (const auto& host : cluster.hosts()) {
    builder.addHost(0, host);
  }
  return builder.build();
}

}  // namespace

ThreadLocalCluster::ThreadLocalCluster(const ClusterLoadBalancing& balancing,
                                       event::Dispatcher& dispatcher, uint64_t seed)
    : cluster_(balancing.cluster),
      priority_set_(balancing.priority_set),
      outlier_detector_(balancing.outlier_detector.get()),
      dispatcher_(dispatcher),
      load_balancer_(balancing.factory->create(*priority_set_, seed)) {}

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

ThreadLocalClusterManager::ThreadLocalClusterManager(
    const std::map<std::string, ClusterLoadBalancing>& clusters, event::Dispatcher& dispatcher,
    uint64_t seed) {
  for (const auto& [name, balancing] : clusters) {
    clusters_[name] = std::make_unique<ThreadLocalCluster>(balancing, dispatcher, seed++);
  }
}

ThreadLocalCluster* ThreadLocalClusterManager::get(const std::string& name) {
  auto it = clusters_.find(name);
  return it == clusters_.end() ? nullptr : it->second.get();
}

absl::StatusOr<std::unique_ptr<WorkerClusterManagers>> WorkerClusterManagers::create(
    const ClusterManager& cluster_manager, event::Dispatcher& main_dispatcher) {
  auto managers = std::make_unique<WorkerClusterManagers>();
  for (const auto& [name, cluster] : cluster_manager.clusters()) {
    const std::string path = absl::StrCat("cluster \"", name, "\"");
    auto priority_set = prioritySetFor(*cluster);
    if (!priority_set.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", priority_set.status().message()));
    }
    auto factory = lb::createLoadBalancerFactory(cluster->config());
    if (!factory.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ".", factory.status().message()));
    }
    std::shared_ptr<OutlierDetector> detector;
    if (cluster->config().has_outlier_detection()) {
      auto created = OutlierDetector::create(cluster->config().outlier_detection(), *priority_set,
                                             main_dispatcher, cluster->statsScope());
      if (!created.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(path, ".", created.status().message()));
      }
      detector = std::move(*created);
    }
    managers->clusters_[name] =
        ClusterLoadBalancing{cluster, *priority_set, *factory, std::move(detector)};
  }
  return managers;
}

void WorkerClusterManagers::addWorker(event::Dispatcher& dispatcher, uint64_t seed) {
  managers_[&dispatcher] = std::make_unique<ThreadLocalClusterManager>(clusters_, dispatcher, seed);
}

}  // namespace waystone::upstream
