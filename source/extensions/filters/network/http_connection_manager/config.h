#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"

#include "source/common/http/conn_manager_config.h"
#include "source/common/network/filter.h"
#include "source/server/http_filter_registry.h"

namespace waystone::extensions::network_filters::http_connection_manager {

// HttpConnectionManager proto -> immutable http::ConnectionManagerConfig (route table, filter
// factories, codec settings, timeouts). Errors name the field path under `field_path`.
absl::StatusOr<http::ConnectionManagerConfigConstSharedPtr> createConfig(
    const envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager&
        proto,
    server::HttpFilterFactoryContext& context, const std::string& field_path);

// Factory entry point for the network filter registry.
absl::StatusOr<network::FilterFactoryCb> createFilterFactory(
    const envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager&
        proto,
    server::HttpFilterFactoryContext& context, const std::string& field_path);

}  // namespace waystone::extensions::network_filters::http_connection_manager
