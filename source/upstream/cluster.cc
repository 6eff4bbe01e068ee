#include "source/upstream/cluster.h"

#include "google/protobuf/util/time_util.h"

namespace waystone::upstream {
namespace {

// Envoy's defaults: 5 s connect timeout, 1 MiB per-connection buffer.
constexpr std::chrono::milliseconds kDefaultConnectTimeout{5000};
constexpr uint32_t kDefaultBufferLimit = 1024 * 1024;

std::chrono::milliseconds connectTimeoutOf(const envoy::config::cluster::v3::Cluster& config) {
  if (!config.has_connect_timeout()) {
    return kDefaultConnectTimeout;
  }
  return std::chrono::milliseconds(
      google::protobuf::util::TimeUtil::DurationToMilliseconds(config.connect_timeout()));
}

}  // namespace

ClusterStats::ClusterStats(stats::Scope& scope)
    : upstream_cx_total(scope.counterFromString("upstream_cx_total")),
      upstream_cx_active(scope.gaugeFromString("upstream_cx_active")),
      upstream_cx_connect_fail(scope.counterFromString("upstream_cx_connect_fail")),
      upstream_cx_connect_timeout(scope.counterFromString("upstream_cx_connect_timeout")),
      upstream_cx_none_healthy(scope.counterFromString("upstream_cx_none_healthy")),
      upstream_cx_rx_bytes_total(scope.counterFromString("upstream_cx_rx_bytes_total")),
      upstream_cx_tx_bytes_total(scope.counterFromString("upstream_cx_tx_bytes_total")),
      membership_total(scope.gaugeFromString("membership_total")),
      membership_healthy(scope.gaugeFromString("membership_healthy")) {}

Cluster::Cluster(const envoy::config::cluster::v3::Cluster& config, HostVector hosts,
                 stats::ScopeSharedPtr scope)
    : config_(config),
      hosts_(std::move(hosts)),
      connect_timeout_(connectTimeoutOf(config)),
      buffer_limit_(config.has_per_connection_buffer_limit_bytes()
                        ? config.per_connection_buffer_limit_bytes().value()
                        : kDefaultBufferLimit),
      scope_(std::move(scope)),
      stats_(*scope_) {
  stats_.membership_total.set(hosts_.size());
  // No health checking yet: every host counts as healthy.
  stats_.membership_healthy.set(hosts_.size());
}

}  // namespace waystone::upstream
