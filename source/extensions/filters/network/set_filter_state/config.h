#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "envoy/extensions/filters/network/set_filter_state/v3/set_filter_state.pb.h"

#include "source/common/network/filter.h"

namespace waystone::extensions::network_filters::set_filter_state {

// Factory entry point used by the network filter registry
// (envoy.extensions.filters.network.set_filter_state.v3.Config). `field_path` names the
// typed_config in errors.
absl::StatusOr<network::FilterFactoryCb> createFilterFactory(
    const envoy::extensions::filters::network::set_filter_state::v3::Config& proto,
    const std::string& field_path);

}  // namespace waystone::extensions::network_filters::set_filter_state
