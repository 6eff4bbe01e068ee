#include "source/extensions/filters/network/http_connection_manager/config.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"

#include "source/common/http/conn_manager_impl.h"
#include "source/common/router/route_config.h"

namespace waystone::extensions::network_filters::http_connection_manager {
namespace {

using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
using google::protobuf::util::TimeUtil;

std::chrono::milliseconds toMs(const google::protobuf::Duration& duration) {
  return std::chrono::milliseconds(TimeUtil::DurationToMilliseconds(duration));
}

absl::Status invalid(const std::string& path, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", message));
}

void readHttp2Options(const envoy::config::core::v3::Http2ProtocolOptions& options,
                      http::Http2Settings& out) {
  if (options.has_hpack_table_size()) {
    out.hpack_table_size = options.hpack_table_size().value();
  }
  if (options.has_max_concurrent_streams()) {
    out.max_concurrent_streams = options.max_concurrent_streams().value();
  }
  if (options.has_initial_stream_window_size()) {
    out.initial_stream_window_size = options.initial_stream_window_size().value();
  }
  if (options.has_initial_connection_window_size()) {
    out.initial_connection_window_size = options.initial_connection_window_size().value();
  }
  out.allow_connect = options.allow_connect();
  if (options.has_max_outbound_frames()) {
    out.max_outbound_frames = options.max_outbound_frames().value();
  }
  if (options.has_max_outbound_control_frames()) {
    out.max_outbound_control_frames = options.max_outbound_control_frames().value();
  }
  if (options.has_max_consecutive_inbound_frames_with_empty_payload()) {
    out.max_consecutive_inbound_frames_with_empty_payload =
        options.max_consecutive_inbound_frames_with_empty_payload().value();
  }
  if (options.has_max_inbound_priority_frames_per_stream()) {
    out.max_inbound_priority_frames_per_stream =
        options.max_inbound_priority_frames_per_stream().value();
  }
  if (options.has_max_inbound_window_update_frames_per_data_frame_sent()) {
    out.max_inbound_window_update_frames_per_data_frame_sent =
        options.max_inbound_window_update_frames_per_data_frame_sent().value();
  }
  if (options.has_connection_keepalive()) {
    const auto& keepalive = options.connection_keepalive();
    if (keepalive.has_interval()) {
      out.connection_keepalive_interval_ms =
          static_cast<uint32_t>(TimeUtil::DurationToMilliseconds(keepalive.interval()));
    }
    if (keepalive.has_timeout()) {
      out.connection_keepalive_timeout_ms =
          static_cast<uint32_t>(TimeUtil::DurationToMilliseconds(keepalive.timeout()));
    }
  }
}

}  // namespace

absl::StatusOr<http::ConnectionManagerConfigConstSharedPtr> createConfig(
    const HttpConnectionManager& proto, server::HttpFilterFactoryContext& context,
    const std::string& path) {
  auto config = std::make_shared<http::ConnectionManagerConfig>();
  if (proto.stat_prefix().empty()) {
    return invalid(path + ".stat_prefix", "must not be empty");
  }
  config->stat_prefix = proto.stat_prefix();
  switch (proto.codec_type()) {
    case HttpConnectionManager::AUTO:
      config->codec_type = http::CodecType::Auto;
      break;
    case HttpConnectionManager::HTTP1:
      config->codec_type = http::CodecType::Http1;
      break;
    case HttpConnectionManager::HTTP2:
      config->codec_type = http::CodecType::Http2;
      break;
    default:
      return invalid(path + ".codec_type", "only AUTO, HTTP1 and HTTP2 are supported");
  }

  // Routes: inline only until RDS arrives with xDS.
  switch (proto.route_specifier_case()) {
    case HttpConnectionManager::kRouteConfig: {
      waystone::router::ConfigOptions options;
      options.load_options = context.load_options;
      auto routes = waystone::router::ConfigImpl::create(proto.route_config(), options);
      if (!routes.ok()) {
        return invalid(path + ".route_config", routes.status().message());
      }
      std::shared_ptr<const waystone::router::ConfigImpl> table = std::move(*routes);
      config->route_lookup = [table](const http::RequestHeaderMap& headers, uint64_t random) {
        return table->route(headers, random);
      };
      break;
    }
    case HttpConnectionManager::kRds:
      return invalid(path + ".rds",
                     "RDS is not supported yet (it arrives with xDS); use route_config");
    case HttpConnectionManager::kScopedRoutes:
      return invalid(path + ".scoped_routes", "scoped routes are not supported");
    default:
      return invalid(path, "one of route_config or rds is required");
  }

  // HTTP filters, in order; the last must be terminal (the router).
  context.stat_prefix = proto.stat_prefix();
  const auto& filters = proto.http_filters();
  for (int i = 0; i < filters.size(); ++i) {
    const auto& filter = filters[i];
    const std::string filter_path = absl::StrCat(path, ".http_filters[", i, "]");
    if (filter.disabled()) {
      continue;  // enabled per route later; not in the default chain
    }
    if (!filter.has_typed_config()) {
      return invalid(filter_path + ".typed_config",
                     absl::StrCat("required (filter \"", filter.name(), "\")"));
    }
    const std::string type = protobuf::typeUrlOf(filter.typed_config());
    const server::HttpFilterConfigFactory* factory = server::HttpFilterRegistry::get().find(type);
    if (factory == nullptr) {
      if (filter.is_optional()) {
        continue;  // Envoy skips unknown optional filters
      }
      return invalid(filter_path + ".typed_config",
                     absl::StrCat("unsupported HTTP filter type \"", type, "\" (name \"",
                                  filter.name(), "\")"));
    }
    const bool terminal = server::HttpFilterRegistry::get().isTerminal(type);
    if (terminal != (i == filters.size() - 1)) {
      return invalid(filter_path, terminal ? "a terminal filter must be the last HTTP filter"
                                           : "the last HTTP filter must be terminal (the router)");
    }
    auto cb = (*factory)(filter.typed_config(), context, filter_path + ".typed_config");
    if (!cb.ok()) {
      return cb.status();
    }
    config->filter_factories.push_back(std::move(*cb));
  }
  if (filters.empty()) {
    return invalid(path + ".http_filters", "needs at least the router filter");
  }

  // Limits and protocol options.
  if (proto.has_max_request_headers_kb()) {
    config->header_limits.max_request_headers_kb = proto.max_request_headers_kb().value();
  }
  const auto& common = proto.common_http_protocol_options();
  if (common.has_max_headers_count()) {
    config->header_limits.max_headers_count = common.max_headers_count().value();
  }
  switch (common.headers_with_underscores_action()) {
    case envoy::config::core::v3::HttpProtocolOptions::REJECT_REQUEST:
      config->header_limits.headers_with_underscores_action =
          http::HeadersWithUnderscoresAction::RejectRequest;
      break;
    case envoy::config::core::v3::HttpProtocolOptions::DROP_HEADER:
      config->header_limits.headers_with_underscores_action =
          http::HeadersWithUnderscoresAction::DropHeader;
      break;
    default:
      break;
  }
  if (common.has_idle_timeout()) {
    config->idle_timeout = toMs(common.idle_timeout());
  }
  if (common.has_max_stream_duration()) {
    config->max_stream_duration = toMs(common.max_stream_duration());
  }
  if (common.has_max_connection_duration()) {
    config->max_connection_duration = toMs(common.max_connection_duration());
  }
  const auto& h1 = proto.http_protocol_options();
  if (h1.has_allow_absolute_url()) {
    config->http1_settings.allow_absolute_url = h1.allow_absolute_url().value();
  }
  config->http1_settings.accept_http_10 = h1.accept_http_10();
  config->http1_settings.allow_chunked_length = h1.allow_chunked_length();
  config->http1_settings.enable_trailers = h1.enable_trailers();
  readHttp2Options(proto.http2_protocol_options(), config->http2_settings);

  // Timeouts.
  if (proto.has_stream_idle_timeout()) {
    config->stream_idle_timeout = toMs(proto.stream_idle_timeout());
  }
  if (proto.has_request_timeout()) {
    config->request_timeout = toMs(proto.request_timeout());
  }
  if (proto.has_request_headers_timeout()) {
    config->request_headers_timeout = toMs(proto.request_headers_timeout());
  }
  if (proto.has_drain_timeout()) {
    config->drain_timeout = toMs(proto.drain_timeout());
  }
  if (proto.has_delayed_close_timeout()) {
    config->delayed_close_timeout = toMs(proto.delayed_close_timeout());
  }

  // Header handling.
  if (!proto.server_name().empty()) {
    config->server_name = proto.server_name();
  }
  switch (proto.server_header_transformation()) {
    case HttpConnectionManager::APPEND_IF_ABSENT:
      config->server_header_transformation =
          http::ConnectionManagerConfig::ServerHeaderTransformation::AppendIfAbsent;
      break;
    case HttpConnectionManager::PASS_THROUGH:
      config->server_header_transformation =
          http::ConnectionManagerConfig::ServerHeaderTransformation::PassThrough;
      break;
    default:
      break;
  }
  config->use_remote_address = proto.has_use_remote_address() && proto.use_remote_address().value();
  config->xff_num_trusted_hops = proto.xff_num_trusted_hops();
  config->skip_xff_append = proto.skip_xff_append();
  config->generate_request_id =
      !proto.has_generate_request_id() || proto.generate_request_id().value();
  config->preserve_external_request_id = proto.preserve_external_request_id();
  config->always_set_request_id_in_response = proto.always_set_request_id_in_response();
  config->normalize_path = proto.has_normalize_path() && proto.normalize_path().value();
  config->merge_slashes = proto.merge_slashes();
  for (int i = 0; i < proto.upgrade_configs_size(); ++i) {
    const auto& upgrade = proto.upgrade_configs(i);
    if (!upgrade.has_enabled() || upgrade.enabled().value()) {
      config->upgrade_types.push_back(upgrade.upgrade_type());
    }
  }

  config->scope = context.store.createScope(absl::StrCat("http.", proto.stat_prefix(), "."));
  config->stats = std::make_shared<http::ConnectionManagerStats>(*config->scope);
  return http::ConnectionManagerConfigConstSharedPtr(std::move(config));
}

absl::StatusOr<network::FilterFactoryCb> createFilterFactory(
    const HttpConnectionManager& proto, server::HttpFilterFactoryContext& context,
    const std::string& field_path) {
  auto config = createConfig(proto, context, field_path);
  if (!config.ok()) {
    return config.status();
  }
  http::ConnectionManagerConfigConstSharedPtr shared = std::move(*config);
  return network::FilterFactoryCb([shared]() -> network::ReadFilterPtr {
    return std::make_unique<http::ConnectionManagerImpl>(shared);
  });
}

}  // namespace waystone::extensions::network_filters::http_connection_manager
