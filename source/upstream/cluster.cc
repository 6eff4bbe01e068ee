#include "source/upstream/cluster.h"

#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"
#include "google/protobuf/util/time_util.h"

#include "source/common/protobuf/utility.h"

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
      membership_healthy(scope.gaugeFromString("membership_healthy")),
      membership_change(scope.counterFromString("membership_change")),
      update_attempt(scope.counterFromString("update_attempt")),
      update_success(scope.counterFromString("update_success")),
      update_failure(scope.counterFromString("update_failure")),
      update_no_rebuild(scope.counterFromString("update_no_rebuild")),
      original_dst_host_invalid(scope.counterFromString("original_dst_host_invalid")),
      upstream_cx_http1_total(scope.counterFromString("upstream_cx_http1_total")),
      upstream_cx_http2_total(scope.counterFromString("upstream_cx_http2_total")),
      upstream_cx_overflow(scope.counterFromString("upstream_cx_overflow")),
      upstream_cx_destroy(scope.counterFromString("upstream_cx_destroy")),
      upstream_rq_total(scope.counterFromString("upstream_rq_total")),
      upstream_rq_active(scope.gaugeFromString("upstream_rq_active")),
      upstream_rq_completed(scope.counterFromString("upstream_rq_completed")),
      upstream_rq_pending_total(scope.counterFromString("upstream_rq_pending_total")),
      upstream_rq_pending_active(scope.gaugeFromString("upstream_rq_pending_active")),
      upstream_rq_pending_overflow(scope.counterFromString("upstream_rq_pending_overflow")),
      upstream_rq_pending_failure_eject(
          scope.counterFromString("upstream_rq_pending_failure_eject")),
      upstream_rq_cancelled(scope.counterFromString("upstream_rq_cancelled")),
      upstream_rq_1xx(scope.counterFromString("upstream_rq_1xx")),
      upstream_rq_2xx(scope.counterFromString("upstream_rq_2xx")),
      upstream_rq_3xx(scope.counterFromString("upstream_rq_3xx")),
      upstream_rq_4xx(scope.counterFromString("upstream_rq_4xx")),
      upstream_rq_5xx(scope.counterFromString("upstream_rq_5xx")),
      upstream_rq_timeout(scope.counterFromString("upstream_rq_timeout")),
      upstream_rq_per_try_timeout(scope.counterFromString("upstream_rq_per_try_timeout")),
      upstream_rq_rx_reset(scope.counterFromString("upstream_rq_rx_reset")),
      upstream_rq_tx_reset(scope.counterFromString("upstream_rq_tx_reset")),
      upstream_rq_retry(scope.counterFromString("upstream_rq_retry")),
      upstream_rq_retry_success(scope.counterFromString("upstream_rq_retry_success")),
      upstream_rq_retry_overflow(scope.counterFromString("upstream_rq_retry_overflow")),
      upstream_rq_retry_limit_exceeded(scope.counterFromString("upstream_rq_retry_limit_exceeded")),
      upstream_rq_max_duration_reached(
          scope.counterFromString("upstream_rq_max_duration_reached")) {}

namespace {

// Envoy's defaults for the default-priority thresholds.
uint64_t threshold(const envoy::config::cluster::v3::Cluster& config,
                   const google::protobuf::UInt32Value& (*field)(
                       const envoy::config::cluster::v3::CircuitBreakers::Thresholds&),
                   bool (*has)(const envoy::config::cluster::v3::CircuitBreakers::Thresholds&),
                   uint64_t fallback) {
  for (const auto& t : config.circuit_breakers().thresholds()) {
    if (t.priority() == envoy::config::core::v3::DEFAULT && has(t)) {
      return field(t).value();
    }
  }
  return fallback;
}

}  // namespace

ClusterResources::ClusterResources(const envoy::config::cluster::v3::Cluster& config)
    : connections(threshold(
          config, [](const auto& t) -> const auto& { return t.max_connections(); },
          [](const auto& t) { return t.has_max_connections(); }, 1024)),
      pending_requests(threshold(
          config, [](const auto& t) -> const auto& { return t.max_pending_requests(); },
          [](const auto& t) { return t.has_max_pending_requests(); }, 1024)),
      requests(threshold(
          config, [](const auto& t) -> const auto& { return t.max_requests(); },
          [](const auto& t) { return t.has_max_requests(); }, 1024)),
      retries(threshold(
          config, [](const auto& t) -> const auto& { return t.max_retries(); },
          [](const auto& t) { return t.has_max_retries(); }, 3)) {}

namespace {

HostVector flatten(const std::vector<HostVector>& endpoint_hosts) {
  HostVector hosts;
  for (const HostVector& endpoint : endpoint_hosts) {
    hosts.insert(hosts.end(), endpoint.begin(), endpoint.end());
  }
  return hosts;
}

}  // namespace

Cluster::Cluster(const envoy::config::cluster::v3::Cluster& config,
                 std::vector<HostVector> endpoint_hosts, stats::ScopeSharedPtr scope,
                 network::TransportSocketFactoryCb transport_factory,
                 std::optional<std::vector<extensions::transport_sockets::MetadataPassthrough>>
                     internal_upstream)
    : config_(config),
      endpoint_hosts_(std::move(endpoint_hosts)),
      hosts_(flatten(endpoint_hosts_)),
      connect_timeout_(connectTimeoutOf(config)),
      buffer_limit_(config.has_per_connection_buffer_limit_bytes()
                        ? config.per_connection_buffer_limit_bytes().value()
                        : kDefaultBufferLimit),
      scope_(std::move(scope)),
      stats_(*scope_),
      resources_(config),
      transport_factory_(std::move(transport_factory)),
      internal_upstream_(std::move(internal_upstream)) {
  readProtocolOptions();
  // WorkerClusterManagers refines these from the priority set (EDS health) and keeps them
  // current; set here too so that a cluster manager alone reports them.
  stats_.membership_total.set(hosts_.size());
  stats_.membership_healthy.set(hosts_.size());
}

}  // namespace waystone::upstream

namespace waystone::upstream {

// typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]:
// explicit HTTP/1 or HTTP/2, or the downstream's protocol. Validated at load; unpack errors
// here fall back to HTTP/1 (the loader has rejected bad configs already).
void Cluster::readProtocolOptions() {
  if (config_.has_max_requests_per_connection()) {
    max_requests_per_connection_ = config_.max_requests_per_connection().value();
  }
  auto it = config_.typed_extension_protocol_options().find(
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions");
  if (it == config_.typed_extension_protocol_options().end()) {
    if (config_.has_http2_protocol_options()) {
      protocol_selection_ = UpstreamProtocolSelection::Http2;
    }
    return;
  }
  envoy::extensions::upstreams::http::v3::HttpProtocolOptions options;
  if (!protobuf::unpackTo(it->second, options).ok()) {
    return;
  }
  const auto& common = options.common_http_protocol_options();
  if (common.has_max_requests_per_connection()) {
    max_requests_per_connection_ = common.max_requests_per_connection().value();
  }
  if (common.has_idle_timeout()) {
    idle_timeout_ = std::chrono::milliseconds(
        google::protobuf::util::TimeUtil::DurationToMilliseconds(common.idle_timeout()));
  }
  if (options.has_explicit_http_config()) {
    if (options.explicit_http_config().has_http2_protocol_options()) {
      protocol_selection_ = UpstreamProtocolSelection::Http2;
      const auto& h2 = options.explicit_http_config().http2_protocol_options();
      if (h2.has_max_concurrent_streams()) {
        http2_max_concurrent_streams_ = h2.max_concurrent_streams().value();
      }
    }
  } else if (options.has_use_downstream_protocol_config()) {
    protocol_selection_ = UpstreamProtocolSelection::UseDownstream;
  }
}

}  // namespace waystone::upstream
