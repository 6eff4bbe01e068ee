#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "source/common/http/codec_options.h"
#include "source/common/http/filter.h"
#include "source/common/stats/store.h"

namespace waystone::router {
class Route;
}  // namespace waystone::router

namespace waystone::http {

// http.<stat_prefix>.* (Envoy's names).
struct ConnectionManagerStats {
  explicit ConnectionManagerStats(stats::Scope& scope);

  stats::Counter& downstream_cx_total;
  stats::Gauge& downstream_cx_active;
  stats::Counter& downstream_cx_http1_total;
  stats::Counter& downstream_cx_http2_total;
  stats::Counter& downstream_cx_destroy;
  stats::Counter& downstream_cx_protocol_error;
  stats::Counter& downstream_cx_idle_timeout;
  stats::Counter& downstream_cx_drain_close;
  stats::Counter& downstream_cx_max_duration_reached;
  stats::Counter& downstream_cx_rx_bytes_total;
  stats::Counter& downstream_cx_tx_bytes_total;
  stats::Counter& downstream_rq_total;
  stats::Counter& downstream_rq_http1_total;
  stats::Counter& downstream_rq_http2_total;
  stats::Gauge& downstream_rq_active;
  stats::Counter& downstream_rq_completed;
  stats::Counter& downstream_rq_1xx;
  stats::Counter& downstream_rq_2xx;
  stats::Counter& downstream_rq_3xx;
  stats::Counter& downstream_rq_4xx;
  stats::Counter& downstream_rq_5xx;
  stats::Counter& downstream_rq_rx_reset;
  stats::Counter& downstream_rq_tx_reset;
  stats::Counter& downstream_rq_timeout;
  stats::Counter& downstream_rq_idle_timeout;
  stats::Counter& downstream_rq_max_duration_reached;
  stats::Counter& downstream_rq_too_large;
  stats::Counter& downstream_rq_header_timeout;
};

enum class CodecType { Auto, Http1, Http2 };

// The route for a request: given the (final) request headers and a random value for weighted
// choices. Bound to the route table (inline route_config today, RDS later).
using RouteLookup = std::function<std::shared_ptr<const router::Route>(
    const RequestHeaderMap& headers, uint64_t random_value)>;

// One http_connection_manager's immutable configuration, shared by every connection on every
// worker. Built from the HttpConnectionManager proto by
// source/extensions/filters/network/http_connection_manager/config.cc.
struct ConnectionManagerConfig {
  CodecType codec_type = CodecType::Auto;
  std::string stat_prefix;
  std::vector<FilterFactoryCb> filter_factories;
  RouteLookup route_lookup;

  HeaderLimits header_limits;
  Http1Settings http1_settings;
  Http2Settings http2_settings;

  // Timeouts; zero means disabled. Envoy's defaults.
  std::chrono::milliseconds idle_timeout{3600 * 1000};        // connection, no active streams
  std::chrono::milliseconds stream_idle_timeout{300 * 1000};  // no activity on a stream
  std::chrono::milliseconds request_timeout{0};               // whole request received
  // From a request's first byte until its headers are complete.
  std::chrono::milliseconds request_headers_timeout{0};
  std::chrono::milliseconds max_stream_duration{0};
  // A connection's whole life; then it drains like on a listener drain.
  std::chrono::milliseconds max_connection_duration{0};
  // Between the first GOAWAY (or the first "connection: close") of a drain and the final GOAWAY,
  // after which the connection closes once its streams are done. Not zero-disabled: 0 means at
  // once.
  std::chrono::milliseconds drain_timeout{5000};
  std::chrono::milliseconds delayed_close_timeout{1000};

  // Envoy's default is "envoy"; ours names the proxy that answered.
  std::string server_name = "waystone";
  enum class ServerHeaderTransformation { Overwrite, AppendIfAbsent, PassThrough };
  ServerHeaderTransformation server_header_transformation = ServerHeaderTransformation::Overwrite;
  bool use_remote_address = false;
  uint32_t xff_num_trusted_hops = 0;
  bool skip_xff_append = false;
  bool generate_request_id = true;
  bool preserve_external_request_id = false;
  bool always_set_request_id_in_response = false;
  bool normalize_path = false;
  bool merge_slashes = false;
  // upgrade_configs: "websocket", "CONNECT" (enabled types).
  std::vector<std::string> upgrade_types;
  uint32_t buffer_limit = 1024 * 1024;  // per-stream filter buffering

  std::shared_ptr<ConnectionManagerStats> stats;
  stats::ScopeSharedPtr scope;

  bool upgradeAllowed(absl::string_view type) const;
};

using ConnectionManagerConfigConstSharedPtr = std::shared_ptr<const ConnectionManagerConfig>;

}  // namespace waystone::http
