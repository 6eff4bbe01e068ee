#include "source/extensions/filters/http/set_filter_state/config.h"

#include "absl/strings/str_cat.h"

#include "source/extensions/filters/http/set_filter_state/set_filter_state_filter.h"

namespace waystone::extensions::http_filters::set_filter_state {

absl::StatusOr<http::FilterFactoryCb> createFilterFactory(
    const envoy::extensions::filters::http::set_filter_state::v3::Config& proto,
    const std::string& field_path) {
  auto config = common_filters::set_filter_state::SetFilterStateConfig::create(
      proto.on_request_headers(), absl::StrCat(field_path, ".on_request_headers"));
  if (!config.ok()) {
    return config.status();
  }
  common_filters::set_filter_state::SetFilterStateConfigConstSharedPtr shared = std::move(*config);
  return http::FilterFactoryCb([shared](http::FilterChainFactoryCallbacks& callbacks) {
    callbacks.addStreamDecoderFilter(std::make_shared<SetFilterStateFilter>(shared));
  });
}

}  // namespace waystone::extensions::http_filters::set_filter_state
