#include "absl/strings/str_cat.h"
#include "envoy/admin/v3/clusters.pb.h"
#include "envoy/admin/v3/config_dump.pb.h"
#include "envoy/admin/v3/listeners.pb.h"
#include "google/protobuf/util/time_util.h"

#include "source/server/admin/admin_handlers.h"
#include "source/server/server.h"

namespace waystone::server::admin {
namespace {

void fillAddress(const network::address::Instance& address, envoy::config::core::v3::Address& out) {
  if (address.type() == network::address::Type::Pipe) {
    out.mutable_pipe()->set_path(address.asString());
    return;
  }
  out.mutable_socket_address()->set_address(address.ipString());
  out.mutable_socket_address()->set_port_value(address.port());
}

// Envoy's ConfigDump: bootstrap, then listeners, then clusters. Static config only so far; the
// xDS work adds the dynamic sections.
envoy::admin::v3::ConfigDump buildConfigDump(const Server& server,
                                             const google::protobuf::Timestamp& updated) {
  envoy::admin::v3::ConfigDump dump;
  envoy::admin::v3::BootstrapConfigDump bootstrap;
  *bootstrap.mutable_bootstrap() = server.bootstrap();
  *bootstrap.mutable_last_updated() = updated;
  dump.add_configs()->PackFrom(bootstrap);

  envoy::admin::v3::ListenersConfigDump listeners;
  for (const auto& info : server.listenerManager().listeners()) {
    auto* entry = listeners.add_static_listeners();
    entry->mutable_listener()->PackFrom(info.config->proto());
    *entry->mutable_last_updated() = updated;
  }
  dump.add_configs()->PackFrom(listeners);

  envoy::admin::v3::ClustersConfigDump clusters;
  for (const auto& [name, cluster] : server.clusterManager().clusters()) {
    auto* entry = clusters.add_static_clusters();
    entry->mutable_cluster()->PackFrom(cluster->config());
    *entry->mutable_last_updated() = updated;
  }
  dump.add_configs()->PackFrom(clusters);
  return dump;
}

// One host as admin shows it: the current host sets (DNS refreshes change them), with each
// host's priority, EDS health and outlier ejection. ORIGINAL_DST hosts live on the workers and
// are not listed.
struct HostView {
  const upstream::Host& host;
  uint32_t priority;
  upstream::lb::HostHealth eds_health;
  bool ejected;
};

template <typename Fn>
void forEachCurrentHost(const Server& server, const std::string& cluster_name, Fn fn) {
  const upstream::ClusterLoadBalancingConstSharedPtr current =
      server.workerClusterManagers().current(cluster_name);
  if (current == nullptr) {
    return;
  }
  for (const auto& host_set : current->priority_set->hostSetsPerPriority()) {
    for (size_t i = 0; i < host_set.hosts().size(); ++i) {
      fn(HostView{*host_set.hosts()[i], host_set.priority(), host_set.edsHealth(i),
                  host_set.ejected(i)});
    }
  }
}

// Envoy's health_flags text: "healthy", or every reason the host is out, each after a '/'.
std::string healthFlags(const HostView& view) {
  std::string flags;
  if (view.ejected) {
    flags += "/failed_outlier_check";
  }
  if (view.eds_health == upstream::lb::HostHealth::kUnhealthy) {
    flags += "/failed_eds_health";
  } else if (view.eds_health == upstream::lb::HostHealth::kDegraded) {
    flags += "/degraded_eds_health";
  }
  return flags.empty() ? "healthy" : flags;
}

void renderClustersText(const Server& server, std::string& out) {
  for (const auto& [name, cluster] : server.clusterManager().clusters()) {
    absl::StrAppend(
        &out, name, "::observability_name::",
        cluster->config().alt_stat_name().empty() ? name : cluster->config().alt_stat_name(), "\n");
    forEachCurrentHost(server, name, [&](const HostView& view) {
      const upstream::Host& host = view.host;
      const std::string prefix = absl::StrCat(name, "::", host.address()->asString(), "::");
      const upstream::HostStats& s = host.stats();
      absl::StrAppend(&out, prefix, "cx_active::", s.cx_active.load(), "\n");
      absl::StrAppend(&out, prefix, "cx_connect_fail::", s.cx_connect_fail.load(), "\n");
      absl::StrAppend(&out, prefix, "cx_total::", s.cx_total.load(), "\n");
      absl::StrAppend(&out, prefix, "rq_active::", s.rq_active.load(), "\n");
      absl::StrAppend(&out, prefix, "rq_error::", s.rq_error.load(), "\n");
      absl::StrAppend(&out, prefix, "rq_success::", s.rq_success.load(), "\n");
      absl::StrAppend(&out, prefix, "rq_timeout::", s.rq_timeout.load(), "\n");
      absl::StrAppend(&out, prefix, "rq_total::", s.rq_total.load(), "\n");
      absl::StrAppend(&out, prefix, "hostname::", host.hostname(), "\n");
      absl::StrAppend(&out, prefix, "health_flags::", healthFlags(view), "\n");
      absl::StrAppend(&out, prefix, "weight::", host.weight(), "\n");
      absl::StrAppend(&out, prefix, "region::", host.locality().region(), "\n");
      absl::StrAppend(&out, prefix, "zone::", host.locality().zone(), "\n");
      absl::StrAppend(&out, prefix, "sub_zone::", host.locality().sub_zone(), "\n");
      absl::StrAppend(&out, prefix, "canary::false\n");
      absl::StrAppend(&out, prefix, "priority::", view.priority, "\n");
      absl::StrAppend(&out, prefix, "success_rate::-1\n");
      absl::StrAppend(&out, prefix, "local_origin_success_rate::-1\n");
    });
  }
}

envoy::admin::v3::Clusters buildClustersProto(const Server& server) {
  envoy::admin::v3::Clusters clusters;
  for (const auto& [name, cluster] : server.clusterManager().clusters()) {
    auto* status = clusters.add_cluster_statuses();
    status->set_name(name);
    status->set_observability_name(
        cluster->config().alt_stat_name().empty() ? name : cluster->config().alt_stat_name());
    forEachCurrentHost(server, name, [&](const HostView& view) {
      const upstream::Host& host = view.host;
      auto* host_status = status->add_host_statuses();
      fillAddress(*host.address(), *host_status->mutable_address());
      const upstream::HostStats& s = host.stats();
      auto add = [&](const char* stat_name, uint64_t value, bool gauge) {
        auto* stat = host_status->add_stats();
        stat->set_name(stat_name);
        stat->set_value(value);
        stat->set_type(gauge ? envoy::admin::v3::SimpleMetric::GAUGE
                             : envoy::admin::v3::SimpleMetric::COUNTER);
      };
      add("cx_connect_fail", s.cx_connect_fail.load(), false);
      add("cx_total", s.cx_total.load(), false);
      add("rq_error", s.rq_error.load(), false);
      add("rq_success", s.rq_success.load(), false);
      add("rq_timeout", s.rq_timeout.load(), false);
      add("rq_total", s.rq_total.load(), false);
      add("cx_active", s.cx_active.load(), true);
      add("rq_active", s.rq_active.load(), true);
      auto* health = host_status->mutable_health_status();
      health->set_eds_health_status(view.eds_health == upstream::lb::HostHealth::kHealthy
                                        ? envoy::config::core::v3::HEALTHY
                                    : view.eds_health == upstream::lb::HostHealth::kDegraded
                                        ? envoy::config::core::v3::DEGRADED
                                        : envoy::config::core::v3::UNHEALTHY);
      health->set_failed_outlier_check(view.ejected);
      host_status->set_weight(host.weight());
      host_status->set_hostname(host.hostname());
      host_status->set_priority(view.priority);
      *host_status->mutable_locality() = host.locality();
    });
  }
  return clusters;
}

}  // namespace

void registerConfigHandlers(AdminHandlerRegistry& registry, Server& server) {
  // The config is static for now: its update time is the server's start.
  const google::protobuf::Timestamp started = google::protobuf::util::TimeUtil::GetCurrentTime();

  registry.addHandler(
      "/config_dump", "dump current Envoy configs (experimental)",
      [&server, started](const AdminRequest& request, AdminResponse& response) {
        envoy::admin::v3::ConfigDump dump = buildConfigDump(server, started);
        const std::string resource = request.get("resource");
        if (!resource.empty()) {
          // ?resource=static_listeners etc.: Envoy returns the matching repeated entries only.
          envoy::admin::v3::ConfigDump filtered;
          for (const auto& config : dump.configs()) {
            if (resource == "static_listeners" &&
                config.Is<envoy::admin::v3::ListenersConfigDump>()) {
              envoy::admin::v3::ListenersConfigDump l;
              config.UnpackTo(&l);
              for (const auto& entry : l.static_listeners()) {
                filtered.add_configs()->PackFrom(entry);
              }
            } else if (resource == "static_clusters" &&
                       config.Is<envoy::admin::v3::ClustersConfigDump>()) {
              envoy::admin::v3::ClustersConfigDump c;
              config.UnpackTo(&c);
              for (const auto& entry : c.static_clusters()) {
                filtered.add_configs()->PackFrom(entry);
              }
            }
          }
          if (filtered.configs().empty() && resource != "static_listeners" &&
              resource != "static_clusters") {
            response.status = 404;
            response.body = absl::StrCat("{\"error\": \"no resource '", resource,
                                         "' (supported: static_listeners, static_clusters)\"}\n");
            response.content_type = "application/json";
            return;
          }
          dump = std::move(filtered);
        }
        response.content_type = "application/json";
        response.body = protoToJson(dump);
      },
      false);

  registry.addHandler(
      "/listeners", "print listener info (format=json for JSON)",
      [&server](const AdminRequest& request, AdminResponse& response) {
        if (request.get("format") == "json") {
          envoy::admin::v3::Listeners listeners;
          for (const auto& info : server.listenerManager().listeners()) {
            auto* status = listeners.add_listener_statuses();
            status->set_name(info.config->name());
            fillAddress(*info.bound_address, *status->mutable_local_address());
          }
          response.content_type = "application/json";
          response.body = protoToJson(listeners);
          return;
        }
        for (const auto& info : server.listenerManager().listeners()) {
          absl::StrAppend(&response.body, info.config->name(), "::", info.bound_address->asString(),
                          "\n");
        }
      },
      false);

  registry.addHandler(
      "/clusters", "upstream cluster status (format=json for JSON)",
      [&server](const AdminRequest& request, AdminResponse& response) {
        if (request.get("format") == "json") {
          response.content_type = "application/json";
          response.body = protoToJson(buildClustersProto(server));
          return;
        }
        renderClustersText(server, response.body);
      },
      false);
}

}  // namespace waystone::server::admin
