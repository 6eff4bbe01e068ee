#include "source/extensions/filters/network/set_filter_state/config.h"

#include "absl/strings/str_cat.h"

#include "source/extensions/filters/network/set_filter_state/set_filter_state_filter.h"

namespace waystone::extensions::network_filters::set_filter_state {

absl::StatusOr<network::FilterFactoryCb> createFilterFactory(
    const envoy::extensions::filters::network::set_filter_state::v3::Config& proto,
    const std::string& field_path) {
  auto config = common_filters::set_filter_state::SetFilterStateConfig::create(
      proto.on_new_connection(), absl::StrCat(field_path, ".on_new_connection"));
  if (!config.ok()) {
    return config.status();
  }
  common_filters::set_filter_state::SetFilterStateConfigConstSharedPtr shared = std::move(*config);
  return network::FilterFactoryCb([shared]() -> network::ReadFilterPtr {
    return std::make_unique<SetFilterStateFilter>(shared);
  });
}

}  // namespace waystone::extensions::network_filters::set_filter_state
