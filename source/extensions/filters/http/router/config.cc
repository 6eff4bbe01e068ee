#include "source/extensions/filters/http/router/config.h"

#include "absl/strings/str_cat.h"

#include "source/extensions/filters/http/router/router_filter.h"

namespace waystone::extensions::http_filters::router {

absl::StatusOr<http::FilterFactoryCb> createFilterFactory(
    const envoy::extensions::filters::http::router::v3::Router& proto,
    const upstream::WorkerClusterManagers& cluster_managers, stats::Store& store,
    const std::string& stat_prefix) {
  auto config = std::make_shared<const RouterConfig>(
      cluster_managers, store.createScope(absl::StrCat("http.", stat_prefix, ".")),
      proto.suppress_envoy_headers());
  return http::FilterFactoryCb([config](http::FilterChainFactoryCallbacks& callbacks) {
    callbacks.addStreamDecoderFilter(std::make_shared<RouterFilter>(config));
  });
}

}  // namespace waystone::extensions::http_filters::router
