#include "source/extensions/filters/network/tcp_proxy/config.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"

#include "source/extensions/filters/network/tcp_proxy/tcp_proxy_filter.h"

namespace waystone::extensions::network_filters::tcp_proxy {
namespace {

using TcpProxyProto = envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy;

// Envoy's default idle timeout for tcp_proxy: one hour.
constexpr std::chrono::milliseconds kDefaultIdleTimeout{3600 * 1000};

absl::Status error(absl::string_view path, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", message));
}

std::chrono::milliseconds toMilliseconds(const google::protobuf::Duration& duration) {
  return std::chrono::milliseconds(
      google::protobuf::util::TimeUtil::DurationToMilliseconds(duration));
}

}  // namespace

TcpProxyStats::TcpProxyStats(stats::Scope& scope)
    : downstream_cx_total(scope.counterFromString("downstream_cx_total")),
      downstream_cx_no_route(scope.counterFromString("downstream_cx_no_route")),
      downstream_cx_rx_bytes_total(scope.counterFromString("downstream_cx_rx_bytes_total")),
      downstream_cx_tx_bytes_total(scope.counterFromString("downstream_cx_tx_bytes_total")),
      downstream_flow_control_paused_reading_total(
          scope.counterFromString("downstream_flow_control_paused_reading_total")),
      downstream_flow_control_resumed_reading_total(
          scope.counterFromString("downstream_flow_control_resumed_reading_total")),
      idle_timeout(scope.counterFromString("idle_timeout")),
      max_downstream_connection_duration(
          scope.counterFromString("max_downstream_connection_duration")),
      upstream_flush_total(scope.counterFromString("upstream_flush_total")),
      upstream_flush_active(scope.gaugeFromString("upstream_flush_active")) {}

TcpProxyConfig::TcpProxyConfig(const upstream::WorkerClusterManagers& worker_cluster_managers,
                               stats::ScopeSharedPtr scope)
    : worker_cluster_managers_(worker_cluster_managers),
      scope_(std::move(scope)),
      stats_(*scope_) {}

absl::StatusOr<TcpProxyConfigConstSharedPtr> TcpProxyConfig::create(
    const TcpProxyProto& proto, const upstream::ClusterManager& cluster_manager,
    const upstream::WorkerClusterManagers& worker_cluster_managers, stats::Store& store,
    const std::string& field_path) {
  if (proto.stat_prefix().empty()) {
    return error(absl::StrCat(field_path, ".stat_prefix"), "must not be empty");
  }
  // Refused rather than ignored: each would change where connections go.
  if (proto.has_metadata_match()) {
    return error(absl::StrCat(field_path, ".metadata_match"),
                 "not supported (no subset load balancing)");
  }
  if (proto.has_on_demand()) {
    return error(absl::StrCat(field_path, ".on_demand"), "not supported (no on-demand CDS)");
  }

  std::vector<WeightedCluster> clusters;
  // Clusters are static today, so a name that does not exist can only be a mistake. With
  // CDS a cluster may come later; the per-connection lookup already handles its absence
  // (downstream_cx_no_route).
  std::vector<upstream::ClusterConstSharedPtr> resolved;
  auto lookup = [&](const std::string& name, const std::string& path) -> absl::Status {
    auto cluster = cluster_manager.get(name);
    if (cluster == nullptr) {
      return error(path, absl::StrCat("unknown cluster \"", name, "\""));
    }
    resolved.push_back(std::move(cluster));
    return absl::OkStatus();
  };
  switch (proto.cluster_specifier_case()) {
    case TcpProxyProto::kCluster: {
      if (absl::Status status = lookup(proto.cluster(), absl::StrCat(field_path, ".cluster"));
          !status.ok()) {
        return status;
      }
      clusters.push_back({proto.cluster(), 1});
      break;
    }
    case TcpProxyProto::kWeightedClusters: {
      const auto& weighted = proto.weighted_clusters().clusters();
      for (int i = 0; i < weighted.size(); ++i) {
        const std::string path = absl::StrCat(field_path, ".weighted_clusters.clusters[", i, "]");
        if (absl::Status status = lookup(weighted[i].name(), absl::StrCat(path, ".name"));
            !status.ok()) {
          return status;
        }
        if (weighted[i].has_metadata_match()) {
          return error(absl::StrCat(path, ".metadata_match"),
                       "not supported (no subset load balancing)");
        }
        if (weighted[i].weight() > 0) {
          clusters.push_back({weighted[i].name(), weighted[i].weight()});
        }
      }
      if (clusters.empty()) {
        return error(absl::StrCat(field_path, ".weighted_clusters.clusters"),
                     "needs at least one cluster with weight > 0");
      }
      break;
    }
    default:
      return error(field_path, "one of cluster or weighted_clusters is required");
  }

  auto scope = store.createScope(absl::StrCat("tcp.", proto.stat_prefix(), "."));
  std::shared_ptr<TcpProxyConfig> config(
      new TcpProxyConfig(worker_cluster_managers, std::move(scope)));
  config->clusters_ = std::move(clusters);
  for (const auto& c : config->clusters_) {
    config->total_weight_ += c.weight;
  }

  config->idle_timeout_ = kDefaultIdleTimeout;
  if (proto.has_idle_timeout()) {
    config->idle_timeout_ = toMilliseconds(proto.idle_timeout());
  }
  config->max_connect_attempts_ =
      proto.has_max_connect_attempts() ? proto.max_connect_attempts().value() : 1;
  if (config->max_connect_attempts_ < 1) {
    return error(absl::StrCat(field_path, ".max_connect_attempts"), "must be at least 1");
  }
  if (proto.has_max_downstream_connection_duration()) {
    const auto duration = toMilliseconds(proto.max_downstream_connection_duration());
    if (duration.count() < 1) {
      return error(absl::StrCat(field_path, ".max_downstream_connection_duration"),
                   "must be at least 1ms");
    }
    config->max_downstream_connection_duration_ = duration;
  }

  if (proto.hash_policy_size() > 1) {
    return error(absl::StrCat(field_path, ".hash_policy"), "at most one policy is supported");
  }
  if (proto.hash_policy_size() == 1) {
    const auto& policy = proto.hash_policy(0);
    TcpHashPolicy hash;
    if (policy.has_source_ip()) {
      hash.kind = TcpHashPolicy::Kind::SourceIp;
    } else if (policy.has_filter_state()) {
      if (policy.filter_state().key().empty()) {
        return error(absl::StrCat(field_path, ".hash_policy[0].filter_state.key"),
                     "must not be empty");
      }
      hash.kind = TcpHashPolicy::Kind::FilterState;
      hash.filter_state_key = policy.filter_state().key();
    } else {
      return error(absl::StrCat(field_path, ".hash_policy[0]"),
                   "one of source_ip or filter_state is required");
    }
    config->hash_policy_ = std::move(hash);
  }

  if (proto.has_tunneling_config()) {
    const std::string path = absl::StrCat(field_path, ".tunneling_config");
    auto tunneling = TunnelingConfig::create(proto.tunneling_config(), path);
    if (!tunneling.ok()) {
      return tunneling.status();
    }
    // The tunnel is a stream on the cluster's HTTP/2 pool; HTTP/1.1 CONNECT tunnels are not
    // implemented, so a cluster that would speak HTTP/1.1 is a config error, not a surprise.
    for (const auto& cluster : resolved) {
      if (cluster->protocolSelection() != upstream::UpstreamProtocolSelection::Http2) {
        return error(path, absl::StrCat("cluster \"", cluster->name(),
                                        "\" must use HTTP/2 (typed_extension_protocol_options "
                                        "HttpProtocolOptions explicit_http_config."
                                        "http2_protocol_options); HTTP/1.1 CONNECT tunneling "
                                        "is not supported"));
      }
    }
    config->tunneling_ = std::move(*tunneling);
  }
  return TcpProxyConfigConstSharedPtr(std::move(config));
}

const std::string& TcpProxyConfig::pickCluster(uint64_t random) const {
  if (clusters_.size() == 1) {
    return clusters_[0].name;
  }
  uint64_t point = random % total_weight_;
  for (const auto& c : clusters_) {
    if (point < c.weight) {
      return c.name;
    }
    point -= c.weight;
  }
  return clusters_.back().name;
}

absl::StatusOr<network::FilterFactoryCb> createFilterFactory(
    const TcpProxyProto& proto, const upstream::ClusterManager& cluster_manager,
    const upstream::WorkerClusterManagers& worker_cluster_managers, stats::Store& store,
    const std::string& field_path) {
  auto config =
      TcpProxyConfig::create(proto, cluster_manager, worker_cluster_managers, store, field_path);
  if (!config.ok()) {
    return config.status();
  }
  TcpProxyConfigConstSharedPtr shared = std::move(*config);
  return network::FilterFactoryCb(
      [shared]() -> network::ReadFilterPtr { return std::make_unique<TcpProxyFilter>(shared); });
}

}  // namespace waystone::extensions::network_filters::tcp_proxy
