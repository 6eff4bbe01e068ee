#include "source/extensions/filters/network/tcp_proxy/config.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"

#include "source/extensions/filters/network/tcp_proxy/tcp_proxy_filter.h"

namespace waystone::extensions::network_filters::tcp_proxy {
namespace {

// Envoy's default idle timeout for tcp_proxy: one hour.
constexpr std::chrono::milliseconds kDefaultIdleTimeout{3600 * 1000};

}  // namespace

TcpProxyStats::TcpProxyStats(stats::Scope& scope)
    : downstream_cx_total(scope.counterFromString("downstream_cx_total")),
      downstream_cx_no_route(scope.counterFromString("downstream_cx_no_route")),
      downstream_cx_rx_bytes_total(scope.counterFromString("downstream_cx_rx_bytes_total")),
      downstream_cx_tx_bytes_total(scope.counterFromString("downstream_cx_tx_bytes_total")),
      idle_timeout(scope.counterFromString("idle_timeout")),
      upstream_flush_total(scope.counterFromString("upstream_flush_total")) {}

TcpProxyConfig::TcpProxyConfig(std::vector<WeightedCluster> clusters,
                               std::chrono::milliseconds idle_timeout,
                               uint32_t max_connect_attempts, stats::ScopeSharedPtr scope)
    : clusters_(std::move(clusters)),
      total_weight_([this] {
        uint64_t total = 0;
        for (const auto& c : clusters_) {
          total += c.weight;
        }
        return total;
      }()),
      idle_timeout_(idle_timeout),
      max_connect_attempts_(max_connect_attempts),
      scope_(std::move(scope)),
      stats_(*scope_) {}

absl::StatusOr<TcpProxyConfigConstSharedPtr> TcpProxyConfig::create(
    const envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy& proto,
    const upstream::ClusterManager& cluster_manager, stats::Store& store,
    const std::string& field_path) {
  if (proto.stat_prefix().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field_path, ".stat_prefix: must not be empty"));
  }
  std::vector<WeightedCluster> clusters;
  auto lookup = [&](const std::string& name,
                    const std::string& path) -> absl::StatusOr<upstream::ClusterConstSharedPtr> {
    auto cluster = cluster_manager.get(name);
    if (cluster == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": unknown cluster \"", name, "\""));
    }
    return cluster;
  };
  switch (proto.cluster_specifier_case()) {
    case envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy::kCluster: {
      auto cluster = lookup(proto.cluster(), absl::StrCat(field_path, ".cluster"));
      if (!cluster.ok()) {
        return cluster.status();
      }
      clusters.push_back({*cluster, 1});
      break;
    }
    case envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy::kWeightedClusters: {
      const auto& weighted = proto.weighted_clusters().clusters();
      for (int i = 0; i < weighted.size(); ++i) {
        auto cluster =
            lookup(weighted[i].name(),
                   absl::StrCat(field_path, ".weighted_clusters.clusters[", i, "].name"));
        if (!cluster.ok()) {
          return cluster.status();
        }
        if (weighted[i].weight() > 0) {
          clusters.push_back({*cluster, weighted[i].weight()});
        }
      }
      if (clusters.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            field_path, ".weighted_clusters.clusters: needs at least one cluster with weight > 0"));
      }
      break;
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(field_path, ": one of cluster or weighted_clusters is required"));
  }
  std::chrono::milliseconds idle_timeout = kDefaultIdleTimeout;
  if (proto.has_idle_timeout()) {
    idle_timeout = std::chrono::milliseconds(
        google::protobuf::util::TimeUtil::DurationToMilliseconds(proto.idle_timeout()));
  }
  const uint32_t attempts =
      proto.has_max_connect_attempts() ? proto.max_connect_attempts().value() : 1;
  if (attempts < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(field_path, ".max_connect_attempts: must be at least 1"));
  }
  auto scope = store.createScope(absl::StrCat("tcp.", proto.stat_prefix(), "."));
  return std::shared_ptr<const TcpProxyConfig>(
      new TcpProxyConfig(std::move(clusters), idle_timeout, attempts, std::move(scope)));
}

const upstream::ClusterConstSharedPtr& TcpProxyConfig::pickCluster(uint64_t random) const {
  if (clusters_.size() == 1) {
    return clusters_[0].cluster;
  }
  uint64_t point = random % total_weight_;
  for (const auto& c : clusters_) {
    if (point < c.weight) {
      return c.cluster;
    }
    point -= c.weight;
  }
  return clusters_.back().cluster;
}

absl::StatusOr<network::FilterFactoryCb> createFilterFactory(
    const envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy& proto,
    const upstream::ClusterManager& cluster_manager, stats::Store& store,
    const std::string& field_path) {
  auto config = TcpProxyConfig::create(proto, cluster_manager, store, field_path);
  if (!config.ok()) {
    return config.status();
  }
  TcpProxyConfigConstSharedPtr shared = std::move(*config);
  return network::FilterFactoryCb(
      [shared]() -> network::ReadFilterPtr { return std::make_unique<TcpProxyFilter>(shared); });
}

}  // namespace waystone::extensions::network_filters::tcp_proxy
