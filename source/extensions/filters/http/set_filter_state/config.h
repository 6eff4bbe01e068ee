#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "envoy/extensions/filters/http/set_filter_state/v3/set_filter_state.pb.h"

#include "source/common/http/filter.h"

namespace waystone::extensions::http_filters::set_filter_state {

// Factory entry point used by the HTTP filter registry
// (envoy.extensions.filters.http.set_filter_state.v3.Config). `field_path` names the
// typed_config in errors.
absl::StatusOr<http::FilterFactoryCb> createFilterFactory(
    const envoy::extensions::filters::http::set_filter_state::v3::Config& proto,
    const std::string& field_path);

}  // namespace waystone::extensions::http_filters::set_filter_state
